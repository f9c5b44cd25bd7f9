"""Routing: each handling region's endpoint, transport and public key, from settings (later
from fleet configuration). A matter whose region has no route cannot be started at all —
there is never a package with nowhere to go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.errors import ConfigError
from kiosk.settings import Transfer
from kiosk.transfer.envelope import Recipient
from kiosk.transfer.keys import KeyFileError, recipient
from kiosk.transfer.transports import DirectoryTransport, Transport, TusTransport
from kiosk.transfer.tus import TusOptions


class Routing:
    def __init__(self, transfer: Transfer, data_dir: Path, settings_path: str = "settings"
                 ) -> None:
        self._transfer = transfer
        self._data_dir = data_dir
        self._transports: dict[tuple[str, str], Transport] = {}
        problems, recipients = [], {}
        for region, route in transfer.routes.items():
            try:
                recipients[region] = recipient(route.key, region, transfer.suite)
            except KeyFileError as exc:
                problems.append(f"transfer.routes.{region}.key: {exc.zh} / {exc.en}")
        if problems:
            raise ConfigError(settings_path, problems)
        self._recipients: dict[str, Recipient] = recipients

        # the signed region directory's routes (kiosk/bootstrap.py sets it): name →
        # (transport, endpoint), or None
        self.directory_endpoint: Callable[[str], tuple[str, str] | None] = lambda name: None

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(self._recipients)

    def reaches(self, name: str) -> bool:
        """Whether a package for route ``name`` can go out now: a route of the settings, or
        one the region directory in use still lists."""
        return name in self._recipients or self.directory_endpoint(name) is not None

    def missing(self, regions: tuple[str, ...]) -> list[str]:
        return [r for r in regions if r not in self._recipients]

    def recipient(self, region: str) -> Recipient:
        return self._recipients[region]

    def transport(self, region: str) -> Transport:
        """The transport to ``region``'s endpoint, one per endpoint (a directory update that
        moves a region's endpoint gets a new one)."""
        where = self._where(region)
        if where not in self._transports:
            self._transports[where] = self._make(*where)
        return self._transports[where]

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()

    def _where(self, region: str) -> tuple[str, str]:
        routes = self._transfer.routes
        if region in routes:
            return routes[region].transport, routes[region].endpoint
        found = self.directory_endpoint(region)
        if found is None:
            raise KeyError(region)
        return found

    def _make(self, kind: str, endpoint: str) -> Transport:
        d = self._transfer
        if kind == "directory":
            return DirectoryTransport(self._data_dir / d.directory)
        options = TusOptions(chunk_size=d.chunk_kib * 1024, chunk_seconds=d.chunk_seconds,
                             connect_timeout_s=d.connect_timeout_s,
                             read_timeout_s=d.read_timeout_s)
        return TusTransport(endpoint, options)

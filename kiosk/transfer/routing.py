"""Routing: each handling region's endpoint, transport and public key, from settings (later
from fleet configuration). A matter whose region has no route cannot be started at all —
there is never a package with nowhere to go."""

from __future__ import annotations

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
        self._transports: dict[str, Transport] = {}
        problems, recipients = [], {}
        for region, route in transfer.routes.items():
            try:
                recipients[region] = recipient(route.key, region, transfer.suite)
            except KeyFileError as exc:
                problems.append(f"transfer.routes.{region}.key: {exc.zh} / {exc.en}")
        if problems:
            raise ConfigError(settings_path, problems)
        self._recipients: dict[str, Recipient] = recipients

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(self._recipients)

    def missing(self, regions: tuple[str, ...]) -> list[str]:
        return [r for r in regions if r not in self._recipients]

    def recipient(self, region: str) -> Recipient:
        return self._recipients[region]

    def transport(self, region: str) -> Transport:
        if region not in self._transports:
            self._transports[region] = self._make(region)
        return self._transports[region]

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()

    def _make(self, region: str) -> Transport:
        d, route = self._transfer, self._transfer.routes[region]
        if route.transport == "directory":
            return DirectoryTransport(self._data_dir / d.directory)
        options = TusOptions(chunk_size=d.chunk_kib * 1024, chunk_seconds=d.chunk_seconds,
                             connect_timeout_s=d.connect_timeout_s,
                             read_timeout_s=d.read_timeout_s)
        return TusTransport(route.endpoint, options)

"""Transports: how a sealed file reaches its region. Each is idempotent for the same package
id, so a delivery repeated after a crash lost our acknowledgement never makes two cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kiosk.fsutil import copy_atomic, sha256_file
from kiosk.transfer.tus import Stats, TusClient, TusOptions

Progress = Callable[[str, int], None]      # (upload URL, offset): persisted by the outbox


class Transport(Protocol):
    def send(self, path: Path, metadata: dict[str, str], upload_url: str,
             progress: Progress, *, again: bool = False) -> None:
        """Deliver ``path`` whole, or raise; resume from ``upload_url`` where it applies.
        ``again``: an earlier attempt may have delivered it unseen; ask the region first."""
        ...

    def close(self) -> None: ...


class DirectoryTransport:
    """The hall's gateway folder (前置机) and the demo: ``<target>/<region>/<package>.tbk``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def send(self, path: Path, metadata: dict[str, str], upload_url: str,
             progress: Progress, *, again: bool = False) -> None:
        final = self.target / metadata["receiver"] / f"{metadata['package_id']}.tbk"
        # asked every time, not only ``again``: here the region's copy is a local file
        if final.exists() and sha256_file(final) == sha256_file(path):
            return   # delivered before a crash lost our acknowledgement: not twice
        copy_atomic(path, final)

    def close(self) -> None:
        pass


class TusTransport:
    def __init__(self, endpoint: str, options: TusOptions) -> None:
        self.client = TusClient(endpoint, options)

    @property
    def stats(self) -> Stats:
        return self.client.stats

    def send(self, path: Path, metadata: dict[str, str], upload_url: str,
             progress: Progress, *, again: bool = False) -> None:
        self.client.upload(path, metadata, upload_url, progress, again=again)

    def close(self) -> None:
        self.client.close()


"""Sealing a package into the outbox: zip once, encrypt to every receiving region at once,
signed with the kiosk's key, straight into the spool files. Nothing in plaintext touches the
disk, and memory holds one record per region, not the package."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TypeVar

from kiosk.transfer.envelope import Recipient, SealWriter, Signer
from kiosk.transfer.outbox import Outbox, PackageMeta

T = TypeVar("T")


class Tee:
    """One write-only stream feeding several (zipfile writes it like a file)."""

    def __init__(self, sinks: list[SealWriter]) -> None:
        self._sinks = sinks

    def write(self, data: bytes) -> int:
        for sink in self._sinks:
            sink.write(data)
        return len(data)

    def flush(self) -> None:
        for sink in self._sinks:
            sink.flush()


def seal_into_outbox(outbox: Outbox, signer: Signer, recipients: list[Recipient],
                     meta: PackageMeta, write: Callable[[IO[bytes]], T]) -> T:
    """``write`` produces the package into the stream it is given. When this returns the
    package is durable in the outbox and the receipt may be printed."""
    with outbox.spooling(meta, tuple(r.region for r in recipients)) as files:
        writers = [SealWriter(files[r.region], signer, r, meta.package_id) for r in recipients]
        result = write(Tee(writers))  # type: ignore[arg-type]
        for writer in writers:
            writer.close()
    return result

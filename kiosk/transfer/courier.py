"""The transfer side of one kiosk (packages to the handling region), wired once: device
keys, outbox, routing, uploader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, TypeVar

from kiosk.settings import Settings
from kiosk.transfer.commit import seal_into_outbox
from kiosk.transfer.envelope import Signer
from kiosk.transfer.keys import DeviceKeys
from kiosk.transfer.outbox import Outbox, OutboxEntry, PackageMeta
from kiosk.transfer.routing import Routing
from kiosk.transfer.uploader import Pacing, Sender, Uploader

T = TypeVar("T")


@dataclass
class Courier:
    settings: Settings
    keys: DeviceKeys
    outbox: Outbox
    routing: Routing
    uploader: Uploader

    @classmethod
    def build(cls, settings: Settings, on_overdue: Callable[[OutboxEntry], None], *,
              recover: bool = True, settings_path: str = "settings") -> Courier:
        """``recover``: clear what a crash half-wrote — only the kiosk itself at start-up,
        never a tool running beside it (it would delete a spool file being written)."""
        data, d = settings.paths.data_dir, settings.transfer
        routing = Routing(d, data, settings_path)   # first: a bad route key opens nothing
        keys = DeviceKeys(data / "keys", settings.kiosk.id)
        keys.key(d.suite)            # first start: the device key exists from now on
        outbox = Outbox(data / "outbox")
        if recover:
            outbox.recover()
        uploader = Uploader(outbox, routing, Sender(settings.kiosk.id, settings.kiosk.org_code),
                            Pacing(d.retry_min_s, d.retry_max_s,
                                   timedelta(days=d.retention_days)), on_overdue)
        return cls(settings, keys, outbox, routing, uploader)

    @property
    def suite(self) -> str:
        return self.settings.transfer.suite

    def signer(self) -> Signer:
        return self.keys.signer(self.suite)

    def seal(self, meta: PackageMeta, regions: tuple[str, ...],
             write: Callable[[IO[bytes]], T]) -> T:
        recipients = [self.routing.recipient(r) for r in regions]
        return seal_into_outbox(self.outbox, self.signer(), recipients, meta, write)

    def close(self) -> None:
        self.uploader.stop()
        self.routing.close()
        self.outbox.close()

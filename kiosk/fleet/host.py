"""Owns the running kiosk and swaps it for one built from new settings, between sessions.

A swap is a restart in place: the old kiosk is held (no new session), closed (its serial
ports and sockets freed), and a new one is built on the same bus and opened. If the new
one fails its post-apply checks — a device it names is not found, a route without a usable
key — it is closed and the old settings are built again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from drivers.status import DeviceState
from kiosk.bootstrap import DirectorySource, Kiosk, build_kiosk, no_signed_directory
from kiosk.bus import EventBus
from kiosk.errors import KioskError
from kiosk.fleet.errors import FleetError
from kiosk.lifecycle import KioskState
from kiosk.settings import Settings

log = logging.getLogger(__name__)
APPLIED_TOPIC = "fleet.applied"      # payload: {"kiosk": Kiosk}, new or restored; screens
                                     # rebind to it


class KioskHost:
    def __init__(self, settings: Settings, *, bus: EventBus | None = None,
                 clock: Callable[[], datetime] = datetime.now, background: bool = True,
                 directory: DirectorySource = no_signed_directory) -> None:
        """``background``: start the status poll and the uploader threads (a test driving
        the kiosk by hand passes False). ``directory``: every kiosk built here asks it for
        the signed region directory."""
        self.bus = bus or EventBus()
        self._directory = directory
        self._clock = clock
        self._background = background
        self.lock = threading.RLock()    # held while swapping; readers of .kiosk take it too
        self.kiosk = self._start(settings)

    def idle(self) -> bool:
        return self.kiosk.lifecycle.state is not KioskState.ACTIVE

    def swap(self, settings: Settings) -> None:
        """Run ``settings`` instead, or raise FleetError (busy / post_check) and keep the
        old ones running."""
        with self.lock:
            old = self.kiosk
            if not old.lifecycle.hold(self._clock()):
                raise FleetError("正在为群众办理，稍后应用", "a session is running; applying "
                                 "after it", code="busy")
            old.close()
            try:
                new = self._start(settings)
                failures = post_apply_failures(new)
                if failures:
                    new.close()
                    raise FleetError("新配置应用后检查未通过：" + "；".join(failures),
                                     "post-apply checks failed: " + "; ".join(failures),
                                     code="post_check")
            except Exception as exc:   # why: whatever broke, the old settings come back
                log.warning("configuration not applied (%s); restoring the previous one",
                            getattr(exc, "code", type(exc).__name__))
                self.kiosk = self._start(old.settings)
                # a new object on the old settings: the screens must move to it as well
                self.bus.publish(APPLIED_TOPIC, {"kiosk": self.kiosk})
                if isinstance(exc, FleetError):
                    raise
                zh, en = ((exc.zh, exc.en) if isinstance(exc, KioskError)
                          else (type(exc).__name__, str(exc)))
                raise FleetError(f"新配置无法启动：{zh}", f"new configuration did not "
                                 f"start: {en}", code="post_check") from exc
            self.kiosk = new
        self.bus.publish(APPLIED_TOPIC, {"kiosk": new})

    def close(self) -> None:
        self.kiosk.close()

    def apply_status_event(self, raw: bytes) -> object:
        """A case status event for the running kiosk (not one being closed by a swap)."""
        with self.lock:
            return self.kiosk.case_status.receiver.apply(raw)

    def _start(self, settings: Settings) -> Kiosk:
        kiosk = build_kiosk(settings, bus=self.bus, directory=self._directory)
        kiosk.open(self._clock())
        if self._background:
            kiosk.start_polling(self._clock)
            kiosk.start_uploader()
        return kiosk


def post_apply_failures(kiosk: Kiosk) -> list[str]:
    """What makes a freshly opened configuration unfit to keep (empty: fit): a device it
    names that is not there. (A route without a usable key never gets this far: the bundle's
    validation and Courier.build refuse it.)"""
    return [f"{kind}: {status.state.value}"
            for kind, status in kiosk.devices.statuses().items()
            if status.state is DeviceState.NO_DEVICE]

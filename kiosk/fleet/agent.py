"""The kiosk's configuration agent: poll, stage, apply between sessions, report.

One daemon thread. It wakes every ``fleet.poll_s`` or when nudged (the MQTT pointer, a
refresh command), asks the repository for a newer bundle, stages it (validate, migrate) and
applies it when no citizen is being served — at once if idle, else when the session ends.
Anything refused leaves the running configuration alone, is logged with its reason code and
raised as a health alert; a kiosk that cannot reach the repository keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kiosk.fleet.bundle import Bundle
from kiosk.fleet.client import ConfigClient
from kiosk.fleet.directory import DirectoryChannel
from kiosk.fleet.errors import FleetError
from kiosk.fleet.host import KioskHost
from kiosk.fleet.store import ConfigStore
from kiosk.ops.clock import observe_signed_time
from kiosk.settings import Settings

log = logging.getLogger(__name__)
CONFIG_TOPIC = "fleet.config"       # payload: the config report, after each check or apply


class FleetAgent:
    def __init__(self, local: Settings, host: KioskHost, client: ConfigClient,
                 store: ConfigStore, clock: Callable[[], datetime] = datetime.now) -> None:
        self.local = local
        self.host = host
        self.client = client
        self.store = store
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()       # one check or apply at a time
        self._pending: tuple[int, Settings] | None = None
        self.last_check: str = "never"
        self.maintenance = False            # set by command; kept across swaps
        self._thread: threading.Thread | None = None
        self.directory: DirectoryChannel | None = None   # the region directory's own target
        host.bus.subscribe("session.ended", lambda _t, _p: self._wake.set())

    # --- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fleet-agent", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Check now (the "new config published" pointer, or a refresh command)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the round in progress (a swap is never cut in half)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._maintain()
            self.poll()
            self._wake.wait(self.local.fleet.poll_s)
            self._wake.clear()

    # --- one round -------------------------------------------------------------------------
    def poll(self) -> None:
        """Check for a new bundle, stage it, apply whatever is staged if idle."""
        with self._lock:
            self._check()
            if self.directory is not None:
                self.directory.refresh(self.client, self.host.kiosk.lifecycle.alert)
            self._apply_pending()
        self.host.bus.publish(CONFIG_TOPIC, self.config_report())

    def _check(self) -> None:
        current = self.store.state().current
        try:
            bundle = self.client.check(current)
        except FleetError as exc:
            self._refuse(None, exc)
            self.last_check = exc.code
            return
        self.last_check = "ok"
        observe_signed_time(self.host.kiosk.clock, self.store.folder / "tuf")   # verified now
        if bundle is None:
            refused = self.store.state().refused
            if refused is not None and refused["version"] is None:
                self.store.clear_refusal()      # the repository is reachable and sound again
            return
        self._stage(bundle)

    def _stage(self, bundle: Bundle) -> None:
        try:
            settings = self.store.stage(bundle, self.local)
        except FleetError as exc:
            self._refuse(bundle.version, exc)
            return
        self._pending = (bundle.version, settings)
        log.info("configuration version %s staged", bundle.version)

    def _apply_pending(self) -> None:
        if self._pending is None or not self.host.idle():
            return
        version, settings = self._pending
        try:
            self.host.swap(settings)
        except FleetError as exc:
            if exc.code == "busy":
                return                       # a session began; after it ends
            self._pending = None
            self.store.failed(version)
            self._refuse(version, exc)
            return
        self._pending = None
        self.store.applied(version)
        self.store.clear_refusal()
        self._maintain()                     # the new kiosk keeps a maintenance hold
        log.info("configuration version %s applied", version)

    def _refuse(self, version: int | None, exc: FleetError) -> None:
        log.warning("configuration %s refused: %s (%s)", version or "check", exc.code, exc.en)
        before = self.store.state().refused
        self.store.refused(version, exc)
        if before is None or (before["version"], before["code"]) != (version, exc.code):
            # once per new reason, not once per poll of a kiosk that stays offline
            self.host.kiosk.lifecycle.alert("config_refused", {"reason": exc.code,
                                                               "zh": exc.zh, "en": exc.en})

    # --- maintenance -----------------------------------------------------------------------
    def set_maintenance(self, on: bool) -> bool:
        """Hold or release the kiosk. False: a session runs; the hold follows its end."""
        self.maintenance = on
        return self._maintain()

    def _maintain(self) -> bool:
        lifecycle = self.host.kiosk.lifecycle
        if not self.maintenance:
            if lifecycle.held:
                lifecycle.release(self._clock())
            return True
        return lifecycle.held or lifecycle.hold(self._clock())

    # --- reporting -------------------------------------------------------------------------
    def config_report(self) -> dict[str, Any]:
        state = self.store.state()
        refused = state.refused
        return {"version": state.current, "applied_at": state.applied_at,
                "pending": self._pending[0] if self._pending else None,
                "last_known_good": state.last_known_good,
                "error": {"code": refused["code"], "version": refused["version"],
                          "at": refused["at"]} if refused else None,
                "last_check": self.last_check,
                "directory": self.directory.report() if self.directory else None,
                "checked_at": datetime.now(UTC).isoformat(timespec="seconds")}


def running_settings(local: Settings, store: ConfigStore) -> tuple[Settings, int | None]:
    """What a kiosk starts on: its current fleet version if it still validates, else the
    last-known-good, else its local settings file."""
    state = store.state()
    for version in dict.fromkeys(v for v in (state.current, state.last_known_good) if v):
        try:
            return store.settings_of(version, local), version
        except FleetError as exc:
            log.warning("configuration version %s unusable at start-up: %s", version, exc.code)
    return local, None

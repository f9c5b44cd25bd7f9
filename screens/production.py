"""``kiosk run``: the app on the kiosk PC, as systemd runs it. Real devices from the
settings, no demo strip, locked down (screens/lockdown.py), supervised (READY=1, watchdog
pings from the UI thread, STOPPING=1), a run marker that tells the next start how this run
ended, and the nightly restart between sessions.

Imported only after screens/launch.py has configured Kivy's window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kivy.clock import Clock

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.fleet.node import FleetNode
from kiosk.lifecycle import LIFECYCLE_TOPIC, KioskState
from kiosk.ops.unattended import start_unattended
from kiosk.settings import Settings
from kiosk.staff.demo import local_authority
from kiosk.supervision.liveness import Liveness
from kiosk.supervision.nightly import RESTART_EXIT, restart_due
from kiosk.supervision.notify import Notifier, watchdog_interval_s
from kiosk.supervision.runmarker import CLEAN, NIGHTLY, PreviousRun, RunMarker
from kiosk.supervision.watchdog import Supervisor
from screens.app import KioskApp
from screens.supervision import Supervision

log = logging.getLogger(__name__)
BACKGROUND_THREADS = ("status-poll", "uploader")
NIGHTLY_CHECK_S = 30.0


@dataclass
class Running:
    """The kiosk being served: standalone, or a fleet node whose kiosk may be swapped."""

    current: Callable[[], Kiosk]
    close: Callable[[], None]
    node: FleetNode | None = None


def run_production(settings: Settings) -> int:
    marker = RunMarker(settings.paths.data_dir)
    started = datetime.now()
    previous = marker.begin(started)
    running = _start(settings)
    report_restart(running, previous)
    bus = running.node.host.bus if running.node else running.current().bus
    # a crash during a session is reported as such (the ledger closes a numbered case)
    bus.subscribe(LIFECYCLE_TOPIC, lambda _topic, change: marker.note(
        session=change.get("state") == KioskState.ACTIVE.value))
    app = KioskApp(running.current(), demo=False, locked=True,
                   host=running.node.host if running.node else None,
                   staff=running.node.staff if running.node else
                   local_authority(settings, lambda: running.current().lifecycle))
    supervisor = Supervisor(Notifier(), Liveness(
        lambda: running.current().devices.workers(), time.monotonic,
        threads=BACKGROUND_THREADS), marker, watchdog_interval_s())
    supervision = Supervision(app, supervisor, previous)
    how: list[str] = []

    def nightly_check(_dt: float) -> None:    # held here: Kivy's clock refers weakly
        _nightly_restart(app, running.current(), started, how)
    nightly = Clock.schedule_interval(nightly_check, NIGHTLY_CHECK_S)
    # the rotating log file and, with a UPS, the power watch (which may end the app)
    unattended = start_unattended(settings, lambda: running.current().lifecycle,
                                  lambda: Clock.schedule_once(lambda _dt: app.stop()))
    try:
        app.run()
    finally:
        nightly.cancel()
        supervision.close()
        supervisor.stopping()
        running.close()
    powered_off = unattended.finish()        # EXIT_POWER_OFF after a low-battery shut-down
    marker.end(how[0] if how else CLEAN)
    # staff's 退出到桌面 ends with EXIT_TO_DESKTOP (77): systemd does not restart on it
    return powered_off or (RESTART_EXIT if how else app.exit_status or 0)


def _start(settings: Settings) -> Running:
    if settings.fleet.repository:
        node = FleetNode.build(settings)
        node.start()
        return Running(lambda: node.host.kiosk, node.close, node)
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(datetime.now())
    except BaseException:
        kiosk.close()
        raise
    kiosk.start_polling()
    kiosk.start_uploader()
    return Running(lambda: kiosk, kiosk.close)


def report_restart(running: Running, previous: PreviousRun) -> None:
    """After a crash or a watchdog kill, an alert staff and the fleet see (the heartbeat
    also carries the cause of every start)."""
    if running.node is not None and running.node.heartbeat is not None:
        running.node.heartbeat.restart = previous.as_dict()
    if previous.cause in (CLEAN, NIGHTLY, "first_start"):
        return
    during = "，当时正在为群众办理" if previous.session_interrupted else ""
    running.current().lifecycle.alert("restarted", {
        "cause": previous.cause, "session_interrupted": str(previous.session_interrupted),
        "zh": f"终端异常退出后已重启（{previous.cause}{during}）",
        "en": f"Restarted after the previous run ended by {previous.cause}"
              + (" during a session" if during else "")})


def _nightly_restart(app: KioskApp, kiosk: Kiosk, started: datetime, how: list[str]) -> None:
    """In the nightly window, between sessions: stop new ones and end with RESTART_EXIT."""
    now = datetime.now()
    window = kiosk.settings.hours.nightly
    if how or not restart_due(window, started, now):
        return
    if kiosk.lifecycle.state is KioskState.ACTIVE or not kiosk.lifecycle.hold(now):
        return                            # a citizen is being served: the next check
    log.info("nightly restart (window %s)", window)
    how.append(NIGHTLY)
    app.stop()

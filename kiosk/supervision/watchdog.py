"""The kiosk's side of systemd's watchdog, without Kivy: READY=1 once it can serve,
WATCHDOG=1 on each tick while it is alive (kiosk.supervision.liveness), STOPPING=1 on the
way out. The ticks come from the UI thread's clock (screens/supervision.py): a hung UI
thread stops them, and systemd restarts the app after ``WatchdogSec``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiosk.supervision.liveness import Liveness
from kiosk.supervision.notify import Notifier
from kiosk.supervision.runmarker import PreviousRun, RunMarker

log = logging.getLogger(__name__)


@dataclass
class Supervisor:
    notifier: Notifier
    liveness: Liveness
    marker: RunMarker
    interval_s: float | None           # half of WatchdogSec; None: no watchdog asked for
    withheld: list[str] = field(default_factory=list)   # why pings stopped (once stopped)
    is_ready: bool = False

    def ready(self, previous: PreviousRun) -> None:
        self.is_ready = True
        during = " during a session" if previous.session_interrupted else ""
        self.notifier.notify("READY=1",
                             f"STATUS=serving; previous run: {previous.cause}{during}")

    def tick(self) -> bool:
        """One watchdog ping if alive; False (and no ping) once anything is dead or stuck.
        A kiosk that was found dead stays unpinged: systemd restarts it cleanly."""
        if not self.is_ready:
            return False          # systemd's watchdog starts with READY=1
        problems = self.withheld or self.liveness.problems()
        if problems:
            if not self.withheld:
                self.withheld = problems
                log.error("watchdog pings withheld: %s", "; ".join(problems))
                self.marker.note(watchdog=True, detail="; ".join(problems)[:200])
            return False
        return self.notifier.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notifier.notify("STOPPING=1")

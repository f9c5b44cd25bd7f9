"""The app under systemd (``kiosk run``): READY=1 after the first frame of the attract
screen, WATCHDOG=1 from the Kivy clock (the UI thread: a hung one pings no more), STOPPING=1
and a clean stop on SIGTERM.

``TONGBAN_TEST_HANG_SIGNAL=1`` in the environment makes SIGUSR2 hang the UI thread from a
clock callback, as a screen stuck in a call would: the acceptance test of the watchdog
(tests/ui/test_supervision.py). Without it SIGUSR2 keeps its default.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.supervision.runmarker import PreviousRun
from kiosk.supervision.watchdog import Supervisor

log = logging.getLogger(__name__)
HANG_ENV = "TONGBAN_TEST_HANG_SIGNAL"


class Supervision:
    """``supervisor`` wired into the running app. Kivy's clock holds its callbacks weakly,
    so this object holds them for as long as the app runs (a watchdog ping from a
    collected lambda simply stops: systemd would restart a healthy kiosk)."""

    def __init__(self, app: App, supervisor: Supervisor, previous: PreviousRun) -> None:
        self.app, self.supervisor, self.previous = app, supervisor, previous
        self._ticker = None
        if supervisor.interval_s is not None:
            self._ticker = Clock.schedule_interval(self._ping, supervisor.interval_s)
        Window.bind(on_flip=self._first_frame)
        signal.signal(signal.SIGTERM, self._terminate)
        if os.environ.get(HANG_ENV) == "1":
            signal.signal(signal.SIGUSR2, self._hang_signal)

    def _ping(self, _dt: float) -> None:
        self.supervisor.tick()

    def _first_frame(self, *_: Any) -> None:
        """The attract screen is on the screen: the kiosk can serve."""
        Window.unbind(on_flip=self._first_frame)
        self.supervisor.ready(self.previous)
        if self._ticker is not None:
            self.supervisor.tick()        # the first ping with READY, not an interval later

    def _terminate(self, _signum: int, _frame: Any) -> None:
        # Python runs this on the main thread between bytecodes; the stop itself waits for
        # the clock, so a callback in progress finishes first
        self.supervisor.stopping()
        Clock.schedule_once(self._stop)

    def _stop(self, _dt: float) -> None:
        self.app.stop()

    def _hang_signal(self, _signum: int, _frame: Any) -> None:
        Clock.schedule_once(_hang_ui_thread)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        Window.unbind(on_flip=self._first_frame)


def _hang_ui_thread(_dt: float) -> None:
    log.warning("test hook: the UI thread hangs now (%s)", HANG_ENV)
    threading.Event().wait()

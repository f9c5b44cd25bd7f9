"""Whoever uses the kiosk — a citizen, later hall staff in staff mode — moves through screens
with the navigator: which screen shows, one dialog at a time over it, the touch guard that
drops a double tap, and the half-second tick that idle timers run on.

It knows nothing of sessions: a journey (screens/citizen/journey.py, later a staff one)
plugs into ``on_touch`` and ``on_tick``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import ScreenManager

from screens.context import Ui
from screens.dialogs import Dialog

GUARD_S = 0.45          # a second tap this soon after a screen change is a double tap
DOUBLE_TAP_MM = 12.0    # ... when it lands this close to the first one
TICK_S = 0.5


class Page(Protocol):
    """What the navigator asks of a screen (screens.base.KioskScreen)."""

    def render(self) -> None: ...

    def wipe(self) -> None: ...


class Navigator:
    def __init__(self, ui: Ui, manager: ScreenManager) -> None:
        self.ui, self.manager = ui, manager
        self.dialog: Dialog | None = None
        self.on_touch: Callable[[], None] | None = None    # any touch (keeps a user active)
        self.on_tick: Callable[[], None] | None = None     # every TICK_S (idle timers)
        self.swallowed = 0          # touches dropped by the guard (tests and diagnostics)
        self._changed_at = -1e9
        self._last_touch: tuple[float, float, float] | None = None
        Window.bind(on_touch_down=self._guard)
        self._ticker = Clock.schedule_interval(self._tick, TICK_S)

    # --- screens -------------------------------------------------------------------------
    def go(self, name: str) -> None:
        self.close_dialog()
        self.manager.current = name

    def screen(self, name: str) -> Any:
        return self.manager.get_screen(name)

    @property
    def current(self) -> Any:
        return self.manager.current_screen

    def screen_rendered(self) -> None:
        self._changed_at = self.ui.clock()

    def home(self, name: str) -> None:
        """Every screen forgets what it showed; ``name`` is drawn afresh (a user is gone)."""
        self.close_dialog()
        for screen in self.manager.screens:
            if hasattr(screen, "wipe"):
                screen.wipe()
        self.manager.current = name
        current = self.manager.current_screen
        if current is not None and hasattr(current, "render"):
            current.render()
        # the user's screens are garbage now: collect them while nobody waits for a tap
        Clock.schedule_once(lambda _dt: gc.collect(), 0)

    # --- dialogs -------------------------------------------------------------------------
    def show(self, dialog: Dialog) -> None:
        self.close_dialog()
        self.dialog = dialog
        dialog.bind(on_dismiss=self._dismissed)
        dialog.open(animation=False)

    def show_error(self, zh: str, en: str, then: Any = None) -> None:
        t = self.ui
        self.show(Dialog(t.theme, "error", t.pair(zh, en),
                         [(t.bi("知道了"), "ok", then, "primary")]))

    def show_info(self, message: str) -> None:
        t = self.ui
        self.show(Dialog(t.theme, "info", message, [(t.bi("知道了"), "ok", None, "primary")]))

    def close_dialog(self) -> None:
        if self.dialog is not None:
            dialog, self.dialog = self.dialog, None
            dialog.dismiss(animation=False)

    def _dismissed(self, dialog: Dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    # --- touches and time ----------------------------------------------------------------
    def _guard(self, _window: Any, touch: Any) -> bool:
        """Every touch keeps the user active; a double tap that would act twice is dropped."""
        now = self.ui.clock()
        if self.on_touch is not None:
            self.on_touch()
        near = self.ui.theme.mm(DOUBLE_TAP_MM)
        last = self._last_touch
        self._last_touch = (now, touch.x, touch.y)
        if (last is not None and now - last[0] < GUARD_S and abs(touch.x - last[1]) < near
                and abs(touch.y - last[2]) < near and now - self._changed_at < GUARD_S):
            self.swallowed += 1
            return True        # swallow: the first tap already changed the screen
        return False

    def _tick(self, _dt: float) -> None:
        if self.on_tick is not None:
            self.on_tick()

    def close(self) -> None:
        self.close_dialog()
        self._ticker.cancel()
        Window.unbind(on_touch_down=self._guard)
        # the screen shown stops what it runs (the done screen's countdown would go on ticking
        # and, at 0, finish a journey on a closed kiosk): it is left as the app goes
        current = self.manager.current_screen
        if current is not None:
            current.dispatch("on_leave")

"""Moves one citizen through the screens and makes sure every session ends in a wipe.

Owns the current ``Session`` (created by ``KioskService``), the screen changes, the idle
warning, the duplicate-touch guard, cancel and call-guide. Decisions about the application
itself stay in kiosk/ (session state machine, checker); this only follows them.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import ScreenManager

from kiosk.catalogue.model import Matter
from kiosk.session import Session
from screens.base import KioskScreen
from screens.context import Ui
from screens.dialogs import Dialog

log = logging.getLogger(__name__)
GUARD_S = 0.45          # a second tap this soon after a screen change is a double tap
DOUBLE_TAP_MM = 12.0    # ... when it lands this close to the first one


class Journey:
    def __init__(self, ui: Ui, manager: ScreenManager) -> None:
        self.ui, self.manager = ui, manager
        self.session: Session | None = None
        self.dialog: Dialog | None = None
        self.guide_only: Matter | None = None   # a matter read but not taken (一次性告知)
        self._changed_at = -1e9
        self._last_touch: tuple[float, float, float] | None = None
        self.swallowed = 0          # touches dropped by the guard (tests and diagnostics)
        ui.bridge.subscribe("session.ended", self._on_session_ended)
        ui.bridge.subscribe("session.idle_warning", self._on_idle_warning)
        Window.bind(on_touch_down=self._guard)
        self._ticker = Clock.schedule_interval(self._tick, 0.5)

    # --- navigation ----------------------------------------------------------------------
    def start(self) -> None:
        """The attract screen's 'start': a new session, at the matter list."""
        if self.session is None:
            self.session = self.ui.service.start_session()
        self.go("matters")

    def go(self, name: str) -> None:
        self.close_dialog()
        self.manager.current = name

    def screen_rendered(self, screen: KioskScreen) -> None:
        self._changed_at = self.ui.clock()

    def screen(self, name: str) -> Any:
        return self.manager.get_screen(name)

    def set_elder(self, elder: bool) -> None:
        """长辈版 on or off: bigger text, fewer items, higher contrast, from the next draw."""
        self.ui.theme = replace(self.ui.theme, elder=elder)

    @property
    def current(self) -> KioskScreen:
        screen = self.manager.current_screen
        assert isinstance(screen, KioskScreen)
        return screen

    # --- ending --------------------------------------------------------------------------
    def ask_cancel(self) -> None:
        t = self.ui
        message = t.bi("确定取消本次办理吗？已拍摄的材料和证件信息将被清除。")
        self.show(Dialog(t.theme, "confirm_cancel", message,
                         [(t.bi("继续办理"), "keep", None, "secondary"),
                          (t.bi("取消办理"), "confirm", self.cancel, "danger")]))

    def cancel(self) -> None:
        if self.session is not None:
            self.session.cancel()        # publishes session.ended → _on_session_ended
        self.back_to_attract()

    def finish(self) -> None:
        if self.session is not None:
            self.session.finish()
        self.back_to_attract()

    def back_to_attract(self) -> None:
        self.session, self.guide_only = None, None
        self.close_dialog()
        for screen in self.manager.screens:
            if isinstance(screen, KioskScreen):
                screen.wipe()
        self.manager.current = "attract"
        if self.manager.current_screen is not None:
            self.manager.current_screen.render()

    def _on_session_ended(self, topic: str, payload: Any) -> None:
        if self.session is not None and payload.get("session") == self.session.id:
            log.info("session ended (%s): back to the attract screen", payload.get("reason"))
            self.back_to_attract()

    # --- idle ----------------------------------------------------------------------------
    def _tick(self, _dt: float) -> None:
        if self.session is None:
            return
        left = self.session.tick()        # may end the session (publishes session.ended)
        if left is not None and self.dialog is not None and self.dialog.name == "idle":
            self.dialog.set_message(self.ui.bi("您还在吗？{s} 秒后将结束办理并清除信息。",
                                               s=int(left + 0.999)))

    def _on_idle_warning(self, topic: str, payload: Any) -> None:
        if self.session is None:
            return
        t = self.ui
        seconds = int(payload.get("seconds_left", 0) + 0.999)
        message = t.bi("您还在吗？{s} 秒后将结束办理并清除信息。", s=seconds)
        self.show(Dialog(t.theme, "idle", message,
                         [(t.bi("继续办理"), "continue", self._still_here, "primary")]))
        t.say("您还在吗？请触摸屏幕继续办理")

    def _still_here(self) -> None:
        if self.session is not None:
            self.session.touch()

    # --- help ----------------------------------------------------------------------------
    def call_guide(self) -> None:
        """The one-tap call for a human: the hall's guide system hears it on the bus."""
        step = self.session.step.value if self.session else "attract"
        self.ui.kiosk.bus.publish("ui.call_guide", {"kiosk": self.ui.kiosk.settings.kiosk.id,
                                                    "step": step})
        t = self.ui
        message = t.bi("已呼叫工作人员，请稍候，工作人员马上就到。")
        self.show(Dialog(t.theme, "guide_called", message,
                         [(t.bi("知道了"), "ok", None, "primary")]))
        t.say("已呼叫工作人员，请稍候")

    def request_staff_mode(self) -> None:
        """The seam for guide (staff) mode, wired in a later issue: staff credentials, audit,
        assisted sessions, diagnostics and the only exit from the kiosk app."""
        self.ui.kiosk.bus.publish("ui.staff_mode_requested",
                                  {"kiosk": self.ui.kiosk.settings.kiosk.id})

    def show_error(self, zh: str, en: str, then: Any = None) -> None:
        t = self.ui
        self.show(Dialog(t.theme, "error", t.pair(zh, en),
                         [(t.bi("知道了"), "ok", then, "primary")]))

    def show_info(self, message: str) -> None:
        t = self.ui
        self.show(Dialog(t.theme, "info", message, [(t.bi("知道了"), "ok", None, "primary")]))

    def show(self, dialog: Dialog) -> None:
        self.close_dialog()
        self.dialog = dialog
        dialog.bind(on_dismiss=self._dismissed)
        dialog.open(animation=False)

    def close_dialog(self) -> None:
        if self.dialog is not None:
            dialog, self.dialog = self.dialog, None
            dialog.dismiss(animation=False)

    def _dismissed(self, dialog: Dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    # --- touches -------------------------------------------------------------------------
    def _guard(self, _window: Any, touch: Any) -> bool:
        """Every touch keeps the session alive; a double tap that would act twice is dropped."""
        now = self.ui.clock()
        if self.session is not None:
            self.session.touch()
        near = self.ui.theme.mm(DOUBLE_TAP_MM)
        last = self._last_touch
        self._last_touch = (now, touch.x, touch.y)
        if (last is not None and now - last[0] < GUARD_S and abs(touch.x - last[1]) < near
                and abs(touch.y - last[2]) < near and now - self._changed_at < GUARD_S):
            self.swallowed += 1
            return True        # swallow: the first tap already changed the screen
        return False

    def close(self) -> None:
        self._ticker.cancel()
        Window.unbind(on_touch_down=self._guard)

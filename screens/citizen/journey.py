"""Moves one citizen through the screens and makes sure every session ends in a wipe.

Owns the current ``Session`` (created by the service), cancel, finish, the idle warning and
the call for staff. Decisions about the application itself stay in kiosk/ (session state
machine, checker); this only follows them. Screens, dialogs and touches are the navigator's.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from kiosk.catalogue.model import Matter
from kiosk.session import Session
from screens.citizen.staffcall import StaffCallView
from screens.context import Ui
from screens.dialogs import Dialog
from screens.navigator import Navigator

log = logging.getLogger(__name__)
HOME = "attract"
ATTRACT_RESET_S = 120.0   # language or 长辈版 chosen on the attract screen, then left alone
BROWSE_IDLE_S = 120.0     # guides read outside service hours, then left alone


class CitizenJourney:
    def __init__(self, ui: Ui, nav: Navigator) -> None:
        self.ui, self.nav = ui, nav
        self.session: Session | None = None
        self.guide_only: Matter | None = None   # a matter read but not taken (一次性告知)
        self.browsing = False     # outside hours: guides and slips only, with no session
        self.staff = StaffCallView(ui, nav)
        ui.bridge.subscribe("session.ended", self._on_session_ended)
        ui.bridge.subscribe("session.idle_warning", self._on_idle_warning)
        self._touched_at = ui.clock()
        nav.on_touch = self._touched
        nav.on_tick = self._tick

    def start(self) -> None:
        """The attract screen's 'start': a new session, at the matter list."""
        if self.session is None:
            self.session = self.ui.service.start_session()
        self.nav.go("matters")

    def progress(self) -> None:
        """The attract screen's 进度查询: a session of its own (no matter chosen), so the idle
        warning, the timeout and the wipe at its end are an application's."""
        if self.session is None:
            self.session = self.ui.service.start_session()
        self.nav.go("progress")

    def browse(self) -> None:
        """Outside service hours: the matter list and guides with no session — no identity
        read, nothing captured, no case number; the guide prints its slip instead."""
        self.browsing, self.session = True, None
        self.nav.go("matters")

    def set_elder(self, elder: bool) -> None:
        """长辈版 on or off: bigger text, fewer items, higher contrast, from the next draw."""
        self.ui.theme = replace(self.ui.theme, elder=elder)

    def switch_language(self) -> None:
        """中文 ⇄ English for this citizen, from the next draw (reset when the session ends)."""
        tr = self.ui.tr
        tr.set_language("en" if tr.lang == "zh_CN" else "zh_CN")

    def switch_voice(self) -> None:
        """Spoken prompts off or on for this citizen (reset when the session ends)."""
        voice = self.ui.voice
        if voice is not None:
            voice.enabled = not voice.enabled
            if not voice.enabled:
                voice.silence()

    # --- ending --------------------------------------------------------------------------
    def ask_cancel(self) -> None:
        if self.session is None:        # browsing: nothing to lose, nothing to confirm
            self.back_to_attract()
            return
        t = self.ui
        message = t.bi("确定取消本次办理吗？已拍摄的材料和证件信息将被清除。")
        self.nav.show(Dialog(t.theme, "confirm_cancel", message,
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
        """Every way a session ends comes here: the next citizen starts afresh, in the
        settings' language, view and voice."""
        self.session, self.guide_only, self.browsing = None, None, False
        self.ui.restore_defaults()
        self.nav.home(HOME)

    def _on_session_ended(self, topic: str, payload: Any) -> None:
        if self.session is not None and payload.get("session") == self.session.id:
            log.info("session ended (%s): back to the attract screen", payload.get("reason"))
            self.back_to_attract()

    # --- idle ----------------------------------------------------------------------------
    def _touched(self) -> None:
        self._touched_at = self.ui.clock()
        if self.session is not None:
            self.session.touch()

    def _tick(self) -> None:
        self.staff.tick()
        if self.session is None:
            if self.browsing and self.ui.clock() - self._touched_at >= BROWSE_IDLE_S:
                self.back_to_attract()
            self._reset_abandoned_choice()
            return
        if self.staff.awaited():
            self.session.touch()          # waiting for staff is not walking away
        left = self.session.tick()        # may end the session (publishes session.ended)
        dialog = self.nav.dialog
        if left is not None and dialog is not None and dialog.name == "idle":
            dialog.set_message(self.ui.bi("您还在吗？{s} 秒后将结束办理并清除信息。",
                                          s=int(left + 0.999)))

    def _reset_abandoned_choice(self) -> None:
        """A language or view chosen on the attract screen by someone who then walked away
        is not left for the next citizen either."""
        ui = self.ui
        if (ui.preferences != ui.defaults and self.nav.manager.current == HOME
                and ui.clock() - self._touched_at >= ATTRACT_RESET_S):
            self.back_to_attract()

    def _on_idle_warning(self, topic: str, payload: Any) -> None:
        if self.session is None:
            return
        t = self.ui
        seconds = int(payload.get("seconds_left", 0) + 0.999)
        message = t.bi("您还在吗？{s} 秒后将结束办理并清除信息。", s=seconds)
        self.nav.show(Dialog(t.theme, "idle", message,
                             [(t.bi("继续办理"), "continue", self._touched, "primary")]))
        t.say("您还在吗？请触摸屏幕继续办理")

    # --- help ----------------------------------------------------------------------------
    def call_staff(self) -> None:
        """The one-tap call for a human: to the hall, and followed on screen (staffcall.py)."""
        self.staff.call(self.session.step.value if self.session else HOME, self.session)

    def request_staff_mode(self) -> None:
        """Where staff mode begins (screens/staff/, a later issue): the long press on the
        attract screen's title asks the service for it."""
        self.ui.service.request_staff_mode()

"""Moves one staff member through staff mode, beside the citizen's journey on the same
navigator (screens/citizen/journey.py).

Entry: ``ui.staff_mode_requested`` on the bus (the attract title's 3 s hold, or 工作人员登录 in
the 呼叫工作人员 dialog, both through ``KioskService.request_staff_mode``). No roster or no
hall key: a dialog says why (``StaffAuthority.unavailable``) and nothing else happens.

Two modes, chosen by what the kiosk is doing when staff mode is asked for:
- ASSIST, over a citizen's session: the citizen's screen is left (its own ``on_leave``) but
  nothing of the session is wiped; their idle timer waits while staff touch the screen, and
  signing out goes back to exactly that screen, drawn again from the session.
- SERVICE, from idle: new sessions are held (the lifecycle's hold: 暂停服务 to the public);
  signing out goes home to a fresh attract screen.
Both end only by 退出登录 or 120 s without a touch (``StaffSession.idle_expired``). While
staff mode is open the citizen's journey gets no ticks (no idle warning, no call dialog over
a staff screen) and ``service.staff_present`` keeps a waiting citizen read from taking the
staff card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.staff.session import Mode, StaffSession
from screens.context import Ui
from screens.navigator import Navigator

log = logging.getLogger(__name__)
SIGN_IN, MENU = "staff_signin", "staff_menu"
STAFF_PREFIX = "staff_"
SIGN_IN_IDLE_S = 120.0      # the sign-in screen left alone goes back where it came from
SERVICE_HOLD = "service"


class StaffJourney:
    def __init__(self, ui: Ui, nav: Navigator, citizen: Any,
                 exit_app: Callable[[int], None] = lambda _code: None) -> None:
        """``citizen``: the CitizenJourney (its session, back_to_attract); ``exit_app``: ends
        the app with an exit status (exit to the desktop)."""
        self.ui, self.nav, self.citizen, self.exit_app = ui, nav, citizen, exit_app
        self.session: StaffSession | None = None
        self.mode: Mode | None = None           # set from entry to the end of staff mode
        self.return_to = "attract"              # the citizen screen ASSIST goes back to
        self._touched_at = ui.clock()
        self._citizen_touch, self._citizen_tick = nav.on_touch, nav.on_tick
        nav.on_touch, nav.on_tick = self._touched, self._tick
        ui.bridge.subscribe("ui.staff_mode_requested", lambda _t, _p: self.begin())

    # --- entering ------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Staff mode is open (signing in or signed in)."""
        return self.mode is not None

    @property
    def signed_in(self) -> bool:
        return self.session is not None and self.session.ended is None

    def begin(self) -> None:
        """Staff mode was asked for: why it cannot open, or the sign-in screen."""
        if self.active:
            return
        authority = self.ui.service.staff
        refused = authority.unavailable() if authority is not None else None
        if authority is None or refused is not None:
            zh, en = ((refused.zh, refused.en) if refused is not None else
                      ("本终端未开启工作人员模式", "staff mode is not set up on this kiosk"))
            self.nav.show_error(zh, en)
            return
        self.mode = Mode.ASSIST if self.citizen.session is not None else Mode.SERVICE
        self.return_to = str(self.nav.manager.current)
        self.ui.service.staff_present = True
        self._touched_at = self.ui.clock()
        self.nav.go(SIGN_IN)

    def signed_in_as(self, session: StaffSession) -> None:
        """The sign-in screen's success: the mode's hold, then the menu."""
        self.session = session
        if session.mode is Mode.SERVICE:
            self.ui.service.staff_hold(SERVICE_HOLD, True)
        elif self.ui.service.staff_call() is not None:
            self.ui.service.close_staff_call()      # the member of staff the citizen called
        self.menu()

    def menu(self) -> None:
        self.nav.go(MENU)

    # --- leaving -------------------------------------------------------------------------
    def cancel_sign_in(self) -> None:
        """Back from the sign-in screen without signing in."""
        self._leave()

    def leave_refused(self) -> None:
        """A gated screen's 返回: to the menu when signed in, else out of staff mode."""
        if self.signed_in:
            self.menu()
        elif self.active:
            self._leave()
        elif self.citizen.session is None:       # reached by no way a citizen has: home
            self.citizen.back_to_attract()

    def sign_out(self, why: str = "signed_out") -> None:
        """退出登录 (or ``idle``): one audit entry, then back to the citizen or home."""
        if self.session is not None:
            self.session.sign_out(why)
        self._leave()

    def signed_out_elsewhere(self) -> None:
        """``perform`` found the session ended (idle, checked at the action): leave too."""
        self._leave()

    def _leave(self) -> None:
        mode, self.mode, self.session = self.mode, None, None
        service = self.ui.service
        service.staff_present = False
        service.staff_hold(SERVICE_HOLD, False)
        self._wipe_staff_screens()
        if mode is Mode.ASSIST and self.citizen.session is not None:
            self.citizen.session.touch()        # the citizen's idle time starts again now
            self.nav.go(self.return_to)
        elif self.return_to == "attract" or mode is Mode.SERVICE:
            self.citizen.back_to_attract()
        else:
            self.nav.go(self.return_to)          # e.g. a browse that did not sign in

    def _wipe_staff_screens(self) -> None:
        for screen in self.nav.manager.screens:
            if screen.name.startswith(STAFF_PREFIX) and hasattr(screen, "wipe"):
                screen.wipe()

    # --- touches and time ----------------------------------------------------------------
    def _touched(self) -> None:
        self._touched_at = self.ui.clock()
        if self.signed_in and self.session is not None:
            self.session.touch()
        if self._citizen_touch is not None:
            self._citizen_touch()      # staff at the screen: the citizen has not walked away

    def _tick(self) -> None:
        if not self.active:
            if self._citizen_tick is not None:
                self._citizen_tick()
            return
        session = self.session
        if session is None:
            if self.ui.clock() - self._touched_at >= SIGN_IN_IDLE_S:
                self.cancel_sign_in()
        elif session.ended is not None:
            self._leave()                   # ended under us (perform found it idle)
        elif session.idle_expired(self._now(session)):
            log.info("staff signed out after 120 s without a touch")
            self.sign_out("idle")

    @staticmethod
    def _now(session: StaffSession) -> datetime:
        return session.clock()

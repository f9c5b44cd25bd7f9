"""The frame every staff screen shares (docs/staff.md, "Interfaces for the screens").

A staff screen is a :class:`screens.base.KioskScreen` in the same screen manager as the
citizen's, built with the staff journey (screens/staff/journey.py). Its header says who is
signed in and in which mode, with 返回菜单 and 退出登录; in service mode it also says what the
public is told (暂停服务，维护中). Texts arrive in both languages (``self.pair(zh, en)``):
staff screens are Chinese first with English beside it whatever the citizen chose.

The gate: a screen whose ``action`` the signed-in roles do not allow — or any staff screen
with nobody signed in — draws only "请先登录" and none of its body, however it was reached.
Every staff function runs through :meth:`StaffScreen.perform` (StaffSession.perform: role
check, exactly one audit entry); a refusal or failure is shown as a bilingual dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.errors import BilingualError
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Action
from kiosk.staff.session import Mode, StaffSession
from screens.base import KioskScreen, error_text
from screens.context import Ui
from screens.navigator import Navigator
from screens.widgets import KioskButton, Text, escape, fit_height, fit_row

if TYPE_CHECKING:
    from screens.staff.journey import StaffJourney

PUBLIC_NOTICE = ("暂停服务，维护中", "Out of service: maintenance")
MODE_TEXT = {Mode.ASSIST: ("协助办理（群众的办理已保留）",
                           "assisting (the citizen's session is kept)"),
             Mode.SERVICE: ("维护模式", "service mode")}


class StaffScreen(KioskScreen):
    """Subclasses set ``screen_name``, ``title`` (zh, en) and ``action`` (the Action the
    menu row gates it by; None: any signed-in staff member), and override ``staff_body``
    and, if they need them, ``staff_footer`` and ``wipe_state``."""

    title: tuple[str, str] = ("", "")
    action: Action | None = None
    cancellable = False
    needs_session = True            # False only for the sign-in screen itself

    def __init__(self, ui: Ui, nav: Navigator, staff: StaffJourney, **kwargs: Any) -> None:
        super().__init__(ui, nav, **kwargs)
        self.staff = staff
        self.wipe_state()

    # --- what subclasses use -------------------------------------------------------------
    @property
    def session(self) -> StaffSession:
        session = self.staff.session
        assert session is not None, "a staff screen's body runs only while signed in"
        return session

    def pair(self, zh: str, en: str) -> str:
        return self.ui.pair(zh, en)

    def button(self, zh: str, en: str, on_tap: Callable[[], None] | None, name: str,
               kind: str = "secondary", **kwargs: Any) -> KioskButton:
        return KioskButton(self.ui.theme, self.pair(zh, en), on_tap, kind=kind, name=name,
                           **kwargs)

    def text(self, zh: str, en: str, **kwargs: Any) -> Text:
        return Text(self.ui.theme, self.pair(zh, en), **kwargs)

    def perform(self, action: Action, run: Callable[[], dict[str, Any] | None] | None = None,
                *, case: str | None = None,
                before: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any] | None]:
        """``StaffSession.perform`` for a screen: (True, the detail ``run`` returned), or
        (False, None) after the refusal or failure was shown (an idle session is signed out
        and the journey leaves staff mode)."""
        try:
            return True, self.session.perform(action, run, case=case, before=before)
        except StaffError as exc:
            if exc.code in ("idle", "signed_out"):
                self.staff.signed_out_elsewhere()
            else:
                self.nav.show_error(exc.zh, exc.en)
            return False, None
        except BilingualError as exc:
            self.nav.show_error(*error_text(exc))
            return False, None

    def staff_body(self) -> Widget:
        return Widget()

    def staff_footer(self) -> list[Widget]:
        """By default 返回菜单."""
        return [self.button("返回菜单", "Back to the menu", self.staff.menu, "back",
                            size_hint_x=0.4)]

    # --- the gate and the frame ----------------------------------------------------------
    def allowed(self) -> bool:
        session = self.staff.session
        if not self.needs_session:
            return True
        if session is None or session.ended is not None:
            return False
        return self.action is None or session.may(self.action)

    def header(self) -> Widget:
        """Built each time (it names who is signed in): never kept from another person."""
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=theme.gap)
        fit_height(box)
        session = self.staff.session
        row = BoxLayout(spacing=theme.gap * 2)
        if session is not None and session.ended is None and self.needs_session:
            who = f"{escape(session.name)} · " + escape(ui.tr.pick(*MODE_TEXT[session.mode])[0])
            row.add_widget(named(Text(theme, who, size=theme.small,
                                      colour=theme.palette.muted), "staff_who"))
            row.add_widget(self.button("退出登录", "Sign out", self.staff.sign_out,
                                       "staff_sign_out", kind="danger", size_hint_x=None,
                                       width=theme.mm(52), font=theme.small * 1.1))
        else:
            row.add_widget(Text(theme, self.pair("工作人员模式", "Staff mode"),
                                size=theme.small, colour=theme.palette.muted))
        box.add_widget(fit_row(row))
        if self.staff.mode is Mode.SERVICE:
            box.add_widget(named(Text(theme, "⚠ " + self.pair(*PUBLIC_NOTICE),
                                      size=theme.small, colour=theme.palette.problem),
                                 "public_notice"))
        box.add_widget(Text(theme, self.pair(*self.title), size=theme.title, bold=True))
        return box

    def kept_widgets(self) -> list[Widget]:
        return []

    def body(self) -> Widget:
        if not self.allowed():
            return self._refused_body()
        return self.staff_body()

    def footer(self) -> list[Widget]:
        if not self.allowed():
            return [self.button("返回", "Back", self.staff.leave_refused, "back")]
        return self.staff_footer()

    def _refused_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical")
        gate = self.pair("请先由工作人员登录", "Staff must sign in first")
        box.add_widget(named(Text(theme, gate, size=theme.title * 0.9, halign="center"),
                             "staff_gate"))
        box.add_widget(Widget())
        return box


W = TypeVar("W", bound=Widget)


def named(widget: W, name: str) -> W:
    """Give a label a name tests and the UI walk can find it by."""
    widget.name = name
    return widget

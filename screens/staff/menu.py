"""The staff menu: a large button for each function of screens/staff/table.py that the
signed-in roles allow in this mode, and nothing else (a function a role may not use is not
shown, not greyed out)."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from screens.staff.checks_common import desk
from screens.staff.frame import StaffScreen, named
from screens.staff.journey import MENU
from screens.staff.table import FUNCTIONS, StaffFunction


def allowed_functions(screen: StaffScreen) -> list[StaffFunction]:
    session, mode = screen.staff.session, screen.staff.mode
    if session is None or session.ended is not None or mode is None:
        return []
    return [f for f in FUNCTIONS if mode in f.modes and session.may(f.action)]


class StaffMenuScreen(StaffScreen):
    screen_name = MENU
    title = ("工作人员菜单", "Staff menu")

    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2, padding=(0, theme.gap))
        for n, (zh, en) in enumerate(desk(self).reminder_lines()):   # the hall's 日检 rule
            box.add_widget(named(self.text("⚠ " + zh, en, colour=theme.palette.warning),
                                 f"menu_reminder_{n}"))
        functions = allowed_functions(self)
        for function in functions:
            box.add_widget(self.button(function.zh, function.en,
                                       lambda f=function: self.nav.go(f.screen),
                                       f"menu_{function.screen}",
                                       height=theme.target * 1.5, font=theme.title * 0.8))
        if not functions:
            box.add_widget(self.text("您的角色在此模式下没有可用的功能",
                                     "Your roles have no functions in this mode",
                                     halign="center"))
        content = BoxLayout(orientation="vertical")
        content.add_widget(self.scroll(box))
        return content

    def staff_footer(self) -> list[Widget]:
        return [self.button("退出登录", "Sign out", self.staff.sign_out, "menu_sign_out",
                            kind="primary")]

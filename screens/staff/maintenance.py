"""维护模式 on / off (maintainer) and 退出到桌面 (supervisor), both from service mode only.

Maintenance on holds new sessions until a maintainer switches it off, past sign-out: the
attract screen tells the public 暂停服务 (the lifecycle's maintenance reason). Exit to the
desktop asks why (a few large choices, the reason goes into the audit entry), signs out and
ends the app with EXIT_TO_DESKTOP, on which systemd does not restart it.
"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.staff.roles import Action
from kiosk.staff.session import EXIT_TO_DESKTOP
from screens.dialogs import Dialog
from screens.staff.frame import StaffScreen, named

MAINTENANCE_HOLD = "maintenance"
EXIT_REASONS = (("update", "软件升级", "Software update"),
                ("repair", "设备维修", "Device repair"),
                ("diagnose", "故障排查", "Troubleshooting"),
                ("other", "其他维护", "Other maintenance"))


class MaintenanceScreen(StaffScreen):
    screen_name = "staff_maintenance"
    title = ("维护模式", "Maintenance")
    action = Action.MAINTENANCE

    def staff_body(self) -> Widget:
        theme = self.ui.theme
        on = self.ui.service.staff_held(MAINTENANCE_HOLD)
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        state = (("维护模式：已开启。退出登录后本机仍对公众显示暂停服务。",
                  "Maintenance is ON: after sign-out the kiosk still shows the public it is "
                  "out of service.") if on else
                 ("维护模式：未开启。退出登录后本机恢复对公众服务。",
                  "Maintenance is OFF: after sign-out the kiosk serves the public again."))
        box.add_widget(named(self.text(*state, size=theme.title * 0.8,
                                       colour=theme.palette.problem if on else theme.palette.ok),
                             "maintenance_state"))
        box.add_widget(self.button("关闭维护模式" if on else "开启维护模式",
                                   "Switch maintenance off" if on else "Switch maintenance on",
                                   self.toggle, "maintenance_toggle", kind="primary",
                                   height=theme.target * 1.6, font=theme.title * 0.8))
        box.add_widget(Widget())
        return box

    def toggle(self) -> None:
        service = self.ui.service
        on = not service.staff_held(MAINTENANCE_HOLD)

        def run() -> dict[str, str]:
            service.staff_hold(MAINTENANCE_HOLD, on)
            return {"maintenance": "on" if on else "off"}
        done, _ = self.perform(Action.MAINTENANCE, run)
        if done:
            self.render()


class ExitScreen(StaffScreen):
    screen_name = "staff_exit"
    title = ("退出到桌面", "Exit to the desktop")
    action = Action.EXIT_TO_DESKTOP

    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(self.text("请选择退出原因。退出后自助服务程序停止，不会自动重启。",
                                 "Choose why. The kiosk app then stops and is not restarted "
                                 "by itself.", colour=theme.palette.muted))
        for code, zh, en in EXIT_REASONS:
            box.add_widget(self.button(zh, en, lambda c=code, z=zh, e=en: self.confirm(c, z, e),
                                       f"exit_{code}", height=theme.target * 1.5,
                                       font=theme.title * 0.8))
        box.add_widget(Widget())
        return box

    def confirm(self, code: str, zh: str, en: str) -> None:
        message = self.pair(f"确定退出到桌面吗？原因：{zh}", f"Exit to the desktop? Reason: {en}")
        self.nav.show(Dialog(self.ui.theme, "confirm_exit", message,
                             [(self.pair("不退出", "Stay"), "keep", None, "secondary"),
                              (self.pair("退出", "Exit"), "confirm",
                               lambda: self.exit(code), "danger")]))

    def exit(self, code: str) -> None:
        done, _ = self.perform(Action.EXIT_TO_DESKTOP, lambda: {"reason": code})
        if done:
            self.staff.sign_out("exit")
            self.staff.exit_app(EXIT_TO_DESKTOP)

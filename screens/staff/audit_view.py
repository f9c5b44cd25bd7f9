"""审计日志 (supervisor): whether the chain verifies (``kiosk audit verify``'s check), and the
newest entries — time, staff id, action, case and result; entries hold no personal data by
construction (kiosk/staff/audit.py). Looking is itself an audited action."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.staff.audit_tail import SHOWN, last_entries
from kiosk.staff.errors import AuditError
from kiosk.staff.roles import Action
from kiosk.staff.verify import verify
from screens.staff.frame import StaffScreen, named
from screens.widgets import Panel, Text, escape, fit_height


class AuditViewScreen(StaffScreen):
    screen_name = "staff_audit"
    title = ("审计日志", "Audit log")
    action = Action.AUDIT_VIEW

    def wipe_state(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.verdict = ("", "")
        self.intact = False

    def on_pre_enter(self, *args: Any) -> None:
        self.wipe_state()
        if self.allowed():
            self.perform(Action.AUDIT_VIEW, self._load)
        super().on_pre_enter(*args)

    def _load(self) -> dict[str, Any]:
        authority = self.ui.service.staff
        assert authority is not None
        folder = authority.audit.folder
        try:
            checked = verify(folder)
            self.intact = True
            self.verdict = (f"审计日志完整：{checked.entries} 条记录，校验通过",
                            f"The audit log is intact: {checked.entries} entries verified")
        except AuditError as exc:
            self.intact, self.verdict = False, ("审计日志校验失败：" + exc.zh,
                                                "The audit log does not verify: " + exc.en)
        self.entries = last_entries(folder, SHOWN)
        return {"shown": len(self.entries), "intact": self.intact}

    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        if self.verdict[0]:
            box.add_widget(named(self.text(*self.verdict, bold=True, colour=(
                theme.palette.ok if self.intact else theme.palette.problem)), "audit_verdict"))
        rows = BoxLayout(orientation="vertical", spacing=theme.gap)
        for entry in self.entries:
            rows.add_widget(self._row(entry))
        box.add_widget(self.scroll(rows))
        return box

    def _row(self, entry: dict[str, Any]) -> Widget:
        theme = self.ui.theme
        panel = Panel(theme)
        fit_height(panel)
        if entry.get("damaged"):
            panel.add_widget(self.text("（无法读取的记录）", "(an unreadable entry)"))
            return panel
        when = str(entry.get("time", ""))[:19].replace("T", " ")
        after = entry.get("after") or {}
        result = ", ".join(f"{k}={v}" for k, v in after.items()) if isinstance(after, dict) else ""
        line = (f"#{entry.get('seq')}  {when}  {entry.get('staff') or '—'}  "
                f"{entry.get('action')}  {entry.get('case') or ''}")
        panel.add_widget(Text(theme, escape(line), size=theme.small))
        if result:
            panel.add_widget(Text(theme, escape(result), size=theme.small,
                                  colour=theme.palette.muted))
        return panel

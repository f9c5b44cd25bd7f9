"""容缺受理 (window staff only): for a material the catalogue marks 可容缺 and the applicant
has not scanned, the staff member picks the 补交 deadline with large buttons (the catalogue's
default first; a day less or more, a week more), confirms the attestation, and approves
(``case.approve_rongque``, one audit entry). The applicant then reads the commitment and taps
承诺 on the same screen — the staff member is beside them — after which the review accepts
the application with the item listed as 容缺 with its deadline."""

from __future__ import annotations

from datetime import date, timedelta

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import AlternativeGroup, SingleRequirement
from kiosk.session import Session, Step
from kiosk.staff import casework
from kiosk.staff.roles import Action
from screens.staff.casebase import CaseScreen
from screens.staff.frame import named
from screens.widgets import Panel, Text, escape, fit_height, fit_row

WEEKDAYS = "一二三四五六日"
STEPS = (("-1", "少一天", "1 day less", -1), ("+1", "多一天", "1 day more", 1),
         ("+7", "多一周", "1 week more", 7))


class RongqueScreen(CaseScreen):
    screen_name = "staff_rongque"
    title = ("容缺受理", "Accept with a material to follow (容缺)")
    action = Action.APPROVE_RONGQUE

    def wipe_state(self) -> None:
        self._deadlines: dict[str, date] = {}
        self._attested: set[str] = set()

    def case_body(self, session: Session) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap, size_hint_y=None)
        fit_height(box)
        items = [r for r in session.situation.materials if r.rongque is not None] \
            if session.situation else []
        if not items:
            box.add_widget(named(self.text("本事项情形没有可容缺的材料。",
                                           "No material of this case may follow later."),
                                 "rongque_none"))
        for req in items:
            box.add_widget(self._item(session, req))
        return self.scroll(box)

    def _item(self, session: Session, req: SingleRequirement | AlternativeGroup) -> Widget:
        theme = self.ui.theme
        panel = Panel(theme, size_hint_y=None)
        fit_height(panel)
        panel.add_widget(Text(theme, self.pair(req.label, req.label_en), bold=True,
                              size=theme.title * 0.8))
        approval = session.assist.approval(req.id) if session.assist else None
        if any(session.pages.get(m.id) for m in req.options):
            panel.add_widget(self.text("已扫描，无需容缺。", "Scanned: nothing to defer.",
                                       colour=theme.palette.ok))
        elif approval is None:
            self._picker(panel, session, req.id)
        else:
            self._commitment(panel, session, req, approval.deadline,
                             approval.committed_at is not None)
        return panel

    def _picker(self, panel: Panel, session: Session, requirement_id: str) -> None:
        theme = self.ui.theme
        deadline = self._deadline(session, requirement_id)
        panel.add_widget(named(Text(theme, self.pair(f"补交期限：{_day(deadline)}",
                                                     f"Supply by {deadline.isoformat()}"),
                                    size=theme.title * 0.8), f"deadline_{requirement_id}"))
        row = BoxLayout(spacing=theme.gap, size_hint_y=None)
        for code, zh, en, days in STEPS:
            row.add_widget(self.button(zh, en, lambda d=days: self.shift(requirement_id, d),
                                       f"deadline_{code}_{requirement_id}",
                                       height=theme.target * 1.4))
        panel.add_widget(fit_row(row))
        attested = requirement_id in self._attested
        panel.add_widget(self.button(
            ("✓ " if attested else "□ ") + "经审查，申请人信用良好，同意容缺受理",
            "Reviewed: the applicant is in good standing; I approve", lambda:
            self.attest(requirement_id), f"attest_{requirement_id}", kind="choice",
            selected=attested))
        panel.add_widget(self.button("批准容缺受理", "Approve", lambda:
                                     self.approve(requirement_id), f"approve_{requirement_id}",
                                     kind="primary", enabled=attested))

    def _commitment(self, panel: Panel, session: Session,
                    req: SingleRequirement | AlternativeGroup, deadline: date,
                    committed: bool) -> None:
        theme = self.ui.theme
        text = req.rongque.commitment if req.rongque else ""
        panel.add_widget(self.text(f"已批准，补交期限 {_day(deadline)}。",
                                   f"Approved: to be supplied by {deadline.isoformat()}.",
                                   colour=theme.palette.ok))
        panel.add_widget(Text(theme, self.pair("请申请人阅读并承诺：", "Applicant, please read "
                                               "and commit:") + "\n" + escape(text)))
        if committed:
            panel.add_widget(named(self.text("✓ 申请人已承诺", "✓ The applicant has committed",
                                             colour=theme.palette.ok, bold=True),
                                   f"committed_{req.id}"))
        else:
            panel.add_widget(self.button("承诺", "I commit", lambda: self.commit(req.id),
                                         f"commit_{req.id}", kind="primary",
                                         height=theme.target * 1.5))

    # --- taps ------------------------------------------------------------------------------
    def shift(self, requirement_id: str, days: int) -> None:
        session = self.case
        if session is None:
            return
        today = self.session.clock().date()
        moved = self._deadline(session, requirement_id) + timedelta(days=days)
        limit = today + timedelta(days=casework.MAX_RONGQUE_DAYS)
        self._deadlines[requirement_id] = min(max(moved, today + timedelta(days=1)), limit)
        self.render()

    def attest(self, requirement_id: str) -> None:
        self._attested ^= {requirement_id}
        self.render()

    def approve(self, requirement_id: str) -> None:
        session = self.case
        if session is None or requirement_id not in self._attested:
            return
        deadline = self._deadline(session, requirement_id)
        if self.act(lambda: casework.approve_rongque(self.session, session, requirement_id,
                                                     deadline)):
            self.render()

    def commit(self, requirement_id: str) -> None:
        """The applicant's tap: their commitment, then the review checks again."""
        session = self.case
        if session is None:
            return
        session.commit_rongque(requirement_id, self.session.clock())
        if session.step is Step.REVIEW:
            session.recheck()
        self.render()

    def _deadline(self, session: Session, requirement_id: str) -> date:
        if requirement_id not in self._deadlines:
            self._deadlines[requirement_id] = casework.default_deadline(
                session, requirement_id, self.session.clock().date())
        return self._deadlines[requirement_id]


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"

"""What the staff screens on a citizen's case share (原件核验, 容缺, 帮办/代办): the citizen's
session they act on, the steps they may act at, and running a staff function of
kiosk/staff/casework.py (which goes through ``StaffSession.perform`` itself: role check, one
audit entry) with its refusal shown as the frame shows one.

Opening one of these screens while nobody marked the case assisted marks it 帮办 (one
``case.assist`` audit entry): a guide checking originals at the kiosk is helping the
applicant there. 代办 is chosen on the agent screen.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.assist import AssistKind
from kiosk.session import Session, Step
from kiosk.staff import casework
from screens.staff.checks_common import attempt
from screens.staff.frame import StaffScreen, named

CASE_STEPS = (Step.CAPTURE, Step.REVIEW)     # materials scanned, application not confirmed


class CaseScreen(StaffScreen):
    """A staff screen over the citizen's session at ``CASE_STEPS``."""

    steps: tuple[Step, ...] = CASE_STEPS
    not_yet = ("请在申请人扫描材料后、确认提交前使用此功能",
               "Use this after the applicant has scanned the materials, before they confirm")

    @property
    def case(self) -> Session | None:
        """The citizen's session, if it is at a step this screen works at."""
        session = self.staff.citizen.session
        return session if session is not None and session.step in self.steps else None

    def staff_body(self) -> Widget:
        session = self.case
        if session is None:
            return self.no_case()
        if session.assist is None and not self.act(
                lambda: casework.begin_assist(self.session, session, AssistKind.HELP)):
            return self.no_case()
        return self.case_body(session)

    def case_body(self, session: Session) -> Widget:
        return Widget()

    def no_case(self) -> Widget:
        box = BoxLayout(orientation="vertical")
        box.add_widget(named(self.text(*self.not_yet, size=self.ui.theme.title * 0.8,
                                       halign="center"), "case_not_open"))
        box.add_widget(Widget())
        return box

    def act(self, call: Callable[[], object]) -> bool:
        """Run a casework function; show its refusal (the staff screens' one way) and say
        False."""
        return attempt(self, lambda: (call(), True)[1]) is not None

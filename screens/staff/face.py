"""人证核验 by sight: the kiosk's own check could not clear the applicant (its tries used, a
document with no photo, no camera) and called staff. The guide compares the person in front of
them with the card in their hand and taps one of two large buttons: 本人与证件一致 (the session
goes on, the evidence says ``staff_verified`` with their staff id) or 不一致，结束办理 (the
session ends and is wiped). Each is one ``case.verify_face`` audit entry
(kiosk/staff/casework.py); opening the screen marks the case 帮办, as the other case screens do.
"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.face_step import FaceResult, result_text
from kiosk.session import Session, Step
from kiosk.staff import casework
from kiosk.staff.roles import Action
from screens.staff.casebase import CaseScreen
from screens.staff.frame import named


class FaceCheckScreen(CaseScreen):
    screen_name = "staff_face"
    title = ("人证核验", "Verify the person")
    action = Action.VERIFY_FACE
    steps = (Step.CAPTURE,)
    not_yet = ("当前没有等待工作人员的人证核验",
               "No face check is waiting for staff on this session")

    @property
    def case(self) -> Session | None:
        session = super().case
        if session is None or (not session.face_pending and session.face is None):
            return None
        return session

    def case_body(self, session: Session) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        face = session.face
        if face is not None and face.result is FaceResult.STAFF_VERIFIED:
            done = self.text("✓ 已核验：本人与证件一致。请退出登录，由申请人继续办理。",
                             "✓ Verified: the person is the card's holder. Sign out and let "
                             "the applicant go on.", colour=theme.palette.ok)
            box.add_widget(named(done, "face_verified"))
            box.add_widget(Widget())
            return box
        why = result_text(face) if face is not None else ("申请人请求协助", "The applicant asked")
        tries = face.tries if face is not None else 0
        box.add_widget(named(self.text(f"本机核验结果：{why[0]}（已尝试 {tries} 次）",
                                       f"The kiosk's check: {why[1]} ({tries} tries)",
                                       colour=theme.palette.muted), "face_why"))
        box.add_widget(self.text("请当面核对：申请人本人与其身份证件（原件）的照片是否一致。",
                                 "Compare the applicant in front of you with the photo on "
                                 "their identity document (the original).",
                                 size=theme.title * 0.8))
        box.add_widget(self.button("✓ 本人与证件一致", "✓ Same person as the card",
                                   lambda: self.decide(True), "face_same", kind="primary",
                                   height=theme.target * 1.6, size_hint_y=None))
        box.add_widget(self.button("× 不一致，结束办理", "× Not the same: end the session",
                                   lambda: self.decide(False), "face_not_same", kind="danger",
                                   height=theme.target * 1.6, size_hint_y=None))
        box.add_widget(Widget())
        return box

    def decide(self, same: bool) -> None:
        session = self.case
        if session is None:
            return
        if not self.act(lambda: casework.verify_face(self.session, session, verified=same)):
            return
        if same:
            self.render()
            return
        # the session has ended (wiped): staff mode closes onto a fresh attract screen
        self.staff.return_to = "attract"
        self.staff.sign_out()
        self.staff.citizen.back_to_attract()

"""帮办 / 代办: whether the staff member helps the applicant (帮办) or an agent applies for
them (代办). For 代办 the agent lays their own ID card on the reader (read on the reader's
thread; the name is shown, the number never) and the 委托书 on the document camera — one
page per tap, shown as thumbnails. The receipt then names the agent and says the 委托书 went
with the materials; the manifest carries both."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.assist import AssistKind
from kiosk.interaction.i18n import fill
from kiosk.session import Session, Step
from kiosk.staff import casework
from kiosk.staff.case_devices import capture_mandate, read_agent
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Action
from screens.base import error_text
from screens.citizen.page_viewer import PageImages
from screens.staff.casebase import CaseScreen
from screens.staff.frame import named
from screens.widgets import Picture, fit_height, fit_row

KINDS = ((AssistKind.HELP, "帮办：协助申请人本人办理", "Help the applicant (帮办)"),
         (AssistKind.PROXY, "代办：代办人持委托书办理", "An agent applies with a 委托书 (代办)"))


class AgentScreen(CaseScreen):
    screen_name = "staff_agent"
    title = ("帮办 / 代办", "Assisted or by an agent")
    action = Action.ASSIST
    steps = (Step.IDENTIFY, Step.CAPTURE, Step.REVIEW)
    not_yet = ("请在读取申请人身份证件后、确认提交前使用此功能",
               "Use this after the applicant's card was read, before they confirm")

    def wipe_state(self) -> None:
        self.busy = False
        self.agent_name = ""

    def case_body(self, session: Session) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5, size_hint_y=None)
        fit_height(box)
        kind = session.assist.kind if session.assist else AssistKind.HELP
        for choice, zh, en in KINDS:
            box.add_widget(self.button(zh, en, lambda c=choice: self.choose(c),
                                       f"assist_{choice.name.lower()}", kind="choice",
                                       selected=choice is kind, height=theme.target * 1.4))
        if kind is AssistKind.PROXY:
            self._proxy(box, session)
        return self.scroll(box)

    def _proxy(self, box: BoxLayout, session: Session) -> None:
        theme = self.ui.theme
        agent = session.assist.agent if session.assist else None
        who = ((f"代办人：{agent.name}（证件已读取）", f"Agent: {agent.name} (card read)")
               if agent else ("请代办人将本人身份证放在读卡区，然后点“读取”",
                              "Agent: place your own ID card on the reader, then tap “read”"))
        box.add_widget(named(self.text(*who), "agent_who"))
        box.add_widget(self.button("读取代办人身份证", "Read the agent's card", self.read,
                                   "agent_read", kind="primary", enabled=not self.busy,
                                   height=theme.target * 1.4))
        count = len(session.mandate)
        box.add_widget(named(self.text(f"授权委托书：已拍 {count} 页。请将委托书放在拍摄区，"
                                       "点“拍摄委托书”。",
                                       fill("Power of attorney: {n} {n:page|pages}. Lay it "
                                            "on the camera and tap “photograph”.", n=count)),
                             "mandate_count"))
        box.add_widget(self.button("拍摄委托书", "Photograph the 委托书", self.photograph,
                                   "mandate_capture", enabled=not self.busy and
                                   session.step is not Step.IDENTIFY,
                                   height=theme.target * 1.4))
        if session.mandate:
            images = PageImages(session.page_image)
            row = BoxLayout(spacing=theme.gap, size_hint_y=None, height=theme.target * 2.5)
            for page in session.mandate[-3:]:
                picture = Picture()
                picture.show(images.thumbnail(page))
                row.add_widget(picture)
            box.add_widget(fit_row(row, theme.target * 2.5))

    # --- taps ------------------------------------------------------------------------------
    def choose(self, kind: AssistKind) -> None:
        session = self.case
        if session is not None and self.act(
                lambda: casework.begin_assist(self.session, session, kind)):
            self.render()

    def read(self) -> None:
        session, service = self.case, self.ui.service
        if session is None or self.busy:
            return
        self.busy = True
        staff = self.session
        self.render()
        self.ui.bridge.run(lambda: read_agent(service.k, staff, session), self._done,
                           self._failed)

    def photograph(self) -> None:
        session, service = self.case, self.ui.service
        if session is None or self.busy:
            return
        self.busy = True
        self.render()
        self.ui.bridge.run(lambda: capture_mandate(service.k, session), self._done, self._failed)

    def _done(self, _result: object) -> None:
        self.busy = False
        self.render()

    def _failed(self, error: BaseException) -> None:
        self.busy = False
        if isinstance(error, StaffError) and error.code in ("idle", "signed_out"):
            self.staff.signed_out_elsewhere()
            return
        self.nav.show_error(*error_text(error))    # no card, camera gone, refused agent
        self.render()

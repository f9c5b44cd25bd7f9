"""呼叫工作人员 as the citizen sees it: one dialog that follows the call (kiosk/fleet/staffcall.py)
and says only what is true — that the hall has been told, that someone is on the way, or,
when nobody can be reached or nobody answers, to go to the guide desk and which number to call.

The dialog is redrawn when the call's state changes (the navigator's tick asks the service).
Its button closes the call: "取消呼叫" while nobody has answered, "知道了" after. Another
dialog over it (the idle warning, cancel) leaves the call open; it comes back afterwards.
"""

from __future__ import annotations

from kiosk.fleet.staffcall import CallState, StaffCall
from kiosk.session import Session
from screens.context import Ui
from screens.dialogs import Dialog
from screens.labels import N_
from screens.navigator import Navigator

NAME = "staff_called"
GO_TO_DESK = frozenset({CallState.OFFLINE, CallState.UNREACHABLE, CallState.EXPIRED})
CANCELLABLE = frozenset({CallState.SENDING, CallState.WAITING})

MESSAGES: dict[CallState, str] = {
    CallState.SENDING: N_("正在呼叫大厅工作人员，请稍候。"),
    CallState.WAITING: N_("已通知大厅工作人员，请在本机旁稍候。"),
    CallState.ACKNOWLEDGED: N_("工作人员已收到呼叫，正在赶来。"),
    CallState.EXPIRED: N_("暂时无人应答。请到咨询台，或拨打大厅电话 {phone}。"),
    CallState.UNREACHABLE: N_("本机暂时联系不到大厅工作人员。请到咨询台，或拨打大厅电话 {phone}。"),
    CallState.OFFLINE: N_("本机无法呼叫大厅工作人员。请到咨询台，或拨打大厅电话 {phone}。"),
}
SPOKEN: dict[CallState, str] = {
    CallState.SENDING: N_("正在呼叫工作人员，请稍候"),
    CallState.WAITING: N_("已通知工作人员，请稍候"),
    CallState.ACKNOWLEDGED: N_("工作人员正在赶来"),
}
SPOKEN_DESK = N_("请到咨询台，或拨打屏幕上的电话")


# a citizen who called is waiting for someone: the session's idle timer holds meanwhile
# (bounded: an unanswered call expires after [hall] call_wait_s; an answered one ends when
# the member of staff arrives and closes it, or with the session)
AWAITED = frozenset({CallState.SENDING, CallState.WAITING, CallState.ACKNOWLEDGED})


class StaffCallView:
    def __init__(self, ui: Ui, nav: Navigator) -> None:
        self.ui, self.nav = ui, nav
        self._shown: StaffCall | None = None
        self._dialog: Dialog | None = None

    def call(self, step: str, session: Session | None) -> None:
        """The citizen tapped 呼叫工作人员: the call goes out, the kiosk chimes."""
        call = self.ui.service.call_staff(step, session)
        self._show(call, chime=True)

    def awaited(self) -> bool:
        call = self.ui.service.staff_call()
        return call is not None and call.state in AWAITED

    def tick(self) -> None:
        """Follow the call: a new state redraws the dialog; a dialog lost under another one
        comes back once that one is gone."""
        call = self.ui.service.staff_call()
        if call is None:
            self._shown = self._dialog = None
            return
        visible = self._dialog is not None and self.nav.dialog is self._dialog
        if visible and self._shown is not None and call.state is self._shown.state:
            return
        if visible or self.nav.dialog is None:
            self._show(call)

    def _show(self, call: StaffCall, chime: bool = False) -> None:
        t = self.ui
        message = t.bi(MESSAGES[call.state], phone=t.service.guide_desk_phone)
        label, kind = ((N_("取消呼叫"), "secondary") if call.state in CANCELLABLE
                       else (N_("知道了"), "primary"))
        dialog = Dialog(t.theme, NAME, message, [
            (t.bi(label), "close_call", self._closed, kind),
            # the member of staff who came signs in here (screens/staff/journey.py)
            (t.pair("工作人员登录", "Staff sign-in"), "staff_sign_in",
             t.service.request_staff_mode, "secondary")])
        changed = self._shown is None or self._shown.state is not call.state
        self._shown, self._dialog = call, dialog
        self.nav.show(dialog)
        if chime or changed:
            self._speak(call.state, chime)

    def _speak(self, state: CallState, chime: bool) -> None:
        t = self.ui
        msgid = SPOKEN_DESK if state in GO_TO_DESK else SPOKEN.get(state, SPOKEN_DESK)
        if not chime:
            t.say(msgid)
        elif t.voice is not None:
            t.voice.chime(t.tr.lookup(msgid, "zh_CN"), t.tr.lookup(msgid, "en"), t.tr.lang)

    def _closed(self) -> None:
        self._shown = self._dialog = None
        self.ui.service.close_staff_call()

"""工作人员登录: the staff member's own ID card on the kiosk's reader, then the PIN on a pad
whose digits move every time it is drawn. 5 wrong PINs lock staff sign-in for 15 minutes
(counted and alerted by StaffAuthority; this screen shows the refusal, the attempts left and
when the lock ends).

The card's number is held in this screen's memory from the read to the attempt, then
dropped; the PIN only in the pad until 确定. Neither is ever shown or logged.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.staff.authority import Refused, SignedIn
from kiosk.staff.session import Mode
from screens.base import error_text
from screens.staff.frame import StaffScreen, named
from screens.staff.journey import SIGN_IN
from screens.staff.pinpad import PIN_LENGTH, ShuffledPinPad
from screens.widgets import Text

CARD_REFUSALS = frozenset({"unknown_card", "expired", "revoked"})


class StaffSignInScreen(StaffScreen):
    screen_name = SIGN_IN
    title = ("工作人员登录", "Staff sign-in")
    needs_session = False

    def __init__(self, ui: Any, nav: Any, staff: Any, **kwargs: Any) -> None:
        self._token = 0
        super().__init__(ui, nav, staff, **kwargs)
        ui.bridge.subscribe("device.identity_reader", self._device_event)

    def wipe_state(self) -> None:
        self.state = "card"             # card | card_failed | pin | locked
        self.message = ("", "")
        self._number = ""
        self._token += 1                # a late read for an abandoned sign-in is dropped
        self.pad: ShuffledPinPad | None = None
        self._dots: Text | None = None
        self._ok: Any = None

    # --- life cycle ----------------------------------------------------------------------
    def on_pre_enter(self, *args: Any) -> None:
        self.wipe_state()
        authority = self.ui.service.staff
        until = authority.locked_until() if authority is not None else None
        if until is not None:
            self._locked(until)
        super().on_pre_enter(*args)

    def _device_event(self, _topic: str, event: Any) -> None:
        """A card placed while the screen waits for one is read: only a card put down
        after sign-in began (a citizen's card left on the reader is not taken for staff's)."""
        shown = self.manager is not None and self.manager.current == self.name
        if (getattr(event, "kind", "") == "card_inserted" and shown and self.staff.active
                and self.state in ("card", "card_failed")):
            self.read()

    def on_leave(self, *args: Any) -> None:
        super().on_leave(*args)
        self.wipe_state()

    # --- the card ------------------------------------------------------------------------
    def read(self) -> None:
        again = self.state != "card"
        self.state, self._number, self.message = "card", "", ("", "")
        self._token += 1
        token = self._token
        service = self.ui.service
        self.ui.bridge.run(service.read_staff_card, lambda number: self._read(token, number),
                           lambda error: self._read_failed(token, error))
        if again and self.manager is not None and self.manager.current == self.name:
            self.render()

    def _read(self, token: int, number: str) -> None:
        if token != self._token or not self.staff.active:
            return
        self._number, self.state = number, "pin"
        self.message = ("证件已读取，请取回证件，然后输入 PIN",
                        "Card read: take it back, then enter your PIN")
        self.render()

    def _read_failed(self, token: int, error: BaseException) -> None:
        if token != self._token or not self.staff.active:
            return
        self.state, self.message = "card_failed", error_text(error)
        self.render()

    # --- the PIN -------------------------------------------------------------------------
    def _typed(self, length: int) -> None:
        if self._dots is not None:
            self._dots.text = " ".join("●" * length + "○" * (PIN_LENGTH - length))
        if self._ok is not None:
            self._ok.set_enabled(length == PIN_LENGTH)

    def submit(self) -> None:
        authority, mode = self.ui.service.staff, self.staff.mode
        if authority is None or mode is None or self.pad is None or not self._number:
            return
        result = authority.sign_in(self._number, self.pad.take(), mode)
        if isinstance(result, SignedIn):
            self._number = ""
            self.staff.signed_in_as(result.session)
            return
        self._refused(result)

    def open_emergency(self, staff_id: str) -> None:
        """The opening a signed ``staff_open`` fleet command granted (no card, no PIN, past
        a lock): once, for the staff id it names."""
        authority, mode = self.ui.service.staff, self.staff.mode
        if authority is None or mode is None:
            return
        result = authority.open_emergency(staff_id, mode)
        if isinstance(result, SignedIn):
            self.staff.signed_in_as(result.session)
            return
        self._refused(result)

    def _refused(self, refused: Refused) -> None:
        if refused.code == "wrong_pin":
            left = refused.attempts_left or 0
            self.message = (f"{refused.zh}，还可尝试 {left} 次",
                            f"{refused.en}: {left} attempt{'' if left == 1 else 's'} left")
        elif refused.code == "locked" and refused.locked_until is not None:
            self._number = ""
            self._locked(refused.locked_until)
        else:
            self._number = ""
            self.state, self.message = "card_failed", (refused.zh, refused.en)
        self.render()          # a wrong PIN: the pad is drawn again, shuffled anew

    def _locked(self, until: Any) -> None:
        local = until.astimezone()
        self.state = "locked"
        self.message = (f"PIN 错误次数过多，工作人员登录已锁定，{local:%H:%M} 后可再试",
                        f"Too many wrong PINs: staff sign-in is locked until {local:%H:%M}")

    # --- layout --------------------------------------------------------------------------
    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        mode = self.staff.mode
        if mode is Mode.ASSIST:
            box.add_widget(self.text("登录后协助当前群众办理，群众已填写的内容会保留",
                                     "After sign-in you assist the citizen at the kiosk; "
                                     "what they entered is kept", colour=theme.palette.muted))
        prompt = {"card": ("请将您本人的身份证放在读卡区（如有其他证件，请先取走）",
                           "Place your own ID card on the reader (take any other card off "
                           "first)"),
                  "card_failed": ("未能登录", "Not signed in"),
                  "pin": ("请输入 6 位 PIN（按键位置每次不同）",
                          "Enter your 6-digit PIN (the keys move every time)"),
                  "locked": ("工作人员登录已锁定", "Staff sign-in is locked")}[self.state]
        box.add_widget(self.text(*prompt, size=theme.title * 0.85, halign="center"))
        if self.message[0]:
            colour = theme.palette.text if self.state == "pin" and "取回" in self.message[0] \
                else theme.palette.problem
            box.add_widget(named(self.text(*self.message, colour=colour, halign="center"),
                                 "staff_message"))
        authority = self.ui.service.staff
        granted = authority.pending_emergency() if authority is not None else None
        if granted is not None and self.state != "pin":
            box.add_widget(self.button(
                f"远程紧急开启（工号 {granted}）", f"Emergency opening granted for {granted}",
                lambda: self.open_emergency(granted), "staff_emergency", kind="primary"))
        if self.state == "pin":
            self._dots = named(Text(theme, " ".join("○" * PIN_LENGTH), size=theme.title,
                                    halign="center"), "pin_dots")
            box.add_widget(self._dots)
            self.pad = ShuffledPinPad(theme, self._typed, (self.pair("清空", "Clear"),
                                                           self.pair("删除", "Delete")))
            box.add_widget(self.pad)
        box.add_widget(Widget())
        return box

    def staff_footer(self) -> list[Widget]:
        buttons: list[Widget] = [self.button("取消", "Cancel", self.staff.cancel_sign_in,
                                             "staff_cancel", size_hint_x=0.4)]
        if self.state == "card_failed":
            buttons.append(self.button("重新读卡", "Read the card again", self.read,
                                       "staff_read_again", kind="primary"))
        if self.state == "pin":
            self._ok = self.button("登录", "Sign in", self.submit, "staff_pin_ok",
                                   kind="primary", enabled=False)
            buttons.append(self._ok)
        return buttons

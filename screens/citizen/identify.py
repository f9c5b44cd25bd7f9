"""Identify: place the ID card on the reader (animated), or type a passport's MRZ key.

The read runs on the reader's own thread through the bridge; this screen only shows what
happens (card detected, reading, read, or the reader's error in plain words) and offers a
retry. An expired document is refused by the session with its own message.
"""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.graphics import Color, Line, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.interaction import speech as spoken
from kiosk.interaction.speech import Speech
from kiosk.privacy import mask_name
from kiosk.service import Identity, MrzKey
from screens.base import error_text
from screens.citizen.face import after_card
from screens.citizen.frame import CitizenScreen
from screens.citizen.matters import keyboard_labels
from screens.keyboard import NumericKeypad, PinyinKeyboard
from screens.labels import N_
from screens.widgets import KioskButton, Panel, Text, escape, fit_height

MRZ_FIELDS = ("document_number", "birth", "expiry")


class CardAnimation(Widget):
    """A card gliding down onto the reader pad, over and over: 'put your card here'."""

    def __init__(self, theme: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pal = theme.palette
        with self.canvas:
            Color(*pal.muted)
            self._pad = RoundedRectangle(radius=[theme.mm(3)])
            Color(*pal.primary)
            self._card = RoundedRectangle(radius=[theme.mm(2)])
            Color(*pal.on_primary)
            self._chip = Line(width=2)
        self.offset = 1.0
        self.bind(pos=self._redraw, size=self._redraw)
        self._anim = (Animation(offset=0.0, duration=1.2, t="out_quad")
                      + Animation(offset=0.0, duration=0.8)
                      + Animation(offset=1.0, duration=0.01))
        self._anim.repeat = True
        self._anim.bind(on_progress=lambda *_: self._redraw())
        self._anim.start(self)

    def _redraw(self, *_: Any) -> None:
        w, h = self.width, self.height
        pad_w, pad_h = w * 0.5, h * 0.32
        px, py = self.center_x - pad_w / 2, self.y + h * 0.08
        self._pad.pos, self._pad.size = (px, py), (pad_w, pad_h)
        card_w, card_h = pad_w * 0.7, pad_w * 0.7 * 0.63      # ID-1 card proportions
        cy = py + pad_h * 0.2 + self.offset * h * 0.45
        self._card.pos, self._card.size = (self.center_x - card_w / 2, cy), (card_w, card_h)
        self._chip.rectangle = (self.center_x - card_w * 0.35, cy + card_h * 0.35,
                                card_w * 0.18, card_h * 0.3)


def card_banner(ui: Any, reminder: Speech, taken: bool = False) -> Widget:
    """The reminder to take the ID card back, hard to miss (symbol, word and colour), or a
    tick once the reader saw the card go."""
    theme = ui.theme
    if taken:
        colour, text = theme.palette.ok, "✓ " + ui.bi("证件已取回")
    else:
        colour, text = theme.palette.warning, "! " + ui.pair(reminder.zh, reminder.en)
    panel = Panel(theme, fill=theme.palette.secondary, outline=colour)
    panel.name = "card_reminder"
    fit_height(panel)
    panel.add_widget(Text(theme, text, size=theme.title * 0.85, bold=True, colour=colour,
                          halign="center"))
    return panel


class IdentifyScreen(CitizenScreen):
    screen_name = "identify"
    step = 3
    title_id = "读取身份证件"
    spoken_id = "请将身份证放在读卡区"
    kept_attributes = ("card_slot",)

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()
        ui.bridge.subscribe("device.identity_reader", self._device_event)

    def wipe_state(self) -> None:
        self.state = "waiting"              # waiting | reading | read | failed | mrz
        self.message = ("", "")
        self.masked = ""
        self.reminder: Speech | None = None     # take the card back (once it is read)
        self.card_taken = False
        self.mrz = {name: "" for name in MRZ_FIELDS}
        self.mrz_field = "document_number"
        self.read_token = 0                 # a late answer to an abandoned read is ignored
        self.field_buttons: dict[str, KioskButton] = {}

    def on_enter(self, *_: Any) -> None:
        super().on_enter()
        if self.state == "waiting":
            self.read()

    # --- layout --------------------------------------------------------------------------
    def body_key(self) -> tuple[str] | None:
        """Waiting for the card and reading it show nothing of the citizen: those bodies are
        kept (the card's animation is new each time: a kept one would outlive the session)."""
        return (self.state,) if self.state in ("waiting", "reading") else None

    def fill_body(self) -> None:
        slot = getattr(self, "card_slot", None)
        if slot is not None and self.state in ("waiting", "reading"):
            slot.clear_widgets()
            slot.add_widget(CardAnimation(self.ui.theme))

    def wipe_shown(self) -> None:
        if self.card_slot is not None:
            self.card_slot.clear_widgets()

    def body(self) -> Widget:
        self.card_slot: BoxLayout | None = None
        if self.state == "mrz":
            return self._mrz_body()
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        texts = {
            "waiting": ui.bi("请将身份证放在读卡区，直到读取完成"),
            "reading": ui.bi("正在读取，请不要移动证件"),
            "read": "✓ " + ui.bi("读取成功：{name}", name=self.masked),
            "failed": "× " + ui.pair(*self.message),
        }
        colour = {"read": theme.palette.ok, "failed": theme.palette.problem}.get(
            self.state, theme.palette.text)
        box.add_widget(Text(theme, texts[self.state], size=theme.title * 0.85, colour=colour,
                            halign="center"))
        if self.state in ("waiting", "reading"):
            self.card_slot = BoxLayout()          # fill_body puts the card in
            box.add_widget(self.card_slot)
        elif self.state == "read" and self.reminder is not None:
            box.add_widget(card_banner(ui, self.reminder, taken=self.card_taken))
            box.add_widget(Widget())
        else:
            box.add_widget(Widget())
        if self.state in ("waiting", "failed"):
            box.add_widget(Text(theme, ui.bi("使用护照或其他国际旅行证件？请点“输入护照信息”"),
                                halign="center", colour=theme.palette.muted, size=theme.small))
        return box

    def footer(self) -> list[Widget]:
        ui = self.ui
        if self.state == "mrz":
            ready = all(self.mrz.values())
            self.read_button = self.next_button(self._read_mrz, "读取护照", enabled=ready,
                                                name="read_mrz")
            return [self.back_button(self._leave_mrz, "返回"), self.read_button]
        buttons: list[Widget] = [self.back_button(self._back)]
        if self.state in ("waiting", "failed"):
            buttons.append(KioskButton(ui.theme, ui.bi("输入护照信息"), self._enter_mrz,
                                        name="passport"))
        if self.state == "failed":
            buttons.append(self.next_button(self.read, "重新读取", name="retry"))
        if self.state == "read":
            buttons.append(self.next_button(self._next))
        return buttons

    def _mrz_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        box.add_widget(Text(theme, ui.bi("请按证件资料页底部两行机读码（MRZ）填写"),
                            colour=theme.palette.muted))
        labels = {"document_number": N_("证件号码"), "birth": N_("出生日期（年年月月日日）"),
                  "expiry": N_("有效期至（年年月月日日）")}
        for name in MRZ_FIELDS:
            selected = name == self.mrz_field
            text = f"{ui.t(labels[name])}{ui.colon}{escape(self.mrz[name]) or '—'}"
            button = KioskButton(theme, text, lambda n=name: self._pick_field(n),
                                  kind="choice", selected=selected, name=f"mrz_{name}")
            self.field_buttons[name] = button
            box.add_widget(button)
        if self.mrz_field == "document_number":
            box.add_widget(PinyinKeyboard(theme, None, self._typed_doc, keyboard_labels(ui),
                                          text=self.mrz["document_number"], latin=True,
                                          digits=True))
        else:
            box.add_widget(NumericKeypad(theme, self._typed_date, keyboard_labels(ui),
                                         text=self.mrz[self.mrz_field], max_length=6))
        box.add_widget(Widget())
        return box

    # --- reading -------------------------------------------------------------------------
    def read(self, mrz: MrzKey | None = None) -> None:
        ui = self.ui
        session = self.journey.session
        if session is None:
            return
        shown = self.manager is not None and self.manager.current == self.name
        if shown and self.state != "waiting":      # entering, it was just drawn waiting
            self.state = "waiting"
            self.render()
        self.state = "waiting"
        self.read_token += 1
        token = self.read_token
        ui.bridge.run(lambda: ui.service.identify(session, mrz),
                      lambda identity: self._read(token, identity),
                      lambda error: self._failed(token, error))

    def _read(self, token: int, identity: Identity) -> None:
        if token != self.read_token or self.journey.session is None:
            return              # the citizen left (back, cancel, timeout) while it was read
        self.state, self.masked = "read", escape(mask_name(identity.name))
        self.reminder, self.card_taken = spoken.card_reminder(identity.card_type), False
        self.render()
        self.speak()            # read, and take the card back: it is not needed any more

    def _failed(self, token: int, error: BaseException) -> None:
        if token != self.read_token or self.journey.session is None:
            return
        self.state, self.message = "failed", error_text(error)
        self.render()
        self.ui.say_pair(*self.message)

    def speech(self) -> Speech | None:
        ui = self.ui
        if self.state == "read" and self.reminder is not None:
            return ui.speech("读取成功") + self.reminder + ui.speech("然后请点下一步")
        if self.state == "failed":
            return Speech(*self.message)
        if self.state == "mrz":
            return ui.speech("请按证件资料页底部两行机读码（MRZ）填写")
        return super().speech()

    def _device_event(self, topic: str, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind == "card_inserted" and self.state == "waiting":
            self.state = "reading"
        elif kind == "card_removed" and self.state == "read" and not self.card_taken:
            self.card_taken = True             # the reminder turns into a tick
        else:
            return
        if self.manager is not None and self.manager.current == self.name:
            self.render()

    # --- MRZ entry -----------------------------------------------------------------------
    def _enter_mrz(self) -> None:
        self.state = "mrz"
        self.render()

    def _leave_mrz(self) -> None:
        self.state = "failed" if self.message[0] else "waiting"
        self.render()

    def _pick_field(self, name: str) -> None:
        self.mrz_field = name
        self.render()

    def _typed_doc(self, text: str, _buffer: str) -> None:
        self._set_field("document_number", text[:9])

    def _typed_date(self, text: str) -> None:
        self._set_field(self.mrz_field, text)
        if len(text) == 6 and self.mrz_field == "birth":
            self.mrz_field = "expiry"
            self.render()

    def _set_field(self, name: str, value: str) -> None:
        self.mrz[name] = value
        button = self.field_buttons.get(name)
        if button is not None:     # the keyboard is not rebuilt on every key
            label = button.text.split(self.ui.colon)[0]
            button.text = f"{label}{self.ui.colon}{escape(value) or '—'}"
        if hasattr(self, "read_button"):
            self.read_button.set_enabled(all(self.mrz.values()))

    def _read_mrz(self) -> None:
        key = MrzKey(self.mrz["document_number"], self.mrz["birth"], self.mrz["expiry"])
        self.read(key)

    # --- navigation ----------------------------------------------------------------------
    def _back(self) -> None:
        journey = self.journey
        if journey.session is not None:
            journey.session.back_to_guide()
        self.wipe_state()
        self.nav.go("guide")

    def _next(self) -> None:
        """人证核验 next where the kiosk checks faces; then the handling region when the
        applicant has one to confirm or choose (screens/citizen/face.py)."""
        self.nav.go("face" if self.nav.screen("face").needed() else after_card(self.nav))

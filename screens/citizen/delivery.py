"""Delivery choice (送达方式): pick up at this hall, post to the ID card's address, post to
another address, or electronic delivery; and a phone number for the notice that the result
is ready. Another address: province / city / district from a picker (GB/T 2260), so only
the street is typed — on the pinyin keyboard."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import DeliveryOption
from kiosk.errors import BilingualError
from kiosk.interaction.divisions import Division, Divisions
from kiosk.interaction.place_names import division_name_en
from kiosk.privacy import mask_phone
from kiosk.session import Contact
from screens.citizen.frame import CitizenScreen
from screens.citizen.matters import keyboard_labels
from screens.keyboard import NumericKeypad, PinyinKeyboard
from screens.labels import N_
from screens.widgets import KioskButton, Text, escape, fit_height, fit_row, two_lines

CHOICES = ("pickup", "post_id_address", "post_other", "electronic")
PHONE_DIGITS = 11


class DeliveryScreen(CitizenScreen):
    screen_name = "delivery"
    step = 6
    title_id = "选择送达方式"
    spoken_id = "请选择办理结果的领取方式，并输入手机号码"

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.divisions = Divisions()
        self.wipe_state()

    def wipe_state(self) -> None:
        self.choice = ""
        self.phone = ""
        self.editing = ""                   # "" | phone | region | street
        self.region: list[Division] = []
        self.street = ""
        self.region_page = 0

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        if self.editing == "phone":
            box.add_widget(self._field("phone", N_("手机号码"), self.phone, active=True))
            box.add_widget(NumericKeypad(theme, self._typed_phone, keyboard_labels(ui),
                                         text=self.phone, max_length=PHONE_DIGITS))
        elif self.editing == "region":
            box.add_widget(self._region_picker())
        elif self.editing == "street":
            box.add_widget(self._field("street", N_("详细地址（街道、门牌号）"), self.street,
                                       active=True))
            box.add_widget(PinyinKeyboard(theme, ui.ime, self._typed_street, keyboard_labels(ui),
                                          text=self.street, digits=True))
        else:
            # two columns in landscape, so the address fields still fit under the choices
            choices = GridLayout(cols=2 if theme.landscape else 1, spacing=theme.gap * 1.5,
                                 size_hint_y=None)
            choices.bind(minimum_height=choices.setter("height"))
            for choice in self._choices():
                choices.add_widget(self._choice_button(choice))
            box.add_widget(choices)
            box.add_widget(self._field("phone", N_("手机号码（用于通知办理结果）"),
                                       self.phone, active=False))
            if self.choice == "post_other":
                box.add_widget(self._field("region", N_("省 / 市 / 区县"), self._region_text(),
                                           active=False))
                box.add_widget(self._field("street", N_("详细地址（街道、门牌号）"), self.street,
                                           active=False))
        box.add_widget(Widget())
        reason = self.waiting_for()
        if reason:                  # right above the button it keeps disabled
            why = Text(theme, "⚠ " + ui.bi(reason), colour=theme.palette.warning)
            why.name = "waiting_for"
            box.add_widget(why)
        return box

    def footer(self) -> list[Widget]:
        if self.editing == "region":    # a way out of the picker: 完成 waits for a district
            return [self.back_button(self._stop_editing),
                    self.next_button(self._done_editing, "完成", name="done_editing",
                                     enabled=self._region_complete())]
        if self.editing:
            return [self.next_button(self._done_editing, "完成", name="done_editing")]
        return [self.back_button(self._back), self.next_button(self._next, enabled=self.ready())]

    def waiting_for(self) -> str:
        """Why the footer's main button is disabled (a msgid), or "" when it is not."""
        if self.editing == "region":
            return "" if self._region_complete() else N_("请选到区县一级")
        if self.editing:
            return ""
        if not self.choice:
            return N_("请先选择领取方式")
        if len(self.phone) != PHONE_DIGITS:
            return N_("请先填写 11 位手机号码")
        if self.choice == "post_other" and not self._region_complete():
            return N_("请先选择省、市、区县")
        if self.choice == "post_other" and not self.street:
            return N_("请先填写详细地址")
        return ""

    def _choices(self) -> list[str]:
        options = self._matter_options()
        out = []
        if DeliveryOption.PICKUP in options:
            out.append("pickup")
        if DeliveryOption.POST in options:
            out += ["post_id_address", "post_other"]
        if DeliveryOption.ELECTRONIC in options:
            out.append("electronic")
        return out

    def _choice_button(self, choice: str) -> Widget:
        ui, theme = self.ui, self.ui.theme
        session = self.journey.session
        labels = {"pickup": ui.bi("到本大厅窗口领取"),
                  "post_id_address": ui.bi("邮寄到身份证地址"),
                  "post_other": ui.bi("邮寄到其他地址"),
                  "electronic": ui.bi("电子送达（短信通知后网上查看）")}
        text = labels[choice]
        if choice == "pickup":
            text += "\n" + escape(ui.service.this_kiosk.address)
        if choice == "post_id_address" and session is not None and session.identity:
            text += "\n" + escape(session.identity.address)
        selected = choice == self.choice
        return KioskButton(theme, ("✓ " if selected else "") + text,
                            lambda: self._choose(choice), kind="choice", selected=selected,
                            name=f"delivery_{choice}", height=theme.target * 1.6)

    def _field_text(self, label_id: str, shown: str) -> str:
        """'手机号码：138…' with the label in the second language under it (standard mode)."""
        ui = self.ui
        first = f"{escape(ui.t(label_id))}{ui.colon}{shown}"
        second = ui.tr.other(label_id)
        if not ui.theme.show_second_language or second == ui.t(label_id):
            return first
        return f"{first}\n[size={int(ui.theme.small)}]{escape(second)}[/size]"

    def _field(self, name: str, label_id: str, value: str, active: bool) -> Widget:
        theme = self.ui.theme
        shown = escape(value) if value else "—"
        button = KioskButton(theme, self._field_text(label_id, shown), lambda: self._edit(name),
                              kind="choice", selected=active, name=f"field_{name}")
        button.halign = "left"
        if active:
            self.active_field = button
        return button

    def _region_picker(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        fit_height(box)                  # at the top of the body, not floating in its middle
        box.add_widget(Text(theme, self._picked_text(), bold=True))
        options = (self.divisions.children(self.region[-1].code) if self.region
                   else self.divisions.provinces())
        cols = 4 if theme.landscape else 3
        per_page = cols * (5 if theme.elder else 7)
        pages = max(1, -(-len(options) // per_page))
        self.region_page %= pages        # "更多" wraps round to the first page
        grid = GridLayout(cols=cols, spacing=theme.mm(1.5), size_hint_y=None)
        shown = options[self.region_page * per_page:(self.region_page + 1) * per_page]
        for division in shown:
            label = (ui.pair(division.name, division_name_en(division.name))
                     if ui.tr.lang == "en" else escape(division.name))
            grid.add_widget(KioskButton(theme, label, lambda d=division: self._pick(d),
                                         name=f"region_{division.code}", font=theme.button * 0.9))
        grid.bind(minimum_height=grid.setter("height"))
        box.add_widget(grid)
        row = BoxLayout(size_hint_y=None, height=theme.target, spacing=theme.gap)
        row.add_widget(KioskButton(theme, ui.bi("重新选择"), self._reset_region,
                                    name="region_reset"))
        if pages > 1:
            row.add_widget(KioskButton(theme, ui.bi("更多"), self._more_regions,
                                        name="region_more"))
        fit_row(row)
        box.add_widget(row)
        return box

    def _picked_text(self) -> str:
        """已选：四川省广元市 (or the prompt to choose a province), in both languages."""
        ui = self.ui
        english = " / ".join(division_name_en(d.name) for d in self.region)
        texts = []
        for lang in (ui.tr.lang, ui.tr.second):
            path = self._region_text() if lang == "zh_CN" else english
            colon = ui.tr.punct("：", lang)
            texts.append(ui.tr.lookup(N_("已选"), lang) + colon
                         + (path or ui.tr.lookup(N_("请选择省份"), lang)))
        return two_lines(ui.theme, texts[0], texts[1])

    # --- state ---------------------------------------------------------------------------
    def _matter_options(self) -> tuple[DeliveryOption, ...]:
        session = self.journey.session
        return session.matter.delivery_options if session and session.matter else ()

    def ready(self) -> bool:
        return not self.editing and not self.waiting_for()

    def _region_complete(self) -> bool:
        return bool(self.region and self.region[-1].level == "district")

    def _region_text(self) -> str:
        return self.divisions.full_name(self.region[-1].code) if self.region else ""

    def contact(self) -> tuple[DeliveryOption, Contact]:
        session = self.journey.session
        assert session is not None
        if self.choice == "pickup":
            return DeliveryOption.PICKUP, Contact(self.phone)
        if self.choice == "electronic":
            return DeliveryOption.ELECTRONIC, Contact(self.phone)
        if self.choice == "post_id_address":
            address = session.identity.address if session.identity else ""
            return DeliveryOption.POST, Contact(self.phone, address)
        return DeliveryOption.POST, Contact(self.phone, self._region_text() + self.street)

    # --- actions -------------------------------------------------------------------------
    def _choose(self, choice: str) -> None:
        self.choice = choice
        if choice == "post_other" and not self.region:
            self.editing = "region"
        elif len(self.phone) != PHONE_DIGITS:
            self.editing = "phone"
        self.render()

    def _edit(self, name: str) -> None:
        self.editing = name
        self.render()

    def _done_editing(self) -> None:
        """On to the next field still missing, after this one (never back to an earlier
        one: a citizen who left it unfinished can tap it again)."""
        fields = ["region", "street", "phone"] if self.choice == "post_other" else ["phone"]
        missing = {"region": not self._region_complete(),
                   "street": not self.street, "phone": len(self.phone) != PHONE_DIGITS}
        later = fields[fields.index(self.editing) + 1:] if self.editing in fields else fields
        self.editing = next((name for name in later if missing[name]), "")
        self.render()

    def _stop_editing(self) -> None:
        self.editing = ""
        self.render()

    def _typed_phone(self, text: str) -> None:
        self.phone = text
        shown = escape(text) if text else "—"
        self.active_field.text = self._field_text("手机号码", shown)

    def _typed_street(self, text: str, buffer: str) -> None:
        self.street = text
        shown = escape(text + buffer) if (text or buffer) else "—"
        self.active_field.text = self._field_text("详细地址（街道、门牌号）", shown)

    def _pick(self, division: Division) -> None:
        self.region.append(division)
        self.region_page = 0
        if not self.divisions.children(division.code):   # a district: the picker is done
            self.editing = "street"
        self.render()

    def _reset_region(self) -> None:
        self.region, self.region_page = [], 0
        self.render()

    def _more_regions(self) -> None:
        self.region_page += 1
        self.render()

    def _back(self) -> None:
        self.nav.go("review")

    def _next(self) -> None:
        session = self.journey.session
        assert session is not None
        delivery, contact = self.contact()
        try:
            session.confirm(delivery, contact)
        except BilingualError as error:
            self.nav.show_error(error.zh, error.en)
            return
        self.nav.go("confirm")

    def masked_phone(self) -> str:
        return mask_phone(self.phone)

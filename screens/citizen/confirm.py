"""Confirmation: what will be sent, to whom, how the result comes back, and the applicant's
commitment (承诺) — read, agreed with one tap, then submitted."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.privacy import mask_name, mask_phone
from screens.citizen.frame import CitizenScreen
from screens.labels import N_
from screens.widgets import KioskButton, Panel, Text, escape, fit_height

COMMITMENT = N_("本人承诺：所提交的申请材料真实、合法、有效，复印件与原件一致；如有虚假，"
              "愿承担相应法律责任。本人同意将申请材料转送办理地部门办理。")


class ConfirmScreen(CitizenScreen):
    screen_name = "confirm"
    step = 7
    title_id = "确认并提交"
    spoken_id = "请核对信息，阅读承诺后点确认提交"

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.agreed = False

    def wipe_state(self) -> None:
        self.agreed = False

    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        session = self.journey.session
        assert session is not None and session.matter is not None and session.result
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        summary = Panel(theme)
        fit_height(summary)
        name = mask_name(session.identity.name) if session.identity else ""
        pages = sum(item.pages for item in session.result.items)
        regions = ui.tr.punct("、").join(
            ui.tr.pick(p.label, p.label_en)[0] + ui.colon
            + ui.tr.pick(p.region_name, p.region_name_en)[0] for p in session.parties)
        delivery = ui.t(session.delivery.value) if session.delivery else ""
        contact = session.contact
        rows = [(N_("事项"), ui.tr.pick(session.matter.name, session.matter.name_en)[0]),
                (N_("申请人"), name),
                (N_("材料"), ui.t("{n} 项，共 {p} 页", n=len(session.result.items), p=pages)),
                (N_("转送至"), regions), (N_("送达方式"), delivery),
                (N_("手机号码"), mask_phone(contact.phone) if contact else "")]
        if contact and contact.address:
            rows.append((N_("邮寄地址"), contact.address))
        for label, value in rows:
            summary.add_widget(Text(theme, f"[b]{ui.t(label)}[/b]{ui.colon}{escape(value)}"))
        box.add_widget(summary)
        pledge = Panel(theme, fill=theme.palette.secondary)
        fit_height(pledge)
        pledge.add_widget(Text(theme, ui.bi(COMMITMENT)))
        for item in session.result.deferred:
            requirement = session.situation.requirement(item.requirement_id) \
                if session.situation else None
            text = requirement.commitment if requirement and requirement.commitment else ""
            pledge.add_widget(Text(theme, ui.t("容缺承诺") + ui.colon + escape(
                f"{item.material.name} {text}"), size=theme.small))
        box.add_widget(pledge)
        box.add_widget(KioskButton(theme, ("✓ " if self.agreed else "□ ") +
                                    ui.bi("我已阅读并同意以上承诺"), self._toggle, kind="choice",
                                    selected=self.agreed, name="agree",
                                    height=theme.target * 1.3))
        return self.scroll(box)

    def footer(self) -> list[Widget]:
        return [self.back_button(self._back),
                self.next_button(self._submit, "确认提交", enabled=self.agreed, name="submit")]

    def _toggle(self) -> None:
        self.agreed = not self.agreed
        self.render()

    def _back(self) -> None:
        session = self.journey.session
        assert session is not None
        session.back_to_review()
        self.agreed = False
        self.nav.go("delivery")

    def _submit(self) -> None:
        self.nav.screen("printing").start_submit()

"""The service guide (办事指南) of the chosen matter: situations, materials (original or copy,
copies, pages), time limits, fees, mode. For a matter the kiosk cannot take, where to go
instead, with a printed guide slip (一次性告知). Outside service hours (the journey is
``browsing``, with no session) every matter's guide prints its slip instead of starting."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.handling import party_phrase
from kiosk.catalogue.model import (
    AlternativeGroup,
    HandlingParty,
    Material,
    Matter,
    Necessity,
    Requirement,
    Situation,
)
from kiosk.interaction import speech as spoken
from kiosk.interaction.divisions import Divisions
from kiosk.interaction.speech import Speech
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.citizen.places import region_with_department
from screens.labels import N_
from screens.widgets import KioskButton, Panel, Text, escape, fit_height


class GuideScreen(CitizenScreen):
    screen_name = "guide"
    step = 2
    title_id = "办事指南"
    spoken_id = "请阅读办事指南，准备好所需材料"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.divisions = Divisions()      # for English region names; loads on first use
        self.browsed_situation = ""       # browsing: the 情形 shown (no session holds it)

    def wipe_state(self) -> None:
        self.browsed_situation = ""

    @property
    def matter(self) -> Matter:
        journey = self.journey
        matter = journey.guide_only or (journey.session.matter if journey.session else None)
        assert matter is not None
        return matter

    def situation(self) -> Situation | None:
        """The 情形 shown: the session's, or while browsing the one chosen here."""
        session, matter = self.journey.session, self.matter
        if session is not None:
            return session.situation
        codes = {s.code for s in matter.situations}
        return matter.situation(self.browsed_situation if self.browsed_situation in codes
                                else None)

    def speech(self) -> Speech:
        """The key facts, not just 'read the guide': the matter, where it is handled, the
        time limit, the fee and what to bring."""
        return spoken.guide(self.matter, self.situation())

    def body_key(self) -> tuple[str, str | None, bool]:
        """The guide shows the catalogue's words only: kept per matter, 情形 and whether it
        starts an application or prints a slip (nothing of the citizen is in it)."""
        situation = self.situation()
        return (self.matter.code, situation.code if situation is not None else None,
                self.journey.browsing)

    def body(self) -> Widget:
        ui, theme, matter = self.ui, self.ui.theme, self.matter
        content = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        content.add_widget(Text(theme, ui.pair(matter.name, matter.name_en),
                                size=theme.title * 0.9, bold=True))
        if not matter.kiosk_can_take:
            content.add_widget(self._elsewhere(matter))
        content.add_widget(self._facts(matter))
        if matter.kiosk_can_take:
            if len(matter.situations) > 1:
                content.add_widget(self._situations(matter))
            content.add_widget(self._materials())
        return self.scroll(content)

    def footer(self) -> list[Widget]:
        if not self.matter.kiosk_can_take or self.journey.browsing:
            return [self.back_button(self._back),
                    self.next_button(self._print_slip, "打印办事指引", name="print_slip")]
        return [self.back_button(self._back),
                self.next_button(self._start, "开始办理：读取证件", name="next")]

    # --- parts ---------------------------------------------------------------------------
    def _facts(self, matter: Matter) -> Widget:
        ui, theme = self.ui, self.ui.theme
        panel = Panel(theme)
        fit_height(panel)
        punct = ui.tr.punct
        scope = ui.t(matter.scope.kind.value)
        if matter.scope.list_name:
            scope += punct("（") + matter.scope.list_name + punct("）")
        days = matter.time_limits.promised_days
        promised = ui.t("当场办结") if days == 0 else ui.t("{n} 个工作日", n=days)
        fees = ui.t("不收费") if not matter.fees.items else punct("；").join(
            f"{item.name} {item.amount_yuan:g} " + ui.t("元") for item in matter.fees.items)
        regions = punct("、").join(self._party_text(party) for party in matter.handling)
        delivery = punct("、").join(ui.t(option.value) for option in matter.delivery_options)
        rows = [(N_("办理模式"), ui.t(matter.mode.value)), (N_("通办范围"), scope),
                (N_("办理地"), regions), (N_("承诺时限"), promised), (N_("收费"), fees),
                (N_("送达方式"), delivery), (N_("咨询电话"), matter.consultation_phone)]
        for label, value in rows:
            panel.add_widget(Text(theme, f"[b]{ui.t(label)}[/b]{ui.colon}{escape(value)}"))
        return panel

    def _party_text(self, party: HandlingParty) -> str:
        """A fixed party by name; the applicant's own as the rule: 由您户籍所在地的…办理."""
        if party.region is not None:
            return region_with_department(self.ui, party.region, self.divisions)
        zh, en = party_phrase(party)
        return self.ui.tr.pick(f"由{zh}办理", f"the {en[0].lower()}{en[1:]}")[0]

    def _elsewhere(self, matter: Matter) -> Widget:
        ui, theme = self.ui, self.ui.theme
        info = matter.elsewhere
        panel = Panel(theme, fill=theme.palette.secondary)
        fit_height(panel)
        panel.add_widget(Text(theme, "⚠ " + ui.bi("本事项不能在自助终端办理"), bold=True,
                              colour=theme.palette.warning))
        if info is not None:
            for label, value in ((N_("原因"), info.reason), (N_("请到"), info.where),
                                 (N_("电话"), info.phone), (N_("时间"), info.hours)):
                if value:
                    panel.add_widget(Text(theme, f"[b]{ui.t(label)}[/b]{ui.colon}{escape(value)}"))
        return panel

    def _situations(self, matter: Matter) -> Widget:
        ui, theme = self.ui, self.ui.theme
        situation = self.situation()
        current = situation.code if situation is not None else None
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        fit_height(box)
        box.add_widget(Text(theme, ui.bi("请选择您的情形"), bold=True))
        for situation in matter.situations:
            text = ui.pair(situation.name, situation.name_en)
            selected = situation.code == current
            box.add_widget(KioskButton(theme, ("✓ " if selected else "") + text,
                                        lambda c=situation.code: self._choose(c), kind="choice",
                                        selected=selected, name=f"situation_{situation.code}",
                                        height=theme.target * 1.3))
        return box

    def _materials(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        situation = self.situation()
        assert situation is not None
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        fit_height(box)
        box.add_widget(Text(theme, ui.bi("需要准备的材料"), bold=True))
        for number, requirement in enumerate(situation.materials, start=1):
            box.add_widget(self._requirement(number, requirement))
        return box

    def _requirement(self, number: int, requirement: Requirement) -> Widget:
        ui, theme = self.ui, self.ui.theme
        panel = Panel(theme, padding=theme.gap)
        fit_height(panel)
        tag = ui.t(requirement.necessity.value)
        mark = {Necessity.REQUIRED: "●", Necessity.OPTIONAL: "○", Necessity.DEFERRABLE: "◐"}
        head = f"{number}. {mark[requirement.necessity]} [{tag}]".replace("[", "&bl;", 1)
        head = head.replace("]", "&br;", 1)
        if isinstance(requirement, AlternativeGroup):
            panel.add_widget(Text(theme, f"{head} " + ui.t("以下任选其一"), bold=True))
            for option in requirement.options:
                panel.add_widget(Text(theme, "　· " + self._material_line(option)))
        else:
            panel.add_widget(Text(theme, f"{head} " + self._material_line(requirement), bold=True))
        if requirement.necessity is Necessity.DEFERRABLE and requirement.commitment:
            panel.add_widget(Text(theme, ui.t("可容缺：签署承诺后补交") + ui.colon +
                                  escape(requirement.commitment), size=theme.small,
                                  colour=theme.palette.muted))
        return panel

    def _material_line(self, material: Material) -> str:
        ui = self.ui
        name = escape(ui.tr.pick(material.name, material.name_en)[0])
        pages = material.pages
        page_text = (ui.t("{n} 页", n=pages.min) if pages.min == pages.max
                     else ui.t("{a}–{b} 页", a=pages.min, b=pages.max))
        punct = ui.tr.punct
        return (name + punct("（") + ui.t(material.original.value) + punct("，")
                + ui.t("{n} 份", n=material.count) + punct("，") + page_text + punct("）"))

    # --- actions -------------------------------------------------------------------------
    def _choose(self, code: str) -> None:
        session = self.journey.session
        if session is None:
            self.browsed_situation = code     # browsing: nothing to record, only to show
        else:
            session.choose_situation(code)
        self.render()
        self.speak()           # another situation, other materials

    def _back(self) -> None:
        journey = self.journey
        if journey.guide_only is None and journey.session is not None:
            journey.session.back_to_matters()
        journey.guide_only, self.browsed_situation = None, ""
        self.nav.go("matters")

    def _start(self) -> None:
        session = self.journey.session
        assert session is not None
        session.start_identify()
        self.nav.go("identify")

    def _print_slip(self) -> None:
        ui, matter = self.ui, self.matter

        def printed(_png: bytes) -> None:
            if matter.elsewhere is None:     # come back here (guide_slip)
                self.nav.show_info(ui.bi("请取走办事指引。请在本机服务时间内带齐材料前来办理。"))
            else:
                self.nav.show_info(ui.bi("请取走办事指引。请按指引到相应窗口办理。"))
            ui.say("请取走办事指引")

        def failed(error: BaseException) -> None:
            zh, en = error_text(error)
            self.nav.show_error(zh, en)

        ui.bridge.run(lambda: ui.service.referral_slip(matter), printed, failed)

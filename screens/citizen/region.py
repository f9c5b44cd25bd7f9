"""The handling region (办理地), after the card is read and before any document is taken.

Each party of the matter the applicant settles: the 户籍地 from the card's address (one tap
when it is right), a guess from an address that did not reach a county shown for checking
(never taken silently), a 参保地 / 迁入地 / property place to choose with the province / city /
county picker. The core resolves and routes them (kiosk/routing/resolve.py); a region this
kiosk cannot send to makes the matter unavailable for this applicant, with the reason, the
region's phone and the guide slip to print. Skipped when the card settled everything and
nothing is the applicant's to choose (fixed regions, a 户籍地 read to its county)."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import CHOSEN_RULES, HandlingRule
from kiosk.errors import BilingualError
from kiosk.interaction.divisions import Division, Divisions
from kiosk.interaction.place_names import division_name_en, place_name_en
from kiosk.interaction.speech import Speech
from kiosk.routing.resolve import HandlingUnavailable, Proposal
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.labels import N_
from screens.widgets import KioskButton, Panel, Text, escape, fit_height, fit_row

NOTES = {HandlingRule.HOUSEHOLD: N_("根据身份证上的住址"),
         HandlingRule.INSURED: N_("默认与户籍地相同，如不同请更改"),
         HandlingRule.DESTINATION: N_("默认为本大厅所在地，如不同请更改"),
         HandlingRule.PROPERTY: N_("请选择不动产所在的区县")}


class RegionScreen(CitizenScreen):
    screen_name = "region"
    step = 3                      # still 读取证件: the card decided most of it
    title_id = N_("确认办理地")
    spoken_id = N_("请确认办理地，不对可以更改")

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.divisions = Divisions()
        self.wipe_state()

    def wipe_state(self) -> None:
        self.proposals: tuple[Proposal, ...] = ()
        self.picks: dict[str, str] = {}            # role → county code
        self.editing = ""                          # the role being picked
        self.path: list[Division] = []
        self.page = 0
        self.unavailable: HandlingUnavailable | None = None

    # --- entry ---------------------------------------------------------------------------
    def needed(self) -> bool:
        """Prepared by the identify screen before it moves on: False when nothing is left
        for the applicant (then the journey goes straight to capture)."""
        self.wipe_state()
        session, service = self.journey.session, self.ui.service
        assert session is not None
        self.proposals = service.handling_proposal(session)
        self.picks = {p.party.role: p.region for p in self.proposals if p.asked and p.region}
        asked = [p for p in self.proposals if p.asked]
        if session.parties and not any(p.needs_choice or p.party.rule in CHOSEN_RULES
                                       for p in asked):
            return False
        if not any(p.needs_choice for p in self.proposals):
            try:
                service.settle_handling(session, {})
            except HandlingUnavailable as exc:
                self.unavailable = exc
        return True

    def speech(self) -> Speech | None:
        if self.unavailable is not None:
            return Speech(self.unavailable.zh, self.unavailable.en)
        return super().speech()

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        if self.editing:          # at the top of the body, not floating in its middle
            box.add_widget(self._picker())
            box.add_widget(Widget())
            return box
        if self.unavailable is not None:
            box.add_widget(self._unavailable())
        for proposal in self.proposals:
            box.add_widget(self._party(proposal))
        box.add_widget(Widget())
        return self.scroll(box)

    def footer(self) -> list[Widget]:
        if self.editing:
            return [self.back_button(self._stop_editing, N_("取消"))]
        if self.unavailable is not None:
            return [self.back_button(self.journey.ask_cancel, N_("结束办理")),
                    self.next_button(self._print_slip, N_("打印办事指引"), name="region_slip")]
        return [self.next_button(self._confirm, N_("确认办理地，下一步"), name="region_confirm",
                                 enabled=self.ready())]

    def ready(self) -> bool:
        return all(p.party.role in self.picks for p in self.proposals if p.asked)

    def _party(self, proposal: Proposal) -> Widget:
        ui, theme, party = self.ui, self.ui.theme, proposal.party
        panel = Panel(theme)
        fit_height(panel)
        label = ui.tr.pick(party.label, party.label_en)[0]
        code = self.picks.get(party.role) or proposal.region
        place = self._place(code) if code else ui.t("请选择")
        panel.add_widget(Text(theme, f"[b]{escape(label)}[/b]{ui.colon}{escape(place)}",
                              size=theme.body * 1.1))
        if not proposal.asked:
            panel.add_widget(Text(theme, ui.bi("固定办理地"), size=theme.small,
                                  colour=theme.palette.muted))
            return panel
        note, colour = self._note(proposal)
        panel.add_widget(Text(theme, ui.bi(note), size=theme.small, colour=colour))
        panel.add_widget(KioskButton(theme, ui.bi("更改") if code else ui.bi("选择"),
                                      lambda: self._edit(party.role),
                                      name=f"region_change_{party.role}"))
        return panel

    def _note(self, proposal: Proposal) -> tuple[str, Any]:
        palette = self.ui.theme.palette
        picked = self.picks.get(proposal.party.role)
        if proposal.party.rule is HandlingRule.HOUSEHOLD and proposal.needs_choice and (
                picked is None or picked == proposal.region):
            return ((N_("证件住址未能确定到区县，请核对；不对请更改") if proposal.region
                     else N_("证件住址无法识别到区县，请选择户籍所在地")), palette.warning)
        return NOTES[proposal.party.rule], palette.muted

    def _unavailable(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        assert self.unavailable is not None
        panel = Panel(theme, outline=theme.palette.problem)
        fit_height(panel)
        panel.add_widget(Text(theme, "× " + ui.pair(self.unavailable.zh, self.unavailable.en),
                              colour=theme.palette.problem))
        return panel

    def _picker(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        fit_height(box)
        party = next(p.party for p in self.proposals if p.party.role == self.editing)
        label = ui.tr.pick(party.label, party.label_en)[0]
        picked = self._place(self.path[-1].code) if self.path else ui.t("请选择省份")
        box.add_widget(Text(theme, f"[b]{escape(label)}[/b]{ui.colon}{escape(picked)}"))
        options = (self.divisions.children(self.path[-1].code) if self.path
                   else self.divisions.provinces())
        cols = 4 if theme.landscape else 3
        per_page = cols * (5 if theme.elder else 7)
        pages = max(1, -(-len(options) // per_page))
        self.page %= pages
        grid = GridLayout(cols=cols, spacing=theme.mm(1.5), size_hint_y=None)
        for division in options[self.page * per_page:(self.page + 1) * per_page]:
            text = (ui.pair(division.name, division_name_en(division.name))
                    if ui.tr.lang == "en" else escape(division.name))
            grid.add_widget(KioskButton(theme, text, lambda d=division: self._pick(d),
                                         name=f"region_{division.code}", font=theme.button * 0.9))
        grid.bind(minimum_height=grid.setter("height"))
        box.add_widget(grid)
        row = BoxLayout(size_hint_y=None, height=theme.target, spacing=theme.gap)
        row.add_widget(KioskButton(theme, ui.bi("重新选择"), self._reset, name="region_reset"))
        if pages > 1:
            row.add_widget(KioskButton(theme, ui.bi("更多"), self._more, name="region_more"))
        fit_row(row)
        box.add_widget(row)
        return box

    def _place(self, code: str) -> str:
        if self.ui.tr.lang == "zh_CN":
            return self.divisions.full_name(code)
        return place_name_en(self.divisions.path(code))

    # --- actions -------------------------------------------------------------------------
    def _edit(self, role: str) -> None:
        self.editing, self.path, self.page, self.unavailable = role, [], 0, None
        self.render()

    def _stop_editing(self) -> None:
        self.editing = ""
        self.render()

    def _pick(self, division: Division) -> None:
        self.path.append(division)
        self.page = 0
        if not self.divisions.children(division.code):     # a county: this party is done
            self.picks[self.editing] = division.code
            self.editing = ""
        self.render()

    def _reset(self) -> None:
        self.path, self.page = [], 0
        self.render()

    def _more(self) -> None:
        self.page += 1
        self.render()

    def _confirm(self) -> None:
        session = self.journey.session
        assert session is not None
        try:
            self.ui.service.settle_handling(session, self.picks)
        except HandlingUnavailable as exc:
            self.unavailable = exc
            self.render()
            self.speak()
            return
        except BilingualError as error:
            self.nav.show_error(error.zh, error.en)
            return
        self.nav.go("capture")

    def _print_slip(self) -> None:
        ui, session, unavailable = self.ui, self.journey.session, self.unavailable
        assert session is not None and session.matter is not None
        matter = session.matter

        def printed(_png: bytes) -> None:
            self.nav.show_info(ui.bi("请取走办事指引，按指引到办理地或人工窗口办理。"))
            ui.say("请取走办事指引")

        def failed(error: BaseException) -> None:
            self.nav.show_error(*error_text(error))

        ui.bridge.run(lambda: ui.service.referral_slip(matter, unavailable), printed, failed)

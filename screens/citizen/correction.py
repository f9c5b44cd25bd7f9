"""补正 from the 进度查询 status screen (issue 24 item 5): the case's region asked for some
items again; the applicant's ID card must be the original applicant's; the capture screen
shows exactly the requested items and takes pages for those only; the follow-up package
(same case number, next version) goes out through the core (kiosk/correction_service.py) and
the 补正 receipt prints on the printing screen.

No screen is copied: this one holds the 补正 session and says what happens between the
steps (starting, the card, a refusal, the summary before submitting); the capture screen
takes ``CorrectionChecklist`` as its checklist source. The lookup's session (the journey's)
carries the idle warning, the timeout and 返回首页, and every way out wipes this screen's
state with the others', which wipes the 补正's sealed pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.application import StoredPage
from kiosk.catalogue.model import Material, Necessity, OriginalOrCopy, PageRange
from kiosk.correction import CorrectionItem, CorrectionSession
from kiosk.interaction.i18n import fill
from kiosk.interaction.speech import Speech, card_reminder
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.citizen.identify import CardAnimation, card_banner
from screens.citizen.progress import named
from screens.widgets import KioskButton, Panel, Text, escape, fit_height

TEXTS = {
    "title": ("提交补正材料", "Submit the requested materials"),
    "starting": ("正在查询补正要求……", "Looking up what was asked for…"),
    "card": ("请将申请人的身份证放在读卡区，核对是否为原申请人",
             "Place the applicant's ID card on the reader: it must be the original applicant's"),
    "asked": ("办理地要求补正以下 {n} 项材料", "The handling region asked for {n} {n:item|items}"),
    "deadline": ("补正期限：{d}", "Deadline: {d}"),
    "summary": ("请核对补正材料", "Please check the materials"),
    "pages": ("已拍 {n} 页", "{n} {n:page|pages} taken"),
    "none": ("未拍摄", "not taken yet"),
    "missing": ("还有补正材料未拍摄，请返回补拍", "Some items have no pages yet: go back and "
                                               "take them"),
    "submit": ("确认提交补正材料", "Submit the materials"),
    "recapture": ("返回补拍", "Back to the camera"),
    "again": ("重新读取身份证", "Read the card again"),
    "home": ("返回首页", "Home"),
    "free_en": ("", "Requested item"),
}
MAX_PAGES = 10           # an item the notice names in its own words: pages 1–10


@dataclass(frozen=True)
class _Asked:
    """One requested item as the capture checklist's requirement: required, one material."""

    options: tuple[Material, ...]
    necessity: Necessity = Necessity.REQUIRED


@dataclass(frozen=True)
class _Situation:
    materials: tuple[_Asked, ...]


def as_material(item: CorrectionItem, matter_materials: dict[str, Material]) -> Material:
    """The item as the capture screen's material: the region's own words as its name (they
    say what is wrong), the matter's page range when it names one of the matter's materials."""
    named = matter_materials.get(item.item_id)
    english = (named.name_en if named is not None and named.name_en else TEXTS["free_en"][1])
    return Material(id=item.item_id, name=item.text, name_en=f"{english}: {item.text}",
                    original=OriginalOrCopy(item.original_or_copy),
                    pages=named.pages if named is not None else PageRange(min=1, max=MAX_PAGES))


class CorrectionChecklist:
    """The capture screen's checklist source for a 补正: the requested items only, the pages
    kept in the 补正 session, each shot through ``Corrections.capture``."""

    def __init__(self, service: Any, session: CorrectionSession,
                 done: Callable[[], None]) -> None:
        self.service, self.session, self.done = service, session, done
        matter = session.case.matter
        materials = {m.id: m for s in matter.situations for r in s.materials for m in r.options}
        self.situation = _Situation(tuple(_Asked((as_material(i, materials),))
                                          for i in session.case.items))

    @property
    def pages(self) -> dict[str, list[StoredPage]]:
        return self.session.pages

    def capture(self, item_id: str, replace: int | None) -> int:
        """On a worker: one still for the item (refused for an item not asked for)."""
        return int(self.service.corrections.capture(self.session, item_id, replace))

    def remove_page(self, item_id: str, number: int) -> None:
        self.session.remove_page(item_id, number)

    def page_image(self, page: StoredPage) -> bytes:
        return self.session.store.get(page.ref)


class CorrectionScreen(CitizenScreen):
    screen_name = "correction"
    cancellable = False          # 返回首页 at the bottom ends it (and wipes it)

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        self.session: CorrectionSession | None = None
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()

    def wipe_state(self) -> None:
        if getattr(self, "session", None) is not None:
            self.session.wipe()           # type: ignore[union-attr]  # its sealed pages
        self.session = None
        self.state = "starting"      # starting | card | refused | summary
        self.message = ("", "")
        self.number = ""
        self.token = 0               # a late answer to an abandoned read is ignored

    def p(self, key: str, **values: Any) -> str:
        zh, en = TEXTS[key]
        return self.ui.pair(fill(zh, **values), fill(en, **values))

    # --- starting ------------------------------------------------------------------------
    def start(self, case_number: str) -> None:
        """From the status screen's 提交补正材料: the 补正 session, then the card."""
        self.wipe_state()
        self.number = case_number
        self.nav.go(self.name)
        service = self.ui.service
        self._ask(lambda: service.start_correction(case_number), self._started)

    def _started(self, session: CorrectionSession) -> None:
        self.session = session
        self.read_card()

    def read_card(self) -> None:
        """The applicant's card, on the reader's worker; kept only once it matches."""
        session = self.session
        if session is None:
            return
        self.state = "card"
        service = self.ui.service
        self._ask(lambda: service.corrections.identify(session), self._matched)

    def _matched(self, _identity: Any) -> None:
        session = self.session
        assert session is not None
        capture = self.nav.screen("capture")
        capture.use_checklist(CorrectionChecklist(self.ui.service, session, self.summary))
        self.nav.go("capture")

    def summary(self) -> None:
        """The capture screen's 拍完了: every item with its pages, then submit."""
        self.state = "summary"
        self.nav.go(self.name)
        self._show(speak=True)

    def submit(self) -> None:
        session = self.session
        if session is None or session.missing():
            return
        self.nav.screen("printing").start_correction(session)

    def _ask(self, call: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.token += 1
        token = self.token
        self._show(speak=True)
        self.ui.bridge.run(call, lambda result: self._answer(token, done, result),
                           lambda error: self._answer(token, self._refused, error))

    def _answer(self, token: int, then: Callable[[Any], None], result: Any) -> None:
        if token == self.token and self.journey.session is not None:
            then(result)          # else: the citizen left (home, timeout) meanwhile

    def _refused(self, error: BaseException) -> None:
        self.state, self.message = "refused", error_text(error)
        self._show(speak=True)

    def _show(self, speak: bool = False) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.render()
            if speak:
                self.speak()

    # --- layout --------------------------------------------------------------------------
    def build_header(self) -> Widget:
        box = super().build_header()
        theme = self.ui.theme
        box.add_widget(Text(theme, self.p("title"), size=theme.title, bold=True))
        return box

    def body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        if self.state == "starting":
            box.add_widget(Text(theme, self.p("starting"), size=theme.title * 0.85,
                                halign="center"))
        elif self.state == "card":
            box.add_widget(self._asked())
            box.add_widget(named(Text(theme, self.p("card"), size=theme.title * 0.85,
                                       halign="center"), "correction_card"))
            box.add_widget(CardAnimation(theme))
        elif self.state == "refused":
            box.add_widget(named(Text(theme, "× " + self.ui.pair(*self.message),
                                       size=theme.title * 0.85, colour=theme.palette.problem,
                                       halign="center"), "correction_refused"))
            box.add_widget(card_banner(self.ui, card_reminder()))
        else:
            return self._summary()
        box.add_widget(Widget())
        return box

    def _asked(self) -> Widget:
        """What the region asked for, so the applicant knows before the card is read."""
        ui, theme, session = self.ui, self.ui.theme, self.session
        panel = Panel(theme)
        fit_height(panel)
        if session is None:
            return panel
        case = session.case
        panel.add_widget(Text(theme, self.p("asked", n=len(case.items)), bold=True))
        for n, item in enumerate(case.items, start=1):
            panel.add_widget(Text(theme, f"{n}. {escape(item.text)}"))
        if case.deadline is not None:
            panel.add_widget(Text(theme, ui.pair(*_both(TEXTS["deadline"],
                                                        d=case.deadline.isoformat())),
                                  colour=theme.palette.muted))
        return panel

    def _summary(self) -> Widget:
        theme, session = self.ui.theme, self.session
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        box.add_widget(Text(theme, self.p("summary"), bold=True, size=theme.title * 0.85))
        if session is None:
            return box
        for n, item in enumerate(session.case.items, start=1):
            count = len(session.pages.get(item.item_id, []))
            state = self.p("pages", n=count) if count else self.p("none")
            colour = theme.palette.ok if count else theme.palette.problem
            mark = "✓" if count else "×"
            box.add_widget(named(Text(theme, f"{mark} {n}. {escape(item.text)}\n{state}",
                                       colour=colour), f"item_{item.item_id}"))
        if session.missing():
            box.add_widget(Text(theme, self.p("missing"), colour=theme.palette.problem))
        return self.scroll(box)

    def footer(self) -> list[Widget]:
        theme = self.ui.theme
        home = KioskButton(theme, self.p("home"), self.journey.cancel, name="home",
                           kind="secondary")
        if self.state == "summary":
            ready = self.session is not None and not self.session.missing()
            return [KioskButton(theme, self.p("recapture"), self._recapture, name="back",
                                size_hint_x=0.4),
                    KioskButton(theme, self.p("submit"), self.submit, kind="primary",
                                name="submit_correction", enabled=ready)]
        if self.state == "refused" and self.session is not None:
            return [home, KioskButton(theme, self.p("again"), self.read_card, kind="primary",
                                      name="again")]
        return [home]

    def _recapture(self) -> None:
        self.nav.go("capture")

    def speech(self) -> Speech | None:
        if self.state == "refused":
            return Speech(*self.message) + card_reminder()
        if self.state == "card" and self.session is not None:
            said = Speech(*_both(TEXTS["asked"], n=len(self.session.case.items)))
            for item in self.session.case.items:
                said += Speech(item.text, item.text)
            return said + Speech(*TEXTS["card"])
        key = {"starting": "starting", "summary": "summary"}.get(self.state, "starting")
        return Speech(*TEXTS[key])


def _both(pair: tuple[str, str], **values: Any) -> tuple[str, str]:
    return fill(pair[0], **values), fill(pair[1], **values)

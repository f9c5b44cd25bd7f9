"""Review: the checker's verdict on everything at once (一次性告知). Complete → on to the
delivery choice. Missing or unusable → back to capture, or print the correction notice.
A 容缺 item can be accepted on an explicit, signed commitment. Every captured page is shown
under its material and opens large (screens/citizen/page_viewer.py); retaking one goes back
to capture for exactly that page."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import Necessity
from kiosk.checker import CheckResult, Problem, ProblemKind
from kiosk.interaction import speech as spoken
from kiosk.interaction.speech import Speech
from screens.citizen.frame import CitizenScreen
from screens.citizen.page_viewer import ShowsPages
from screens.widgets import KioskButton, Panel, Text, escape, fit_height


class ReviewScreen(ShowsPages, CitizenScreen):
    screen_name = "review"
    step = 5
    title_id = "核对材料"

    def wipe_state(self) -> None:
        self.images = None                   # the pages' pictures go with the session

    @property
    def result(self) -> CheckResult:
        session = self.journey.session
        assert session is not None and session.result is not None
        return session.result

    def speech(self) -> Speech:
        """Each item to correct by name: the one thing a citizen who cannot read the screen
        could not otherwise learn."""
        return spoken.review(self.result)

    def body(self) -> Widget:
        ui, theme, result = self.ui, self.ui.theme, self.result
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        if result.accepted:
            box.add_widget(Text(theme, "✓ " + ui.bi("材料齐全，可以提交"), bold=True,
                                size=theme.title * 0.85, colour=theme.palette.ok))
        else:
            box.add_widget(Text(theme, "× " + ui.bi("以下 {n} 项需要补正", n=len(result.problems)),
                                bold=True, size=theme.title * 0.85, colour=theme.palette.problem))
            for problem in result.problems:
                box.add_widget(self._problem(problem))
        viewed = self.viewed_pages()
        for item in result.items:
            name = ui.tr.pick(item.material.name, item.material.name_en)[0]
            state = (ui.t("容缺，已承诺后补") if item.deferred
                     else ui.t("已拍 {n} 页", n=item.pages))
            line = f"✓ {escape(name)}{ui.colon}{state}"
            box.add_widget(Text(theme, line, colour=theme.palette.ok))
            mine = [p for p in viewed if p.material_id == item.material.id]
            if mine:
                box.add_widget(self.page_row(mine))
        if viewed:
            box.add_widget(Text(theme, ui.bi("点页面可放大查看，也可以重拍"), size=theme.small,
                                colour=theme.palette.muted))
        return self.scroll(box)

    def retake_page(self, material_id: str, number: int) -> None:
        """Back to capture for that one page: the next shot replaces it."""
        session = self.journey.session
        assert session is not None
        session.back_to_capture()
        self.nav.screen("capture").start_retake(material_id, number)
        self.nav.go("capture")

    def _problem(self, problem: Problem) -> Widget:
        ui, theme = self.ui, self.ui.theme
        panel = Panel(theme, outline=theme.palette.problem)
        fit_height(panel)
        panel.add_widget(Text(theme, "× " + ui.pair(problem.zh, problem.en),
                              colour=theme.palette.problem))
        commitment = self._commitment(problem)
        if commitment:
            panel.add_widget(Text(theme, ui.t("容缺承诺") + ui.colon + escape(commitment),
                                  size=theme.small))
            panel.add_widget(KioskButton(theme, ui.bi("我承诺按期补交此材料"),
                                          lambda: self._commit(problem.requirement_id),
                                          name=f"commit_{problem.requirement_id}"))
        return panel

    def _commitment(self, problem: Problem) -> str:
        session = self.journey.session
        if problem.kind is not ProblemKind.MISSING or session is None or not session.situation:
            return ""
        requirement = session.situation.requirement(problem.requirement_id)
        if requirement.necessity is Necessity.DEFERRABLE:
            return requirement.commitment or self.ui.t("本人承诺在规定期限内补交该材料")
        return ""

    def footer(self) -> list[Widget]:
        if self.result.accepted:
            return [self.back_button(self._back, "返回补拍"), self.next_button(self._next)]
        return [self.back_button(self._back, "返回补拍"),
                self.next_button(self._notice, "打印补正通知书", name="notice")]

    def _commit(self, requirement_id: str) -> None:
        session = self.journey.session
        assert session is not None
        session.commit_deferral(requirement_id)
        session.recheck()
        self.render()
        self.speak()

    def _back(self) -> None:
        session = self.journey.session
        assert session is not None
        session.back_to_capture()
        self.nav.go("capture")

    def _next(self) -> None:
        self.nav.go("delivery")

    def _notice(self) -> None:
        printing = self.nav.screen("printing")
        printing.start_notice()

"""Printing: the package goes into the outbox, then the receipt prints — 'take your receipt'.
The same screen prints the correction notice (补正通知书) for an incomplete application.
Paper out: the case is accepted all the same; the receipt waits for staff to refill."""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.graphics import Color, Line
from kivy.properties import NumericProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.checker import Problem
from kiosk.interaction import speech as spoken
from kiosk.interaction.speech import Speech, spell
from kiosk.service import Notified, Submitted
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.citizen.identify import card_banner
from screens.labels import N_
from screens.theme import Theme
from screens.widgets import Panel, Text, escape, fit_height


class PrintingScreen(CitizenScreen):
    screen_name = "printing"
    step: int | None = 8
    title_id = "打印"
    cancellable = False          # the application is being committed: no half-cancel

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()

    def wipe_state(self) -> None:
        self.title_id = "打印"
        self.step = type(self).step
        self.kind = "receipt"          # receipt | notice | correction (补正, correction.py)
        self.version = 0
        self.state = "working"         # working | done | failed
        self.number = ""
        self.printed = True
        self.error = ("", "")
        self.told = Speech("", "")      # what the done state reads out (number, where, card)

    # --- starting ------------------------------------------------------------------------
    def start_submit(self) -> None:
        ui = self.ui
        session = self.journey.session
        assert session is not None
        self.wipe_state()
        self.nav.go("printing")
        ui.bridge.run(lambda: ui.service.submit(session), self._submitted, self._failed)

    def start_notice(self) -> None:
        ui = self.ui
        session = self.journey.session
        assert session is not None
        self.wipe_state()
        self.kind = "notice"
        self.nav.go("printing")
        ui.bridge.run(lambda: ui.service.notify(session), self._notified, self._failed)

    def start_correction(self, correction: Any) -> None:
        """The 补正's follow-up package through the core, then its receipt (no application
        steps to count: the progress bar is off)."""
        ui = self.ui
        self.wipe_state()
        self.kind, self.step = "correction", None
        self.nav.go("printing")
        ui.bridge.run(lambda: ui.service.corrections.submit(correction), self._corrected,
                      self._failed)

    def _corrected(self, result: Any) -> None:
        self.state, self.number, self.printed = "done", result.case_number, result.printed
        self.version = result.version
        self.told = Speech(*CORRECTION_DONE) + Speech(
            f"办件编号 {spell(result.case_number)}", f"Case {spell(result.case_number, 'en')}")
        self.told += Speech(*(CORRECTION_TAKE if result.printed else CORRECTION_NO_PAPER))
        self.told += self._reminder()
        self._show()
        self.speak()

    def _submitted(self, result: Submitted) -> None:
        self.state, self.number, self.printed = "done", result.case_number, result.printed
        session, hall = self.journey.session, self.ui.service.this_kiosk
        delivery = session.delivery if session is not None else None
        self.told = spoken.receipt(result.case_number, result.printed, delivery,
                                   hall.department, hall.address) + self._reminder()
        self._show()
        self.speak()

    def _notified(self, result: Notified) -> None:
        self.state, self.number, self.printed = "done", result.number, result.printed
        self.told = spoken.notice(result.number, self._problems(), result.printed) \
            + self._reminder()
        self._show()
        self.speak()

    def _failed(self, error: BaseException) -> None:
        self.state, self.error = "failed", error_text(error)
        self._show()
        self.speak()

    def _reminder(self) -> Speech:
        """Take the card back — unless the reader already saw it go."""
        if self._card_taken():
            return Speech("", "")
        session = self.journey.session
        identity = session.identity if session is not None else None
        return spoken.card_reminder(identity.card_type if identity is not None else None)

    def _problems(self) -> tuple[Problem, ...]:
        session = self.journey.session
        return tuple(session.result.problems) if session and session.result else ()

    def _card_taken(self) -> bool:
        return bool(getattr(self.nav.screen("identify"), "card_taken", False))

    def speech(self) -> Speech | None:
        if self.state == "done":
            return self.told
        if self.state == "failed":
            return Speech(*self.error) + self.ui.speech("请点“呼叫工作人员”，工作人员会协助您。")
        if self.kind == "correction":
            return Speech(*CORRECTION_WORKING)
        return self.ui.speech("正在提交申请并打印回执，请稍候……" if self.kind == "receipt"
                              else "正在打印补正通知书，请稍候……")

    def _show(self) -> None:
        self.title_id = self._title()
        if self.manager is not None and self.manager.current == self.name:
            self.render()

    def _title(self) -> str:
        """The title follows what happened, not what was about to happen."""
        if self.state == "failed":
            return N_("打印失败")
        if self.state == "done" and not self.printed:
            return N_("已受理，回执待打印") if self.kind != "notice" else N_("通知书未能打印")
        return N_("打印完成") if self.state == "done" else N_("打印")

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(Widget())
        if self.state == "working":
            text = (ui.bi("正在提交申请并打印回执，请稍候……") if self.kind == "receipt"
                    else ui.pair(*CORRECTION_WORKING) if self.kind == "correction"
                    else ui.bi("正在打印补正通知书，请稍候……"))
            box.add_widget(BusySpinner(theme))
            box.add_widget(Text(theme, text, size=theme.title, halign="center"))
        elif self.state == "failed":
            box.add_widget(Text(theme, "× " + ui.pair(*self.error), size=theme.title * 0.9,
                                colour=theme.palette.problem, halign="center"))
            box.add_widget(Text(theme, ui.bi("请点“呼叫工作人员”，工作人员会协助您。"),
                                halign="center"))
        else:
            box.add_widget(self._done())
            box.add_widget(card_banner(ui, self._reminder(), taken=self._card_taken()))
        box.add_widget(Widget())
        return box

    def _done(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        panel = Panel(theme)
        fit_height(panel)
        if self.kind == "correction":
            self._correction_done(panel)
        elif self.kind == "receipt":
            panel.add_widget(Text(theme, "✓ " + ui.bi("您的申请已受理"), size=theme.title,
                                  bold=True, colour=theme.palette.ok, halign="center"))
            panel.add_widget(Text(theme, ui.bi("受理编号"), halign="center"))
            panel.add_widget(Text(theme, escape(self.number), size=theme.title * 1.1, bold=True,
                                  halign="center"))
            if self.printed:
                panel.add_widget(Text(theme, ui.bi("请取走打印的回执，妥善保管。"),
                                      size=theme.title * 0.8, halign="center"))
            else:
                panel.add_widget(Text(theme, "⚠ " + ui.bi(
                    "打印纸已用完，回执将在补纸后打印。请记下受理编号，或呼叫工作人员。"),
                    colour=theme.palette.warning, halign="center"))
        elif self.printed:
            panel.add_widget(Text(theme, ui.bi("请取走补正通知书"), size=theme.title, bold=True,
                                  halign="center"))
            lists = ui.bi("通知书上列出了全部需要补正的材料，补齐后再来办理。")
            panel.add_widget(Text(theme, lists, halign="center"))
            panel.add_widget(Text(theme, ui.bi("通知书编号：{number}", number=self.number),
                                  halign="center"))
        else:
            self._unprinted_notice(panel)
        return panel

    def _unprinted_notice(self, panel: Panel) -> None:
        """No paper: the notice's content on the screen, where the citizen can note it."""
        ui, theme = self.ui, self.ui.theme
        panel.add_widget(Text(theme, "⚠ " + ui.bi(
            "打印纸已用完，补正通知书未能打印。请记下以下需要补正的材料，或呼叫工作人员补打。"),
            colour=theme.palette.warning, halign="center"))
        panel.add_widget(Text(theme, ui.bi("通知书编号：{number}", number=self.number),
                              bold=True, halign="center"))
        for number, problem in enumerate(self._problems(), start=1):
            item = ui.pair(escape(problem.zh), escape(problem.en))
            panel.add_widget(Text(theme, f"{number}. {item}"))

    def _correction_done(self, panel: Panel) -> None:
        ui, theme = self.ui, self.ui.theme
        panel.add_widget(Text(theme, "✓ " + ui.pair(*CORRECTION_DONE), size=theme.title,
                              bold=True, colour=theme.palette.ok, halign="center"))
        panel.add_widget(Text(theme, ui.pair(f"办件编号（第 {self.version} 版）",
                                             f"Case number (version {self.version})"),
                              halign="center"))
        number = Text(theme, escape(self.number), size=theme.title * 1.1, bold=True,
                      halign="center")
        number.name = "correction_number"
        panel.add_widget(number)
        take = CORRECTION_TAKE if self.printed else CORRECTION_NO_PAPER
        panel.add_widget(Text(theme, ("" if self.printed else "⚠ ") + ui.pair(*take),
                              size=theme.title * 0.8, halign="center",
                              colour=theme.palette.text if self.printed
                              else theme.palette.warning))

    def footer(self) -> list[Widget]:
        if self.state == "working":
            return []
        if self.state == "failed":
            return [self.next_button(self.journey.cancel, "结束办理", name="end")]
        if self.kind == "correction":
            return [self.next_button(self._next, N_("完成"))]
        return [self.next_button(self._next)]

    def _next(self) -> None:
        if self.kind == "correction":     # rated when the case is decided, not per 补正;
            self.journey.cancel()         # the lookup's session ends as a lookup's does
            return
        self.nav.go("rating")


CORRECTION_WORKING = ("正在提交补正材料并打印凭证，请稍候……",
                      "Sending the materials and printing the receipt…")
CORRECTION_DONE = ("补正材料已提交", "The requested materials were submitted")
CORRECTION_TAKE = ("请取走补正材料接收凭证，妥善保管。", "Please take the receipt and keep it.")
CORRECTION_NO_PAPER = ("打印纸已用完，凭证将在补纸后打印。请记下办件编号，或呼叫工作人员。",
                       "The printer is out of paper: the receipt prints once it is refilled. "
                       "Note the case number, or call staff.")


class BusySpinner(Widget):
    """A turning arc: the kiosk is working (printing takes seconds; a still screen looks hung).
    The screen cancels its Animation when it leaves or redraws (KioskScreen)."""

    angle = NumericProperty(0.0)

    def __init__(self, theme: Theme, **kwargs: Any) -> None:
        side = theme.mm(16)
        super().__init__(size_hint=(1, None), height=side, **kwargs)
        self._radius = side / 2 - theme.mm(1)
        with self.canvas:
            Color(*theme.palette.primary)
            self._arc = Line(width=theme.mm(1.2), cap="round")
        self.bind(pos=self._redraw, size=self._redraw, angle=self._redraw)
        spin = Animation(angle=360.0, duration=1.2) + Animation(angle=0.0, duration=0)
        spin.repeat = True
        spin.start(self)

    def _redraw(self, *_: Any) -> None:
        start = self.angle
        self._arc.circle = (self.center_x, self.center_y, self._radius, start, start + 270)

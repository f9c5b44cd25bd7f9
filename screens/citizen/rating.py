"""好差评: five levels (GB/T 39734-2020), one rating per transaction, skippable; a bad one
asks why and whether staff may call back; then done."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.errors import BilingualError
from kiosk.interaction.speech import Speech
from kiosk.rating import COMMENT_MAX, Rating, RatingReason
from screens.citizen.frame import CitizenScreen
from screens.citizen.matters import keyboard_labels
from screens.keyboard import PinyinKeyboard
from screens.labels import N_
from screens.widgets import KioskButton, Text, escape, fit_row

REASONS = {
    RatingReason.GUIDE_UNCLEAR: N_("办事指南看不明白"),
    RatingReason.TOO_MANY_MATERIALS: N_("材料要求多或重复提交"),
    RatingReason.HARD_TO_USE: N_("机器操作不方便"),
    RatingReason.DEVICE_FAULT: N_("设备出了故障"),
    RatingReason.TOO_SLOW: N_("办理时间太长"),
    RatingReason.NO_HELP: N_("求助没有人回应"),
}
FACES = {Rating.VERY_SATISFIED: "★★★★★", Rating.SATISFIED: "★★★★☆",
         Rating.BASICALLY_SATISFIED: "★★★☆☆", Rating.DISSATISFIED: "★★☆☆☆",
         Rating.VERY_DISSATISFIED: "★☆☆☆☆"}
DONE_SECONDS = 20      # the done screen returns to the start by itself


class RatingScreen(CitizenScreen):
    """The five levels; a bad one (不满意 / 非常不满意) is kept at once, then asks why (any of
    a few large choices, optional words on the keyboard) and whether staff may call back."""

    screen_name = "rating"
    step = 9
    title_id = "请为本次服务评价"
    spoken_id = "请为本次服务评价"
    cancellable = False

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()

    def wipe_state(self) -> None:
        self.state = "levels"                  # levels | reasons | words
        self.level: Rating | None = None
        self.reasons: list[RatingReason] = []
        self.comment = ""
        self.contact: bool | None = None

    def on_pre_enter(self, *_: Any) -> None:
        if self.level is None:
            self.state = "levels"
        super().on_pre_enter()

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        if self.state == "words":
            return self._words_body()
        if self.state == "reasons":
            return self._reasons_body()
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        for rating in Rating:
            box.add_widget(KioskButton(theme, f"{FACES[rating]}  {ui.bi(rating.value)}",
                                        lambda r=rating: self._rate(r), kind="choice",
                                        name=f"rate_{rating.name.lower()}",
                                        height=theme.target * 1.3))
        box.add_widget(Widget())
        return box

    def _reasons_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        assert self.level is not None
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        box.add_widget(Text(theme, f"{FACES[self.level]}  {ui.bi(self.level.value)}",
                            colour=theme.palette.muted))
        box.add_widget(Text(theme, ui.bi("请告诉我们哪里不满意（可多选）"), bold=True))
        grid = GridLayout(cols=1 if theme.elder else 2, spacing=theme.gap, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for reason in RatingReason:
            chosen = reason in self.reasons
            grid.add_widget(KioskButton(theme, ("✓ " if chosen else "") + ui.bi(REASONS[reason]),
                                         lambda r=reason: self._toggle(r), kind="choice",
                                         selected=chosen, name=f"reason_{reason.value}",
                                         height=theme.target * 1.3))
        box.add_widget(grid)
        words = (f"{ui.t('补充说明（可选）')}{ui.colon}{escape(self.comment)}" if self.comment
                 else ui.bi("补充说明（可选）"))
        box.add_widget(KioskButton(theme, words, self._edit_words, name="rating_words"))
        box.add_widget(Text(theme, ui.bi("是否同意工作人员联系您？"), bold=True))
        row = BoxLayout(spacing=theme.gap * 2)
        for answer, name, msgid in ((True, "contact_yes", N_("是，可以联系我")),
                                    (False, "contact_no", N_("否，不用联系"))):
            chosen = self.contact is answer
            row.add_widget(KioskButton(theme, ("✓ " if chosen else "") + ui.bi(msgid),
                                        lambda a=answer: self._answer(a), kind="choice",
                                        selected=chosen, name=name))
        box.add_widget(fit_row(row))
        return self.scroll(box)

    def _words_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        self.words_text = Text(theme, self._words_line(self.comment, ""), bold=True)
        box.add_widget(self.words_text)
        box.add_widget(PinyinKeyboard(theme, ui.ime, self._typed, keyboard_labels(ui),
                                      text=self.comment, digits=True))
        box.add_widget(Widget())
        return box

    def _words_line(self, text: str, pending: str) -> str:
        shown = escape(text) + (f" [i]{escape(pending)}[/i]" if pending else "")
        return f"{self.ui.t('补充说明（可选）')}{self.ui.colon}{shown or '—'}"

    def footer(self) -> list[Widget]:
        if self.state == "words":
            return [self.next_button(self._words_done, "完成", name="words_done")]
        if self.state == "reasons":
            return [self.back_button(self._skip, "不说明，结束"),
                    self.next_button(self._submit, "提交评价", name="submit_rating")]
        return [self.back_button(self._skip, "不评价，结束")]

    def speech(self) -> Speech | None:
        ui = self.ui
        if self.state == "reasons":
            heard = ui.speech("请告诉我们哪里不满意（可多选）")
            for reason in RatingReason:
                heard += ui.speech(REASONS[reason])
            return heard + ui.speech("是否同意工作人员联系您？")
        if self.state == "words":
            return None
        return super().speech()

    # --- actions -------------------------------------------------------------------------
    def _rate(self, rating: Rating) -> None:
        session = self.journey.session
        if session is not None:
            try:
                session.rate(rating)     # kept at once: a citizen who walks away still counts
            except BilingualError as error:     # a second rating: say so, keep the first
                self.nav.show_error(error.zh, error.en)
                return
        if rating.is_bad and session is not None:
            self.level, self.state = rating, "reasons"
            self.render()
            self.speak()
            return
        self.nav.go("done")

    def _toggle(self, reason: RatingReason) -> None:
        if reason in self.reasons:
            self.reasons.remove(reason)
        else:
            self.reasons.append(reason)
        self.render()

    def _answer(self, contact: bool) -> None:
        self.contact = contact
        self.render()

    def _edit_words(self) -> None:
        self.state = "words"
        self.render()

    def _typed(self, text: str, pending: str) -> None:
        self.comment = text[:COMMENT_MAX]
        if hasattr(self, "words_text"):
            self.words_text.text = self._words_line(self.comment, pending)

    def _words_done(self) -> None:
        self.state = "reasons"
        self.render()

    def _submit(self) -> None:
        session = self.journey.session
        if session is not None:
            session.explain_rating(tuple(self.reasons), self.comment, self.contact)
        self.nav.go("done")

    def _skip(self) -> None:
        self.nav.go("done")


class DoneScreen(CitizenScreen):
    screen_name = "done"
    cancellable = False
    spoken_id = "办理完成，请带好您的证件和材料"

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.left = DONE_SECONDS
        self._timer: Any = None

    def on_enter(self, *_: Any) -> None:
        super().on_enter()
        self.left = DONE_SECONDS
        self._timer = Clock.schedule_interval(self._count, 1.0)

    def on_leave(self, *_: Any) -> None:
        super().on_leave()
        if self._timer is not None:
            self._timer.cancel()

    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(Widget())
        box.add_widget(Text(theme, "✓ " + ui.bi("办理完成"), size=theme.title * 1.3, bold=True,
                            colour=theme.palette.ok, halign="center"))
        box.add_widget(Text(theme, ui.bi("请带好您的身份证件、材料原件和回执。"),
                            size=theme.title * 0.8, halign="center"))
        self.countdown = Text(theme, self._countdown_text(), halign="center",
                              colour=theme.palette.muted)
        box.add_widget(self.countdown)
        box.add_widget(Widget())
        return box

    def footer(self) -> list[Widget]:
        return [self.next_button(self.journey.finish, "返回首页", name="home")]

    def _countdown_text(self) -> str:
        return self.ui.bi("{s} 秒后自动返回首页", s=self.left)

    def _count(self, _dt: float) -> None:
        self.left -= 1
        if self.left <= 0:
            self.journey.finish()
        elif self.manager is not None and self.manager.current == self.name:
            self.countdown.text = self._countdown_text()

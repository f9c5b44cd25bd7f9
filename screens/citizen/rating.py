"""好差评: five levels (GB/T 39734-2020), one rating per transaction, skippable; then done."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.errors import BilingualError
from kiosk.session import Rating
from screens.citizen.frame import CitizenScreen
from screens.widgets import KioskButton, Text

FACES = {Rating.VERY_SATISFIED: "★★★★★", Rating.SATISFIED: "★★★★☆",
         Rating.BASICALLY_SATISFIED: "★★★☆☆", Rating.DISSATISFIED: "★★☆☆☆",
         Rating.VERY_DISSATISFIED: "★☆☆☆☆"}
DONE_SECONDS = 20      # the done screen returns to the start by itself


class RatingScreen(CitizenScreen):
    screen_name = "rating"
    step = 9
    title_id = "请为本次服务评价"
    spoken_id = "请为本次服务评价"
    cancellable = False

    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        for rating in Rating:
            box.add_widget(KioskButton(theme, f"{FACES[rating]}  {ui.bi(rating.value)}",
                                        lambda r=rating: self._rate(r), kind="choice",
                                        name=f"rate_{rating.name.lower()}",
                                        height=theme.target * 1.3))
        box.add_widget(Widget())
        return box

    def footer(self) -> list[Widget]:
        return [self.back_button(self._skip, "不评价，结束")]

    def _rate(self, rating: Rating) -> None:
        session = self.journey.session
        if session is not None:
            try:
                session.rate(rating)
            except BilingualError as error:     # a second rating: say so, keep the first
                self.nav.show_error(error.zh, error.en)
                return
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

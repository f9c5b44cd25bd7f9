"""Attract screen: what can be done here, service hours, language, 长辈版, call staff."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import ScopeKind
from kiosk.hours import next_opening
from kiosk.interaction.speech import Speech
from kiosk.lifecycle import LIFECYCLE_TOPIC, REASON_TEXT, KioskState, Reason
from screens.citizen.frame import CitizenScreen
from screens.widgets import KioskButton, Panel, Spacer, Text, fit_height, fit_row

STAFF_HOLD_S = 3.0


class AttractScreen(CitizenScreen):
    screen_name = "attract"
    cancellable = False
    spoken_id = ""

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        # 暂停服务 (disk floor, UPS on battery, ...) is shown while the screen is up, not only
        # when it is next entered
        ui.bridge.subscribe(LIFECYCLE_TOPIC, self._lifecycle_changed)

    def _lifecycle_changed(self, _topic: str, _payload: Any) -> None:
        if self.manager is not None and self.manager.current == self.name and \
                _shown(*self.ui.service.state()) != getattr(self, "_shown", None):
            self.render()      # only when what the screen says changes (not every session)

    def header(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        fit_height(box)
        title = Text(theme, ui.bi("跨域通办 自助服务"), size=theme.title * 1.5, bold=True,
                     halign="center")
        title.bind(on_touch_down=self._hold_start, on_touch_up=self._hold_end)
        box.add_widget(title)
        box.add_widget(Text(theme, ui.service.this_kiosk.name, size=theme.body, halign="center",
                            colour=theme.palette.muted))
        return box

    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(Spacer())
        box.add_widget(self._offer())
        box.add_widget(self._hours())
        state, reason = ui.service.state()
        self._shown = _shown(state, reason)
        available = state is not KioskState.UNAVAILABLE
        if not available:
            zh, en = _reason_text(reason)
            box.add_widget(Text(theme, "⚠ " + ui.pair(zh, en), colour=theme.palette.problem,
                                size=theme.body * 1.2, halign="center"))
            if reason is Reason.OUTSIDE_HOURS:
                box.add_widget(self._opens())
                box.add_widget(KioskButton(   # read and print the guide now, come back later
                    theme, ui.bi("查看办事指南，打印指引单"), self.journey.browse,
                    kind="primary", name="browse_guides", height=theme.target * 1.8,
                    font=theme.title * 0.9))
        start = KioskButton(theme, ui.bi("开始办理"), self._start, kind="primary",
                            name="start", enabled=available, height=theme.target * 2.2,
                            font=theme.title)
        progress = KioskButton(   # 进度查询 (screens/citizen/progress.py): a receipt or a card
            theme, ui.pair("进度查询", "Check progress"), self.journey.progress,
            name="progress", enabled=available, font=theme.title * 0.9,
            height=theme.target * (2.2 if theme.landscape else 1.6))
        if theme.landscape:                         # side by side: no height to spare
            both = BoxLayout(spacing=theme.gap * 2)
            start.size_hint_x, progress.size_hint_x = 0.62, 0.38
            both.add_widget(start)
            both.add_widget(progress)
            box.add_widget(fit_row(both))
        else:
            box.add_widget(start)
            box.add_widget(progress)
        box.add_widget(Spacer())
        read_aloud, voice = self.tools()[2:]        # 朗读 and voice, as on every screen
        if not theme.landscape:                     # portrait: a row of their own
            tools = BoxLayout(spacing=theme.gap * 2)
            tools.add_widget(read_aloud)
            tools.add_widget(voice)
            box.add_widget(fit_row(tools))
        row = BoxLayout(size_hint_y=None, height=theme.target * 1.2, spacing=theme.gap * 2)
        other = "English" if ui.tr.lang == "zh_CN" else "中文"
        row.add_widget(KioskButton(theme, other, self._switch_language, name="language",
                                    height=theme.target * 1.2))
        elder_label = ui.bi("标准版") if theme.elder else ui.bi("长辈版（大字）")
        row.add_widget(KioskButton(theme, elder_label, self._switch_elder, name="elder",
                                    height=theme.target * 1.2, kind="choice",
                                    selected=theme.elder))
        if theme.landscape:                         # landscape: wide enough for one row
            row.add_widget(read_aloud)
            row.add_widget(voice)
        row.add_widget(KioskButton(theme, ui.bi("呼叫工作人员"), self.journey.call_staff,
                                    name="call_staff", height=theme.target * 1.2))
        fit_row(row)
        box.add_widget(row)
        return box

    def _offer(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        matters = [m for m in ui.service.all_matters() if m.kiosk_can_take]
        counts = Counter(m.scope.kind for m in matters)
        panel = Panel(theme)
        fit_height(panel)
        panel.add_widget(Text(theme, ui.bi("本机可办理 {n} 项跨域通办事项", n=len(matters)),
                              size=theme.body * 1.2, bold=True, halign="center"))
        parts = [f"{ui.t(kind.value)} {counts[kind]}" for kind in ScopeKind if counts[kind]]
        panel.add_widget(Text(theme, " · ".join(parts), halign="center"))
        panel.add_widget(Text(theme, ui.bi("请准备好身份证件和申请材料，按屏幕提示操作。"),
                              halign="center", colour=theme.palette.muted))
        return panel

    def _hours(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        hours = ui.service.hours
        if hours.open.hour == 0 and hours.open.minute == 0 and hours.close.hour == 23:
            text = ui.bi("24小时自助服务")
        else:
            text = ui.bi("服务时间 {open}–{close}", open=f"{hours.open:%H:%M}",
                         close=f"{hours.close:%H:%M}")
        return Text(theme, text, halign="center", size=theme.body * 1.1)

    def _opens(self) -> Widget:
        """Outside service hours: when the kiosk serves again (holidays and 调休 counted)."""
        ui, theme = self.ui, self.ui.theme
        now = ui.service.now()
        when = next_opening(ui.service.hours, now)
        if when is None:
            zh, en = "暂停服务，开放时间请咨询大厅", "Closed: ask the hall when it opens"
        else:
            day_zh = "今天" if when.date() == now.date() else f"{when.month}月{when.day}日"
            day_en = "today" if when.date() == now.date() else f"{when:%d %b}"
            zh, en = f"{day_zh} {when:%H:%M} 开始服务", f"Opens {day_en} at {when:%H:%M}"
        return Text(theme, ui.pair(zh, en), size=theme.body * 1.2, halign="center")

    # --- the only way out of the kiosk: a 3-second press on the title asks for staff mode ---
    def _hold_start(self, widget: Any, touch: Any) -> bool:
        if widget.collide_point(*touch.pos):
            self._hold = Clock.schedule_once(lambda _dt: self.journey.request_staff_mode(),
                                             STAFF_HOLD_S)
        return False

    def _hold_end(self, widget: Any, touch: Any) -> bool:
        hold = getattr(self, "_hold", None)
        if hold is not None:
            hold.cancel()
        return False

    def on_enter(self, *_: Any) -> None:
        """Silent: a kiosk that talks to an empty hall after every session is noise. 朗读
        reads this screen on request."""

    def speech(self) -> Speech:
        n = sum(1 for m in self.ui.service.all_matters() if m.kiosk_can_take)
        return (self.ui.speech("跨域通办 自助服务") + self.ui.speech(
            "本机可办理 {n} 项跨域通办事项", n=n)
            + self.ui.speech("请准备好身份证件和申请材料，按屏幕提示操作。")
            + self.ui.speech("开始办理"))

    def _start(self) -> None:
        self.journey.start()

    def _switch_language(self) -> None:
        self.journey.switch_language()
        self.render()

    def _switch_elder(self) -> None:
        self.journey.set_elder(not self.ui.theme.elder)
        self.render()


def _shown(state: KioskState, reason: object) -> object:
    """What the attract screen shows of the lifecycle: available, or why not."""
    return reason if state is KioskState.UNAVAILABLE else None


def _reason_text(reason: object) -> tuple[str, str]:
    if isinstance(reason, Reason):
        return REASON_TEXT[reason]
    return ("暂停服务", "Out of service")

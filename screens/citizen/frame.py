"""The citizen's screens' frame: the nine steps in the progress bar, the header's call-staff
and cancel buttons wired to the citizen's journey, and on every screen a row of small tools:
中文 / English, 长辈版, 朗读 (read this screen aloud) and voice on / off. What the citizen
chooses there lasts for their session only (the journey restores the defaults at its end)."""

from __future__ import annotations

from typing import Any

from kivy.uix.widget import Widget

from screens.base import KioskScreen
from screens.citizen.journey import CitizenJourney
from screens.context import Ui
from screens.labels import N_
from screens.navigator import Navigator
from screens.widgets import KioskButton

# The citizen-facing steps, for "第 n 步 / 共 m 步" and the progress bar's names.
STEPS = (N_("选择事项"), N_("阅读指南"), N_("读取证件"), N_("拍摄材料"), N_("核对材料"),
         N_("送达方式"), N_("确认提交"), N_("打印回执"), N_("服务评价"))
DELIVERY_STEPS = frozenset({6, 7})    # what a correction notice goes past: 送达方式, 确认提交


class CitizenScreen(KioskScreen):
    steps = STEPS

    def __init__(self, ui: Ui, nav: Navigator, journey: CitizenJourney, **kwargs: Any) -> None:
        super().__init__(ui, nav, **kwargs)
        self.journey = journey

    def skipped_steps(self) -> frozenset[int]:
        """An incomplete application goes from review to the correction notice: it never
        chose a delivery nor confirmed (no frozen application), so those steps were skipped."""
        session = self.journey.session
        past_confirm = self.step is not None and self.step > max(DELIVERY_STEPS)
        if past_confirm and session is not None and session.application is None:
            return DELIVERY_STEPS
        return frozenset()

    def call_staff(self) -> None:
        self.journey.call_staff()

    def ask_cancel(self) -> None:
        self.journey.ask_cancel()

    # --- the tools row -------------------------------------------------------------------
    def tools(self) -> list[Widget]:
        ui, theme = self.ui, self.ui.theme
        font = theme.small * 1.1
        voice_on = ui.voice is not None and ui.voice.enabled
        # the language button names the language it switches to, in that language
        other = "English" if ui.tr.lang == "zh_CN" else "中文"
        return [
            KioskButton(theme, other, self.switch_language, name="tool_language", font=font),
            KioskButton(theme, ui.bi("标准版") if theme.elder else ui.bi("长辈版"),
                        self.switch_elder, kind="choice", selected=theme.elder,
                        name="tool_elder", font=font),
            KioskButton(theme, ui.bi("朗读"), lambda: self.speak(asked=True),
                        name="read_aloud", font=font),
            KioskButton(theme, ui.bi("语音：开") if voice_on else ui.bi("语音：关"),
                        self.switch_voice, kind="choice", selected=voice_on,
                        name="tool_voice", font=font),
        ]

    def switch_language(self) -> None:
        self.journey.switch_language()
        self.render()

    def switch_elder(self) -> None:
        self.journey.set_elder(not self.ui.theme.elder)
        self.render()

    def switch_voice(self) -> None:
        self.journey.switch_voice()
        self.render()
        self.speak()           # turned on: say where the citizen is (off: says nothing)

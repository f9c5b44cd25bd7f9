"""The citizen's screens' frame: the nine steps in the progress bar, and the header's call-staff
and cancel buttons wired to the citizen's journey."""

from __future__ import annotations

from typing import Any

from screens.base import KioskScreen
from screens.citizen.journey import CitizenJourney
from screens.context import Ui
from screens.navigator import Navigator

# The citizen-facing steps, for "第 n 步 / 共 m 步".
STEPS = ("选择事项", "阅读指南", "读取证件", "拍摄材料", "核对材料", "送达方式", "确认提交",
         "打印回执", "服务评价")


class CitizenScreen(KioskScreen):
    steps = STEPS

    def __init__(self, ui: Ui, nav: Navigator, journey: CitizenJourney, **kwargs: Any) -> None:
        super().__init__(ui, nav, **kwargs)
        self.journey = journey

    def call_staff(self) -> None:
        self.journey.call_staff()

    def ask_cancel(self) -> None:
        self.journey.ask_cancel()

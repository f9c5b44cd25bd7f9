"""The citizen's screens' frame: the nine steps in the progress bar, and the header's call-staff
and cancel buttons wired to the citizen's journey."""

from __future__ import annotations

from typing import Any

from screens.base import KioskScreen
from screens.citizen.journey import CitizenJourney
from screens.context import Ui
from screens.labels import N_
from screens.navigator import Navigator

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

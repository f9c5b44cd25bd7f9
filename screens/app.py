"""The Kivy application: one window, the screens, the journey, the bridge. Small on purpose:
behaviour lives in the screens and in kiosk/."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.bootstrap import FONT, Kiosk
from kiosk.demo_hand import DemoHand
from kiosk.i18n import Translator
from kiosk.ime import PinyinIME
from kiosk.service import KioskService
from kiosk.voice import Voice
from screens.attract import AttractScreen
from screens.bridge import UiBridge
from screens.capture import CaptureScreen
from screens.confirm import ConfirmScreen
from screens.context import Ui
from screens.delivery import DeliveryScreen
from screens.demo_panel import DemoPanel
from screens.guide import GuideScreen
from screens.identify import IdentifyScreen
from screens.journey import Journey
from screens.matters import MattersScreen
from screens.printing import PrintingScreen
from screens.rating import DoneScreen, RatingScreen
from screens.review import ReviewScreen
from screens.theme import Theme

log = logging.getLogger(__name__)
SCREENS = (AttractScreen, MattersScreen, GuideScreen, IdentifyScreen, CaptureScreen,
           ReviewScreen, DeliveryScreen, ConfirmScreen, PrintingScreen, RatingScreen, DoneScreen)
PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)


def register_font(assets: Path) -> None:
    """The SC face everywhere (Kivy's default Roboto has no Chinese)."""
    LabelBase.register(DEFAULT_FONT, str(assets / FONT))


def window_size(orientation: str) -> tuple[int, int]:
    return LANDSCAPE if orientation == "landscape" else PORTRAIT


class KioskApp(App):
    title = "tongban-kiosk 跨域通办自助终端"

    def __init__(self, kiosk: Kiosk, demo: bool = False, clock: Any = time.monotonic,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk, self.demo, self.clock = kiosk, demo, clock
        self.ui: Ui | None = None

    def build(self) -> FloatLayout:
        settings = self.kiosk.settings
        register_font(settings.paths.assets)
        ui_settings = settings.ui
        Window.show_cursor = False
        landscape = Window.width > Window.height
        theme = Theme(dpi=ui_settings.screen_dpi, landscape=landscape)
        voice = Voice(self.kiosk.speaker, ui_settings.voice)
        ui = Ui(kiosk=self.kiosk, service=KioskService(self.kiosk),
                tr=Translator(settings.paths.assets / "locale", ui_settings.language),
                bridge=UiBridge(self.kiosk.bus), theme=theme, voice=voice, clock=self.clock,
                ime=PinyinIME.load())
        manager = ScreenManager(transition=NoTransition())
        ui.journey = Journey(ui, manager)
        for screen_class in SCREENS:
            manager.add_widget(screen_class(ui))
        self.ui = ui
        root = FloatLayout()
        root.add_widget(manager)
        hand = DemoHand(self.kiosk.identity, self.kiosk.camera, self.kiosk.printer)
        if self.demo and hand.available:
            root.add_widget(DemoPanel(ui, hand, pos_hint={"x": 0, "y": 0}))
        manager.current = "attract"
        return root

    def on_stop(self) -> None:
        if self.ui is not None:
            self.ui.journey.close()
            self.ui.bridge.close()


def relayout(app: KioskApp, orientation: str | None = None, elder: bool | None = None) -> None:
    """Switch 长辈版 or orientation: a new theme, the current screen drawn again."""
    ui = app.ui
    assert ui is not None
    if orientation is not None:
        Window.size = window_size(orientation)
        ui.theme = replace(ui.theme, landscape=orientation == "landscape")
    if elder is not None:
        ui.theme = replace(ui.theme, elder=elder)
    ui.journey.current.render()

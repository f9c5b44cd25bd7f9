"""The Kivy application: one window, the screens, the journey, the bridge. Small on purpose:
behaviour lives in the screens and in kiosk/."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.bootstrap import Kiosk
from kiosk.demo.hand import DemoHand
from kiosk.fleet.host import APPLIED_TOPIC, KioskHost
from kiosk.interaction.i18n import Translator
from kiosk.interaction.ime import PinyinIME
from kiosk.interaction.preferences import Preferences
from kiosk.interaction.voice import Voice
from kiosk.paths import FONT
from kiosk.service import KioskService
from kiosk.staff.authority import StaffAuthority
from screens.bridge import UiBridge
from screens.citizen.attract import AttractScreen
from screens.citizen.capture import CaptureScreen
from screens.citizen.confirm import ConfirmScreen
from screens.citizen.correction import CorrectionScreen
from screens.citizen.delivery import DeliveryScreen
from screens.citizen.face import FaceScreen
from screens.citizen.guide import GuideScreen
from screens.citizen.identify import IdentifyScreen
from screens.citizen.journey import CitizenJourney
from screens.citizen.matters import MattersScreen
from screens.citizen.printing import PrintingScreen
from screens.citizen.progress import ProgressScreen
from screens.citizen.rating import DoneScreen, RatingScreen
from screens.citizen.region import RegionScreen
from screens.citizen.review import ReviewScreen
from screens.context import Ui
from screens.demo_panel import DemoPanel
from screens.lockdown import lock_window, unlock_window
from screens.navigator import Navigator
from screens.staff.journey import StaffJourney
from screens.staff.menu import StaffMenuScreen
from screens.staff.signin import StaffSignInScreen
from screens.staff.table import FUNCTIONS
from screens.theme import Theme

log = logging.getLogger(__name__)
CITIZEN_SCREENS = (AttractScreen, MattersScreen, GuideScreen, IdentifyScreen, FaceScreen,
           RegionScreen, CaptureScreen, ReviewScreen, DeliveryScreen, ConfirmScreen, PrintingScreen,
           RatingScreen, DoneScreen, ProgressScreen, CorrectionScreen)
PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)


def staff_screens() -> list[type[Any]]:
    """Sign-in, menu, and each staff function's screen once (rows may share one)."""
    classes: list[type[Any]] = [StaffSignInScreen, StaffMenuScreen]
    for function in FUNCTIONS:
        if function.screen_class not in classes:
            classes.append(function.screen_class)
    return classes


def register_font(assets: Path) -> None:
    """The SC face everywhere (Kivy's default Roboto has no Chinese)."""
    LabelBase.register(DEFAULT_FONT, str(assets / FONT))


def window_size(orientation: str) -> tuple[int, int]:
    return LANDSCAPE if orientation == "landscape" else PORTRAIT


class KioskApp(App):
    title = "tongban-kiosk 跨域通办自助终端"

    def __init__(self, kiosk: Kiosk, demo: bool = False, clock: Any = time.monotonic,
                 host: KioskHost | None = None, locked: bool = False,
                 staff: StaffAuthority | None = None, **kwargs: Any) -> None:
        """``host``: the fleet's KioskHost; the screens follow its configuration swaps.
        ``locked``: run mode, nothing leaves or inspects the app (screens/lockdown.py).
        ``staff``: staff sign-in (FleetNode.staff); None: staff mode says it is not set up."""
        super().__init__(**kwargs)
        self.kiosk, self.demo, self.clock, self.host = kiosk, demo, clock, host
        self.locked, self.staff_authority = locked, staff
        self.exit_status: int | None = None     # set by staff's 退出到桌面
        self.ui: Ui | None = None
        self.nav: Navigator | None = None
        self.journey: CitizenJourney | None = None
        self.staff: StaffJourney | None = None
        self._root = FloatLayout()       # outlives swaps: the window keeps one root widget
        self._unsubscribe: Callable[[], None] | None = None

    def build(self) -> FloatLayout:
        register_font(self.kiosk.settings.paths.assets)
        Window.show_cursor = False
        if self.host is not None:
            self._unsubscribe = self.host.bus.subscribe(APPLIED_TOPIC, self._applied)
            self.kiosk = self.host.kiosk     # the agent may have swapped before we listened
        self._mount(self.kiosk)
        settle_memory()
        return self._root

    def _mount(self, kiosk: Kiosk) -> None:
        """The screens, journey and demo panel for ``kiosk``, into the root, on attract."""
        settings, ui_settings = kiosk.settings, kiosk.settings.ui
        theme = Theme(dpi=ui_settings.screen_dpi, landscape=Window.width > Window.height)
        ui = Ui(service=KioskService(kiosk, monotonic=self.clock, staff=self.staff_authority),
                tr=Translator(settings.paths.assets / "locale", ui_settings.language),
                bridge=UiBridge(kiosk.bus), theme=theme,
                voice=Voice(kiosk.speaker, ui_settings.voice), clock=self.clock,
                ime=PinyinIME.load(),
                defaults=Preferences(ui_settings.language, False, ui_settings.voice))
        manager = ScreenManager(transition=NoTransition())
        nav = Navigator(ui, manager)
        journey = CitizenJourney(ui, nav)
        for screen_class in CITIZEN_SCREENS:
            manager.add_widget(screen_class(ui, nav, journey))
        staff = StaffJourney(ui, nav, journey, exit_app=self.exit_to_desktop)
        for staff_class in staff_screens():
            manager.add_widget(staff_class(ui, nav, staff))
        self.ui, self.nav, self.journey, self.staff = ui, nav, journey, staff
        hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer,
                              kiosk.face_camera)
        if self.demo and hand.available:
            # the strip below the kiosk's area, not over it: it would hide the footer buttons
            column = BoxLayout(orientation="vertical")
            column.add_widget(manager)
            column.add_widget(DemoPanel(ui, nav, hand))
            hand.follow_prompts(kiosk.bus)   # the demo's person does the moves asked for
            self._root.add_widget(column)
        else:
            self._root.add_widget(manager)
        manager.current = "attract"

    def exit_to_desktop(self, status: int) -> None:
        """Staff's 退出到桌面: the app ends and the program exits with ``status``."""
        self.exit_status = status
        Clock.schedule_once(lambda _dt: self.stop())

    def _applied(self, topic: str, payload: Any) -> None:
        # the agent's thread: widgets may only be touched on Kivy's main thread
        kiosk = payload["kiosk"]
        Clock.schedule_once(lambda _dt: self._remount(kiosk))

    def _remount(self, kiosk: Kiosk) -> None:
        """The screens again on the swapped-in kiosk (the old one is already closed)."""
        if kiosk is self.kiosk:
            return                           # build() already mounted it
        if self.staff is not None and self.staff.active:
            self.staff.sign_out("reconfigured")     # its screens go with the old kiosk
        if self.ui is not None and self.nav is not None and self.journey is not None:
            if self.journey.session is not None:
                # ended, but its session.ended hop has not run yet: wipe it like that would
                self.journey.back_to_attract()
            close_ui(self.ui, self.nav)
        self._root.clear_widgets()
        orientation = kiosk.settings.ui.orientation
        if orientation != self.kiosk.settings.ui.orientation:
            Window.size = window_size(orientation)
        self.kiosk = kiosk
        gc.unfreeze()                        # the old screens may now be collected
        self._mount(kiosk)
        settle_memory()
        log.info("screens rebuilt on the new configuration")

    def on_start(self) -> None:
        if self.locked:      # here, not in build: after App.run bound its own key handler
            lock_window(Window)

    def open_settings(self, *largs: Any) -> bool:
        """Kivy's settings panel (F1) never opens in run mode."""
        return False if self.locked else bool(super().open_settings(*largs))

    def on_stop(self) -> None:
        if self.locked:
            unlock_window(Window)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.ui is not None and self.nav is not None:
            close_ui(self.ui, self.nav)


# Python's full collection runs every 10 young ones by default: a screen's build allocates
# enough for several during one tap, each walking every live widget (0.3–0.7 s under load).
# Young collections still run as usual; the full one waits for the navigator's, run after
# every session on the way home (nobody waits for a tap then).
FULL_COLLECTION_EVERY = 100_000      # young collections (gc's third threshold; default 10)


def settle_memory() -> None:
    """Keep what start-up built (Kivy, the pinyin tables, the catalogue, the IME: about
    400,000 objects) out of Python's cycle collector: a full collection walked all of them
    and paused a tap by 0.3–3 s on a busy machine. Collected first, so nothing dead is kept.
    Full collections are left to the end of each session (FULL_COLLECTION_EVERY)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def close_ui(ui: Ui, nav: Navigator) -> None:
    """Let go of a Ui: the navigator's dialog (it sits on the window, not in the root), touch
    guard and ticker, the bus subscriptions and workers, and the service's subscription (the
    bus is shared with the kiosk that replaces it)."""
    nav.close()
    ui.bridge.close()
    ui.service.close()


def relayout(app: KioskApp, orientation: str | None = None, elder: bool | None = None) -> None:
    """Switch 长辈版 or orientation: a new theme, the current screen drawn again."""
    ui, nav = app.ui, app.nav
    assert ui is not None and nav is not None
    if orientation is not None:
        Window.size = window_size(orientation)
        ui.theme = replace(ui.theme, landscape=orientation == "landscape")
    if elder is not None:
        ui.theme = replace(ui.theme, elder=elder)
    nav.current.render()

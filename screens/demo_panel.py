"""A strip of demo controls (emulated devices only): place the card, lay the current
material's next page on the camera. Laid out below the kiosk's screens (never over their
footer buttons), marked as 演示 so no visitor takes it for part of the kiosk."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout

from kiosk.demo.hand import DemoHand
from screens.context import Ui
from screens.navigator import Navigator
from screens.widgets import KioskButton, Text

FACE_SCENES = {"right": "本人", "other": "他人", "photo": "照片", "nobody": "无人"}


class DemoPanel(BoxLayout):
    def __init__(self, ui: Ui, nav: Navigator, hand: DemoHand, **kwargs: Any) -> None:
        theme = ui.theme
        super().__init__(size_hint=(1, None), height=theme.target, spacing=theme.mm(1),
                         padding=(theme.mm(1), 0), **kwargs)
        self.ui, self.nav, self.hand = ui, nav, hand
        with self.canvas.before:
            Color(0.13, 0.13, 0.13, 1)      # opaque: over the page's colour, not black
            self._bg = Rectangle()
        self.bind(pos=lambda w, p: setattr(self._bg, "pos", p),
                  size=lambda w, s: setattr(self._bg, "size", s))
        self.add_widget(Text(theme, "演示 Demo", size=theme.small, colour=(1, 1, 1, 1),
                             size_hint_x=None, width=theme.mm(24), size_hint_y=1))
        for label, action, name in (("放身份证 Card", self._card, "demo_card"),
                                    ("放材料 Page", self._page, "demo_page"),
                                    ("拿走 Clear", self._clear, "demo_clear"),
                                    ("工作人员卡 Staff", self._staff_card, "demo_staff_card")):
            self.add_widget(KioskButton(theme, label, action, name=name, font=theme.small,
                                         height=theme.target))
        if hand.face_scene:       # who stands at the emulated face camera, tap for the next
            self.face_button = KioskButton(theme, self._face_label(), self._next_face,
                                           name="demo_face", font=theme.small,
                                           height=theme.target)
            self.add_widget(self.face_button)

    def _face_label(self) -> str:
        return "人脸 Face: " + FACE_SCENES.get(self.hand.face_scene, self.hand.face_scene)

    def _next_face(self) -> None:
        """本人 → 他人 → 照片 → 无人: the right face, a wrong one, a photo (spoof), nobody."""
        order = list(FACE_SCENES)
        now = self.hand.face_scene
        self.hand.present_face(order[(order.index(now) + 1) % len(order)]
                               if now in order else "right")
        self.face_button.text = self._face_label()

    def _card(self) -> None:
        self.hand.present_card()

    def _staff_card(self) -> None:
        self.hand.present_card("staff_demo")      # kiosk/staff/demo.py: PIN 246810

    def _page(self) -> None:
        screen = self.nav.current
        material_id = getattr(screen, "current", "")
        if material_id:
            self.hand.place_page(screen.material(material_id).name)
        elif getattr(screen, "plate_label", ""):     # the 日检 screen: its printed target
            self.hand.place(screen.plate_label, 1)

    def _clear(self) -> None:
        self.hand.clear_plate()
        self.hand.remove_card()

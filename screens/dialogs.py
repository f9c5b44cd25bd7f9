"""Modal messages over the current screen: confirm cancel, idle warning, call guide, errors."""

from __future__ import annotations

from collections.abc import Callable

from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from screens.theme import Theme
from screens.widgets import KioskButton, Panel, Text, fit_height, fit_row


class Dialog(ModalView):
    """A centred panel: a message and one or two buttons. Tests find it by ``name``."""

    def __init__(self, theme: Theme, name: str, message: str,
                 buttons: list[tuple[str, str, Callable[[], None] | None, str]]) -> None:
        super().__init__(size_hint=(0.86, None), auto_dismiss=False, background="",
                         background_color=(0, 0, 0, 0), overlay_color=(0, 0, 0, 0.55))
        self.name = name
        panel = Panel(theme, padding=theme.pad, spacing=theme.gap * 2)
        fit_height(panel)
        self.message = Text(theme, message, size=theme.body * 1.15)
        panel.add_widget(self.message)
        row = BoxLayout(size_hint_y=None, height=theme.target * 1.25, spacing=theme.gap * 2)
        for label, button_name, action, kind in buttons:
            row.add_widget(KioskButton(theme, label, self._closing(action), kind=kind,
                                        name=button_name, height=theme.target * 1.25))
        fit_row(row)
        panel.add_widget(row)
        with panel.canvas.before:
            Color(*theme.palette.surface)
            self._bg = Rectangle()
        panel.bind(pos=lambda w, p: setattr(self._bg, "pos", p),
                   size=lambda w, s: setattr(self._bg, "size", s))
        panel.bind(height=lambda w, h: setattr(self, "height", h))
        self.add_widget(panel)

    def _closing(self, action: Callable[[], None] | None) -> Callable[[], None]:
        def run() -> None:
            self.dismiss()
            if action is not None:
                action()
        return run

    def set_message(self, text: str) -> None:
        self.message.text = text

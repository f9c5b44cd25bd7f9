"""The PIN pad: ten digits in a new random order each time it is drawn (someone watching
the hand learns nothing of the PIN from where it pressed), 清空 and 删除, and dots for the
digits typed. The PIN lives in the pad's ``text`` only, never in a label or a log."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from kivy.uix.gridlayout import GridLayout

from screens.keyboard import NumericKeypad
from screens.theme import Theme
from screens.widgets import KioskButton

PIN_LENGTH = 6
_random = random.SystemRandom()


def shuffled_digits() -> list[str]:
    digits = list("0123456789")
    _random.shuffle(digits)
    return digits


class ShuffledPinPad(GridLayout):
    """``on_change(length)`` after every key: the screen shows that many dots. Keys are
    named ``digit_<d>`` by their digit, wherever they land, so tests type by digit."""

    def __init__(self, theme: Theme, on_change: Callable[[int], None],
                 labels: tuple[str, str], order: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cols=3, spacing=theme.mm(1.5), size_hint_y=None, **kwargs)
        self.on_change, self.text = on_change, ""
        self.order = order if order is not None else shuffled_digits()
        keys = [*self.order[:9], "clear", self.order[9], "delete"]
        clear, delete = labels
        buttons = [KioskButton(theme, {"clear": clear, "delete": delete}.get(key, key),
                               lambda k=key: self.press(k), name=f"digit_{key}",
                               height=theme.target * 1.3,
                               font=theme.title if key.isdigit() else theme.button)
                   for key in keys]
        for button in buttons:      # every key as tall as 清空 / 删除 (as NumericKeypad's)
            self.add_widget(button)
            button.bind(texture_size=lambda *_: NumericKeypad._even(buttons))
        NumericKeypad._even(buttons)
        self.bind(minimum_height=self.setter("height"))

    def press(self, key: str) -> None:
        if key == "clear":
            self.text = ""
        elif key == "delete":
            self.text = self.text[:-1]
        elif len(self.text) < PIN_LENGTH:
            self.text += key
        self.on_change(len(self.text))

    def take(self) -> str:
        """The PIN typed, and the pad forgets it."""
        pin, self.text = self.text, ""
        return pin

    def __repr__(self) -> str:       # never the digits
        return f"ShuffledPinPad({len(getattr(self, 'text', ''))} digits)"

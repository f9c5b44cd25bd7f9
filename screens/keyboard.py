"""On-screen input without a physical keyboard: a pinyin keyboard with a candidate bar (names,
addresses, search) and a numeric keypad (phone numbers, dates).

The keyboards only collect keystrokes; the pinyin engine is ``kiosk.interaction.ime.PinyinIME``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.interaction.ime import Candidate, PinyinIME, Vocabulary
from screens.theme import Theme
from screens.widgets import KioskButton, fit_height, fit_row

Changed = Callable[[str, str], None]        # (committed text, pending pinyin)
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
CANDIDATES_SHOWN = 6


class PinyinKeyboard(BoxLayout):
    """QWERTY letters; with an IME, letters build pinyin and the candidate bar commits
    Chinese. ``latin=True`` types the letters themselves (document numbers, search)."""

    def __init__(self, theme: Theme, ime: PinyinIME | None, on_change: Changed,
                 labels: dict[str, str], text: str = "", latin: bool = False,
                 digits: bool = False, vocabulary: Vocabulary | None = None,
                 **kwargs: Any) -> None:
        super().__init__(orientation="vertical", spacing=theme.mm(1.5), size_hint_y=None,
                         **kwargs)
        self.theme, self.ime, self.on_change, self.labels = theme, ime, on_change, labels
        self.text, self.buffer, self.latin, self.page = text, "", latin or ime is None, 0
        self.candidates: list[Candidate] = []
        self.vocabulary = vocabulary          # the screen's own words, offered first
        # The bar's height is fixed before the first letter: a bar that grew when the
        # candidates (or the two-line 更多 key) appeared moved every key under the finger.
        self._more = self._key(labels["more"], self._next_page, "candidates_more",
                               size_hint_x=None, width=theme.target * 1.6)
        self._bar = BoxLayout(size_hint_y=None, height=self._bar_height(), spacing=theme.mm(1))
        self._more.size_hint_y = 1                    # as tall as the bar, never taller
        self.add_widget(self._bar)
        if digits:
            self.add_widget(self._row("1234567890"))
        for letters in ROWS:
            self.add_widget(self._row(letters))
        self.add_widget(self._bottom_row())
        fit_height(self)              # as tall as its rows, after keys grow to fit two lines
        self._refresh()

    def _bar_height(self) -> float:
        """Tall enough for a candidate and for the 更多 key's two lines, whatever appears."""
        if self.latin:
            return self.theme.target
        self._more.texture_update()
        one_line = self._key("字", lambda: None, "").height
        return float(max(one_line, self._more.height, self._more.natural_height()))

    def _key(self, label: str, action: Callable[[], None], name: str, **kwargs: Any) -> Any:
        return KioskButton(self.theme, label, action, name=name, height=self.theme.target,
                            font=self.theme.button, **kwargs)

    def _row(self, letters: str) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=self.theme.target, spacing=self.theme.mm(1))
        for letter in letters:
            row.add_widget(self._key(letter.upper() if self.latin else letter,
                                     lambda ch=letter: self.press(ch), f"key_{letter}"))
        return fit_row(row)

    def _bottom_row(self) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=self.theme.target, spacing=self.theme.mm(1))
        row.add_widget(self._key(self.labels["clear"], self.clear, "key_clear", size_hint_x=0.25))
        if not self.latin:
            row.add_widget(self._key("'", lambda: self.press("'"), "key_apostrophe",
                                     size_hint_x=0.12))
        row.add_widget(self._key(self.labels["space"], lambda: self.press(" "), "key_space",
                                 size_hint_x=0.38))
        row.add_widget(self._key(self.labels["delete"], self.backspace, "key_delete",
                                 size_hint_x=0.25))
        return fit_row(row)

    # --- typing --------------------------------------------------------------------------
    def press(self, char: str) -> None:
        if self.latin:
            self.text += char.upper() if char.isalpha() else char
        elif char == " " and self.buffer:
            self._commit_first()
        elif char == " " or (not char.isalpha() and char != "'"):
            self.text += char
        else:
            self.buffer += char
        self.page = 0
        self._refresh()

    def type_text(self, text: str) -> None:
        for char in text:
            self.press(char)

    def backspace(self) -> None:
        if self.buffer:
            self.buffer = self.buffer[:-1]
        else:
            self.text = self.text[:-1]
        self._refresh()

    def clear(self) -> None:
        self.text, self.buffer, self.page = "", "", 0
        self._refresh()

    def choose(self, candidate: Candidate) -> None:
        assert self.ime is not None
        self.text += candidate.text
        self.buffer = self.ime.remaining(self.buffer, candidate)
        self.page = 0
        self._refresh()

    def restart(self, text: str) -> None:
        """Typing afresh from ``text`` (a kept keyboard opened again)."""
        self.text, self.buffer, self.page = text, "", 0
        self._refresh()

    def forget(self) -> None:
        """Nothing typed, no candidates shown (the session ended); tells no one."""
        self.text, self.buffer, self.page, self.candidates = "", "", 0, []
        self._fill_bar()

    def _commit_first(self) -> None:
        if self.candidates:
            self.choose(self.candidates[0])

    def _next_page(self) -> None:
        self.page += 1
        self._fill_bar()

    # --- candidate bar -------------------------------------------------------------------
    def _refresh(self) -> None:
        self.candidates = (self.ime.candidates(self.buffer, limit=60, first=self.vocabulary)
                           if self.ime is not None and self.buffer else [])
        self._fill_bar()
        self.on_change(self.text, self.buffer)

    def _fill_bar(self) -> None:
        """Always the same slots: six candidates (empty ones kept) and 更多 at the end."""
        self._bar.clear_widgets()
        if self.latin:
            return
        start = self.page * CANDIDATES_SHOWN
        shown = self.candidates[start:start + CANDIDATES_SHOWN]
        if not shown and self.candidates:
            self.page, shown = 0, self.candidates[:CANDIDATES_SHOWN]
        for index in range(CANDIDATES_SHOWN):
            if index >= len(shown):
                self._bar.add_widget(Widget())
                continue
            candidate = shown[index]
            self._bar.add_widget(CandidateKey(self.theme, candidate.text,
                                              lambda c=candidate: self.choose(c),
                                              name=f"candidate_{index}", kind="choice",
                                              selected=index == 0 and self.page == 0,
                                              size_hint_y=1))
        if self.candidates:
            self._more.set_enabled(len(self.candidates) > CANDIDATES_SHOWN)
            self._bar.add_widget(self._more)
        else:                       # its place kept: the slots do not widen and narrow
            self._bar.add_widget(Widget(size_hint_x=None, width=self._more.width))


class CandidateKey(KioskButton):
    """A candidate word on one line in its slot: a long word gets a smaller font rather than
    a second line (which would need a taller bar)."""

    def __init__(self, theme: Theme, text: str, on_tap: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(theme, text, on_tap, font=theme.button, **kwargs)
        self.full_font, self.sized = theme.button, False

    def placed(self) -> bool:
        return self.sized              # never wraps: its slot's width sets its font

    def _redraw(self, *_: Any) -> None:
        self.sized = True
        super()._redraw()
        self.text_size = (None, None)                  # never wraps
        room = self.width - self.theme.gap
        # Hanzi are at most one em wide: the font that fits every character in the room
        self.font_size = max(1.0, min(self.full_font, room / max(len(self.text), 1)))


class NumericKeypad(GridLayout):
    """Digits for phone numbers and MRZ dates; ``max_length`` stops typing past the end."""

    def __init__(self, theme: Theme, on_change: Callable[[str], None], labels: dict[str, str],
                 text: str = "", max_length: int = 11, **kwargs: Any) -> None:
        super().__init__(cols=3, spacing=theme.mm(1.5), size_hint_y=None, **kwargs)
        self.theme, self.on_change, self.text, self.max_length = theme, on_change, text, max_length
        # digits large; 清空 / 删除 (two lines with English) in button type, so that every
        # key can be as tall as they are without the pad growing by a third
        keys = [KioskButton(theme, labels.get(key, key), lambda k=key: self.press(k),
                            name=f"digit_{key}", height=theme.target * 1.2,
                            font=theme.title if key.isdigit() else theme.button)
                for key in (*"123456789", "clear", "0", "delete")]
        for key in keys:
            self.add_widget(key)
            key.bind(texture_size=lambda *_: self._even(keys))
        self._even(keys)
        self.bind(minimum_height=self.setter("height"))     # rows grow with their keys

    @staticmethod
    def _even(keys: list[KioskButton]) -> None:
        """Every key as tall as the tallest (清空 and 删除 have two lines): a grid row puts a
        shorter key at its bottom, so 0 sat lower than its neighbours."""
        tallest = max(key.natural_height() for key in keys)
        for key in keys:
            key.height = tallest

    def press(self, key: str) -> None:
        if key == "clear":
            self.text = ""
        elif key == "delete":
            self.text = self.text[:-1]
        elif len(self.text) < self.max_length:
            self.text += key
        self.on_change(self.text)

    def type_text(self, digits: str) -> None:
        for digit in digits:
            self.press(digit)

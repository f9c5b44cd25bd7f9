"""The few widgets every screen is made of: text, action buttons, choice rows, cards.

Every touchable widget here is at least ``theme.target`` (15 mm) on both sides, and every
state shown in colour also has a word and a symbol (✓ / × / !), for colour-blind and older
users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from screens.theme import RGBA, Theme
from screens.wrapping import KinsokuLabel

Action = Callable[[], None]


def escape(text: str) -> str:
    """Kivy markup escaping for text that comes from data (names, addresses)."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def two_lines(theme: Theme, primary: str, secondary: str, ratio: float = 0.62) -> str:
    """Primary text with the second language under it, smaller (markup)."""
    text = escape(primary)
    if secondary and secondary != primary and theme.show_second_language:
        return f"{text}\n[size={int(theme.small * ratio / 0.62)}]{escape(secondary)}[/size]"
    return text


class Text(KinsokuLabel, Label):
    """A wrapping label that grows to its text's height (for BoxLayouts); lines break by the
    避头尾 rules (screens/wrapping.py)."""

    def __init__(self, theme: Theme, text: str = "", size: float | None = None,
                 colour: RGBA | None = None, bold: bool = False, halign: str = "left",
                 grow: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("size_hint_y", None)
        self.grow = grow
        size = size or theme.body
        # Titles need less leading than body text (their line is already tall).
        leading = theme.line_height if size <= theme.body * 1.2 else 1.1
        super().__init__(text=text, markup=True, font_size=size,
                         color=colour or theme.palette.text, halign=halign, valign="middle",
                         line_height=leading, bold=bold, **kwargs)
        self.bind(width=self._wrap, texture_size=self._grow)

    def _wrap(self, *_: Any) -> None:
        self.text_size = (self.width, None)

    def _grow(self, *_: Any) -> None:
        if self.grow and self.size_hint_y is None:      # in a list: as tall as the text
            self.height = self.texture_size[1]


class Panel(BoxLayout):
    """A white card with a rounded outline; ``fill`` overrides the surface colour."""

    def __init__(self, theme: Theme, fill: RGBA | None = None, outline: RGBA | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("padding", theme.gap * 1.5)
        kwargs.setdefault("spacing", theme.gap)
        super().__init__(**kwargs)
        line_width = 2.0 if theme.elder else 1.2
        with self.canvas.before:
            Color(*(fill or theme.palette.surface))
            self._bg = RoundedRectangle(radius=[theme.mm(2)])
            Color(*(outline or theme.palette.outline))
            self._edge = Line(width=line_width)
        self.bind(pos=self._redraw, size=self._redraw)
        self._radius = theme.mm(2)

    def _redraw(self, *_: Any) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size
        self._edge.rounded_rectangle = (*self.pos, *self.size, self._radius)


def fit_height(box: BoxLayout) -> None:
    """Let a vertical box be as tall as its children (for lists inside a page)."""
    box.size_hint_y = None
    box.bind(minimum_height=box.setter("height"))


class KioskButton(KinsokuLabel, Button):
    """A big flat button. ``kind``: primary (the one main step), secondary, danger, choice.
    A short label (a word such as 收起键盘) is never broken: it is set smaller to fit."""

    keep_words = 8

    def __init__(self, theme: Theme, text: str, on_tap: Action | None, kind: str = "secondary",
                 selected: bool = False, enabled: bool = True, font: float | None = None,
                 name: str = "", **kwargs: Any) -> None:
        pal = theme.palette
        colours = {
            "primary": (pal.primary, pal.on_primary),
            "secondary": (pal.secondary, pal.on_secondary),
            "danger": (pal.problem, pal.on_primary),
            "choice": (pal.primary if selected else pal.surface,
                       pal.on_primary if selected else pal.text),
        }
        self._colours = colours[kind], (pal.disabled, pal.muted)
        background, foreground = self._colours[0] if enabled else self._colours[1]
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", theme.target * (1.25 if kind == "primary" else 1.0))
        # room for every line of text (a bilingual label has two), so nothing spills out
        lines = text.count("\n")
        needed = (font or theme.button) * 1.2 + theme.small * 1.2 * lines + theme.gap * 1.5
        kwargs["height"] = max(kwargs["height"], needed)
        super().__init__(text=text, markup=True, font_size=font or theme.button,
                         background_normal="", background_down="",
                         background_color=(0, 0, 0, 0), color=foreground, halign="center",
                         valign="middle", line_height=1.15, **kwargs)
        self.name, self.kind, self.enabled, self.theme = name, kind, enabled, theme
        self.min_target = theme.target
        self._on_tap = on_tap
        with self.canvas.before:
            self._fill = Color(*background)
            self._bg = RoundedRectangle(radius=[theme.mm(2)])
            Color(*pal.outline)
            self._edge = Line(width=2.0 if (theme.elder or selected) else 1.0)
        self.base_height = float(kwargs["height"])
        self.bind(pos=self._redraw, size=self._redraw, texture_size=self._fit)
        self.bind(on_release=lambda *_: self.tap())

    def _redraw(self, *_: Any) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size
        self._edge.rounded_rectangle = (*self.pos, *self.size, self.theme.mm(2))
        self.text_size = (self.width - self.theme.gap * 2, None)

    def natural_height(self) -> float:
        """Its own height, or taller to hold two-line (bilingual) text."""
        return max(self.base_height, float(self.texture_size[1]) + self.theme.gap * 1.5)

    def _fit(self, *_: Any) -> None:
        """Grow instead of letting the text spill over the edge (in a row: the row grows)."""
        if self.size_hint_y is None:
            self.height = self.natural_height()

    def set_enabled(self, enabled: bool, *, force: bool = False) -> None:
        if enabled == self.enabled and not force:
            return                  # its text's colour again: a texture rendered for nothing
        self.enabled = enabled
        background, foreground = self._colours[0] if enabled else self._colours[1]
        self._fill.rgba, self.color = background, foreground

    def set_selected(self, selected: bool) -> None:
        """A choice chip kept from one render to the next shows whether it is chosen now."""
        pal = self.theme.palette
        self._colours = ((pal.primary, pal.on_primary) if selected else (pal.surface, pal.text),
                         self._colours[1])
        self._edge.width = 2.0 if (self.theme.elder or selected) else 1.0
        self.set_enabled(self.enabled, force=True)

    def on_state(self, _widget: Any, state: str) -> None:   # pressed feedback: darken
        self._fill.a = 0.7 if state == "down" else 1.0

    def tap(self) -> None:
        if self.enabled and self._on_tap is not None:
            self._on_tap()


class Spacer(Widget):
    def __init__(self, height: float = 0, **kwargs: Any) -> None:
        if height:
            kwargs.update(size_hint_y=None, height=height)
        super().__init__(**kwargs)


class Picture(Widget):
    """Draws a texture scaled to fit (aspect kept), centred."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas:
            Color(1, 1, 1, 1)
            self._rect = Rectangle()
        self.texture: Any = None
        self.bind(pos=self._redraw, size=self._redraw)

    def show(self, texture: Any) -> None:
        self.texture = texture
        self._rect.texture = texture
        self._redraw()

    def image_box(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) of the drawn image within the widget."""
        if self.texture is None or not self.texture.width:
            return (*self.pos, 0.0, 0.0)
        tw, th = self.texture.size
        k = min(self.width / tw, self.height / th)
        w, h = tw * k, th * k
        return (self.x + (self.width - w) / 2, self.y + (self.height - h) / 2, w, h)

    def _redraw(self, *_: Any) -> None:
        x, y, w, h = self.image_box()
        self._rect.pos, self._rect.size = (x, y), (w, h)


def fit_row(row: BoxLayout, minimum: float = 0) -> BoxLayout:
    """A horizontal row as tall as its tallest child's text, kept up to date as textures
    change (a button that wraps to two lines must push its row, not spill over what is
    above it). Children are stretched to the row's height, so a row of keys stays even."""
    fixed = [child for child in row.children if child.size_hint_y is None]

    def natural(child: Widget) -> float:
        if isinstance(child, KioskButton):
            return child.natural_height()
        if isinstance(child, Label):
            return float(child.texture_size[1])
        return float(child.height)

    def fit(*_: Any) -> None:
        row.height = max([minimum, *(natural(child) for child in fixed)])

    row.size_hint_y = None
    for child in fixed:
        child.size_hint_y = 1
        child.bind(**{"texture_size" if isinstance(child, Label) else "height": fit})
    fit()
    return row

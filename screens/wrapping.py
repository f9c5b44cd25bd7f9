"""Line breaks for the kiosk's labels: 避头尾 rules (kiosk/interaction/linebreak.py) applied to
Kivy markup, measured with the label's own font.

Kivy wraps a run of Chinese wherever the line is full, so a line may start with "：" or "，",
and it moves a whole markup chunk to the next line when it does not fit ("原因" ⏎ "：须…").
``KinsokuLabel`` lays the text out itself and hands Kivy lines that already fit; the label's
``text`` is left as the screen set it (tests and search read it whole).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from functools import lru_cache
from typing import Any, cast

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.core.text.markup import MarkupLabel
from kivy.utils import get_hex_from_color

from kiosk.interaction.linebreak import Glyph, layout

TAG = re.compile(r"(\[/?(?:b|i|u|s|sub|sup|size|color|font|font_family|font_context|"
                 r"font_features|text_language|ref|anchor)(?:=[^\]]*)?\])")
ESCAPES = {"&bl;": "[", "&br;": "]", "&amp;": "&"}
PIECE = re.compile(r"&bl;|&br;|&amp;|.", re.S)
Style = tuple[float, bool]       # font size, bold
DEFAULT_WIDTH = 100     # a widget's width before any layout has sized it
NEW, WAITING, SETTLED = range(3)     # a label's first layout (KinsokuLabel)
SLACK_PX = 2.0          # glyph rounding: a line we measure as fitting must fit in Kivy too


@lru_cache(maxsize=64)
def _ruler(font_name: str, size: float, bold: bool) -> CoreLabel:
    return CoreLabel(font_name=font_name, font_size=size, bold=bold)


@lru_cache(maxsize=8192)
def glyph_width(char: str, font_name: str, size: float, bold: bool) -> float:
    return float(_ruler(font_name, size, bold).get_extents(char)[0])


def text_width(text: str, font_name: str, size: float, bold: bool = False) -> float:
    """The width of one line of plain text (chips are sized to their label with it)."""
    return sum(glyph_width(char, font_name, size, bold) for char in text)


def parse(markup: str, size: float, bold: bool) -> tuple[list[str], list[int], list[Glyph]]:
    """Markup → its source pieces (tags and glyphs, in order), which pieces are glyphs, and
    the glyphs with their style (font size, bold)."""
    pieces: list[str] = []
    glyph_at: list[int] = []
    glyphs: list[Glyph] = []
    sizes, bolds = [size], [bold]
    for token in TAG.split(markup):
        if TAG.fullmatch(token):
            _restyle(token, sizes, bolds)
            pieces.append(token)
            continue
        for match in PIECE.finditer(token):
            source = match.group(0)
            glyph_at.append(len(pieces))
            pieces.append(source)
            glyphs.append((ESCAPES.get(source, source), (sizes[-1], bolds[-1])))
    return pieces, glyph_at, glyphs


def _restyle(tag: str, sizes: list[float], bolds: list[bool]) -> None:
    if tag.startswith("[size="):
        try:
            sizes.append(float(tag[6:-1]))
        except ValueError:             # a unit such as 12sp: not used by the screens
            sizes.append(sizes[-1])
    elif tag == "[/size]" and len(sizes) > 1:
        sizes.pop()
    elif tag == "[b]":
        bolds.append(True)
    elif tag == "[/b]" and len(bolds) > 1:
        bolds.pop()


@lru_cache(maxsize=2048)      # screens draw the same texts at the same widths again and again
def break_markup(markup: str, width: float, font_name: str, size: float, bold: bool = False,
                 keep_words: int = 0) -> str:
    """The markup with a newline at each line start, kinsoku rules kept; a kept word too wide
    for the line is set smaller instead of broken."""
    pieces, glyph_at, glyphs = parse(markup, size, bold)

    def measure(char: str, style: Hashable) -> float:
        glyph_size, glyph_bold = cast(Style, style)
        return glyph_width(char, font_name, glyph_size, glyph_bold)

    result = layout(glyphs, width - SLACK_PX, measure, keep_words)
    for start, end, wide in result.too_wide:
        scale = (width - SLACK_PX) / wide * 0.98
        for i in range(start, end):
            glyph_size = cast(Style, glyphs[i][1])[0]
            at = glyph_at[i]
            pieces[at] = f"[size={int(glyph_size * scale)}]{pieces[at]}[/size]"
    for start in result.starts:
        before = glyph_at[start - 1] if start else -1
        if before >= 0 and glyphs[start - 1][0] == " ":
            pieces[before] = "\n"              # the break takes the space's place
        else:
            at = glyph_at[start]
            pieces[at] = "\n" + pieces[at]
    return "".join(pieces)


def forget_texts() -> None:
    """Drop the cached layouts: they hold the texts shown, a citizen's among them."""
    break_markup.cache_clear()


def laid_out(widget: Any) -> bool:
    """No box around ``widget`` still to be laid out: none with a layout pending, none at
    Kivy's default 100 px width while its width follows its parent's."""
    parent = widget.parent
    # up to a box of fixed width (or the window): nothing above it changes ours
    while parent is not None and getattr(parent, "size_hint_x", None) is not None:
        pending = getattr(parent, "_trigger_layout", None)
        if parent.width == DEFAULT_WIDTH or (pending is not None and pending.is_triggered):
            return False
        parent = parent.parent
    return True


class KinsokuLabel:
    """Mixin for a markup Label (before Label in the bases): renders the text broken into
    lines by :func:`break_markup` at its ``text_size`` width.

    Kivy renders a label's texture whenever a property changes, and a new label's width
    changes several times while its layouts settle (100 px by default, then 0 or less while
    its parent is still 100 px wide, then the real width): each rendering is a FreeType pass
    over the whole text, two to four per label and screen. Here the automatic rendering
    waits until the label is ``placed`` (a positive width to wrap at); a label never placed
    is rendered as it is one frame later. An explicit ``texture_update()`` always renders."""

    keep_words = 0        # a line of at most this many characters, no space, is never broken

    def __init__(self, **kwargs: Any) -> None:
        self._settling, self._skipped = NEW, False
        super().__init__(**kwargs)
        label: Any = self
        label._trigger_texture.cancel()
        label._trigger_texture = Clock.create_trigger(self._texture_when_placed, -1)
        label._trigger_texture()

    def placed(self) -> bool:
        """Laid out: a width to wrap at, and no box around it still at Kivy's default width
        (its layout has not run yet: the width will change again)."""
        width = cast(Any, self).text_size[0]
        return width is not None and width > 0 and laid_out(self)

    def _texture_when_placed(self, *_: Any) -> None:
        if self.placed() or self._settling == SETTLED:
            self.texture_update()
            return
        self._skipped = True
        if self._settling == NEW:             # once: a frame from now it is laid out
            self._settling = WAITING
            Clock.schedule_once(self._settled, 0)

    def _settled(self, *_: Any) -> None:
        self._settling = SETTLED
        if self._skipped:
            self.texture_update()             # never placed since: as it is (as Kivy would)

    def texture_update(self, *largs: Any) -> None:
        self._skipped = False
        self._render(*largs)

    def _render(self, *largs: Any) -> None:
        label: Any = self
        width = label.text_size[0]
        if not (label.markup and width and label.text.strip()
                and isinstance(label._label, MarkupLabel)):
            super().texture_update(*largs)
            return
        text = break_markup(label.text, width, label.font_name, label.font_size, label.bold,
                            self.keep_words)
        colour = get_hex_from_color(label.disabled_color if label.disabled else label.color)
        label.texture = None
        core = label._label
        core.text = f"[color={colour}]{text}[/color]"
        core.refresh()
        if core.texture:
            core.texture.bind()
        label.refs, label.anchors = core.refs, core.anchors
        if core.texture is not None:
            label.texture = core.texture
            label.texture_size = list(core.texture.size)
        label.is_shortened = core.is_shortened

"""Where a line of Chinese (or mixed) text may break: 避头尾 (kinsoku) rules.

A line never starts with closing punctuation (，。：；？！）」』、 …) and never ends with opening
punctuation (（「『 …); Latin words and numbers are not broken; a short word (a button's label,
``keep_words`` characters or fewer, no space) is not broken at all — the caller shrinks it to
fit instead. Pure: widths come from the caller's ``measure``, so the screens can lay out with
their font and the tests with a ruler.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

CLOSING = frozenset("，。、：；？！）」』》〉】〕…’”%,.:;?!)]}·")
OPENING = frozenset("（「『《〈【〔‘“([{")

Glyph = tuple[str, Hashable]              # one visible character and its style
Measure = Callable[[str, Hashable], float]


@dataclass(frozen=True)
class Layout:
    starts: tuple[int, ...]               # glyph indices that begin a new line
    too_wide: tuple[tuple[int, int, float], ...]   # kept words wider than a line: start, end, width


def is_wide(char: str) -> bool:
    """CJK ideographs, kana, full-width forms and CJK punctuation: a break may fall beside
    them (not inside a run of Latin letters or digits)."""
    return ord(char) >= 0x2E80


def can_break(before: str, after: str) -> bool:
    """May a line end between ``before`` and ``after``?"""
    if after in CLOSING or before in OPENING or after == " " or "\n" in (before, after):
        return False
    if before == " ":
        return True
    return is_wide(before) or is_wide(after)


def units(chars: Sequence[str], keep_words: int = 0) -> list[tuple[int, int]]:
    """The text cut into pieces that are never broken: [start, end) glyph ranges.
    A forced newline is a unit of its own."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(chars) + 1):
        if i == len(chars) or chars[i] == "\n" or chars[i - 1] == "\n" or (
                can_break(chars[i - 1], chars[i]) and not _kept(chars, i, keep_words)):
            out.append((start, i))
            start = i
    return out


def _kept(chars: Sequence[str], i: int, keep_words: int) -> bool:
    """Is position i inside a short word (its whole line, no space, ≤ keep_words chars)?"""
    if not keep_words:
        return False
    left = i
    while left > 0 and chars[left - 1] != "\n":
        left -= 1
    right = i
    while right < len(chars) and chars[right] != "\n":
        right += 1
    line = chars[left:right]
    return len(line) <= keep_words and " " not in line


def layout(glyphs: Sequence[Glyph], width: float, measure: Measure,
           keep_words: int = 0) -> Layout:
    """Greedy fill of lines ``width`` wide, breaking only between units; a unit wider than a
    line is cut by character (a long number), unless it is a kept word (reported instead)."""
    chars = [char for char, _ in glyphs]
    widths = [0.0 if char == "\n" else measure(char, style) for char, style in glyphs]
    starts: list[int] = []
    too_wide: list[tuple[int, int, float]] = []
    x = 0.0
    for start, end in units(chars, keep_words):
        if chars[start] == "\n":
            x = 0.0
            continue
        fit = sum(widths[start:end]) - (widths[end - 1] if chars[end - 1] == " " else 0.0)
        if x > 0 and x + fit > width:
            starts.append(start)
            x = 0.0
        if fit <= width:
            x += sum(widths[start:end])
        elif keep_words and _kept(chars, start + 1, keep_words):
            too_wide.append((start, end, fit))
            x += fit
        else:
            x = _cut(range(start, end), widths, width, x, starts)
    return Layout(tuple(starts), tuple(too_wide))


def _cut(span: range, widths: list[float], width: float, x: float, starts: list[int]) -> float:
    for i in span:
        if x > 0 and x + widths[i] > width:
            starts.append(i)
            x = 0.0
        x += widths[i]
    return x

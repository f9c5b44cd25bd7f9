"""Receipt text on a grid of half-width columns: widths, line breaking, padding.

A thermal printer's font A is 12 × 24 dots; every character it prints in double-byte mode
(GBK/GB18030) is a 24 × 24 glyph, whatever Unicode's East Asian Width says — '—', '·', 'é'
are "ambiguous" (1 column in a Western terminal) but take two columns on the paper. So the
rule here is simply: printable ASCII = 1 column, everything else = 2 (a superset of
``east_asian_width`` W/F = 2). Lines that need the raster fallback are drawn on the same grid,
so one width function measures both.

A "cluster" is a base character with the combining marks that follow it; it is the unit
that is measured, wrapped and drawn.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

# Kinsoku: may not start a line (they follow what they close or end) ...
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…·%,.;:?!)]}")
# ... and may not end one (they open what follows).
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")

# Words of the receipt forms' own vocabulary that a line break must not cut in two: Chinese
# breaks between any two characters, but "复 / 印件" or "份 / 数" reads as two words.
WHOLE_WORDS = ("原件", "复印件", "份数", "页数", "序号", "邮寄", "自取", "信息", "未提交")

# Characters a printer would not print as we mean them: mapped before anything else.
_REPLACE = {
    "\u00a5": "\uffe5",    # ¥ is not in GBK; the full-width yuan sign ￥ is
    "\t": " ",
    "\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n",
}
_SPACES = frozenset("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                    "\u200a\u202f\u205f")


def normalize(text: str) -> str:
    """Map ¥ to ￥, odd spaces to ' ', line separators to '\\n'; drop invisible format
    characters; turn control characters (which would be ESC/POS commands) into spaces."""
    for old, new in _REPLACE.items():
        text = text.replace(old, new)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _SPACES or (category == "Cc" and ch != "\n"):
            out.append(" ")
        elif category == "Cs":
            out.append("\ufffd")             # a lone surrogate cannot be encoded or drawn
        elif category != "Cf":               # zero-width space, soft hyphen, BOM, ZWJ …
            out.append(ch)
    return "".join(out)


def clusters(text: str) -> list[str]:
    """Split into base character + following combining marks."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.category(ch) in ("Mn", "Me"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def cluster_width(cluster: str) -> int:
    return 1 if cluster[0] < "\x80" else 2


def text_width(text: str) -> int:
    return sum(cluster_width(c) for c in clusters(text))


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))


def wrap(text: str, columns: int, hanging: int = 0) -> list[str]:
    """Break ``text`` (already normalized) into lines of at most ``columns`` half-width
    columns (``columns - hanging`` for a paragraph's lines after its first, which the caller
    indents): hard breaks at '\\n', Latin words kept whole when they fit on a line, no line
    starting with closing punctuation (the character before it moves down with it), and no
    paragraph ending in a line of one lone character (the one before it moves down too)."""
    return [line for para in text.split("\n")
            for line in _wrap_paragraph(para, columns, max(1, columns - hanging))]


def _wrap_paragraph(paragraph: str, first: int, rest: int) -> list[str]:
    lines: list[list[list[str]]] = []    # lines of units of clusters
    current: list[list[str]] = []
    used = 0
    for unit in _units(clusters(paragraph)):
        limit = rest if lines else first
        width = sum(cluster_width(c) for c in unit)
        if unit[0] == " " and current and used + width > limit:
            lines.append([*current, unit])     # a break eats the spaces (kept for _no_orphan)
            current, used = [], 0
            continue
        if unit[0] == " " and not current and lines:
            continue                                      # no leading space after a wrap
        if used + width > limit and current:
            kept = _phrase_break(current, limit)
            if sum(cluster_width(c) for u in current[kept + 1:] for c in u) > rest:
                kept = len(current)               # what moves down must fit a later line
            lines.append(current[:kept])
            current = current[kept + 1:] if kept < len(current) else []
            used = sum(cluster_width(c) for u in current for c in u)
            if used + width > rest:
                lines.append(current)
                current, used = [], 0
        if width <= (rest if lines else first):
            current.append(unit)
            used += width
            continue
        for cluster in unit:                              # splits only a unit wider than a line
            w = cluster_width(cluster)
            if used + w > (rest if lines else first) and current:
                lines.append(current)
                current, used = [], 0
            current.append([cluster])
            used += w
    lines.append(current)
    _no_orphan(lines, rest)
    return ["".join("".join(u) for u in line).rstrip(" ") for line in lines]


def _phrase_break(units: list[list[str]], limit: int) -> int:
    """Where a full line should end: at the last run of spaces between items ("□ 自取   ■
    邮寄"), else at the last space between two Chinese phrases ("重庆市渝中区 重庆市…"), if
    that leaves the line at least half full, so 邮寄 is not split into 邮 / 寄; otherwise at
    its end. Spaces beside digits ("在 2 日内") are not phrase breaks."""
    used = 0
    runs, phrases = [], []
    for i, unit in enumerate(units):
        if unit[0] == " " and 0 < i < len(units) - 1 and 2 * used >= limit:
            if len(unit) > 1:
                runs.append(i)
            elif units[i - 1][-1] >= "\x80" and units[i + 1][0] >= "\x80":
                phrases.append(i)
        used += sum(cluster_width(c) for c in unit)
    return (runs or phrases or [len(units)])[-1]


def _no_orphan(lines: list[list[list[str]]], rest: int) -> None:
    """A last line of one character alone (胡同8 / 号, 中 / 心。) takes the unit before it
    down, when the two fit and the line above keeps something."""
    last = [u for u in lines[-1] if u[0] != " "]
    if len(lines) < 2 or len(last) != 1 or len(
            [c for c in last[0] if c[0] not in NO_LINE_START]) != 1:
        return                         # "心。" is as lonely as "心"
    above = lines[-2]
    gap: list[list[str]] = []          # the spaces between them go down too
    while above and above[-1][0] == " ":
        gap.insert(0, above.pop())
    if len(above) < 2:
        return
    down = [above[-1], *gap, *last]
    if sum(cluster_width(c) for unit in down for c in unit) <= rest:
        above.pop()
        lines[-1] = down


def _units(items: list[str]) -> Iterator[list[str]]:
    """Unbreakable units: a Latin word, a run of spaces, one of WHOLE_WORDS, or one other
    cluster — with the closing punctuation after it and the opening punctuation before it
    glued on."""
    tokens = list(_tokens(items))
    inside = _inside_whole_words(items)
    unit: list[str] = []
    at = 0                                  # index of the token's first cluster
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else [" "]
        glued = (previous[0] != " " and token[0] != " "
                 and (token[0][0] in NO_LINE_START or previous[-1][0] in NO_LINE_END
                      or at in inside))
        if unit and not glued:
            yield unit
            unit = []
        unit = unit + token
        at += len(token)
    if unit:
        yield unit


def _inside_whole_words(items: list[str]) -> set[int]:
    """Indices of clusters that continue one of WHOLE_WORDS (no break before them)."""
    inside: set[int] = set()
    for start in range(len(items) - 1):
        for word in WHOLE_WORDS:
            if items[start:start + len(word)] == list(word):
                inside.update(range(start + 1, start + len(word)))
    return inside


def _tokens(items: list[str]) -> Iterator[list[str]]:
    token: list[str] = []
    kind = ""
    for cluster in items:
        this = "space" if cluster == " " else "word" if _is_word(cluster) else "other"
        if token and (this != kind or this == "other"):
            yield token
            token = []
        token.append(cluster)
        kind = this
    if token:
        yield token


def _is_word(cluster: str) -> bool:
    """Latin-like: never broken inside a run (ASCII, or narrow letters and digits like é)."""
    base = cluster[0]
    if base < "\x80":
        return True
    return base.isalnum() and unicodedata.east_asian_width(base) not in ("W", "F")

"""Matter search for the matter-choice screen: Chinese text, pinyin initials or full pinyin.

A citizen at the kiosk may type 户籍, ``hjzm`` or ``hujizhengming`` (with or without spaces)
for 户籍类证明开具; the on-screen keyboard makes pinyin the quickest way in. Readings are
worked out once, when the index is built, so a keypress only compares strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin, pinyin

from kiosk.catalogue.model import LifeEvent, Matter, ScopeKind

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_NOT_PINYIN = re.compile(r"[^a-z0-9]")
_NAME_PREFIX, _NAME_SUBSTRING, _INITIALS_PREFIX, _INITIALS_SUBSTRING, _OTHER_FIELD = range(5)


@dataclass(frozen=True)
class _Text:
    """One searchable string and every way of spelling each of its characters."""

    text: str
    readings: tuple[frozenset[str], ...]   # per character: toneless syllables (all readings)
    initials: tuple[frozenset[str], ...]   # per character: first letters of those syllables

    @classmethod
    def of(cls, text: str) -> _Text:
        readings = _readings(text)
        return cls(text, readings, tuple(frozenset(s[0] for s in r) for r in readings))


@dataclass(frozen=True)
class _Entry:
    matter: Matter
    name: _Text
    others: tuple[_Text, ...]              # keywords, department, situation names


class MatterIndex:
    """Search over a catalogue's matters; keeps catalogue order within a rank."""

    def __init__(self, matters: Sequence[Matter]) -> None:
        self._entries = tuple(_entry(m) for m in matters)

    def search(self, query: str = "", *, scope: ScopeKind | None = None,
               department: str | None = None, life_event: str | None = None) -> list[Matter]:
        """Matters passing every given filter that match ``query``, best first."""
        chosen = [e for e in self._entries
                  if (scope is None or e.matter.scope.kind is scope)
                  and (department is None or e.matter.department == department)
                  and (life_event is None or life_event in e.matter.life_events)]
        matcher = _Query.parse(query)
        if matcher is None:
            return [e.matter for e in chosen]
        ranked = [(rank, e.matter) for e in chosen if (rank := matcher.rank(e)) is not None]
        ranked.sort(key=lambda pair: pair[0])       # stable: catalogue order within a rank
        return [matter for _, matter in ranked]

    def vocabulary(self) -> list[tuple[str, tuple[frozenset[str], ...]]]:
        """The catalogue's own words for the keyboard's candidate bar, each with every way of
        typing its characters: each matter's name (split at punctuation) and keywords, in
        catalogue order."""
        words: dict[str, tuple[frozenset[str], ...]] = {}
        for entry in self._entries:
            for text in (entry.matter.name, *entry.matter.keywords):
                for run in _HAN.findall(text):
                    if len(run) >= 2 and run not in words:
                        words[run] = _readings(run)
        return list(words.items())

    def departments(self) -> list[str]:
        """Departments in catalogue order, each once (the department filter's buttons)."""
        return list(dict.fromkeys(e.matter.department for e in self._entries))

    def life_events(self) -> list[str]:
        """The life events some matter is filed under, in LifeEvent's (button) order."""
        used = {event for e in self._entries for event in e.matter.life_events}
        return [event for event in LifeEvent if event in used]


@dataclass(frozen=True)
class _Query:
    text: str
    chinese: bool

    @classmethod
    def parse(cls, query: str) -> _Query | None:
        if _HAN.search(query):
            return cls("".join(query.split()), chinese=True)
        # Spaces and apostrophes only separate syllables: "hu ji", "xi'an".
        letters = _NOT_PINYIN.sub("", query.lower())
        return cls(letters, chinese=False) if letters else None

    def rank(self, entry: _Entry) -> int | None:
        level = self.level(entry.name)
        if level is not None:
            return level
        if any(self.level(other) is not None for other in entry.others):
            return _OTHER_FIELD
        return None

    def level(self, field: _Text) -> int | None:
        """How well the query matches one field: 0 (prefix) … 3 (initials inside), or None."""
        if self.chinese:
            if field.text.startswith(self.text):
                return _NAME_PREFIX
            return _NAME_SUBSTRING if self.text in field.text else None
        # A single letter is a prefix search only; inside a name it would match almost anything.
        starts = range(len(field.readings)) if len(self.text) > 1 else range(1)
        if _spells(field.readings, 0, self.text):
            return _NAME_PREFIX
        if any(_spells(field.readings, i, self.text) for i in starts if i):
            return _NAME_SUBSTRING
        if _initials_at(field.initials, 0, self.text):
            return _INITIALS_PREFIX
        if any(_initials_at(field.initials, i, self.text) for i in starts if i):
            return _INITIALS_SUBSTRING
        return None


def _entry(matter: Matter) -> _Entry:
    others = (*matter.keywords, matter.department, *(s.name for s in matter.situations))
    return _Entry(matter, _Text.of(matter.name), tuple(_Text.of(t) for t in others))


def _readings(text: str) -> tuple[frozenset[str], ...]:
    """Per character, the syllables a citizen might type for it.

    The phrase-aware reading (银行 → yin hang, 重庆 → chong qing) plus every heteronym of the
    character alone, so that either reading finds it; ü is offered as both v and u (lv, lu).
    Punctuation is dropped, so 换领、补领 reads straight through; Latin letters and digits
    stand for themselves.
    """
    readings: list[frozenset[str]] = []
    position = 0
    for run in _HAN.finditer(text):
        readings.extend(frozenset(c.lower()) for c in text[position:run.start()] if c.isalnum())
        in_context = lazy_pinyin(run.group(), style=Style.NORMAL)
        for char, syllable in zip(run.group(), in_context, strict=True):
            alone = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
            readings.append(frozenset(_spellings({syllable, *alone})))
        position = run.end()
    readings.extend(frozenset(c.lower()) for c in text[position:] if c.isalnum())
    return tuple(readings)


def _spellings(syllables: set[str]) -> set[str]:
    found = {s for s in syllables if s.isascii() and s.isalpha()}
    return found | {s.replace("v", "u") for s in found if "v" in s}


def _spells(readings: Sequence[frozenset[str]], start: int, query: str) -> bool:
    """Can ``query`` be typed as the syllables from character ``start`` on?

    The last syllable may be unfinished (``hujizhengm``), so the screen narrows as the
    citizen types.
    """
    if not query:
        return True
    if start >= len(readings):
        return False
    for syllable in readings[start]:
        if syllable.startswith(query):
            return True
        if query.startswith(syllable) and _spells(readings, start + 1, query[len(syllable):]):
            return True
    return False


def _initials_at(initials: Sequence[frozenset[str]], start: int, query: str) -> bool:
    if start + len(query) > len(initials):
        return False
    return all(letter in initials[start + i] for i, letter in enumerate(query))

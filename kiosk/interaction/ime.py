"""Pinyin input method for the on-screen keyboard: buffer → syllables → candidate bar.

The citizen types toneless pinyin (``zhangminghua``, ``bj``, ``xi'an``); :meth:`PinyinIME.segment`
splits it into syllables, :meth:`PinyinIME.candidates` offers words and characters for the
leading syllables, and :meth:`PinyinIME.remaining` gives the buffer left once one is chosen.
No Kivy here: the keyboard widget in screens/ owns the buffer and the bar.

A :class:`Vocabulary` puts a screen's own words before the dictionary's: the matter search
offers the catalogue's matter names and keywords first (户籍证明 for ``hjzm``, not 黄金周).

The dictionary (assets/ime/pinyin-dict.tsv.gz) is built by scripts/build_ime_dict.py from
jieba's word frequencies and pypinyin's readings; see assets/ime/README.md.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kiosk.errors import KioskError
from kiosk.paths import ASSETS

DEFAULT_DICTIONARY = ASSETS / "ime" / "pinyin-dict.tsv.gz"
MAX_SYLLABLE = 6                                  # zhuang, shuang, chuang
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_Entry = tuple[str, tuple[str, ...], int]                        # word, syllables, frequency
_Readings = tuple[frozenset[str], ...]                           # per character, its syllables
_Kind = Literal["syllable", "partial", "junk"]
_Split = tuple[tuple[int, int, int], list[tuple[int, _Kind]]]    # cost, (length, kind) pieces


class IMEDictionaryError(KioskError):
    """The pinyin dictionary is missing or unreadable (the keyboard falls back to letters)."""

    code = "ime_dictionary"


@dataclass(frozen=True)
class Candidate:
    text: str          # e.g. "张明华" or "张"
    syllables: int     # how many leading syllables of the buffer it consumes


@dataclass(frozen=True)
class _Token:
    text: str          # normalised spelling: ü as v after l/n, as u after j/q/x/y
    end: int           # index in the buffer just past this token's letters
    kind: _Kind        # partial: an initial or an unfinished syllable
    closed: bool       # followed by more input: a whole syllable must then match exactly


def _normalise(piece: str) -> str:
    """Accept the spellings citizens use for ü: jv/qv/xv/yv → ju…, lue/nue → lve/nve."""
    if len(piece) >= 2 and piece[0] in "jqxy" and piece[1] == "v":
        return piece[0] + "u" + piece[2:]
    if piece in ("lue", "nue"):
        return piece[0] + "ve"
    return piece


class PinyinIME:
    """Segmenter and candidate index over a (word, pinyin, frequency) dictionary."""

    def __init__(self, entries: Iterable[tuple[str, str, int]]) -> None:
        self._buckets, self._syllables = _index(entries)
        self._prefixes = frozenset(s[:i] for s in self._syllables for i in range(1, len(s) + 1))
        self._longest = max((len(key) for key in self._buckets), default=0)

    @classmethod
    def load(cls, path: Path | None = None) -> PinyinIME:
        path = path or DEFAULT_DICTIONARY
        try:
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                text = stream.read()
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise IMEDictionaryError(f"拼音词库无法读取：{path}",
                                     f"Cannot read the pinyin dictionary: {path} ({exc})") from exc
        return cls(_parse(text, path))

    def segment(self, buffer: str) -> list[str]:
        """Split typed pinyin into syllables; trailing initials or partial syllables are kept."""
        return [t.text for t in self._tokens(buffer)]

    def candidates(self, buffer: str, limit: int = 40,
                   first: Vocabulary | None = None) -> list[Candidate]:
        """``first``'s words, then the dictionary's: longest phrases first, then shorter ones,
        then single characters; by frequency."""
        tokens = self._usable(self._tokens(buffer))
        found = first.matches(tokens)[:limit] if first is not None else []
        offered = {c.text for c in found}
        seen: set[tuple[str, int]] = set()
        for size in range(min(len(tokens), self._longest), 0, -1):
            for word in self._matches(tokens[:size]):
                if len(found) >= limit:
                    return found
                if (word, size) not in seen and word not in offered:
                    seen.add((word, size))
                    found.append(Candidate(word, size))
        return found

    def remaining(self, buffer: str, candidate: Candidate) -> str:
        """The buffer after ``candidate`` is committed: the letters of its syllables removed."""
        tokens = self._tokens(buffer)
        used = min(max(candidate.syllables, 0), len(tokens))
        if used == 0:
            return buffer
        rest = buffer[tokens[used - 1].end:]
        # Drop the separator that closed the committed syllable (xi'an → an, not 'an).
        while rest and rest[0].translate(_UPPER) not in _LETTERS:
            rest = rest[1:]
        return rest

    def _matches(self, tokens: Sequence[_Token]) -> list[str]:
        key = "".join(t.text[0] for t in tokens)
        hits = [e for e in self._buckets.get(key, ()) if _fits(e[1], tokens)]
        # Exact syllables before prefix completions (xian: 先 现 before 想 向); stable, so
        # frequency order is kept within each group.
        hits.sort(key=lambda e: not _exact(e[1], tokens))
        return [e[0] for e in hits]

    @staticmethod
    def _usable(tokens: list[_Token]) -> list[_Token]:
        for index, token in enumerate(tokens):
            if token.kind == "junk":
                return tokens[:index]
        return tokens

    def _tokens(self, buffer: str) -> list[_Token]:
        letters = buffer.translate(_UPPER)
        tokens: list[_Token] = []
        start = 0
        while start < len(letters):
            if letters[start] not in _LETTERS:
                start += 1
                continue
            end = start
            while end < len(letters) and letters[end] in _LETTERS:
                end += 1
            tokens.extend(self._chunk(letters[start:end], start, closed=end < len(letters)))
            start = end
        return tokens

    def _chunk(self, chunk: str, offset: int, *, closed: bool) -> list[_Token]:
        """Best split of one run of letters (apostrophes are hard syllable boundaries).

        Dynamic programming from the right: fewest junk letters, then fewest unfinished
        syllables, then fewest tokens; ties go to the longer first syllable (xian, not xi an).
        Because the best split of every suffix is itself optimal, committing the first
        syllables leaves a buffer that re-segments to exactly the remaining tokens.
        """
        n = len(chunk)
        best: list[_Split] = [((0, 0, 0), [])] * (n + 1)
        for i in range(n - 1, -1, -1):
            choice: _Split | None = None
            for size in range(min(MAX_SYLLABLE, n - i), 0, -1):
                kind = self._kind(_normalise(chunk[i:i + size]), size)
                if kind is None:
                    continue
                (junk, partial, count), tail = best[i + size]
                total = (junk + (kind == "junk"), partial + (kind == "partial"), count + 1)
                if choice is None or total < choice[0]:
                    choice = (total, [(size, kind), *tail])
            assert choice is not None                 # a single letter always fits, as junk
            best[i] = choice
        tokens: list[_Token] = []
        position = 0
        for size, kind in best[0][1]:
            position += size
            tokens.append(_Token(_normalise(chunk[position - size:position]), offset + position,
                                 kind, closed=closed or position < n))
        return tokens

    def _kind(self, piece: str, size: int) -> _Kind | None:
        if piece in self._syllables:
            return "syllable"
        if piece in self._prefixes:
            return "partial"
        return "junk" if size == 1 else None


class Vocabulary:
    """Words offered before the dictionary's, with completions: typing the first syllables of
    a word (``huji``, ``hjz``) offers the whole word (户籍证明). Small and scanned whole:
    a catalogue's names and keywords, not a dictionary."""

    def __init__(self, words: Iterable[tuple[str, Sequence[Iterable[str]]]]) -> None:
        """``words``: (word, per character every toneless syllable it may be typed as, so
        长三角 is found as chang… and zhang…), best first."""
        entries: dict[str, _Readings] = {}
        for word, readings in words:
            per_char = tuple(frozenset(s for s in alternatives if s.isascii() and s.isalpha())
                             for alternatives in readings)
            if per_char and len(per_char) == len(word) and all(per_char):
                entries.setdefault(word, per_char)
        self._entries = tuple(entries.items())

    def __len__(self) -> int:
        return len(self._entries)

    def matches(self, tokens: Sequence[_Token]) -> list[Candidate]:
        """Words that use the most typed syllables first; at each length whole words before
        completions, then in the given order."""
        found: list[Candidate] = []
        offered: set[str] = set()
        for size in range(len(tokens), 0, -1):
            typed = tokens[:size]
            exact = [w for w, chars in self._entries
                     if len(chars) == size and _spelled(chars, typed)]
            longer = ([w for w, chars in self._entries
                       if len(chars) > size and _spelled(chars[:size], typed)]
                      if size == len(tokens) else [])
            for word in (*exact, *longer):
                if word not in offered:
                    offered.add(word)
                    found.append(Candidate(word, size))
        return found


def _spelled(chars: _Readings, tokens: Sequence[_Token]) -> bool:
    """Each token spells its character under one of the character's readings."""
    return all(any(_fits((syllable,), (token,)) for syllable in readings)
               for readings, token in zip(chars, tokens, strict=True))


def _fits(syllables: tuple[str, ...], tokens: Sequence[_Token]) -> bool:
    for syllable, token in zip(syllables, tokens, strict=True):
        if token.kind == "syllable" and token.closed:
            if syllable != token.text:
                return False
        elif not syllable.startswith(token.text):
            return False
    return True


def _exact(syllables: tuple[str, ...], tokens: Sequence[_Token]) -> bool:
    return all(s == t.text for s, t in zip(syllables, tokens, strict=True)
               if t.kind == "syllable")


def _index(entries: Iterable[tuple[str, str, int]]) -> tuple[dict[str, list[_Entry]],
                                                             frozenset[str]]:
    """Entries bucketed by the first letter of every syllable, most frequent first.

    So "zmh" and "zhangmh" both go straight to the three-syllable words starting z-, m-, h-.
    Returns the buckets and the set of whole syllables seen.
    """
    buckets: defaultdict[str, list[_Entry]] = defaultdict(list)
    spelled: dict[str, str] = {}
    readings: dict[str, tuple[str, ...]] = {}
    used: set[tuple[str, ...]] = set()
    for word, reading, freq in entries:
        # Homophones share one tuple and each syllable is one string object: the index keeps
        # about 32 MB instead of 50 MB for the shipped dictionary.
        parts = readings.get(reading)
        if parts is None:
            parts = tuple(spelled.setdefault(p, p) for p in reading.split())
            readings[reading] = parts
        if len(parts) != len(word) or not parts:
            continue                          # a reading must give one syllable a character
        used.add(parts)
        buckets["".join(p[0] for p in parts)].append((word, parts, freq))
    for bucket in buckets.values():
        bucket.sort(key=lambda e: (-e[2], e[0]))
    return dict(buckets), frozenset(p for parts in used for p in parts)


def _parse(text: str, path: Path) -> list[tuple[str, str, int]]:
    entries: list[tuple[str, str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            word, reading, freq = line.split("\t")
            entries.append((word, reading, int(freq)))
        except ValueError as exc:
            raise IMEDictionaryError(f"拼音词库第 {number} 行格式错误：{path}",
                                     f"Malformed line {number} in {path}") from exc
    return entries

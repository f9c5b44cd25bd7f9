"""避头尾 line breaking (kiosk/interaction/linebreak.py), English plurals and punctuation
(kiosk/interaction/i18n.py) and English division names (kiosk/interaction/place_names.py)."""

from __future__ import annotations

from collections.abc import Hashable
from itertools import pairwise
from pathlib import Path

import pytest

from kiosk.interaction.divisions import Divisions
from kiosk.interaction.i18n import Translator, fill
from kiosk.interaction.linebreak import CLOSING, OPENING, layout
from kiosk.interaction.place_names import division_name_en, pinyin, place_name_en

LOCALE = Path(__file__).resolve().parent.parent / "assets" / "locale"
REASON = "原因：须男女双方共同到婚姻登记机关办理结婚登记手续，不能代办（委托）。"


def ruler(char: str, _style: Hashable) -> float:
    """Chinese and full-width marks 2 units wide, everything else 1."""
    return 2.0 if ord(char) >= 0x2E80 else 1.0


def lines(text: str, width: float, keep_words: int = 0) -> list[str]:
    starts = layout([(c, None) for c in text], width, ruler, keep_words).starts
    cuts = [0, *starts, len(text)]
    return [text[a:b] for a, b in pairwise(cuts)]


@pytest.mark.parametrize("width", range(6, 60))   # from 3 characters: "托）。" is one unit
def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(width: int) -> None:
    for line in lines(REASON, width):
        assert line[0] not in CLOSING, (width, lines(REASON, width))
        assert line.rstrip()[-1] not in OPENING, (width, lines(REASON, width))
    assert "".join(lines(REASON, width)) == REASON          # nothing lost or added


def test_the_colon_stays_with_its_label() -> None:
    # width 5 = two and a half characters: plain filling gives "原因" ⏎ "：须…"
    assert lines(REASON, 5)[:2] == ["原", "因："]


def test_latin_words_and_numbers_break_at_spaces_only() -> None:
    text = "Collect at window 12345 or by post"
    for width in range(8, 30):              # from the longest word's width
        for line in lines(text, width):
            words = line.split()
            assert all(word in text.split() for word in words), (width, lines(text, width))


def test_a_short_word_is_kept_whole_and_reported_when_too_wide() -> None:
    result = layout([(c, None) for c in "收起键盘"], 6, ruler, keep_words=8)
    assert result.starts == () and result.too_wide == ((0, 4, 8.0),)
    assert lines("收起键盘", 6) == ["收起键", "盘"]                 # a sentence would break
    assert lines("收起键盘\nHide keyboard", 8, keep_words=8)[0].startswith("收起键盘\n")


def test_english_plurals() -> None:
    assert fill("{n} {n:copy|copies}", n=1) == "1 copy"
    assert fill("{n} {n:copy|copies}", n=2) == "2 copies"
    assert fill("{n} working {n:day|days}", n=1) == "1 working day"
    assert fill("not done ({need} {need:page|pages} needed)", need="1–2") == \
        "not done (1–2 pages needed)"


def test_the_catalog_has_no_lazy_plurals_and_counts_read_right() -> None:
    tr = Translator(LOCALE, "en")
    text = (LOCALE / "en" / "LC_MESSAGES" / "tongban.po").read_text(encoding="utf-8")
    assert "(s)" not in text and "(ies)" not in text
    assert fill(tr.tr("{n} 份"), n=1) == "1 copy"
    assert fill(tr.tr("{n} 个工作日"), n=7) == "7 working days"


def test_punctuation_follows_the_language() -> None:
    tr = Translator(LOCALE, "zh_CN")
    assert tr.punct("、").join(["电子送达", "邮寄"]) == "电子送达、邮寄"
    tr.set_language("en")
    assert tr.punct("、").join(["Electronic", "By post"]) == "Electronic, By post"
    assert "original" + tr.punct("（") + "1 copy" + tr.punct("）") == "original (1 copy)"
    assert tr.punct("：", "zh_CN") == "："


def test_region_names_in_english() -> None:
    divisions = Divisions()
    assert place_name_en(divisions.path("500103")) == "Yuzhong District, Chongqing"
    assert place_name_en(divisions.path("510802")) == "Lizhou District, Guangyuan"
    assert place_name_en(divisions.path("510800")) == "Guangyuan"
    assert place_name_en(divisions.path("610000")) == "Shaanxi"       # not pinyin's Shanxi
    assert division_name_en("苍溪县") == "Cangxi County"
    assert pinyin("长安") == "Chang'an"

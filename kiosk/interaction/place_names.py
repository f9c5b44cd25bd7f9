"""English names of Chinese administrative divisions, for the English screens.

The catalogue may carry an English name (``name_en``); where it does not, the name is spelt in
Hanyu Pinyin with its level in English ("渝中区" → "Yuzhong District"), the way road signs and
the postal service write it. A few names have an established English form that pinyin would
get wrong (陕西 is Shaanxi, 呼和浩特 is Hohhot): those are in ``ESTABLISHED``.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.interaction.divisions import Division

# Official or established forms that differ from plain pinyin of the stem.
ESTABLISHED = {
    "陕西省": "Shaanxi", "内蒙古自治区": "Inner Mongolia", "新疆维吾尔自治区": "Xinjiang",
    "广西壮族自治区": "Guangxi", "宁夏回族自治区": "Ningxia", "西藏自治区": "Xizang",
    "香港特别行政区": "Hong Kong", "澳门特别行政区": "Macao", "台湾省": "Taiwan",
    "呼和浩特市": "Hohhot", "乌鲁木齐市": "Urumqi", "拉萨市": "Lhasa",
}
# Level words, longest first; "" means the level is left unsaid (cities, provinces).
LEVELS = (("特别行政区", ""), ("自治区", ""), ("自治州", " Autonomous Prefecture"),
          ("自治县", " Autonomous County"), ("地区", " Prefecture"), ("林区", " Forestry District"),
          ("新区", " New Area"), ("省", ""), ("市", ""), ("区", " District"), ("县", " County"),
          ("旗", " Banner"), ("盟", " League"))


def pinyin(chinese: str) -> str:
    """渝中 → Yuzhong, 长安 → Chang'an (an apostrophe before a syllable starting a/o/e)."""
    from pypinyin import lazy_pinyin  # deferred: its dictionaries load in about half a second

    syllables = lazy_pinyin(chinese)
    joined = syllables[0] if syllables else ""
    for syllable in syllables[1:]:
        joined += ("'" if syllable[:1] in ("a", "o", "e") else "") + syllable
    return joined[:1].upper() + joined[1:]


def division_name_en(name: str) -> str:
    """One division's own English name: 利州区 → Lizhou District, 广元市 → Guangyuan."""
    if name in ESTABLISHED:
        return ESTABLISHED[name]
    for suffix, english in LEVELS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return pinyin(name[:-len(suffix)]) + english
    return pinyin(name)


def place_name_en(path: Sequence[Division]) -> str:
    """A place for an English reader, smallest first, province left out below the city:
    [四川省, 广元市, 利州区] → "Lizhou District, Guangyuan"; [重庆市, 渝中区] → "Yuzhong
    District, Chongqing"; [四川省] → "Sichuan"."""
    if len(path) == 3 or (len(path) == 2 and path[-1].level == "city"):
        path = path[1:]         # the city says enough; a municipality's district keeps it
    return ", ".join(division_name_en(d.name) for d in reversed(path))

"""Matter search: Chinese, pinyin initials, full pinyin; ranking; filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.catalogue import Matter, load_catalogue
from kiosk.catalogue.model import LifeEvent, ScopeKind
from kiosk.interaction.search import MatterIndex

CATALOGUE = Path(__file__).resolve().parent.parent / "config" / "catalogue.yaml"
MATTERS = load_catalogue(CATALOGUE).matters


def _codes(matters: list[Matter]) -> list[str]:
    return [m.code for m in matters]


def _made_up(code: str, name: str, **fields: object) -> Matter:
    """A shipped matter renamed, to test ranking without depending on catalogue wording."""
    return MATTERS[0].model_copy(update={"code": code, "name": name, "keywords": (),
                                         "department": "测试", "situations": (), **fields})


@pytest.fixture(scope="module")
def index() -> MatterIndex:
    return MatterIndex(MATTERS)


@pytest.mark.parametrize("query", ["hjzm", "HJZM", "hujizhengming", "hujileizhengmingkaiju",
                                   "hu ji lei", "huji'lei", "户籍类", "户籍类证明开具"])
def test_household_certificate_comes_first(index: MatterIndex, query: str) -> None:
    assert index.search(query)[0].code == "GA-HJZM-001"


def test_unfinished_last_syllable_still_matches(index: MatterIndex) -> None:
    assert index.search("hujizhengm")[0].code == "GA-HJZM-001"
    assert index.search("shehuibaozhangk")[0].code == "RS-SBK-010"


@pytest.mark.parametrize(("query", "code"), [
    ("良民证", "GA-WFZM-002"), ("lmz", "GA-WFZM-002"), ("liangminzheng", "GA-WFZM-002"),
    ("残联", "CL-CJRZ-019"), ("gjj", "GJJ-TQ-012"), ("sbk", "RS-SBK-010"),
    ("buling", "GA-SFZ-005"),        # through the 、 in 换领、补领
])
def test_keywords_departments_and_punctuation(index: MatterIndex, query: str, code: str) -> None:
    assert code in _codes(index.search(query))


def test_nothing_matches_nonsense(index: MatterIndex) -> None:
    assert index.search("xyzzyq") == []
    assert index.search("量子力学") == []


def test_empty_query_returns_everything_in_catalogue_order(index: MatterIndex) -> None:
    assert _codes(index.search()) == _codes(list(MATTERS))
    assert _codes(index.search("  ' ")) == _codes(list(MATTERS))


def test_rank_prefix_then_substring_then_initials_then_other_fields() -> None:
    matters = [
        _made_up("K", "其他事项", keywords=("证明材料",)),          # keyword only
        _made_up("S", "无犯罪记录证明"),                             # name substring
        _made_up("P", "证明开具"),                                   # name prefix
        _made_up("I", "正在办理中"),                                 # initials z-z-b: no
    ]
    index = MatterIndex(matters)
    assert _codes(index.search("证明")) == ["P", "S", "K"]
    assert _codes(index.search("zhengming")) == ["P", "S", "K"]
    # Initials: prefix of 证明开具 (rank 2) before inside 无犯罪记录证明 (rank 3).
    assert _codes(index.search("zm")) == ["P", "S", "K"]
    assert _codes(index.search("zzb")) == ["I"]


def test_syllables_and_initials_must_line_up() -> None:
    index = MatterIndex([_made_up("A", "户口证明"), _made_up("B", "户籍证明")])
    assert _codes(index.search("hukou")) == ["A"]
    assert _codes(index.search("hz")) == []           # initials are h-k-z-m, h-j-z-m
    assert _codes(index.search("hjzm")) == ["B"]


def test_same_rank_keeps_catalogue_order() -> None:
    names = ["申领社会保障卡", "申领居住证", "申领营业执照"]
    index = MatterIndex([_made_up(str(i), n) for i, n in enumerate(names)])
    assert _codes(index.search("shenling")) == ["0", "1", "2"]
    assert _codes(index.search("sl")) == ["0", "1", "2"]
    reversed_index = MatterIndex([_made_up(str(i), n) for i, n in enumerate(reversed(names))])
    assert _codes(reversed_index.search("sl")) == ["0", "1", "2"]


@pytest.mark.parametrize("query", ["yhk", "yinhang", "yinhangka", "yxk", "yinxing"])
def test_either_reading_of_a_heteronym_matches(query: str) -> None:
    # 行 reads hang in 银行 (the phrase) and xing alone; a citizen may type either.
    index = MatterIndex([_made_up("B", "银行卡挂失")])
    assert _codes(index.search(query)) == ["B"]


@pytest.mark.parametrize("query", ["cq", "chongqing", "zq", "zhongqing"])
def test_chongqing_by_either_reading(query: str) -> None:
    index = MatterIndex([_made_up("C", "重庆市就医备案")])
    assert _codes(index.search(query)) == ["C"]


def test_u_umlaut_as_v_or_u() -> None:
    index = MatterIndex([_made_up("L", "旅游证件"), _made_up("X", "居住证")])
    assert _codes(index.search("lvyou")) == ["L"]
    assert _codes(index.search("luyou")) == ["L"]
    assert _codes(index.search("juzhu")) == ["X"]


def test_single_letter_searches_by_prefix_only() -> None:
    index = MatterIndex([_made_up("A", "户籍证明"), _made_up("B", "开具户籍")])
    assert _codes(index.search("h")) == ["A"]
    assert _codes(index.search("k")) == ["B"]


def test_filters(index: MatterIndex) -> None:
    regional = index.search(scope=ScopeKind.REGIONAL)
    assert regional and all(m.scope.kind is ScopeKind.REGIONAL for m in regional)
    police = index.search(department="公安")
    assert _codes(police) == [m.code for m in MATTERS if m.department == "公安"]
    housing = index.search(life_event="住房置业")
    assert "ZR-BDC-018" in _codes(housing)
    assert all(LifeEvent.HOUSING in m.life_events for m in housing)
    # Names first; 户籍类证明 only through its situation 其他户籍类证明（…户口迁移记录等）.
    assert _codes(index.search("迁移", department="公安")) == [
        "GA-HKQY-003", "GA-HKQY-004", "GA-HJZM-001"]
    assert index.search("gjj", department="公安") == []
    assert index.search(department="不存在的部门") == []


def test_departments_unique_in_catalogue_order(index: MatterIndex) -> None:
    departments = index.departments()
    assert departments[0] == MATTERS[0].department
    assert len(departments) == len(set(departments)) == len({m.department for m in MATTERS})
    first_seen = [m.department for m in MATTERS]
    assert departments == sorted(departments, key=first_seen.index)


def test_life_events_in_vocabulary_order_and_only_those_used() -> None:
    index = MatterIndex([_made_up("A", "甲", life_events=(LifeEvent.HOUSING, LifeEvent.MOVING)),
                         _made_up("B", "乙", life_events=(LifeEvent.MOVING,))])
    assert index.life_events() == ["户籍迁移", "住房置业"]


def test_every_shipped_matter_has_a_life_event(index: MatterIndex) -> None:
    assert all(m.life_events for m in MATTERS)
    assert len(index.life_events()) >= 6
    assert set(index.life_events()) <= set(LifeEvent)


def test_vocabulary_is_the_catalogues_names_and_keywords_with_readings(
        index: MatterIndex) -> None:
    words = dict(index.vocabulary())
    assert all(s in r for s, r in zip(("hu", "ji", "zheng", "ming"), words["户籍证明"],
                                      strict=True))
    assert "户籍类证明开具" in words                                     # a name
    assert "补领" in words and "异地受理" in words    # 居民身份证换领、补领（异地受理）, split
    assert {"chang", "zhang"} <= words["长三角户籍证明"][0]             # either reading
    assert all(len(word) >= 2 and len(readings) == len(word)
               for word, readings in words.items())
    assert next(iter(words)) == MATTERS[0].name                          # catalogue order

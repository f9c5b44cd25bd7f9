"""The card's 住址 to a county code: walked down the division tree, never guessed silently."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.interaction.divisions import Divisions
from kiosk.routing.address import MAX_ADDRESS_CHARS, AddressResolver, AddressUnreadable

RESOLVER = AddressResolver(Divisions())


@pytest.fixture()
def resolver() -> AddressResolver:
    return RESOLVER


@pytest.mark.parametrize(("text", "code"), [
    ("四川省广元市利州区东坝街道示例路1号", "510802"),
    ("北京市东城区示例胡同8号", "110101"),               # a municipality: no city level
    ("重庆市万州区示例路3号", "500101"),
    ("内蒙古自治区呼和浩特市新城区示例街1号", "150102"),
    ("新疆维吾尔自治区乌鲁木齐市天山区示例路", "650102"),
    ("四川省凉山彝族自治州西昌市示例镇", "513401"),
    ("四川省凉山州西昌市示例镇", "513401"),                 # the name people write
    ("贵州黔东南州凯里市示例村", "522601"),                 # both levels shortened
    ("广东省东莞市虎门镇示例村", "441900"),                 # a city with no counties
    ("吉林市船营区示例街", "220204"),                      # province left out, city unique
    ("山东省济南市市中区示例路", "370103"),                 # 市中区: one of four, by its city
])
def test_a_spelt_out_address_resolves_to_its_county(resolver: AddressResolver, text: str,
                                                    code: str) -> None:
    match = resolver.resolve(text)
    assert match.code == code and match.complete, [d.name for d in match.path]


def test_a_street_named_like_a_district_is_not_the_district(resolver: AddressResolver) -> None:
    """宣武区 is gone (merged into 西城区): the text then says 朝阳门, which is a street."""
    match = resolver.resolve("北京市宣武区朝阳门内大街1号")
    assert match.code == "110000" and not match.complete


@pytest.mark.parametrize(("text", "guess"), [
    ("湖北省襄樊市樊城区示例路", "420606"),     # 襄樊 renamed 襄阳 in 2010: the county still fits
    ("四川省利州区示例路", "510802"),           # the city left out
])
def test_an_inferred_level_is_a_guess_the_applicant_confirms(resolver: AddressResolver,
                                                            text: str, guess: str) -> None:
    match = resolver.resolve(text)
    assert match.code == guess and not match.complete


def test_a_renamed_county_stops_at_its_city(resolver: AddressResolver) -> None:
    match = resolver.resolve("四川省广元市市中区示例路")      # 市中区 became 利州区 in 2007
    assert match.code == "510800" and not match.complete


def test_a_district_name_found_in_two_places_is_asked(resolver: AddressResolver) -> None:
    match = resolver.resolve("朝阳区示例路1号")
    assert match.code is None and not match.complete
    assert {d.code for d in match.candidates} == {"110105", "220104"}


def test_full_width_and_spaces_do_not_matter(resolver: AddressResolver) -> None:
    assert resolver.resolve("四川省 广元市　利州区１号").code == "510802"


@pytest.mark.parametrize("text", ["", "示例路1号", "Room 5, 10 Queen's Road", "123456"])
def test_no_place_name_resolves_to_nothing(resolver: AddressResolver, text: str) -> None:
    match = resolver.resolve(text)
    assert match.path == () and not match.complete


def test_what_is_no_address_is_refused_bilingually(resolver: AddressResolver) -> None:
    for bad in ("省" * (MAX_ADDRESS_CHARS + 1), None, b"\xe5\x9b\x9b"):
        with pytest.raises(AddressUnreadable) as info:
            resolver.resolve(bad)  # type: ignore[arg-type]
        assert info.value.zh and info.value.en


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("四川省广元市利州区北京东城朝阳自治州县旗盟地")
                                        + list("路号1 \u3000\x00")), max_size=60))
def test_any_text_of_place_name_pieces_resolves_without_error(text: str) -> None:
    match = RESOLVER.resolve(text)
    assert match.complete is False or match.code is not None

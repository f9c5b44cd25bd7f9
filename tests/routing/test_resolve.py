"""Per-application resolution of the handling parties (issue 23) against the demo's routes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.identity import Identity
from drivers.identity.emulated import load_identities
from kiosk.catalogue import load_catalogue
from kiosk.catalogue.model import HandlingRule, Matter
from kiosk.paths import DEFAULT_CATALOGUE, DEMO_SETTINGS, REPO
from kiosk.routing.fallback import fallback_chain
from kiosk.routing.lookup import RegionUnavailable
from kiosk.routing.resolve import (
    BadRegionChoice,
    HandlingResolver,
    HandlingUnavailable,
    RegionNotChosen,
    recipients,
)
from kiosk.routing.settings_directory import SettingsDirectory
from kiosk.settings import load_settings
from kiosk.transfer.routing import Routing

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
IDS = load_identities(REPO / "assets" / "demo" / "identities.toml")
CATALOGUE = load_catalogue(DEFAULT_CATALOGUE)
HALL = "510802"


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory) -> HandlingResolver:
    settings = load_settings(DEMO_SETTINGS)
    routing = Routing(settings.transfer, Path(tmp_path_factory.mktemp("data")))
    return HandlingResolver(SettingsDirectory(routing, settings.transfer), HALL)


def matter(code: str) -> Matter:
    return CATALOGUE.matter(code)


def at_address(address: str, key: str = "resident") -> Identity:
    return dataclasses.replace(IDS[key], address=address)


def test_fixed_is_the_named_region_and_department(resolver: HandlingResolver) -> None:
    [party] = resolver.resolve(matter("SF-GZ-017"), IDS["resident_cangxi"], {}, AT)
    assert (party.rule, party.region, party.department) == (
        HandlingRule.FIXED, "110101", "北京市长安公证处")


def test_household_is_the_card_address_not_the_id_number(resolver: HandlingResolver) -> None:
    ident = IDS["resident_neimenggu"]
    [party] = resolver.resolve(matter("GA-HJZM-001"), ident, {}, AT)
    assert party.region == "150102" and party.route.fallback == "own"
    assert party.department == "内蒙古自治区呼和浩特市新城区公安机关（户籍派出所）"
    # born (first registered) in 广元, 户籍 now in 重庆: the address decides
    moved = IDS["resident_chongqing"]
    assert moved.id_number.startswith("510802")
    [party] = resolver.resolve(matter("GA-HJZM-001"), moved, {}, AT)
    assert party.region == "500104"


def test_household_falls_back_to_the_province_route(resolver: HandlingResolver) -> None:
    [party] = resolver.resolve(matter("GA-HJZM-001"), IDS["resident_chongqing"], {}, AT)
    assert (party.region, party.route.served_by, party.route.fallback) == (
        "500104", "500000", "province")
    assert party.region_name == "重庆市大渡口区"
    assert party.key_id == party.route.key_id and len(party.key_id) == 16


def test_city_fallback_before_the_province(resolver: HandlingResolver) -> None:
    [party] = resolver.resolve(matter("ZR-BDC-018"), IDS["resident"], {"handling": "510811"}, AT)
    assert (party.route.served_by, party.route.fallback) == ("510800", "city")
    assert fallback_chain("110101") == [("own", "110101"), ("city", "110100"),
                                        ("province", "110000")]
    assert fallback_chain("500104") == [("own", "500104"), ("city", "500100"),
                                        ("province", "500000")]


def test_insured_defaults_to_the_household_county_and_can_be_chosen(
        resolver: HandlingResolver) -> None:
    [proposal] = resolver.propose(matter("YB-YDJY-011"), IDS["resident_neimenggu"])
    assert proposal.region == "150102" and proposal.asked and not proposal.needs_choice
    [party] = resolver.resolve(matter("YB-YDJY-011"), IDS["resident_neimenggu"],
                               {"handling": "500103"}, AT)
    assert party.region == "500103" and party.department == "重庆市渝中区医疗保障局"


def test_property_must_be_chosen(resolver: HandlingResolver) -> None:
    [proposal] = resolver.propose(matter("ZR-BDC-018"), IDS["resident"])
    assert proposal.region is None and proposal.needs_choice
    with pytest.raises(RegionNotChosen) as info:
        resolver.resolve(matter("ZR-BDC-018"), IDS["resident"], {}, AT)
    assert "不动产所在地" in info.value.zh and "property" in info.value.en
    [party] = resolver.resolve(matter("ZR-BDC-018"), IDS["resident"], {"handling": "510824"}, AT)
    assert party.region == "510824" and party.route.fallback == "own"


def test_destination_defaults_to_this_hall(resolver: HandlingResolver) -> None:
    [party] = resolver.resolve(matter("SC-GTDJ-015"), IDS["resident"], {}, AT)
    assert party.region == HALL and party.rule is HandlingRule.DESTINATION


def test_joint_matter_resolves_two_parties_and_seals_to_both(resolver: HandlingResolver) -> None:
    parties = resolver.resolve(matter("GA-HKQY-003"), IDS["resident_neimenggu"], {}, AT)
    assert [(p.role, p.region) for p in parties] == [("move_out", "150102"),
                                                     ("move_in", HALL)]
    assert [p.label for p in parties] == ["迁出地", "迁入地"]
    assert [r.region for r in recipients(parties)] == ["150102", HALL]


def test_two_parties_on_one_route_are_sealed_once(resolver: HandlingResolver) -> None:
    parties = resolver.resolve(matter("GA-HKQY-003"), IDS["resident_chongqing"],
                               {"move_in": "500106"}, AT)
    assert [p.route.served_by for p in parties] == ["500000", "500000"]
    assert [r.region for r in recipients(parties)] == ["500000"]


@pytest.mark.parametrize("address", ["示例路8号", "", "火星殖民地一号"])
def test_unresolvable_address_asks_the_applicant(resolver: HandlingResolver,
                                                  address: str) -> None:
    ident = at_address(address)
    [proposal] = resolver.propose(matter("GA-HJZM-001"), ident)
    assert proposal.needs_choice and proposal.region is None
    with pytest.raises(RegionNotChosen):
        resolver.resolve(matter("GA-HJZM-001"), ident, {}, AT)
    [party] = resolver.resolve(matter("GA-HJZM-001"), ident, {"handling": "110101"}, AT)
    assert party.region == "110101"


def test_a_guess_is_proposed_but_never_taken_silently(resolver: HandlingResolver) -> None:
    ident = IDS["resident_old_address"]          # 襄樊市 (now 襄阳市) 樊城区
    [proposal] = resolver.propose(matter("GA-HJZM-001"), ident)
    assert (proposal.region, proposal.guessed, proposal.needs_choice) == ("420606", True, True)
    with pytest.raises(RegionNotChosen):
        resolver.resolve(matter("GA-HJZM-001"), ident, {}, AT)


def test_foreigner_card_without_address_asks(resolver: HandlingResolver) -> None:
    [proposal] = resolver.propose(matter("GA-HJZM-001"), IDS["foreigner"])
    assert proposal.needs_choice


def test_region_without_route_makes_the_matter_unavailable(resolver: HandlingResolver) -> None:
    with pytest.raises(HandlingUnavailable) as info:
        resolver.resolve(matter("GA-HJZM-001"), IDS["resident_guangdong"], {}, AT)
    err = info.value
    assert (err.code, err.reason, err.region, err.phone) == (
        "region_unavailable", "no_route", "440305", "12345")
    assert "广东省深圳市南山区" in err.zh and "12345" in err.zh
    assert "no route" in err.en and "12345" in err.en


@pytest.mark.parametrize(("choices", "word"), [
    ({"nobody": "110101"}, "nobody"),            # no such party
    ({"handling": "510800"}, "510800"),          # a city, not a county
    ({"handling": "999999"}, "999999"),          # no such division
    ({"handling": "../etc"}, "../etc"),          # not a code at all
    ({"handling": "５１０８０２"}, "５１０８０２"),    # full-width digits are not a code
])
def test_bad_choices_are_refused_in_both_languages(resolver: HandlingResolver,
                                                   choices: dict[str, str], word: str) -> None:
    with pytest.raises(BadRegionChoice) as info:
        resolver.resolve(matter("ZR-BDC-018"), IDS["resident"], choices, AT)
    assert word in info.value.zh and word in info.value.en


def test_a_fixed_party_cannot_be_chosen(resolver: HandlingResolver) -> None:
    with pytest.raises(BadRegionChoice):
        resolver.resolve(matter("SF-GZ-017"), IDS["resident"], {"handling": "510802"}, AT)


class _RevokedDirectory:
    """A directory whose answer for every region is a revoked key, with the region's phone."""

    def lookup(self, region: str, category: str, at: datetime) -> RegionUnavailable:
        return RegionUnavailable(region, "revoked", "该地区的接收密钥已被吊销",
                                 "the region's receiving key is revoked", "0839-1234567")


def test_a_revoked_key_makes_the_matter_unavailable_with_the_directory_phone() -> None:
    resolver = HandlingResolver(_RevokedDirectory(), HALL)
    with pytest.raises(HandlingUnavailable) as info:
        resolver.resolve(matter("GA-HJZM-001"), IDS["resident_cangxi"], {}, AT)
    err = info.value
    assert (err.reason, err.phone) == ("revoked", "0839-1234567")
    assert "吊销" in err.zh and "0839-1234567" in err.zh
    assert "revoked" in err.en and "Cangxi" in err.en


def test_a_county_placed_by_inference_is_still_asked(
        resolver: HandlingResolver) -> None:
    """四川省苍溪县… skips the city: one county fits, proposed, but the applicant confirms."""
    ident = at_address("四川省苍溪县陵江镇示例路7号")
    [proposal] = resolver.propose(matter("GA-HJZM-001"), ident)
    assert (proposal.region, proposal.needs_choice) == ("510824", True)

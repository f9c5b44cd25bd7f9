"""The handling-region step after the card (issue 23), with simulated touches: one tap when
the proposal is right, the picker when it is not or when the applicant chooses, a guess from an
old address asked, a region without a route refused with the reason, phone and guide slip."""

from __future__ import annotations

import pytest
from test_journey import shot, start_matter
from ui_harness import Harness


def read_card(h: Harness, card: str) -> None:
    h.tap("next")
    h.wait_screen("identify")
    h.kiosk.identity.present(card)
    h.wait(lambda: h.has("next"), "the card to be read")
    h.tap("next")


def pick(h: Harness, *codes: str) -> None:
    """Tap each division, turning the picker's pages (更多) until it shows."""
    for code in codes:
        for _ in range(6):
            if h.has(f"region_{code}"):
                break
            h.tap("region_more")
        h.tap(f"region_{code}")


def test_the_household_region_read_to_its_county_needs_no_step(harness: Harness) -> None:
    h = harness
    start_matter(h)                                   # 户籍类证明开具, 北京市东城区 card
    read_card(h, "resident")
    h.wait_screen("capture")
    assert [p.region for p in h.journey.session.parties] == ["110101"]


def test_joint_matter_two_parties_one_tap(harness: Harness) -> None:
    h = harness
    start_matter(h, "GA-HKQY-003", "fqtk")
    text = h.text_on_screen()
    assert "由您迁出地的公安机关" in text and "重庆市渝中区" not in text   # the rule, no district
    read_card(h, "resident_neimenggu")
    h.wait_screen("region")
    shot(h, "region-joint")
    text = h.text_on_screen()
    assert "内蒙古自治区呼和浩特市新城区" in text and "四川省广元市利州区" in text
    h.tap("region_confirm")                           # the one tap
    h.wait_screen("capture")
    parties = h.journey.session.parties
    assert [(p.role, p.region) for p in parties] == [("move_out", "150102"),
                                                     ("move_in", "510802")]


def test_property_is_picked_province_city_county(harness: Harness) -> None:
    h = harness
    start_matter(h, "ZR-BDC-018", "bdc")
    read_card(h, "resident")
    h.wait_screen("region")
    assert not h.find("region_confirm").enabled       # nothing chosen yet
    h.tap("region_change_handling")
    shot(h, "region-picker-provinces")
    pick(h, "510000", "510800")
    shot(h, "region-picker-counties")
    pick(h, "510824")
    shot(h, "region-property-chosen")
    assert "四川省广元市苍溪县" in h.text_on_screen()
    h.tap("region_confirm")
    h.wait_screen("capture")
    assert [p.region for p in h.journey.session.parties] == ["510824"]


def test_an_old_address_is_asked_not_guessed(harness: Harness) -> None:
    h = harness
    start_matter(h)
    read_card(h, "resident_old_address")              # 湖北省襄樊市樊城区 (襄阳 since 2010)
    h.wait_screen("region")
    shot(h, "region-guess")
    assert "请核对" in h.text_on_screen() and "湖北省襄阳市樊城区" in h.text_on_screen()
    assert h.journey.session.parties == ()            # nothing taken before the tap
    h.tap("region_confirm")                           # it is right: one tap
    # confirmed, and looked up: 420606 has no route in the demo, so it says so
    h.wait(lambda: "12345" in h.text_on_screen(), "the region's phone")
    assert h.has("region_slip") and h.journey.session.pages == {}


def test_no_route_makes_the_matter_unavailable_with_phone_and_slip(harness: Harness) -> None:
    h = harness
    start_matter(h)
    read_card(h, "resident_guangdong")                # 广东省深圳市南山区: no route here
    h.wait_screen("region")
    shot(h, "region-unavailable")
    text = h.text_on_screen()
    assert "广东省深圳市南山区" in text and "12345" in text
    printed = len(h.kiosk.printer.printed) if hasattr(h.kiosk.printer, "printed") else None
    h.tap("region_slip")
    h.wait(lambda: h.nav.dialog is not None, "the slip printed")
    shot(h, "region-slip-printed")
    if printed is not None:
        assert len(h.kiosk.printer.printed) > printed
    assert h.journey.session.pages == {}


@pytest.mark.kiosk(language="en")
def test_the_step_in_english(harness: Harness) -> None:
    h = harness
    start_matter(h, "YB-YDJY-011", "ydjy")
    read_card(h, "resident_neimenggu")
    h.wait_screen("region")
    shot(h, "region-english")
    text = h.text_on_screen()
    assert "Place insured" in text and "Hohhot" in text
    h.tap("region_change_handling")
    pick(h, "500000", "500103")
    h.tap("region_confirm")
    h.wait_screen("capture")
    assert [p.region for p in h.journey.session.parties] == ["500103"]

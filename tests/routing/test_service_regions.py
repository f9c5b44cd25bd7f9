"""The service settles the applicant's handling regions after the card and before any
document: a region with no route stops the matter there (issue 23)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.bootstrap import build_kiosk
from kiosk.demo.hand import DemoHand
from kiosk.paths import DEMO_SETTINGS
from kiosk.routing.resolve import HandlingUnavailable, RegionNotChosen
from kiosk.service import KioskService
from kiosk.session import Session
from kiosk.settings import load_settings


class Noon(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return datetime(2025, 3, 4, 12, 0, tzinfo=tz)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[KioskService, DemoHand]]:
    kiosk = build_kiosk(load_settings(DEMO_SETTINGS).with_data_dir(tmp_path / "data"))
    kiosk.open(Noon.now())
    try:
        yield KioskService(kiosk, Noon), DemoHand.reach(kiosk.identity, kiosk.camera,
                                                        kiosk.printer)
    finally:
        kiosk.close()


def identified(service: KioskService, hand: DemoHand, matter: str, card: str) -> Session:
    session = service.start_session()
    service.choose(session, service.matter(matter))
    session.start_identify()
    hand.present_card(card)
    service.identify(session)
    return session


def first_material(session: Session) -> str:
    assert session.situation is not None
    return session.situation.materials[0].options[0].id


def test_the_card_settles_the_household_region_at_once(
        service: tuple[KioskService, DemoHand]) -> None:
    svc, hand = service
    session = identified(svc, hand, "GA-HJZM-001", "resident_neimenggu")
    assert [p.region for p in session.parties] == ["150102"]


def test_no_route_stops_the_matter_before_any_document(
        service: tuple[KioskService, DemoHand]) -> None:
    svc, hand = service
    session = identified(svc, hand, "GA-HJZM-001", "resident_guangdong")
    assert session.parties == ()
    hand.place("anything", 1)
    with pytest.raises(HandlingUnavailable) as info:
        svc.capture(session, first_material(session))
    assert info.value.phone == "12345" and session.pages == {}
    png = svc.referral_slip(session.matter, info.value)     # the guide slip, printed
    assert png.startswith(b"\x89PNG")


def test_a_party_to_choose_is_asked_before_any_document(
        service: tuple[KioskService, DemoHand]) -> None:
    svc, hand = service
    session = identified(svc, hand, "ZR-BDC-018", "resident")
    with pytest.raises(RegionNotChosen):
        svc.capture(session, first_material(session))
    [proposal] = svc.handling_proposal(session)
    assert proposal.needs_choice
    [party] = svc.settle_handling(session, {"handling": "510824"})
    assert party.region == "510824" and session.parties == (party,)


def test_the_region_cannot_change_once_documents_are_taken(
        service: tuple[KioskService, DemoHand]) -> None:
    svc, hand = service
    session = identified(svc, hand, "GA-HJZM-001", "resident")
    hand.place("居民户口簿", 1)
    svc.capture(session, first_material(session))
    with pytest.raises(Exception, match="no longer change"):
        svc.settle_handling(session, {"handling": "510824"})

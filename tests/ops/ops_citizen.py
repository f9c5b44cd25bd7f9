"""The scripted citizen of the ops tests: a confirmed application on the service alone."""

from __future__ import annotations

from kiosk.catalogue.model import DeliveryOption, Necessity
from kiosk.demo.hand import DemoHand
from kiosk.service import KioskService
from kiosk.session import Contact, Session

MATTER = "GA-HJZM-001"


def confirmed_session(service: KioskService, hand: DemoHand) -> Session:
    session = service.start_session()
    service.choose(session, service.matter(MATTER))
    session.start_identify()
    hand.present_card("resident")
    service.identify(session)
    assert session.situation is not None
    for req in session.situation.materials:
        if req.necessity is not Necessity.REQUIRED:
            continue
        material = req.options[0]
        for page in range(1, max(1, material.pages.min) + 1):
            hand.place(material.name, page)
            service.capture(session, material.id)
        hand.clear_plate()
    assert session.review().accepted
    assert session.identity is not None
    session.confirm(DeliveryOption.PICKUP, Contact("13800138000", session.identity.address,
                                                   "100010"))
    return session

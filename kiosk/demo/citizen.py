"""A scripted citizen session on emulated devices, start to finish, with no screen.

This is the demo's and the acceptance tests' citizen: it places a card, lays each material
on the camera, answers the kiosk, and writes what the citizen would take home.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from drivers.identity import Identity
from drivers.status import PaperLevel
from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.catalogue.model import (
    AlternativeGroup,
    DeliveryOption,
    Matter,
    Necessity,
    SingleRequirement,
    Situation,
)
from kiosk.demo.hand import DemoHand
from kiosk.errors import BilingualError
from kiosk.fsutil import owner_only_dir, private_file
from kiosk.privacy import RedactingFilter
from kiosk.routing.resolve import HandlingUnavailable, ResolvedParty
from kiosk.service import KioskService
from kiosk.session import Contact, Rating, Session
from kiosk.settings import Settings

log = logging.getLogger(__name__)
DEMO_PHONE = "13800138000"


class Scenario(StrEnum):
    COMPLETE = "complete"
    MISSING = "missing"
    EXPIRED_ID = "expired-id"
    PAPER_OUT = "paper-out"
    ASSISTED = "assisted"          # a guide steps in (kiosk/demo/assisted.py)


@dataclass
class Outcome:
    matter: str
    scenario: str
    outcome: str = ""
    case_number: str | None = None
    package_id: str | None = None
    delivered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reason: dict[str, str] | None = None
    staff: str | None = None       # assisted: the staff id (never the name: this is printed)
    parties: list[dict[str, str]] = field(default_factory=list)   # where it went (issue 23)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def skipped_for_missing(situation: Situation) -> set[str]:
    """The 'missing' scenario leaves out two required single materials and one required
    either/or group (all of its options), so the notice must list three items."""
    singles = [r.id for r in situation.materials
               if isinstance(r, SingleRequirement) and r.necessity is Necessity.REQUIRED]
    groups = [r.id for r in situation.materials
              if isinstance(r, AlternativeGroup) and r.necessity is Necessity.REQUIRED]
    return set(singles[:2] + groups[:1])


@contextmanager
def demo_logging(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(private_file(path), encoding="utf-8")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    logging.getLogger("fontTools").setLevel(logging.WARNING)   # fpdf2 subsetting chatter
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()


@dataclass(frozen=True)
class Applicant:
    """Who the scripted citizen is: a card (a key of the demo identities, or one read from
    ``--identity FILE``) and their answers to the region step (``--choose ROLE=CODE``)."""

    card: str | Identity = "resident"
    choices: dict[str, str] = field(default_factory=dict)


def run(settings: Settings, matter_code: str, situation: str | None, scenario: Scenario,
        out: Path, applicant: Applicant | None = None) -> Outcome:
    with demo_kiosk(settings, out) as kiosk:
        return _run(kiosk, matter_code, situation, scenario, out, applicant or Applicant())


@contextmanager
def demo_kiosk(settings: Settings, out: Path) -> Iterator[Kiosk]:
    """A demo run's kiosk, logging to its own file, closed at the end."""
    out.mkdir(parents=True, exist_ok=True)
    # the kiosk's own data apart from the demo's artefacts (receipt images, printed paper),
    # which carry the applicant's name as paper does: out/data must hold none of it
    settings = settings.with_data_dir(out / "data")
    owner_only_dir(settings.paths.data_dir)
    with demo_logging(settings.paths.data_dir / "kiosk.log"):
        kiosk = build_kiosk(settings)
        try:
            yield kiosk
        finally:
            kiosk.close()


def _run(kiosk: Kiosk, code: str, situation: str | None, scenario: Scenario,
         out: Path, applicant: Applicant) -> Outcome:
    service = KioskService(kiosk)
    result = Outcome(code, scenario.value)
    matter = service.matter(code)
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer,
                          kiosk.face_camera)
    kiosk.open(service.now())
    if scenario is Scenario.PAPER_OUT:
        hand.set_paper(PaperLevel.OUT)
    session = service.start_session()
    try:
        service.choose(session, matter, situation)
        session.start_identify()
        hand.present_card("resident_expired" if scenario is Scenario.EXPIRED_ID
                          else applicant.card)
        service.identify(session)
        parties = _settle(service, session, applicant.choices)
        result.parties = [p.explain() for p in parties]
        _capture_all(service, hand, session, scenario)
        checked = session.review()
        if checked.accepted:
            accept(service, session, matter, result, out)
        else:
            notified = service.notify(session)
            (out / "notice.png").write_bytes(notified.notice_png)
            (out / "notice.pdf").write_bytes(notified.notice_pdf)
            result.outcome, result.case_number = "correction_notice", notified.number
            result.missing = [p.zh for p in checked.problems]
        session.rate(Rating.VERY_SATISFIED)
        session.finish()
    except BilingualError as exc:
        result.outcome, result.reason = exc.code, exc.as_dict()
        session.cancel()
        if exc.code == "not_at_kiosk":
            (out / "guide-slip.png").write_bytes(service.referral_slip(matter))
        if isinstance(exc, HandlingUnavailable):     # before any document was taken
            (out / "guide-slip.png").write_bytes(service.referral_slip(matter, exc))
    return result


def _settle(service: KioskService, session: Session,
            choices: dict[str, str]) -> tuple[ResolvedParty, ...]:
    """The region step: the citizen's choices; for a party still open, this hall's county
    (the scripted citizen answers the kiosk as they sign a 容缺 commitment). A guess from an
    unreadable address is confirmed the same way — on purpose, and said in the outcome."""
    answers = dict(choices)
    home = service.this_kiosk.region_code
    for proposal in service.handling_proposal(session):
        role = proposal.party.role
        if proposal.needs_choice and role not in answers:
            answers[role] = proposal.region or home
    return service.settle_handling(session, answers)


def _capture_all(service: KioskService, hand: DemoHand, session: Session,
                 scenario: Scenario) -> None:
    assert session.situation is not None
    skip = skipped_for_missing(session.situation) if scenario is Scenario.MISSING else set()
    for req in session.situation.materials:
        if req.id in skip or req.necessity is Necessity.OPTIONAL:
            continue
        if req.necessity is Necessity.DEFERRABLE:
            session.commit_deferral(req.id)     # the demo citizen signs the 容缺 commitment
            continue
        material = req.options[0]
        for page in range(1, max(1, material.pages.min) + 1):
            hand.place(material.name, page)
            service.capture(session, material.id)
        hand.clear_plate()


def accept(service: KioskService, session: Session, matter: Matter, result: Outcome,
            out: Path) -> None:
    assert session.identity is not None
    delivery = (DeliveryOption.POST if DeliveryOption.POST in matter.delivery_options
                else matter.delivery_options[0])
    session.confirm(delivery, Contact(DEMO_PHONE, session.identity.address, "100010"))
    submitted = service.submit(session)
    (out / "receipt.png").write_bytes(submitted.receipt_png)
    (out / "receipt.pdf").write_bytes(submitted.receipt_pdf)
    (out / "receipt.bin").write_bytes(submitted.receipt_escpos)   # the exact bytes sent
    result.outcome, result.case_number = "accepted", submitted.case_number
    result.package_id = submitted.package_id
    result.delivered = service.deliver()

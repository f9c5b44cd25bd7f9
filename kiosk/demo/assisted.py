"""`kiosk demo --scenario assisted`: a citizen's session in which a hall guide signs in
mid-session, checks the originals (原件核验), approves one 容缺 item, and signs out; the
citizen commits to supply the item and gets a receipt naming the guide.

The demo has no fleet bundle: it signs in the demo staff member of kiosk/staff/demo.py (the
same roster and public demo key as staff mode in ``kiosk demo`` on screen).
Every staff action goes through :meth:`StaffSession.perform`, so the audit chain in
``<out>/data/staff/`` verifies afterwards (``kiosk audit verify --data-dir <out>/data``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kiosk.assist import AssistKind
from kiosk.bootstrap import Kiosk
from kiosk.catalogue.model import Catalogue, Necessity
from kiosk.demo.citizen import Outcome, Scenario, accept, demo_kiosk
from kiosk.demo.hand import DemoHand
from kiosk.errors import BilingualError
from kiosk.fsutil import owner_only_dir
from kiosk.service import KioskService
from kiosk.session import Rating, Session
from kiosk.settings import Settings
from kiosk.staff import casework
from kiosk.staff.authority import SignedIn, StaffAuthority
from kiosk.staff.demo import DEMO_CARD, DEMO_PIN, STAFF_DIR, local_authority
from kiosk.staff.session import Mode, StaffSession


def first_with_rongque(catalogue: Catalogue) -> tuple[str, str]:
    """(matter code, situation code) of the first takeable situation with a 可容缺 item."""
    for matter in catalogue.matters:
        for situation in matter.situations:
            if matter.kiosk_can_take and any(r.rongque for r in situation.materials):
                return matter.code, situation.code
    raise LookupError("no 可容缺 (rongque) material in the catalogue")


def demo_authority(kiosk: Kiosk, service: KioskService) -> StaffAuthority:
    """Staff mode as ``kiosk demo`` has it: the demo roster and public hall key of
    kiosk/staff/demo.py, the audit log under ``<data_dir>/staff``."""
    owner_only_dir(kiosk.settings.paths.data_dir / STAFF_DIR)
    return local_authority(kiosk.settings, lambda: kiosk.lifecycle, demo=True,
                           clock=service.now)


def run(settings: Settings, matter_code: str | None, situation: str | None,
        out: Path) -> Outcome:
    with demo_kiosk(settings, out) as kiosk:
        if matter_code is None:
            matter_code, situation = first_with_rongque(kiosk.catalogue)
        return _run(kiosk, matter_code, situation, out)


def _run(kiosk: Kiosk, code: str, situation: str | None, out: Path) -> Outcome:
    service = KioskService(kiosk)
    result = Outcome(code, Scenario.ASSISTED.value)
    matter = service.matter(code)
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer)
    kiosk.open(service.now())
    authority = demo_authority(kiosk, service)
    session = service.start_session()
    try:
        service.choose(session, matter, situation)
        session.start_identify()
        hand.present_card("resident")
        service.identify(session)
        deferred = _capture_all_but_one(service, hand, session)
        session.review()           # not complete yet: the 容缺 item is missing
        staff = _sign_in(authority)
        _assist(staff, session, deferred, service.now().date())
        staff.sign_out()           # back to the citizen's review screen
        for rid in deferred:
            session.commit_rongque(rid, service.now())     # the citizen taps 承诺
        if not session.recheck().accepted:
            raise RuntimeError("the assisted application was not accepted")
        accept(service, session, matter, result, out)
        result.staff = staff.staff_id
        session.rate(Rating.VERY_SATISFIED)
        session.finish()
    except BilingualError as exc:
        result.outcome, result.reason = exc.code, exc.as_dict()
        session.cancel()
    return result


def _capture_all_but_one(service: KioskService, hand: DemoHand, session: Session) -> list[str]:
    """Scan every required material but the first 可容缺 one; return that one's id."""
    assert session.situation is not None
    left_out: list[str] = []
    for req in session.situation.materials:
        if req.necessity is Necessity.OPTIONAL:
            continue
        if req.rongque is not None and not left_out:
            left_out.append(req.id)
            continue
        if req.necessity is Necessity.DEFERRABLE:
            session.commit_deferral(req.id)
            continue
        material = req.options[0]
        for page in range(1, max(1, material.pages.min) + 1):
            hand.place(material.name, page)
            service.capture(session, material.id)
        hand.clear_plate()
    return left_out


def _sign_in(authority: StaffAuthority) -> StaffSession:
    """The demo guide's card and PIN (a guide with the window role may approve 容缺)."""
    result = authority.sign_in(DEMO_CARD, DEMO_PIN, Mode.ASSIST)
    if not isinstance(result, SignedIn):
        raise RuntimeError(f"demo staff sign-in refused: {result.code}")
    return result.session


def _assist(staff: StaffSession, session: Session, deferred: list[str], today: date) -> None:
    """帮办: check every scanned original, approve the 容缺 item with its default deadline."""
    casework.begin_assist(staff, session, AssistKind.HELP)
    for req in casework.needs_original(session):
        if any(session.pages.get(m.id) for m in req.options):
            casework.verify_original(staff, session, req.id)
    for rid in deferred:
        casework.approve_rongque(staff, session, rid,
                                 casework.default_deadline(session, rid, today))

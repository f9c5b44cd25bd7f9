"""The staff functions that change a citizen's case (issue 21): assist (帮办 / 代办, with the
agent's card and 委托书), 原件核验, and 容缺 approval. Each goes through
:meth:`StaffSession.perform`: the role is checked and exactly one audit entry is written,
done, forbidden or failed. The records they make live on the session (``session.assist``,
kiosk/assist.py) and are frozen into the application at confirmation.

The audit entry names the material by its requirement id and the deadline by its date — never
the agent's name or number (they go to the manifest, sealed to the handling region).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from drivers.identity import Identity
from kiosk import face_step
from kiosk.assist import AssistKind, AssistRecord, OriginalCheck, RongqueApproval
from kiosk.catalogue.model import AlternativeGroup, OriginalOrCopy, SingleRequirement
from kiosk.session import Session, Step
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Action
from kiosk.staff.session import StaffSession

MAX_NOTE, MAX_ATTESTATION = 60, 200
MAX_RONGQUE_DAYS = 60
_OPEN_STEPS = (Step.IDENTIFY, Step.CAPTURE, Step.REVIEW)   # before the application freezes
ATTESTATION = "经审查，申请人信用良好，该材料可容缺受理，申请人已承诺限期补交"


def begin_assist(staff: StaffSession, session: Session, kind: AssistKind) -> AssistRecord:
    """Mark the session assisted by ``staff`` (帮办 or 代办). A later staff member who assists
    the same session becomes the receipt's 受理人; earlier checks keep their own names."""
    def run() -> dict[str, object]:
        _open(session, (Step.CHOOSE_MATTER, Step.GUIDE, *_OPEN_STEPS))
        now = staff.clock()
        if session.assist is None:
            session.assist = AssistRecord(kind, staff.staff_id, staff.name, now)
        else:
            session.assist = replace(session.assist, kind=kind, staff_id=staff.staff_id,
                                     staff_name=staff.name)
        return {"kind": kind.name.lower(), "step": session.step.value,
                "ref": session.assist.ref}

    staff.perform(Action.ASSIST, run)
    assert session.assist is not None
    return session.assist


def record_agent(staff: StaffSession, session: Session, agent: Identity) -> None:
    """代办: the agent's own card, read by the identity reader (the applicant's card was read
    at IDENTIFY). The agent must be someone else; an expired card is refused."""
    def run() -> dict[str, object]:
        record = _assisted(session, AssistKind.PROXY)
        _open(session, _OPEN_STEPS)
        if session.identity is not None and agent.id_number == session.identity.id_number:
            raise StaffError("代办人与申请人是同一人，请按帮办办理",
                             "the agent is the applicant: assist as 帮办 instead",
                             code="agent_is_applicant")
        if agent.is_expired(staff.clock().date()):
            raise StaffError("代办人证件已过有效期", "the agent's card has expired",
                             code="agent_card_expired")
        session.assist = replace(record, agent=agent)
        return {"step": "agent", "card_type": agent.card_type.value, "ref": record.ref}

    staff.perform(Action.ASSIST, run)


def verify_original(staff: StaffSession, session: Session, requirement_id: str,
                    note: str = "", *, verified: bool = True) -> None:
    """原件核验: the staff member compared the original with the scanned pages (``verified``
    False takes a mark back). Only for a material whose original the catalogue asks for,
    and only once its pages are captured."""
    def run() -> dict[str, object]:
        record = _assisted(session)
        _open(session, (Step.CAPTURE, Step.REVIEW))
        req = _requirement(session, requirement_id)
        captured = [m for m in req.options if session.pages.get(m.id)]
        if not any(m.original is not OriginalOrCopy.COPY for m in req.options):
            raise StaffError("该材料只需复印件，无需原件核验",
                             "this material is a copy: no original to check",
                             code="no_original")
        if not captured:
            raise StaffError("该材料尚未扫描，请先扫描再核验原件",
                             "scan this material first, then check its original",
                             code="not_captured")
        if not verified:
            session.assist = record.without_original(requirement_id)
            return {"material": requirement_id, "verified": False, "ref": record.ref}
        check = OriginalCheck(requirement_id, captured[0].name, staff.staff_id, staff.name,
                              staff.clock(), note.strip()[:MAX_NOTE])
        session.assist = record.with_original(check)
        return {"material": requirement_id, "verified": True, "note": bool(check.note),
                "ref": record.ref}

    staff.perform(Action.VERIFY_ORIGINAL, run)


def verify_face(staff: StaffSession, session: Session, *, verified: bool = True) -> None:
    """人证核验 by sight, when the kiosk's own could not clear the applicant (tries used, no
    photo on the document, no camera): the staff member compares the person with the card in
    their hand. ``verified`` False: not the card's holder — the session ends (and is wiped).
    The audit entry says which, and the tries; the evidence names the staff id."""
    def run() -> dict[str, object]:
        record = _assisted(session)
        _open(session, (Step.CAPTURE,))
        if session.identity is None or not session.face_pending:
            raise StaffError("当前没有待核验的人证核验", "no face check is waiting",
                             code="no_face_check")
        tries = session.face.tries if session.face is not None else 0
        if verified:
            session.record_face(face_step.staff_verified(session.face, session.identity,
                                                         staff.staff_id, staff.clock()))
        return {"face": "staff_verified" if verified else "refused", "tries": tries,
                "ref": record.ref}

    staff.perform(Action.VERIFY_FACE, run)
    if not verified:
        session.cancel()


def needs_original(session: Session) -> list[SingleRequirement | AlternativeGroup]:
    """The requirements of the session's situation whose original is to be checked (the
    checklist of the 原件核验 screen), in the catalogue's order."""
    if session.situation is None:
        return []
    return [r for r in session.situation.materials
            if any(m.original is not OriginalOrCopy.COPY for m in r.options)]


def default_deadline(session: Session, requirement_id: str, today: date) -> date:
    req = _requirement(session, requirement_id)
    days = req.rongque.supply_within_days if req.rongque else 10
    return today + timedelta(days=days)


def approve_rongque(staff: StaffSession, session: Session, requirement_id: str,
                    deadline: date, attestation: str = ATTESTATION) -> RongqueApproval:
    """容缺受理 (role ``window``): the material may follow by ``deadline``. Only a material
    the catalogue marks 可容缺 (``rongque``), not captured, with a deadline from tomorrow to
    60 days. The applicant must still tap 承诺 (:meth:`Session.commit_rongque`)."""
    text = " ".join(attestation.split())[:MAX_ATTESTATION]

    def run() -> dict[str, object]:
        record = _assisted(session)
        _open(session, (Step.CAPTURE, Step.REVIEW))
        req = _requirement(session, requirement_id)
        today = staff.clock().date()
        if req.rongque is None:
            raise StaffError("目录未将该材料列为可容缺，不能容缺受理",
                             "the catalogue does not mark this material 可容缺",
                             code="not_rongque")
        if any(session.pages.get(m.id) for m in req.options):
            raise StaffError("该材料已扫描，无需容缺", "this material is already scanned",
                             code="already_captured")
        if not today < deadline <= today + timedelta(days=MAX_RONGQUE_DAYS):
            raise StaffError(f"补交期限须在明天至 {MAX_RONGQUE_DAYS} 天之内",
                             f"the deadline must be from tomorrow to {MAX_RONGQUE_DAYS} days",
                             code="bad_deadline")
        if len(text) < 4:
            raise StaffError("请填写审查意见", "write the attestation", code="no_attestation")
        approval = RongqueApproval(requirement_id, req.label, staff.staff_id, staff.name,
                                   staff.clock(), deadline, text)
        session.assist = record.with_approval(approval)
        return {"material": requirement_id, "deadline": deadline.isoformat(),
                "ref": record.ref}

    staff.perform(Action.APPROVE_RONGQUE, run)
    approval = session.assist.approval(requirement_id) if session.assist else None
    assert approval is not None
    return approval


def _assisted(session: Session, kind: AssistKind | None = None) -> AssistRecord:
    if session.assist is None or (kind is not None and session.assist.kind is not kind):
        want = f"{kind.value}" if kind else "帮办或代办"
        raise StaffError(f"请先开始{want}", f"start assisting ({want}) first",
                         code="not_assisting")
    return session.assist


def _open(session: Session, steps: tuple[Step, ...]) -> None:
    if session.step not in steps:
        raise StaffError("当前办理步骤不能进行此操作（申请已确认或尚未开始）",
                         f"not at this step ({session.step.value})", code="bad_step")


def _requirement(session: Session, requirement_id: str) -> SingleRequirement | AlternativeGroup:
    try:
        if session.situation is None:
            raise KeyError(requirement_id)
        return session.situation.requirement(requirement_id)
    except KeyError:
        raise StaffError("本事项情形没有这项材料", "no such material in this situation",
                         code="unknown_material") from None


"""From the frozen application to its documents, manifest header and ledger row: pure
functions of the application, the kiosk's identity, the numbers and the time (no device I/O,
no session)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from kiosk.application import Application, Correction
from kiosk.assist import (
    ORIGINAL_CHECKED,
    ORIGINAL_PENDING,
    RONGQUE_STATE,
    AssistRecord,
    RongqueApproval,
)
from kiosk.catalogue.model import DeliveryOption, Matter, OriginalOrCopy
from kiosk.checker import AcceptedItem
from kiosk.documents.forms import region_department
from kiosk.documents.model import (
    CorrectionNotice,
    LedgerRow,
    MaterialLine,
    Office,
    Receipt,
    TransferSlip,
)
from kiosk.face_step import FaceCheck as FaceStepCheck
from kiosk.face_step import FaceResult
from kiosk.manifest import (
    AgentRef,
    Assistance,
    Commitment,
    DeliveryRef,
    FaceCheck,
    Header,
    ManifestApplicant,
    MatterRef,
    OriginalCheckRef,
    Receiver,
    RongqueRef,
    Sender,
    SituationRef,
)
from kiosk.privacy import mask_name, mask_phone
from kiosk.recovery import COMMITTED_STATE
from kiosk.settings import KioskIdentity, Settings

PENDING_REMARK = ("标“原件待核验”的材料为自助扫描件，原件须经工作人员或属地办理部门核验，"
                  "请妥善保管原件，按通知出示。")


@dataclass(frozen=True)
class Numbers:
    case_number: str
    transfer_numbers: tuple[str, ...]


def office(settings: Settings) -> Office:
    k = settings.kiosk
    return Office(k.department, k.phone, k.staff_label, k.id, k.address)


def material_lines(items: tuple[AcceptedItem, ...],
                   assist: AssistRecord | None = None) -> tuple[MaterialLine, ...]:
    return tuple(
        MaterialLine(i.material.name, i.material.count, i.pages, i.material.original.value,
                     _material_note(i, assist))
        for i in items)


def _material_note(item: AcceptedItem, assist: AssistRecord | None) -> str:
    """容缺 (with its deadline when staff approved it), or whether the original was checked
    (seed 004: the receipt states the scan's consistency with the original)."""
    approval = assist.approval(item.requirement_id) if assist else None
    if item.deferred:
        return f"容缺，限{_day(approval.deadline)}前补交" if approval else "容缺，承诺后补"
    if item.material.original is OriginalOrCopy.COPY or not item.pages:
        return ""
    checked = assist is not None and assist.original(item.requirement_id) is not None
    return ORIGINAL_CHECKED if checked else ORIGINAL_PENDING


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def assisted_office(office: Office, assist: AssistRecord | None) -> Office:
    """The receipt's 受理人 and the notice's 经办人: the staff member who assisted, if any."""
    return replace(office, staff=assist.staff_label()) if assist else office


def _remarks(app: Application, lines: tuple[MaterialLine, ...]) -> tuple[str, ...]:
    out = []
    agent = app.assist.agent if app.assist else None
    if agent is not None:
        mandate = "授权委托书已扫描随件转送" if app.mandate else "未提供授权委托书"
        out.append(f"代办：代办人{agent.name}（证件已读卡核验），{mandate}。")
    if any(m.note == ORIGINAL_PENDING for m in lines):
        out.append(PENDING_REMARK)
    return tuple(out)


def receipt(app: Application, office: Office, numbers: Numbers, at: datetime) -> Receipt:
    matter = app.matter
    pickup = app.delivery is DeliveryOption.PICKUP
    office = assisted_office(office, app.assist)
    lines = material_lines(app.items, app.assist)
    return Receipt(
        case_number=numbers.case_number, transfer_numbers=numbers.transfer_numbers,
        received_at=at, matter_name=matter.name, situation_name=app.situation.name,
        scope_label=matter.scope.label,
        handling=tuple(region_department(p.region_name, p.department) for p in app.parties),
        forward_within_days=matter.forward_within_days, applicant=app.applicant,
        office=office, materials=lines,
        legal_days=matter.time_limits.legal_days, promised_days=matter.time_limits.promised_days,
        fees=matter.fees.text, consultation_phone=matter.consultation_phone,
        complaint_phone=matter.complaint_phone, delivery=app.delivery.value,
        delivery_address=office.address if pickup else app.applicant.address,
        deferred=tuple(_deferred(app, i) for i in app.items if i.deferred),
        remarks=_remarks(app, lines))


def _deferred(app: Application, item: AcceptedItem) -> str:
    approval = app.assist.approval(item.requirement_id) if app.assist else None
    return (f"{item.material.name}（{_day(approval.deadline)}前）" if approval
            else item.material.name)


def transfer_slips(app: Application, kiosk: KioskIdentity, office: Office, numbers: Numbers,
                   at: datetime) -> dict[str, TransferSlip]:
    return {
        party.region: TransferSlip(
            transfer_number=number, case_number=numbers.case_number,
            matter_name=app.matter.name, handling_department=party.department,
            sender_org_code=kiosk.org_code,
            receiver_region=f"{party.region} {party.region_name}",
            materials=material_lines(app.items, app.assist), applicant=app.applicant,
            confirmed_at=at, office=assisted_office(office, app.assist), sent_at=at,
            agent=app.assist.agent.name if app.assist and app.assist.agent else "")
        for party, number in zip(app.parties, numbers.transfer_numbers, strict=True)
    }


def notice(correction: Correction, office: Office, number: str,
           at: datetime) -> CorrectionNotice:
    return CorrectionNotice(
        number=number, received_on=at.date(), matter_name=correction.matter.name,
        applicant_name=correction.identity.name,
        submitted=tuple(i.material.name for i in correction.items if not i.deferred),
        items=tuple(p.zh for p in correction.problems),
        office=assisted_office(office, correction.assist), issued_on=at.date())


def manifest_header(app: Application, kiosk: KioskIdentity, numbers: Numbers) -> Header:
    matter, ident, a = app.matter, app.identity, app.applicant
    return Header(
        case_number=numbers.case_number, kiosk_id=kiosk.id,
        sender=Sender(org_code=kiosk.org_code, department=kiosk.department,
                      region_code=kiosk.region_code),
        receivers=[
            Receiver(region_code=p.region, region_name=p.region_name, department=p.department,
                     org_code=_org_code(matter, p.region), transfer_number=n)
            for p, n in zip(app.parties, numbers.transfer_numbers, strict=True)],
        matter=MatterRef(code=matter.code, name=matter.name, mode=matter.mode.value,
                         scope=matter.scope.label, case_type=matter.case_type.value,
                         situation=SituationRef(code=app.situation.code,
                                                name=app.situation.name)),
        applicant=ManifestApplicant(
            card_type=ident.card_type.value, name=ident.name, name_en=ident.name_en,
            id_number=ident.id_number, document_number=ident.document_number,
            nationality=ident.nationality, phone=a.phone, address=a.address,
            postcode=a.postcode, email=a.email, verified_by="id_card_read",
            **_present(face_check=face_evidence(app))),
        delivery=DeliveryRef(method=app.delivery.value, address=a.address),
        commitments=[
            Commitment(requirement_id=rid, text=_commitment_text(app, rid))
            for rid in app.commitments],
        **_present(assistance=assistance(app)))


def _present(**optional: Assistance | FaceCheck | None) -> dict[str, Any]:
    """An optional manifest key is absent, never null (the manifest refuses null)."""
    return {k: v for k, v in optional.items() if v is not None}


def face_evidence(app: Application) -> FaceCheck | None:
    """人证核验's record: a pass (the matcher's score and threshold) or staff's check by sight
    (method ``staff``; who it was is in the audit log and ``assistance``). None: not asked."""
    face = app.face
    if face is None or not face.cleared:
        return None
    matched = face.result is FaceResult.PASS
    scored = {"score": face.score, "threshold": face.threshold} if matched else {}
    return FaceCheck(method=face.method, outcome="match" if matched else "staff_verified",
                     photo_source=face.photo_source, liveness=face.liveness,   # type: ignore[arg-type]
                     tries=min(face.tries, 3), checked_at=_iso(face.at), **scored)


def _commitment_text(app: Application, requirement_id: str) -> str:
    req = app.situation.requirement(requirement_id)
    return req.commitment or (req.rongque.commitment if req.rongque else "")


def assistance(app: Application) -> Assistance | None:
    """The manifest's record of staff mode: who assisted, the agent, 原件核验 and 容缺."""
    assist = app.assist
    if assist is None:
        return None
    agent = assist.agent
    agent_ref = {"agent": AgentRef(card_type=agent.card_type.value, name=agent.name,
                                   id_number=agent.id_number, verified_by="id_card_read")
                 } if agent else {}
    return Assistance(
        kind=assist.kind.value, ref=assist.ref, staff_id=assist.staff_id,
        staff_name=assist.staff_name,
        started_at=_iso(assist.started_at), **agent_ref,
        original_checks=[OriginalCheckRef(requirement_id=o.requirement_id, staff_id=o.staff_id,
                                          staff_name=o.staff_name, at=_iso(o.at), note=o.note)
                         for o in assist.originals],
        rongque=[RongqueRef(requirement_id=r.requirement_id, staff_id=r.staff_id,
                            staff_name=r.staff_name, approved_at=_iso(r.at),
                            deadline=r.deadline.isoformat(), attestation=r.attestation,
                            committed_at=_iso(r.committed_at or r.at))
                 for r in approved_rongque(app)])


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def approved_rongque(app: Application) -> tuple[RongqueApproval, ...]:
    """The staff-approved 容缺 items the application was accepted without (an approval whose
    material was scanned after all is not one)."""
    if app.assist is None:
        return ()
    found = (app.assist.approval(i.requirement_id) for i in app.items if i.deferred)
    return tuple(a for a in found if a is not None and a.committed_at is not None)


def committed_state(app: Application) -> str:
    """The ledger state once committed: 容缺待补 while a 容缺 item approved by staff is owed."""
    return RONGQUE_STATE if approved_rongque(app) else COMMITTED_STATE


def _org_code(matter: Matter, region: str) -> str:
    """A fixed party's 统一社会信用代码 from the catalogue; others are not known here."""
    return next((p.region.org_code for p in matter.handling
                 if p.region is not None and p.region.code == region), "")


def ledger_row(subject: Application | Correction, kiosk: KioskIdentity, number: str,
               transfers: tuple[str, ...], state: str, at: datetime,
               package_id: str = "") -> LedgerRow:
    matter: Matter = subject.matter
    phone = subject.contact.phone if subject.contact else ""
    assist = subject.assist
    return LedgerRow(
        case_number=number, time=at, department=matter.department, matter_code=matter.code,
        matter_name=matter.name, count=subject.copies, case_type=matter.case_type.value,
        applicant_masked=mask_name(subject.identity.name),
        phone_masked=mask_phone(phone) if phone else "", window=kiosk.id,
        staff=assist.staff_name if assist else kiosk.staff_label, state=state,
        scope=matter.scope.label, regions="、".join(p.region_name for p in subject.parties),
        transfer_numbers=",".join(transfers), package_id=package_id,
        note=ledger_note(subject))


def ledger_note(subject: Application | Correction) -> str:
    """备注: 人证核验's outcome; of an assisted case 帮办/代办, originals checked, each 容缺
    item and its deadline."""
    face = _face_note(subject.face) if isinstance(subject, Application) else ""
    assist = subject.assist
    if assist is None:
        return face
    parts = [f"{assist.kind.value}（{assist.staff_name}，审计记录 {assist.ref}）"]
    parts += [face] if face else []
    if assist.originals:
        parts.append(f"原件已核验{len(assist.originals)}项")
    if isinstance(subject, Application):
        parts += [f"容缺：{r.material_name}，限{r.deadline.isoformat()}补交"
                  for r in approved_rongque(subject)]
    return "；".join(parts)


def _face_note(face: FaceStepCheck | None) -> str:
    if face is None or not face.cleared:
        return ""
    if face.result is FaceResult.PASS:
        return f"人证核验通过（{face.score or 0:.2f}，第{face.tries}次）"
    return f"人证核验：工作人员核验（{face.staff_id}）"

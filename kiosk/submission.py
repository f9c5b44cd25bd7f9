"""From a checked session to documents, package and ledger row (no device I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.catalogue.model import Matter
from kiosk.checker import AcceptedItem
from kiosk.documents.model import (
    Applicant,
    CorrectionNotice,
    LedgerRow,
    MaterialLine,
    Office,
    Receipt,
    TransferSlip,
)
from kiosk.privacy import mask_name, mask_phone
from kiosk.session import Session
from kiosk.settings import Settings


@dataclass(frozen=True)
class Numbers:
    case_number: str
    transfer_numbers: tuple[str, ...]


def office(settings: Settings) -> Office:
    k = settings.kiosk
    return Office(k.department, k.phone, k.staff_label, k.id, k.address)


def applicant(session: Session) -> Applicant:
    if session.identity is None or session.contact is None:
        raise ValueError("session has no identified applicant")
    c = session.contact
    return Applicant(session.identity.name, c.phone, c.address or session.identity.address,
                     c.postcode, c.email)


def material_lines(items: tuple[AcceptedItem, ...]) -> tuple[MaterialLine, ...]:
    return tuple(
        MaterialLine(i.material.name, i.material.count, i.pages, i.material.original.value,
                     "容缺，承诺后补" if i.deferred else "")
        for i in items)


def receipt(session: Session, settings: Settings, numbers: Numbers,
            at: datetime) -> Receipt:
    matter, result = _matter(session), session.result
    assert result is not None and session.situation is not None and session.delivery
    delivery_address = (settings.kiosk.address if session.delivery.value == "窗口自取"
                        else applicant(session).address)
    return Receipt(
        case_number=numbers.case_number, transfer_numbers=numbers.transfer_numbers,
        received_at=at, matter_name=matter.name, situation_name=session.situation.name,
        scope_label=matter.scope.label,
        handling=tuple(f"{r.name} {r.department}" for r in matter.handling_regions),
        forward_within_days=matter.forward_within_days, applicant=applicant(session),
        office=office(settings), materials=material_lines(result.items),
        legal_days=matter.time_limits.legal_days, promised_days=matter.time_limits.promised_days,
        fees=matter.fees.text, consultation_phone=matter.consultation_phone,
        complaint_phone=matter.complaint_phone, delivery=session.delivery.value,
        delivery_address=delivery_address,
        deferred=tuple(i.material.name for i in result.deferred))


def transfer_slips(session: Session, settings: Settings, numbers: Numbers,
                   at: datetime) -> dict[str, TransferSlip]:
    matter, result = _matter(session), session.result
    assert result is not None
    return {
        region.code: TransferSlip(
            transfer_number=number, case_number=numbers.case_number, matter_name=matter.name,
            handling_department=region.department, sender_org_code=settings.kiosk.org_code,
            receiver_region=f"{region.code} {region.name}",
            materials=material_lines(result.items), applicant=applicant(session),
            confirmed_at=at, office=office(settings), sent_at=at)
        for region, number in zip(matter.handling_regions, numbers.transfer_numbers, strict=True)
    }


def notice(session: Session, settings: Settings, number: str, at: datetime) -> CorrectionNotice:
    matter, result = _matter(session), session.result
    assert result is not None and session.identity is not None
    return CorrectionNotice(
        number=number, received_on=at.date(), matter_name=matter.name,
        applicant_name=session.identity.name,
        submitted=tuple(i.material.name for i in result.items if not i.deferred),
        items=tuple(p.zh for p in result.problems), office=office(settings),
        issued_on=at.date())


def manifest_header(session: Session, settings: Settings, numbers: Numbers) -> dict[str, Any]:
    matter, ident = _matter(session), session.identity
    assert ident is not None and session.situation is not None and session.delivery
    a = applicant(session)
    return {
        "case_number": numbers.case_number,
        "kiosk_id": settings.kiosk.id,
        "sender": {"org_code": settings.kiosk.org_code, "department": settings.kiosk.department,
                   "region_code": settings.kiosk.region_code},
        "receivers": [{"region_code": r.code, "region_name": r.name, "department": r.department,
                       "org_code": r.org_code, "transfer_number": n}
                      for r, n in zip(matter.handling_regions, numbers.transfer_numbers,
                                      strict=True)],
        "matter": {"code": matter.code, "name": matter.name, "mode": matter.mode.value,
                   "scope": matter.scope.label, "case_type": matter.case_type.value,
                   "situation": {"code": session.situation.code,
                                 "name": session.situation.name}},
        "applicant": {"card_type": ident.card_type.value, "name": ident.name,
                      "name_en": ident.name_en, "id_number": ident.id_number,
                      "document_number": ident.document_number,
                      "nationality": ident.nationality, "phone": a.phone,
                      "address": a.address, "postcode": a.postcode, "email": a.email,
                      "verified_by": "id_card_read"},
        "delivery": {"method": session.delivery.value, "address": a.address},
        "commitments": [{"requirement_id": rid,
                         "text": session.situation.requirement(rid).commitment or ""}
                        for rid in sorted(session.commitments)],
    }


def ledger_row(session: Session, settings: Settings, number: str, transfers: tuple[str, ...],
               state: str, at: datetime, package_id: str = "") -> LedgerRow:
    matter, ident = _matter(session), session.identity
    assert ident is not None and session.result is not None
    phone = session.contact.phone if session.contact else ""
    return LedgerRow(
        case_number=number, time=at, department=matter.department, matter_code=matter.code,
        matter_name=matter.name, count=sum(i.material.count for i in session.result.items),
        case_type=matter.case_type.value, applicant_masked=mask_name(ident.name),
        phone_masked=mask_phone(phone) if phone else "", window=settings.kiosk.id,
        staff=settings.kiosk.staff_label, state=state, scope=matter.scope.label,
        regions="、".join(r.name for r in matter.handling_regions),
        transfer_numbers=",".join(transfers), package_id=package_id)


def _matter(session: Session) -> Matter:
    if session.matter is None:
        raise ValueError("session has no matter")
    return session.matter

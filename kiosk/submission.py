"""From the frozen application to its documents, manifest header and ledger row: pure
functions of the application, the kiosk's identity, the numbers and the time (no device I/O,
no session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.application import Application, Correction
from kiosk.catalogue.model import DeliveryOption, Matter
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
from kiosk.manifest import (
    Commitment,
    DeliveryRef,
    Header,
    ManifestApplicant,
    MatterRef,
    Receiver,
    Sender,
    SituationRef,
)
from kiosk.privacy import mask_name, mask_phone
from kiosk.settings import KioskIdentity, Settings


@dataclass(frozen=True)
class Numbers:
    case_number: str
    transfer_numbers: tuple[str, ...]


def office(settings: Settings) -> Office:
    k = settings.kiosk
    return Office(k.department, k.phone, k.staff_label, k.id, k.address)


def material_lines(items: tuple[AcceptedItem, ...]) -> tuple[MaterialLine, ...]:
    return tuple(
        MaterialLine(i.material.name, i.material.count, i.pages, i.material.original.value,
                     "容缺，承诺后补" if i.deferred else "")
        for i in items)


def receipt(app: Application, office: Office, numbers: Numbers, at: datetime) -> Receipt:
    matter = app.matter
    pickup = app.delivery is DeliveryOption.PICKUP
    return Receipt(
        case_number=numbers.case_number, transfer_numbers=numbers.transfer_numbers,
        received_at=at, matter_name=matter.name, situation_name=app.situation.name,
        scope_label=matter.scope.label,
        handling=tuple(region_department(p.region_name, p.department) for p in app.parties),
        forward_within_days=matter.forward_within_days, applicant=app.applicant,
        office=office, materials=material_lines(app.items),
        legal_days=matter.time_limits.legal_days, promised_days=matter.time_limits.promised_days,
        fees=matter.fees.text, consultation_phone=matter.consultation_phone,
        complaint_phone=matter.complaint_phone, delivery=app.delivery.value,
        delivery_address=office.address if pickup else app.applicant.address,
        deferred=tuple(i.material.name for i in app.items if i.deferred))


def transfer_slips(app: Application, kiosk: KioskIdentity, office: Office, numbers: Numbers,
                   at: datetime) -> dict[str, TransferSlip]:
    return {
        party.region: TransferSlip(
            transfer_number=number, case_number=numbers.case_number,
            matter_name=app.matter.name, handling_department=party.department,
            sender_org_code=kiosk.org_code,
            receiver_region=f"{party.region} {party.region_name}",
            materials=material_lines(app.items), applicant=app.applicant, confirmed_at=at,
            office=office, sent_at=at)
        for party, number in zip(app.parties, numbers.transfer_numbers, strict=True)
    }


def notice(correction: Correction, office: Office, number: str,
           at: datetime) -> CorrectionNotice:
    return CorrectionNotice(
        number=number, received_on=at.date(), matter_name=correction.matter.name,
        applicant_name=correction.identity.name,
        submitted=tuple(i.material.name for i in correction.items if not i.deferred),
        items=tuple(p.zh for p in correction.problems), office=office, issued_on=at.date())


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
            postcode=a.postcode, email=a.email, verified_by="id_card_read"),
        delivery=DeliveryRef(method=app.delivery.value, address=a.address),
        commitments=[
            Commitment(requirement_id=rid,
                       text=app.situation.requirement(rid).commitment or "")
            for rid in app.commitments])


def _org_code(matter: Matter, region: str) -> str:
    """A fixed party's 统一社会信用代码 from the catalogue; others are not known here."""
    return next((p.region.org_code for p in matter.handling
                 if p.region is not None and p.region.code == region), "")


def ledger_row(subject: Application | Correction, kiosk: KioskIdentity, number: str,
               transfers: tuple[str, ...], state: str, at: datetime,
               package_id: str = "") -> LedgerRow:
    matter: Matter = subject.matter
    phone = subject.contact.phone if subject.contact else ""
    return LedgerRow(
        case_number=number, time=at, department=matter.department, matter_code=matter.code,
        matter_name=matter.name, count=subject.copies, case_type=matter.case_type.value,
        applicant_masked=mask_name(subject.identity.name),
        phone_masked=mask_phone(phone) if phone else "", window=kiosk.id,
        staff=kiosk.staff_label, state=state, scope=matter.scope.label,
        regions="、".join(p.region_name for p in subject.parties),
        transfer_numbers=",".join(transfers), package_id=package_id)

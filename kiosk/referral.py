"""From a matter to its guide slip (一次性告知): for a matter the kiosk cannot take, where to
go, when, whom to call; for one it can take (read while the kiosk is closed), this kiosk's
hours and when it opens again. Either way — so the citizen comes once, not twice — every
material to bring, for every situation, as the catalogue lists it."""

from __future__ import annotations

from datetime import date

from kiosk.catalogue.model import (
    AlternativeGroup,
    Material,
    MaterialForm,
    Matter,
    Necessity,
    Requirement,
    Situation,
)
from kiosk.documents.model import GuideSituation, Office, ReferralSlip, RequiredMaterial

NECESSITY = {Necessity.REQUIRED: "必要", Necessity.OPTIONAL: "非必要（有则提供）",
             Necessity.DEFERRABLE: "容缺（可签署承诺后补交）"}


def referral_slip(matter: Matter, office: Office, on: date) -> ReferralSlip:
    info = matter.elsewhere
    if info is None:
        raise ValueError(f"matter {matter.code} can be done at the kiosk: no referral slip")
    return ReferralSlip(matter.name, info.reason, info.where, info.phone, info.hours,
                        matter.consultation_phone, office, on,
                        tuple(_situation(s) for s in matter.situations))


def guide_slip(matter: Matter, office: Office, on: date, hours: str,
               reopens: str) -> ReferralSlip:
    """The slip of a matter this kiosk takes: come back here, in ``hours``, with these."""
    if not matter.kiosk_can_take:
        raise ValueError(f"matter {matter.code} cannot be done at the kiosk: a referral slip")
    where = office.address or office.department
    return ReferralSlip(matter.name, "", where, office.phone, hours, matter.consultation_phone,
                        office, on, tuple(_situation(s) for s in matter.situations),
                        at_this_kiosk=True, reopens=reopens)


def region_slip(matter: Matter, office: Office, on: date, reason: str, where: str,
                phone: str) -> ReferralSlip:
    """The slip of a matter this kiosk cannot send to the applicant's handling region
    (no route, no valid key): why, where it is handled, the region's phone, every material."""
    return ReferralSlip(matter.name, reason, where, phone, "", matter.consultation_phone,
                        office, on, tuple(_situation(s) for s in matter.situations))


def _situation(situation: Situation) -> GuideSituation:
    return GuideSituation(situation.name, tuple(_requirement(r) for r in situation.materials))


def _requirement(req: Requirement) -> RequiredMaterial:
    necessity = NECESSITY[req.necessity]
    if isinstance(req, AlternativeGroup):
        return RequiredMaterial(req.label, "", 0, "", necessity,
                                either_of=tuple(_material(m) for m in req.options))
    return _material(req, necessity)


def _material(m: Material, necessity: str = NECESSITY[Necessity.REQUIRED]) -> RequiredMaterial:
    paper = m.form is MaterialForm.PAPER
    pages = m.pages
    span = f"{pages.min}" if pages.min == pages.max else f"{pages.min}–{pages.max}"
    notes = [m.note, *m.check_points]      # what the window will check, so it is right first
    if not paper:                  # captured or issued electronically: no copies, no pages
        return RequiredMaterial(m.name, m.form.value, 0, "", necessity,
                                "；".join(n for n in notes if n))
    return RequiredMaterial(m.name, m.original.value, m.count, span, necessity,
                            "；".join(n for n in notes if n))

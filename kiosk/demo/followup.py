"""A 补正 (follow-up) package for a case already sent, built with the kiosk's own submission
code: same case number and transfer numbers, a new package id. The region's intake takes it
as the next version of the case and moves a transfer waiting on a correction to
``correction_received``.

Stop-gap: the kiosk has no 补正 session yet (issue 24 part 5, another helper's); until then
the tracked demo and its end-to-end test send the follow-up this way. It seals through the
same ``KioskService._seal`` a receipt's package goes through, so the package is exactly
what the kiosk would send."""

from __future__ import annotations

import uuid

from kiosk import submission
from kiosk.documents import forms
from kiosk.errors import SessionError
from kiosk.service import KioskService
from kiosk.session import Session


def send_followup(service: KioskService, session: Session, case_number: str,
                  transfer_numbers: tuple[str, ...]) -> str:
    """Seal ``session``'s confirmed application into the outbox as a follow-up package of
    ``case_number``; the session is then ended. Returns the new package id."""
    app = session.application
    if app is None or not app.parties:
        raise SessionError("补正申请尚未确认", "The follow-up application is not confirmed",
                           code="bad_step")
    k, now = service.k, service.now()
    numbers = submission.Numbers(case_number, transfer_numbers)
    office = submission.office(k.settings)
    receipt = k.renderer.pdf(forms.receipt_blocks(submission.receipt(app, office, numbers, now)),
                             title=f"补正材料 {case_number}")
    slips = {region: k.renderer.pdf(forms.slip_blocks(slip), title="申请材料转办单")
             for region, slip in submission.transfer_slips(app, k.settings.kiosk, office,
                                                           numbers, now).items()}
    package_id = str(uuid.uuid4())
    materials = service._material_files(app, session.page_image)
    with k.disk.for_commit():
        service._seal(app, package_id, numbers, materials, receipt, slips, now)
    k.outbox.receipt_printed(package_id)     # nothing owed on paper for this one
    session.cancel()
    return package_id

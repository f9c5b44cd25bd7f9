"""The kiosk's 补正 operations (KioskService delegates here): start a correction of a case the
region asked to correct, check the card against the original applicant, capture pages for the
requested items only, and submit the follow-up package through the same sealed outbox as every
package (durable before the receipt prints), then move the ledger to 补正已提交.

补正已提交 is the kiosk's own ledger state; the region's events are ordered by their own last
event (kiosk/casestatus/receiver.py reads ``status_events``, not the ledger's state), so its
``correction_received`` still applies and replaces it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from drivers.camera import CapturedPage
from drivers.identity import Identity
from kiosk import correction, correction_submit, submission
from kiosk.applicant_key import applicant_key, load_secret
from kiosk.bootstrap import Kiosk
from kiosk.casestatus.store import StatusStore
from kiosk.correction import CorrectionCase, CorrectionSession
from kiosk.devices.kinds import DeviceKind
from kiosk.errors import SessionError
from kiosk.manifest import Receiver, Seal, Suite
from kiosk.package import write_package
from kiosk.routing.directory import route_name
from kiosk.routing.lookup import RegionUnavailable
from kiosk.tempstore import SCRATCH_DIR, SessionStore
from kiosk.transfer.commit import seal_into_outbox
from kiosk.transfer.envelope import Recipient
from kiosk.transfer.outbox import PackageMeta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorrectionSubmitted:
    case_number: str
    version: int
    package_id: str
    receipt_png: bytes
    receipt_escpos: bytes
    printed: bool


class Corrections:
    def __init__(self, kiosk: Kiosk, now: Callable[[], datetime]) -> None:
        self.k, self.now = kiosk, now

    @property
    def store(self) -> StatusStore:
        return self.k.case_status.store

    def start(self, case_number: str) -> CorrectionSession:
        case_number = case_number.strip()[:40]
        row, asking = correction.find_case(self.store, case_number, self.now().date())
        matter = self.k.catalogue.matter(row.matter_code)
        case = CorrectionCase(
            case_number, matter, tuple(sorted(e.transfer_number for e in asking)),
            correction.requested_items(matter, asking), correction.deadline_of(asking),
            next((str(e.details.get("notice_number", "")) for e in asking
                  if e.details.get("notice_number")), ""),
            correction.case_version(self.store, case_number), row.package_id)
        if not case.items:
            raise SessionError("补正通知没有列出需补正的材料，请到窗口办理",
                               "The correction notice lists no items: please see the staff",
                               code="no_items")
        store = SessionStore(self.k.settings.paths.data_dir / SCRATCH_DIR)
        log.info("correction of case %s started (%d items)", case_number, len(case.items))
        return CorrectionSession(case, store)

    def identified(self, session: CorrectionSession, identity: Identity) -> None:
        """The card read must be the original applicant's: the same keyed hash the ledger
        keeps for 进度查询 by card (kiosk/applicant_key.py), one secret for both."""
        digest = applicant_key(load_secret(self.k.settings.paths.data_dir), identity)
        session.situation, session.delivery = correction.check_applicant(
            self.store, session.case.case_number, digest)
        session.identity, session.verified = identity, True

    def identify(self, session: CorrectionSession) -> Identity:
        timeout = self.k.settings.session.read_timeout_s
        identity = self.k.run(DeviceKind.IDENTITY_READER,
                              lambda: self.k.identity.read(timeout, None)).result()
        self.identified(session, identity)
        return identity

    def capture(self, session: CorrectionSession, item_id: str,
                replace: int | None = None) -> int:
        session.item(item_id)                 # refused before the camera moves
        timeout = self.k.settings.session.capture_timeout_s
        page: CapturedPage = self.k.run(DeviceKind.DOCUMENT_CAMERA,
                                        lambda: self.k.camera.capture(timeout)).result()
        return session.add_page(item_id, page, replace)

    def submit(self, session: CorrectionSession) -> CorrectionSubmitted:
        if not session.verified:
            raise SessionError("请先读取申请人的身份证件", "Read the applicant's ID card first",
                               code="bad_step")
        if missing := session.missing():
            raise SessionError(f"还有补正材料未拍摄：{missing[0].text}",
                               "Some requested items have no pages yet", code="items_missing")
        with self.k.disk.for_commit():
            return self._submit(session)

    def _submit(self, session: CorrectionSession) -> CorrectionSubmitted:
        k, now, case = self.k, self.now(), session.case
        package_id = str(uuid.uuid4())
        office = submission.office(k.settings)
        blocks = correction_submit.receipt_blocks(session, office, now)
        receipt_pdf = k.renderer.pdf(blocks, title=f"补正材料接收凭证 {case.case_number}")
        self._seal(session, package_id, receipt_pdf, now)
        # after the commit: a crash before this leaves the case 需补正 with the package sent
        k.ledger.set_state(case.case_number, correction.SUBMITTED_STATE,
                           f"补正第{case.version}版 {package_id}", now)
        log.info("case %s correction committed as package %s (version %d)",
                 case.case_number, package_id, case.version)
        job = k.printing.job(f"correction-{case.case_number}-{case.version}", "receipt", blocks)
        printed = k.printing.print(job)
        if printed:
            k.outbox.receipt_printed(package_id)
        k.courier.uploader.nudge()
        session.wipe()              # the pages are in the sealed package now
        return CorrectionSubmitted(case.case_number, case.version, package_id,
                                   k.renderer.png(blocks), job.escpos or b"", printed)

    def _seal(self, session: CorrectionSession, package_id: str, receipt_pdf: bytes,
              now: datetime) -> None:
        courier, settings, case = self.k.courier, self.k.settings, session.case
        receivers, recipients = self._receivers(session, now)
        hours = settings.transfer.transfer_deadline_hours
        meta = PackageMeta(package_id, case.case_number, case.matter.code, courier.suite,
                           (now + timedelta(hours=hours)).astimezone(UTC))
        header = correction_submit.correction_header(session, settings.kiosk, receivers,
                                                     case.original_package_id)
        signer = courier.signer()
        seal = Seal(suite=cast(Suite, courier.suite), kiosk_id=signer.kiosk_id,
                    key_id=signer.key_id)
        materials = correction_submit.material_files(session,
                                                     lambda p: session.store.get(p.ref))
        seal_into_outbox(courier.outbox, signer, recipients, meta, lambda out: write_package(
            out, package_id=package_id, header=header, materials=materials,
            receipt_pdf=receipt_pdf, slip_pdfs={}, received_at=now, deadline_hours=hours,
            seal=seal))

    def _receivers(self, session: CorrectionSession,
                   now: datetime) -> tuple[list[Receiver], list[Recipient]]:
        """The regions that asked, routed as today's directory says."""
        case = session.case
        row = self.k.ledger.find(case.case_number)
        names = dict(zip((row.transfer_numbers if row else "").split(","),
                         (row.regions if row else "").split("、"), strict=False))
        receivers: list[Receiver] = []
        recipients: dict[str, Recipient] = {}
        for transfer in case.transfer_numbers:
            region = transfer[8:14]
            route = self.k.handling.directory.lookup(region, case.matter.category, now)
            if isinstance(route, RegionUnavailable):
                raise SessionError("办理地暂时无法接收补正材料，请稍后再试或到窗口办理",
                                   "The handling region cannot receive it now: try later "
                                   "or see the staff", code="region_unavailable")
            receivers.append(Receiver(region_code=region, region_name=names.get(transfer, ""),
                                      department=route.department, org_code="",
                                      transfer_number=transfer))
            name = route_name(route.served_by)
            recipients.setdefault(name, Recipient(name, route.recipient.public_key))
        return receivers, list(recipients.values())

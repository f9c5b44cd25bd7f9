"""The kiosk's operations on a session: identify, capture, submit, notify.

Screens and the headless journey call these; these call devices (on the devices' worker
threads) and the pure parts (checker, submission, documents). Order of a submission matters:
the package is durably in the outbox BEFORE the receipt is printed, so a printed receipt
always has a package behind it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from drivers.camera import CapturedPage
from drivers.identity import Identity, MrzKey
from kiosk import referral, submission
from kiosk.application import Application, StoredPage
from kiosk.bootstrap import Kiosk
from kiosk.catalogue.model import Matter
from kiosk.correction import CorrectionSession, remember_applicant
from kiosk.correction_service import Corrections
from kiosk.devices.kinds import DeviceKind
from kiosk.documents import forms
from kiosk.documents.model import LedgerRow
from kiosk.documents.render import images_to_pdf
from kiosk.errors import SessionError
from kiosk.evaluation.record import evaluation
from kiosk.face_service import FaceService
from kiosk.fleet.staffcall import StaffCall, StaffCalls
from kiosk.hall.service import HallCases
from kiosk.hours import hours_text, opening_text
from kiosk.interaction.camera_feed import CameraFeed
from kiosk.ledger import OPEN_STATE, Owed
from kiosk.lifecycle import Availability, KioskState, Reason
from kiosk.manifest import Seal, Suite
from kiosk.ops.clock import NowSource
from kiosk.package import MaterialFile, write_package
from kiosk.progress import ProgressDesk
from kiosk.routing.resolve import HandlingUnavailable, Proposal, ResolvedParty, recipients
from kiosk.session import Session
from kiosk.settings import Hours, KioskIdentity
from kiosk.staff import reprint
from kiosk.staff.authority import StaffAuthority
from kiosk.staff.desk import StaffDesk
from kiosk.tempstore import SCRATCH_DIR, SessionStore
from kiosk.transfer.commit import seal_into_outbox
from kiosk.transfer.outbox import PackageMeta

__all__ = ["Identity", "KioskService", "MrzKey", "Notified", "Submitted"]
log = logging.getLogger(__name__)
MANDATE_ID, MANDATE_NAME, MANDATE_CATEGORY = "agent_mandate", "授权委托书", "代办委托书"


@dataclass(frozen=True)
class Submitted:
    case_number: str
    transfer_numbers: tuple[str, ...]
    package_id: str
    receipt_png: bytes
    receipt_pdf: bytes
    receipt_escpos: bytes
    printed: bool                  # False: paper ran out, the receipt waits for a refill


@dataclass(frozen=True)
class Notified:
    number: str
    notice_png: bytes
    notice_pdf: bytes
    printed: bool                  # False: paper ran out; the notice is on screen, not owed


class KioskService:
    def __init__(self, kiosk: Kiosk, clock: NowSource | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 staff: StaffAuthority | None = None) -> None:
        """``clock``: by default the kiosk's guarded clock (kiosk/ops/clock.py: a jump of the
        PC's clock moves no case date or deadline); ``monotonic``: the screens' clock, on
        which a staff call's waits run; ``staff``: staff sign-in (None: no staff mode here)."""
        self.k = kiosk
        self.staff = staff
        self.staff_present = False     # staff mode is open: a card on the reader is theirs
        self._staff_holds: set[str] = set()
        self._held_before = False
        self._clock: NowSource = clock if clock is not None else kiosk.clock
        self.calls = StaffCalls.build(kiosk.settings, kiosk.bus, monotonic)
        self.hall = HallCases.build(kiosk)     # the hall case index (kiosk/hall); None: off
        if self.hall is not None:
            self.hall.start()
        self.progress = ProgressDesk(kiosk, self.now,      # 进度查询 (kiosk/progress.py)
                                     staff_present=lambda: self.staff_present, hall=self.hall)
        self.face = FaceService(kiosk, self.now)      # 人证核验 after the card read
        # one subscription for the service's lifetime, not one per session; dropped by close()
        # because the bus outlives a kiosk swapped out by the fleet agent
        self._unsubscribe = kiosk.bus.subscribe("session.ended", self._session_ended)
        self.corrections = Corrections(kiosk, self.now)   # 补正 into the same case

    def start_correction(self, case_number: str) -> CorrectionSession:
        """A 补正 session for a case whose region asked for one (kiosk/correction_service.py);
        then ``corrections.identify`` / ``capture`` / ``submit``."""
        return self.corrections.start(case_number)

    def close(self) -> None:
        """Stop following the bus (this service's kiosk was swapped out; the bus lives on);
        close the staff call and its connection."""
        self._unsubscribe()
        self.calls.shutdown()
        if self.hall is not None:
            self.hall.close()

    def now(self) -> datetime:
        return self._clock.now()

    # --- what the screens may know of the kiosk ------------------------------------------
    @property
    def this_kiosk(self) -> KioskIdentity:
        """Name, department, address and phone of this kiosk's hall."""
        return self.k.settings.kiosk

    @property
    def hours(self) -> Hours:
        return self.k.settings.hours

    def state(self) -> tuple[KioskState, Reason | None]:
        return self.k.lifecycle.state, self.k.lifecycle.reason

    def all_matters(self) -> tuple[Matter, ...]:
        """Every matter of the catalogue, takeable here or not (the search index, chips)."""
        return self.k.catalogue.matters

    def availability(self, matter: Matter) -> Availability:
        return self.k.lifecycle.matter_availability(matter, self.now())

    def camera_feed(self) -> CameraFeed:
        """The document camera's live view with page detection and auto-capture."""
        return self.k.camera_feed()

    def call_staff(self, step: str, session: Session | None = None) -> StaffCall:
        """The citizen asked for a person: the call goes to the hall (kiosk/fleet/staffcall.py)
        and is closed with ``session``; the screens follow it with :meth:`staff_call`."""
        self.k.bus.publish("ui.call_staff", {"kiosk": self.k.settings.kiosk.id, "step": step})
        return self.calls.open(step, session.id if session is not None else None)

    def staff_call(self) -> StaffCall | None:
        return self.calls.current()

    def close_staff_call(self) -> None:
        """The citizen closed the call's dialog: cancelled, or done with once answered."""
        self.calls.close_call("closed by the citizen")

    @property
    def guide_desk_phone(self) -> str:
        return self.k.settings.hall.phone or self.k.settings.kiosk.phone

    def request_staff_mode(self) -> None:
        self.k.bus.publish("ui.staff_mode_requested", {"kiosk": self.k.settings.kiosk.id})

    # --- staff mode (screens/staff/) -----------------------------------------------------
    def read_staff_card(self) -> str:
        """The ID number on the card on the reader (waits like a citizen's read), for
        staff sign-in only: nothing is kept or logged here."""
        timeout = self.k.settings.session.read_timeout_s
        return self.k.run(DeviceKind.IDENTITY_READER,
                          lambda: self.k.identity.read(timeout, None)).result().id_number

    def staff_hold(self, why: str, on: bool) -> bool:
        """Stop new sessions for staff (``why``: "service" while signed in from idle,
        "maintenance" while switched on), or let them start again once no reason is left.
        False when a citizen's session runs (a hold never cuts one short)."""
        lifecycle, now = self.k.lifecycle, self.now()
        if on:
            if not self._staff_holds:        # a hold already there (a remote maintenance_on)
                self._held_before = lifecycle.held      # is not staff's to release
            if why not in self._staff_holds and not lifecycle.hold(now):
                return False
            self._staff_holds.add(why)
            return True
        was_held = bool(self._staff_holds)
        self._staff_holds.discard(why)
        if was_held and not self._staff_holds and not self._held_before:
            lifecycle.release(now)
        return True

    def staff_held(self, why: str) -> bool:
        return why in self._staff_holds

    def staff_desk(self) -> StaffDesk:
        """日检, consumables and the 台账 for the staff screens (kiosk/staff/desk.py)."""
        return StaffDesk(self.k, lambda: self.now())

    def recent_cases(self) -> list[LedgerRow]:
        """补打: the newest cases with a receipt (masked, from the ledger)."""
        return reprint.recent_cases(self.k.ledger)

    def find_case(self, text: str) -> LedgerRow | None:
        """补打: a case by its number (typed, or read from a receipt's code)."""
        number = reprint.case_number_in(text)
        return reprint.reprintable(self.k.ledger, number) if number else None

    def scan_case_code(self) -> str | None:
        """补打: a still of the document camera, its codes read; the first case number in
        them (a receipt's QR or CODE128), or None."""
        timeout = self.k.settings.session.capture_timeout_s
        page = self.k.run(DeviceKind.DOCUMENT_CAMERA,
                          lambda: self.k.camera.capture(timeout)).result()
        for code in self.k.barcode.decode(page.jpeg):
            number = reprint.case_number_in(code.text)
            if number is not None:
                return number
        return None

    def reprint_receipt(self, row: LedgerRow, staff_name: str) -> tuple[int, bool]:
        """补打 第N次 of ``row``'s receipt: (N, printed). Counted only when it printed; not
        held for a refill (the person waiting is told instead)."""
        counter = reprint.ReprintCounter(self.k.settings.paths.data_dir / "staff")
        n, now = counter.count(row.case_number) + 1, self.now()
        blocks = reprint.staff_reprint_blocks(row, submission.office(self.k.settings), now, n,
                                              staff_name)
        job = self.k.printing.job(f"staff-reprint-{row.case_number}-{n}", "receipt", blocks)
        printed = self.k.printing.print(job, hold=False)
        if printed:
            counter.record(row.case_number)
        return n, printed

    def matters(self) -> list[tuple[Matter, Availability]]:
        now = self.now()
        self.k.refresh(now)
        return [(m, self.k.lifecycle.matter_availability(m, now)) for m in self.k.catalogue.matters]

    def start_session(self) -> Session:
        now = self.now()
        self.k.refresh(now)
        self.k.lifecycle.begin_session(now)
        s = self.k.settings.session
        session = Session(self.k.bus, SessionStore(self.k.settings.paths.data_dir / SCRATCH_DIR),
                          time.monotonic, s.idle_timeout_s, s.idle_warning_s)
        session.on_rated = self._keep_rating
        log.info("session %s started", session.id)
        return session

    def _keep_rating(self, session: Session) -> None:
        """On disk the moment the citizen taps (kiosk/evaluation): a crash or an outage
        before the upload loses nothing. A failure here is the hall's problem, not the
        citizen's: alerted, never raised into the rating screen."""
        if session.matter is None or session.rating is None:
            return
        kiosk, now = self.k.settings.kiosk, self.now()
        number = session.case_number or session.notice_number
        outcome = ("received" if session.case_number else
                   "notice" if session.notice_number else "none")
        item = evaluation(kiosk, session.matter, session.rating, number, outcome, now,
                          rating_id=f"{kiosk.id}-{session.id}")
        try:
            self.k.evaluations.keep(item, now)
        except sqlite3.Error as exc:
            log.error("rating %s could not be kept: %s", item.rating_id, exc)
            self.k.lifecycle.alert("evaluation_not_kept", {"rating": item.rating_id})
            return
        self.k.wake_evaluation_upload()

    def _session_ended(self, topic: str, payload: Any) -> None:
        self.k.lifecycle.end_session(self.now())
        log.info("session %s ended: %s", payload.get("session"), payload.get("reason"))

    def choose(self, session: Session, matter: Matter, situation: str | None = None) -> None:
        """Start a matter, refusing one whose devices are down (say why, before any work)."""
        availability = self.k.lifecycle.matter_availability(matter, self.now())
        if not matter.kiosk_can_take:
            elsewhere = matter.elsewhere
            where = f"：{elsewhere.where}" if elsewhere else ""
            raise SessionError(f"本事项不能在自助终端办理{where}",
                               "This matter cannot be done at a kiosk", code="not_at_kiosk")
        if not availability.available:
            raise SessionError(availability.zh, availability.en, code="matter_unavailable")
        if situation is not None and situation not in {s.code for s in matter.situations}:
            codes = ", ".join(s.code for s in matter.situations)
            raise SessionError(f"该事项没有情形 {situation}（可选：{codes}）",
                               f"No situation {situation} in {matter.code} (one of: {codes})",
                               code="unknown_situation")
        session.choose_matter(matter, situation)

    def matter(self, code: str) -> Matter:
        try:
            return self.k.catalogue.matter(code)
        except KeyError:
            raise SessionError(f"没有编码为 {code} 的事项", f"No matter with code {code}",
                               code="unknown_matter") from None

    def identify(self, session: Session, mrz: MrzKey | None = None) -> Identity:
        """Wait for a card on the reader's thread; the session refuses an expired one.
        ``mrz``: the access key typed in for a passport or other ICAO document."""
        timeout = self.k.settings.session.read_timeout_s
        identity = self.k.run(DeviceKind.IDENTITY_READER,
                              lambda: self.k.identity.read(timeout, mrz)).result()
        if self.staff_present:      # a citizen's read still waiting took the staff card
            raise SessionError("工作人员登录期间未读取您的证件，请重新读取",
                               "Your card was not read while staff signed in: read it again",
                               code="staff_card")
        session.identified(identity, self.now().date())
        # what the card settles alone (fixed, or the 户籍地 read to a county); else the
        # region step asks, or says the matter is unavailable for this applicant
        with contextlib.suppress(SessionError):
            self.settle_handling(session)
        return identity

    # --- the handling regions: the applicant's, settled before any document is taken ------
    def handling_proposal(self, session: Session) -> tuple[Proposal, ...]:
        """What the kiosk proposes for each party of the matter, from the card read."""
        return self.k.handling.propose(self._matter_of(session), session.identity)

    def settle_handling(self, session: Session, choices: Mapping[str, str] | None = None
                        ) -> tuple[ResolvedParty, ...]:
        """Resolve and route every party with the applicant's ``choices`` (role → county
        code). Raises RegionNotChosen, BadRegionChoice, or HandlingUnavailable (the matter
        cannot be taken for this applicant: the reason, the region's phone)."""
        parties = self.k.handling.resolve(self._matter_of(session), session.identity,
                                          choices or {}, self.now())
        session.settle_handling(parties)
        return parties

    @staticmethod
    def _matter_of(session: Session) -> Matter:
        if session.matter is None:
            raise SessionError("尚未选择事项", "No matter chosen yet", code="bad_step")
        return session.matter

    def capture(self, session: Session, material_id: str, replace: int | None = None) -> int:
        """One page of ``material_id``: camera still, codes read, sealed into the session
        (as page ``replace`` when it is a retake of that page)."""
        if not session.parties:    # the typed reason: a region to choose, or none to send to
            self.settle_handling(session)
        timeout = self.k.settings.session.capture_timeout_s
        page = self.k.run(DeviceKind.DOCUMENT_CAMERA,
                          lambda: self.k.camera.capture(timeout)).result()
        codes = tuple(self.k.barcode.decode(page.jpeg))
        page = CapturedPage(page.jpeg, page.width, page.height, page.dpi, page.quality, codes)
        if replace is not None:
            return session.replace_page(material_id, replace, page)
        return session.add_page(material_id, page)

    def submit(self, session: Session) -> Submitted:
        """The confirmed application: numbers (with their 受理中 ledger row, at once) →
        documents → seal → commit → print."""
        app = session.application
        if app is None:
            raise SessionError("尚未确认申请", "The application is not confirmed yet",
                               code="bad_step")
        if not app.parties:
            raise SessionError("办理地尚未确定", "The handling region is not settled yet",
                               code="bad_step")
        with self.k.disk.for_commit():   # the reserve: room for this even on a full disk
            return self._submit(session, app)

    def _submit(self, session: Session, app: Application) -> Submitted:
        k, now = self.k, self.now()
        kiosk, office = k.settings.kiosk, submission.office(k.settings)
        package_id = str(uuid.uuid4())
        numbers = submission.Numbers(*k.ledger.open_case(
            kiosk.id, now.date(), app.regions, lambda n, t: submission.ledger_row(
                app, kiosk, n, t, OPEN_STATE, now, package_id)))
        case_no = numbers.case_number
        receipt_blocks = forms.receipt_blocks(submission.receipt(app, office, numbers, now))
        receipt_pdf = k.renderer.pdf(receipt_blocks, title=f"受理(代收)通知书 {case_no}")
        slips = {region: k.renderer.pdf(forms.slip_blocks(slip), title="申请材料转办单")
                 for region, slip in submission.transfer_slips(app, kiosk, office, numbers,
                                                               now).items()}
        # 已代收待流转 (or 容缺待补) before the commit: a crash before it leaves a row recovery
        # marks 受理中断
        k.ledger.record(submission.ledger_row(app, kiosk, case_no, numbers.transfer_numbers,
                                              submission.committed_state(app), now, package_id),
                        tuple(Owed(a.requirement_id, a.material_name, a.deadline)
                              for a in submission.approved_rongque(app)),
                        applicant_key=(applicant := self.progress.applicant_key(app.identity)))
        self._remember_applicant(app, case_no, applicant)
        if self.hall is not None:      # the card's key under the hall secret (kiosk/hall)
            self.hall.remember(case_no, app.identity)
        materials = self._material_files(app, session.page_image)
        self._seal(app, package_id, numbers, materials, receipt_pdf, slips, now)
        session.submitted(case_no, numbers.transfer_numbers[0])
        log.info("case %s committed to the outbox as package %s", case_no, package_id)
        job = k.printing.job(f"receipt-{case_no}", "receipt", receipt_blocks)
        printed = k.printing.print(job)   # paper out: held, printed once after the refill
        if printed:   # held: still owed, so a restart before the refill reprints it
            k.outbox.receipt_printed(package_id)
        k.courier.uploader.nudge()
        session.receipt_printed()
        return Submitted(case_no, numbers.transfer_numbers, package_id,
                         k.renderer.png(receipt_blocks), receipt_pdf, job.escpos or b"",
                         printed)

    def _remember_applicant(self, app: Application, case_number: str, digest: str) -> None:
        """For a later 补正: the applicant's keyed hash (never the number), the situation and
        the delivery method, which the ledger's row does not keep."""
        with self.k.ledger.changing() as conn:
            remember_applicant(conn, case_number, digest, app.situation.code,
                               app.delivery.value)

    def notify(self, session: Session) -> Notified:
        """The correction notice: every missing or wrong item at once, printed and logged
        (its ledger rows, like a package, may use the disk's reserve)."""
        with self.k.disk.for_commit():
            return self._notify(session)

    def _notify(self, session: Session) -> Notified:
        correction = session.correction()
        k, now = self.k, self.now()
        kiosk = k.settings.kiosk
        number, _ = k.ledger.open_case(kiosk.id, now.date(), (), lambda n, t: (
            submission.ledger_row(correction, kiosk, n, t, OPEN_STATE, now)))
        blocks = forms.notice_blocks(submission.notice(correction, submission.office(k.settings),
                                                       number, now))
        session.notice_issued()
        session.notice_number = number
        k.ledger.record(submission.ledger_row(correction, kiosk, number, (), "一次性告知补正",
                                              now))
        # Not held for a refill like a receipt: the citizen has left by then, and the next
        # one would be handed a stranger's notice. The screen lists every item instead,
        # and staff reprint it by its number.
        printed = k.printing.print(k.printing.job(f"notice-{number}", "notice", blocks),
                                   hold=False)
        log.info("correction notice %s issued with %d items, %s", number,
                 len(correction.problems), "printed" if printed else "not printed: no paper")
        return Notified(number, k.renderer.png(blocks), k.renderer.pdf(blocks, "补正通知书"),
                        printed)

    def referral_slip(self, matter: Matter,
                      unavailable: HandlingUnavailable | None = None) -> bytes:
        """一次性告知: print where to go (a matter this kiosk cannot take, or cannot send to
        this applicant's region: ``unavailable``) or this kiosk's hours and when it opens
        (one it takes), with every material; return the PNG."""
        k, now = self.k, self.now()
        office = submission.office(k.settings)
        if unavailable is not None:
            slip = referral.region_slip(
                matter, office, now.date(), unavailable.zh,
                f"{unavailable.region_name}（{unavailable.label}）或本大厅人工窗口",
                unavailable.phone)
        elif matter.elsewhere is not None:
            slip = referral.referral_slip(matter, office, now.date())
        else:
            hours = k.settings.hours
            slip = referral.guide_slip(matter, office, now.date(), hours_text(hours),
                                       opening_text(hours, now))
        blocks = forms.referral_slip_blocks(slip)
        job = k.printing.job(f"guide-{matter.code}-{now:%H%M%S%f}", "referral_slip", blocks)
        if not k.printing.print(job, hold=False):   # not owed like a receipt: say so now
            raise SessionError(
                "打印纸已用完，办事指引未能打印。请记下屏幕上的指引，或联系工作人员。",
                "Out of paper: the guide slip was not printed. Please note the guide on the "
                "screen, or call staff.", code="slip_not_printed")
        return k.renderer.png(blocks)

    def deliver(self) -> list[str]:
        """One uploader pass now (the journey, tests); the kiosk also runs it on a thread."""
        delivered = self.k.courier.uploader.deliver_once()
        return list(dict.fromkeys(e.package_id for e in delivered))   # one per package

    def _seal(self, app: Application, package_id: str, numbers: submission.Numbers,
              materials: list[MaterialFile], receipt_pdf: bytes, slips: dict[str, bytes],
              now: datetime) -> None:
        """The package, streamed through the sealers into the outbox (durable on return)."""
        courier, settings = self.k.courier, self.k.settings
        signer = courier.signer()
        hours = settings.transfer.transfer_deadline_hours
        meta = PackageMeta(package_id, numbers.case_number, app.matter.code, courier.suite,
                           (now + timedelta(hours=hours)).astimezone(UTC))
        header = submission.manifest_header(app, settings.kiosk, numbers)
        seal = Seal(suite=cast(Suite, courier.suite),   # a settings Literal, checked again here
                    kiosk_id=signer.kiosk_id, key_id=signer.key_id)
        # to each party's route, with the key the directory gave for it
        seal_into_outbox(courier.outbox, signer, recipients(app.parties), meta,
                         lambda out: write_package(
                             out, package_id=package_id, header=header, materials=materials,
                             receipt_pdf=receipt_pdf, slip_pdfs=slips, received_at=now,
                             deadline_hours=hours, seal=seal))

    @staticmethod
    def _material_files(app: Application,
                        image: Callable[[StoredPage], bytes]) -> list[MaterialFile]:
        """One PDF per material, from the sealed page images (``image`` reads one back)."""
        files = []
        checked = app.assist.original if app.assist else (lambda _rid: None)
        for m in app.materials:
            item = m.item
            pdf = images_to_pdf([(image(p), p.width, p.height, p.dpi) for p in m.pages],
                                title=item.material.name) if m.pages else None
            files.append(MaterialFile(m.sequence, item.requirement_id, item.material.id,
                                      item.material.name, item.material.original.value,
                                      len(m.pages), pdf, item.deferred,
                                      checked(item.requirement_id) is not None))
        if app.mandate:       # 代办: the agent's 委托书, handed over and seen by staff
            pdf = images_to_pdf([(image(p), p.width, p.height, p.dpi) for p in app.mandate],
                                title=MANDATE_NAME)
            files.append(MaterialFile(len(files) + 1, MANDATE_ID, MANDATE_ID, MANDATE_NAME,
                                      "原件", len(app.mandate), pdf, False, True,
                                      MANDATE_CATEGORY))
        return files

"""One citizen's session: a state machine with an idle timeout that always ends in a wipe.

Steps (DESIGN §4): choose matter → guide → identify → capture → review → confirm (delivery
choice and commitment) → submitted (package in the outbox) → receipt → rating → ended.
An incomplete application goes review → notice (补正通知书) → rating → ended.
Cancel and idle timeout end the session from any step. Ending wipes the applicant's data
from this object and deletes the encrypted scratch folder.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum

from drivers.camera import CapturedPage
from drivers.identity import Identity
from kiosk.application import Application, CapturedMaterial, Contact, Correction, StoredPage
from kiosk.assist import AssistKind, AssistRecord
from kiosk.bus import EventBus
from kiosk.catalogue.model import DeliveryOption, Matter, Situation
from kiosk.checker import CheckResult, check
from kiosk.errors import SessionError
from kiosk.face_step import FaceCheck
from kiosk.rating import Rating, RatingReason, RatingRecord
from kiosk.routing.resolve import ResolvedParty
from kiosk.tempstore import SessionStore

SESSION_TOPIC = "session"


class Step(StrEnum):
    CHOOSE_MATTER = "choose_matter"
    GUIDE = "guide"
    IDENTIFY = "identify"
    CAPTURE = "capture"
    REVIEW = "review"
    CONFIRM = "confirm"
    SUBMITTED = "submitted"
    RECEIPT = "receipt"
    NOTICE = "notice"
    RATING = "rating"
    ENDED = "ended"


NEXT: dict[Step, frozenset[Step]] = {
    Step.CHOOSE_MATTER: frozenset({Step.GUIDE}),
    Step.GUIDE: frozenset({Step.CHOOSE_MATTER, Step.IDENTIFY}),
    Step.IDENTIFY: frozenset({Step.GUIDE, Step.CAPTURE}),
    Step.CAPTURE: frozenset({Step.REVIEW}),
    Step.REVIEW: frozenset({Step.CAPTURE, Step.CONFIRM, Step.NOTICE}),
    Step.CONFIRM: frozenset({Step.REVIEW, Step.SUBMITTED}),
    Step.SUBMITTED: frozenset({Step.RECEIPT}),
    Step.RECEIPT: frozenset({Step.RATING}),
    Step.NOTICE: frozenset({Step.RATING}),
    Step.RATING: frozenset({Step.ENDED}),
    Step.ENDED: frozenset(),
}


class EndReason(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"


__all__ = ["NEXT", "Contact", "EndReason", "Rating", "RatingReason", "RatingRecord", "Session",
           "Step", "StoredPage"]


class Session:
    def __init__(self, bus: EventBus, store: SessionStore, clock: Callable[[], float],
                 idle_timeout_s: float, idle_warning_s: float) -> None:
        self.id = secrets.token_hex(6)
        self._bus, self._store, self._clock = bus, store, clock
        self._idle_timeout, self._idle_warning = idle_timeout_s, idle_warning_s
        self._last_touch = clock()
        self._warned = False
        self.step = Step.CHOOSE_MATTER
        self.end_reason: EndReason | None = None
        self.rating: RatingRecord | None = None     # not applicant data: kept after the end
        self.on_rated: Callable[[Session], None] | None = None   # keeps it (kiosk/evaluation)
        self._clear_applicant()

    # --- the applicant's data: everything here is wiped at the end -----------------------
    def _clear_applicant(self) -> None:
        self.matter: Matter | None = None
        self.situation: Situation | None = None
        self.identity: Identity | None = None
        self.pages: dict[str, list[StoredPage]] = {}
        self.commitments: set[str] = set()
        self.result: CheckResult | None = None
        self.delivery: DeliveryOption | None = None
        self.contact: Contact | None = None
        self.case_number: str | None = None
        self.notice_number: str | None = None           # the 补正告知 given instead of a case
        self.transfer_number: str | None = None
        self.application: Application | None = None     # frozen at confirm
        self.assist: AssistRecord | None = None   # staff mode's part (kiosk/staff/casework.py)
        self.mandate: list[StoredPage] = []       # 代办: the 委托书's pages
        self.parties: tuple[ResolvedParty, ...] = ()     # handling regions, settled per applicant
        self.face: FaceCheck | None = None        # 人证核验's evidence (kiosk/face_step.py)
        self.face_pending = False                 # begun and not cleared: nothing is taken

    def applicant_data_present(self) -> bool:
        """True while anything about the applicant is held (used by tests and diagnostics)."""
        return any((self.matter, self.identity, self.pages, self.commitments, self.result,
                    self.contact, self.case_number, self.application, self.assist,
                    self.mandate, self.face)) \
            or not self._store.wiped

    # --- steps ---------------------------------------------------------------------------
    def choose_matter(self, matter: Matter, situation_code: str | None = None) -> None:
        self._go(Step.GUIDE)
        self.matter = matter
        self.situation = matter.situation(situation_code)

    def choose_situation(self, code: str) -> None:
        self._expect(Step.GUIDE)
        self.touch()
        self.situation = self._require_matter().situation(code)

    def back_to_matters(self) -> None:
        """Back from the guide to the matter list: the choice is forgotten."""
        self._go(Step.CHOOSE_MATTER)
        self.matter = self.situation = None

    def start_identify(self) -> None:
        self._go(Step.IDENTIFY)

    def back_to_guide(self) -> None:
        self._go(Step.GUIDE)

    def identified(self, identity: Identity, today: date) -> None:
        """Accept the document read, or refuse it (the session stays at IDENTIFY)."""
        self._expect(Step.IDENTIFY)
        self.touch()
        if identity.is_expired(today):
            raise SessionError("证件已过有效期，请使用有效证件，或到人工窗口办理",
                               "The document has expired: use a valid one or go to a window",
                               code="document_expired")
        self.identity = identity
        self._go(Step.CAPTURE)

    def settle_handling(self, parties: tuple[ResolvedParty, ...]) -> None:
        """The handling regions for this applicant (kiosk/routing/resolve.py): settled after
        the card is read and before any document is taken."""
        self._expect(Step.CAPTURE)
        if self.pages or self.commitments:
            raise SessionError("材料已开始拍摄，不能再更改办理地",
                               "Documents are already being taken: the handling region can "
                               "no longer change", code="bad_step")
        self.touch()
        self.parties = parties

    def begin_face(self) -> None:
        """人证核验 starts (after the card read, before any material): until it is cleared
        (a pass, or staff by sight) no page is taken."""
        self._expect(Step.CAPTURE)
        if self.pages:
            raise SessionError("材料已开始拍摄，不能再进行人证核验",
                               "Documents are already being taken", code="bad_step")
        self.touch()
        self.face_pending = self.face is None or not self.face.cleared

    def record_face(self, check: FaceCheck) -> None:
        self._expect(Step.CAPTURE)
        self.touch()
        self.face = check
        self.face_pending = not check.cleared

    def add_page(self, material_id: str, page: CapturedPage) -> int:
        """Keep a captured page (sealed on disk); return its number within the material."""
        self._expect(Step.CAPTURE)
        if self.face_pending:
            raise SessionError("请先完成人证核验", "Finish the face check first",
                               code="face_pending")
        self.touch()
        ref = self._store.put(page.jpeg)
        stored = StoredPage(ref, page.width, page.height, page.dpi, page.quality, page.barcodes)
        self.pages.setdefault(material_id, []).append(stored)
        return len(self.pages[material_id])

    def replace_page(self, material_id: str, number: int, page: CapturedPage) -> int:
        """A retake: page ``number`` of the material becomes ``page``; the others keep their
        numbers. Returns ``number``."""
        self._expect(Step.CAPTURE)
        self.touch()
        kept = self.pages.get(material_id, [])
        if not 1 <= number <= len(kept):
            raise SessionError(f"没有第 {number} 页可以重拍", f"No page {number} to retake",
                               code="no_such_page")
        ref = self._store.put(page.jpeg)
        kept[number - 1] = StoredPage(ref, page.width, page.height, page.dpi, page.quality,
                                      page.barcodes)
        return number

    def remove_page(self, material_id: str, number: int) -> None:
        self._expect(Step.CAPTURE)
        self.touch()
        del self.pages[material_id][number - 1]
        if not self.pages[material_id]:
            del self.pages[material_id]

    def page_image(self, page: StoredPage) -> bytes:
        return self._store.get(page.ref)

    def commit_deferral(self, requirement_id: str) -> None:
        """The applicant signs the 容缺 commitment for a deferrable requirement."""
        self.touch()
        self.commitments.add(requirement_id)

    def commit_rongque(self, requirement_id: str, at: datetime) -> None:
        """The applicant taps 承诺 for a 容缺 item a window staff member approved."""
        approval = self.assist.approval(requirement_id) if self.assist else None
        if self.assist is None or approval is None:
            raise SessionError("该材料未经工作人员审批容缺受理，不能承诺后补",
                               "No staff approval of 容缺 for this material", code="not_approved")
        self.assist = self.assist.with_approval(replace(approval, committed_at=at))
        self.commit_deferral(requirement_id)

    def add_mandate_page(self, page: CapturedPage) -> int:
        """代办: a page of the 委托书 from the document camera (sealed like a material's)."""
        if self.assist is None or self.assist.kind is not AssistKind.PROXY:
            raise SessionError("只有代办时才采集委托书", "A 委托书 is taken for a 代办 only",
                               code="not_proxy")
        if self.step not in (Step.CAPTURE, Step.REVIEW):
            raise SessionError("当前步骤不能进行此操作", f"No 委托书 at step {self.step}",
                               code="bad_step")
        self.touch()
        self.mandate.append(StoredPage(self._store.put(page.jpeg), page.width, page.height,
                                       page.dpi, page.quality, page.barcodes))
        return len(self.mandate)

    def review(self) -> CheckResult:
        if self.face_pending:
            raise SessionError("请先完成人证核验", "Finish the face check first",
                               code="face_pending")
        self._go(Step.REVIEW)
        return self.recheck()

    def recheck(self) -> CheckResult:
        """Check again at the review step (after a 容缺 commitment was signed)."""
        self._expect(Step.REVIEW)
        self.touch()
        situation = self._require_situation()
        quality = {mid: [p.quality for p in pages] for mid, pages in self.pages.items()}
        approved = self.assist.approved_ids() if self.assist else frozenset()
        self.result = check(situation, quality, self.commitments, approved)
        return self.result

    def back_to_review(self) -> None:
        """From the confirmation back to the delivery choice (review step)."""
        self._go(Step.REVIEW)

    def back_to_capture(self) -> None:
        self._go(Step.CAPTURE)

    def confirm(self, delivery: DeliveryOption, contact: Contact) -> None:
        if self.result is None or not self.result.accepted:
            raise SessionError("材料不齐全，不能提交", "Materials incomplete: cannot submit",
                               code="incomplete")
        if delivery not in self._require_matter().delivery_options:
            raise SessionError("该事项不支持此送达方式", "Delivery option not offered",
                               code="bad_delivery")
        if delivery is DeliveryOption.POST and not contact.address:
            raise SessionError("邮寄需要填写收件地址", "Delivery by post needs an address",
                               code="address_required")
        self._go(Step.CONFIRM)
        self.delivery, self.contact = delivery, contact
        self.application = self._freeze(delivery, contact)

    def correction(self) -> Correction:
        """What the correction notice is made of (review found items missing or wrong)."""
        if self.result is None or self.result.accepted or self.identity is None:
            raise SessionError("没有需要补正的材料", "Nothing to correct", code="no_notice")
        return Correction(self._require_matter(), self.identity, self.contact,
                          self.result.items, self.result.problems, self.assist,
                          self.parties)

    def submitted(self, case_number: str, transfer_number: str) -> None:
        self._go(Step.SUBMITTED)
        self.case_number, self.transfer_number = case_number, transfer_number

    def receipt_printed(self) -> None:
        self._go(Step.RECEIPT)

    def notice_issued(self) -> None:
        if self.result is None or self.result.accepted:
            raise SessionError("没有需要补正的材料", "Nothing to correct", code="no_notice")
        self._go(Step.NOTICE)

    def rate(self, rating: Rating) -> None:
        if self.rating is not None:
            raise SessionError("每次办件只能评价一次", "One rating per transaction",
                               code="already_rated")
        self._go(Step.RATING)
        self.rating = RatingRecord(rating)
        self._rated()

    def explain_rating(self, reasons: tuple[RatingReason, ...], comment: str = "",
                       staff_may_contact: bool | None = None) -> None:
        """Why a bad rating was given, and whether staff may call back (好差评 follow-up)."""
        self._expect(Step.RATING)
        if self.rating is None or not self.rating.level.is_bad:
            raise SessionError("只有不满意的评价需要说明原因",
                               "Only a dissatisfied rating takes reasons", code="bad_step")
        self.touch()
        self.rating = self.rating.explained(reasons, comment, staff_may_contact)
        self._rated()

    def _rated(self) -> None:
        if self.on_rated is not None:
            self.on_rated(self)

    def finish(self) -> None:
        if self.step not in (Step.RECEIPT, Step.NOTICE, Step.RATING):
            raise SessionError("办理尚未完成", f"Nothing finished at step {self.step}",
                               code="bad_step")
        self._end(EndReason.COMPLETED)

    def cancel(self) -> None:
        self._end(EndReason.CANCELLED)

    # --- idle ----------------------------------------------------------------------------
    def touch(self) -> None:
        self._last_touch = self._clock()
        self._warned = False

    def tick(self) -> float | None:
        """Advance the idle timer: returns seconds left in the warning, or None."""
        if self.step is Step.ENDED:
            return None
        idle = self._clock() - self._last_touch
        if idle >= self._idle_timeout + self._idle_warning:
            self._end(EndReason.TIMEOUT)
            return None
        if idle >= self._idle_timeout:
            left = self._idle_timeout + self._idle_warning - idle
            if not self._warned:
                self._warned = True
                self._bus.publish(f"{SESSION_TOPIC}.idle_warning", {"seconds_left": left})
            return left
        return None

    # --- internals -----------------------------------------------------------------------
    def _freeze(self, delivery: DeliveryOption, contact: Contact) -> Application:
        assert self.result is not None and self.identity is not None
        materials = tuple(
            CapturedMaterial(seq, item, tuple(self.pages.get(item.material.id, ())))
            for seq, item in enumerate(self.result.items, start=1))
        return Application(self._require_matter(), self._require_situation(), self.identity,
                           contact, delivery, materials, tuple(sorted(self.commitments)),
                           self.assist, tuple(self.mandate), self.parties, self.face)

    def _go(self, step: Step) -> None:
        if step not in NEXT[self.step]:
            raise SessionError("当前步骤不能进行此操作", f"Cannot go from {self.step} to {step}",
                               code="bad_step")
        self.touch()
        self.step = step
        self._bus.publish(f"{SESSION_TOPIC}.step", {"session": self.id, "step": step.value})

    def _expect(self, step: Step) -> None:
        if self.step is not step:
            raise SessionError("当前步骤不能进行此操作", f"Not at step {step} (at {self.step})",
                               code="bad_step")

    def _end(self, reason: EndReason) -> None:
        if self.step is Step.ENDED:
            return
        self.step, self.end_reason = Step.ENDED, reason
        self._clear_applicant()
        self._store.wipe()
        self._bus.publish(f"{SESSION_TOPIC}.ended", {"session": self.id, "reason": reason.value})

    def _require_matter(self) -> Matter:
        if self.matter is None:
            raise SessionError("尚未选择事项", "No matter chosen", code="bad_step")
        return self.matter

    def _require_situation(self) -> Situation:
        if self.situation is None:
            raise SessionError("尚未选择情形", "No situation chosen", code="bad_step")
        return self.situation

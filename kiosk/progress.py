"""进度查询 at the kiosk: find a case by its receipt's code or by the applicant's ID card, show
its timeline (kiosk/case_timeline.py), and keep the second 好差评 once it is decided.

The receipt's QR holds the case number and nothing else (kiosk/documents/forms.py: the
receipt's ``Codes``), its CODE128 the same 21 digits without dashes: a code is one of those
two, whole, with a good check digit, or it is not ours. The ID card finds the cases recorded
with the same keyed hash of the document number (kiosk/applicant_key.py); the card itself is
dropped as soon as the hash is made.

This kiosk's ledger first; then, when the hall case index runs (kiosk/hall, ``HallCases``),
the cases other kiosks of the hall received (docs/progress-lookup.md, Hall-wide)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from drivers.identity import Identity, MrzKey
from kiosk import correction, submission
from kiosk.applicant_key import applicant_key, load_secret
from kiosk.bootstrap import Kiosk
from kiosk.case_timeline import DECIDED, MEANING, PICKUP, Details, Step, pickup, timeline
from kiosk.caseno import is_valid_case_number
from kiosk.casestatus.event import ZH
from kiosk.casestatus.store import StatusStore
from kiosk.devices.kinds import DeviceKind
from kiosk.documents import forms
from kiosk.documents.model import LedgerRow
from kiosk.errors import KioskError, SessionError
from kiosk.evaluation.record import Evaluation
from kiosk.rating import Rating, RatingReason
from kiosk.region_notice import REQUESTED, relayed_notice, requested

log = logging.getLogger(__name__)
CODE_MAX = 64            # characters of a scanned code looked at: a case number is 25
_DASHED = re.compile(r"\d{6}-\d{4}-\d{6}-\d{4}-\d")
_PLAIN = re.compile(r"\d{21}")
SECOND = 2               # 评价次数 of the rating after the result (GB/T 39046 table 9)


class ProgressError(KioskError):
    code = "progress_error"


class CaseDetails(Protocol):
    """Where the handling regions' details of each state are kept (the status events' store)."""

    def details(self, case_number: str) -> Details: ...


class StoredDetails:
    """The details of each state, from the status events applied to the ledger
    (kiosk/casestatus/store.py); a state reached twice shows its newest event's."""

    def __init__(self, store: StatusStore) -> None:
        self.store = store

    def details(self, case_number: str) -> Details:
        return {ZH[applied.state]: applied.details for applied in
                self.store.events_of(case_number)}


class HallCases(Protocol):
    """The other kiosks of the hall's cases (kiosk/hall/service.py)."""

    def view(self, number: str) -> CaseView | None: ...
    def lines(self, identity: Identity) -> list[CaseLine]: ...


@dataclass(frozen=True)
class CaseLine:
    """One of a person's cases in a list: no name, no number of theirs."""

    number: str
    matter_name: str
    matter_name_en: str
    received_at: datetime
    state: str
    kiosk: str = ""                     # received by another kiosk of the hall: its id


@dataclass(frozen=True)
class CaseView:
    number: str
    matter_name: str
    matter_name_en: str
    applicant_masked: str
    received_at: datetime
    state: str                          # the newest
    steps: tuple[Step, ...]
    pickup: tuple[str, str] | None      # where and when to collect, while it waits there
    rating: str | None                  # the second rating's level, once given
    can_rate: bool                      # decided, and not rated a second time yet
    correctable: bool = False           # 需补正, deadline not passed: 补正 may start here
    correction_closed: tuple[str, str] | None = None   # 需补正, but why not here (zh, en)
    kiosk: str = ""                     # received by another kiosk of the hall: its id
    # each state's details from the region's verified events (the 需补正 notice is printed
    # from them: kiosk/region_notice.py)
    details: Details = field(default_factory=lambda: MappingProxyType({}))

    @property
    def notice_to_print(self) -> bool:
        """需补正 with the items the region named: its notice can be printed here."""
        return self.state == REQUESTED and requested(self.details) is not None


def case_in_code(text: str) -> str | None:
    """The case number a receipt's QR (dashed) or CODE128 (21 digits) holds; None for any
    other code — a URL, a payment code, a number with a wrong check digit."""
    if len(text) > CODE_MAX:
        return None
    text = text.strip()
    if _PLAIN.fullmatch(text):
        text = f"{text[:6]}-{text[6:10]}-{text[10:16]}-{text[16:20]}-{text[20]}"
    if not _DASHED.fullmatch(text) or not is_valid_case_number(text):
        return None
    return text


class ProgressDesk:
    def __init__(self, kiosk: Kiosk, now: Callable[[], datetime],
                 details: CaseDetails | None = None,
                 staff_present: Callable[[], bool] = lambda: False,
                 hall: HallCases | None = None) -> None:
        """``staff_present``: staff mode is open, so a card on the reader is theirs;
        ``hall``: the hall case index, when it runs."""
        self.k, self.now, self.staff_present, self.hall = kiosk, now, staff_present, hall
        # the regions' details of each state: the status events' store by default
        self.details = details if details is not None else StoredDetails(
            kiosk.case_status.store)
        self._secret: bytes | None = None

    def applicant_key(self, identity: Identity) -> str:
        """The keyed hash the ledger keeps with a case (written at submission)."""
        if self._secret is None:
            self._secret = load_secret(self.k.settings.paths.data_dir)
        return applicant_key(self._secret, identity)

    # --- finding ---------------------------------------------------------------------------
    def by_code(self, text: str) -> CaseView:
        number = case_in_code(text)
        if number is None:
            raise ProgressError("这不是本大厅受理回执上的二维码，请扫描回执下方的二维码",
                                "This is not the QR code of a receipt from this hall: scan "
                                "the code at the bottom of your receipt", code="foreign_code")
        return self.view(number)

    def scan(self) -> CaseView:
        """A still of the document camera; the receipt's code in it, strictly."""
        timeout = self.k.settings.session.capture_timeout_s
        page = self.k.run(DeviceKind.DOCUMENT_CAMERA,
                          lambda: self.k.camera.capture(timeout)).result()
        codes = [code.text for code in self.k.barcode.decode(page.jpeg)]
        if not codes:
            raise ProgressError("没有读到二维码，请将回执平放在拍摄区，二维码朝上",
                                "No code was read: lay the receipt flat, code up",
                                code="no_code")
        ours = [c for c in codes if case_in_code(c) is not None]
        return self.by_code(ours[0] if ours else codes[0])

    def cases_of_card(self, mrz: MrzKey | None = None) -> list[CaseLine]:
        """Read the card, keep only its keyed hash, list this kiosk's cases of that person."""
        timeout = self.k.settings.session.read_timeout_s
        identity = self.k.run(DeviceKind.IDENTITY_READER,
                              lambda: self.k.identity.read(timeout, mrz)).result()
        if self.staff_present():    # a citizen's read still waiting took the staff card
            raise ProgressError("工作人员登录期间未读取您的证件，请重新读取",
                                "Your card was not read while staff signed in: read it again",
                                code="staff_card")
        key = self.applicant_key(identity)
        elsewhere = self.hall.lines(identity) if self.hall is not None else []
        del identity
        rows = [r for r in self.k.ledger.cases_of(key) if r.package_id] if key else []
        if not rows and not elsewhere:
            raise ProgressError("本机没有查到您的办件。其他终端或窗口受理的，请到人工窗口查询",
                                "No case of yours was found on this kiosk. For one received "
                                "elsewhere, please ask at a window", code="no_cases")
        return sorted([CaseLine(r.case_number, r.matter_name, self._name_en(r), r.time, r.state)
                       for r in rows] + elsewhere, key=lambda c: c.received_at, reverse=True)

    def view(self, number: str) -> CaseView:
        row = self.k.ledger.find(number)
        if row is None:
            found = self.hall.view(number) if self.hall is not None else None
            if found is not None:
                return found
            raise self._unknown(number)
        details = self.details.details(number) if self.details is not None else {}
        steps = tuple(timeline(self.k.ledger, number, self.k.outbox, details))
        state = row.state
        waiting = pickup(details.get(PICKUP, {})) if state == PICKUP else None
        second = [e for e in self._ratings(number) if e.round == SECOND]
        decided = any(s.state in DECIDED for s in steps)
        return CaseView(number, row.matter_name, self._name_en(row), row.applicant_masked,
                        row.time, state, steps,
                        waiting, second[0].level if second else None, decided and not second,
                        *self._correction(number, state), details=details)

    def _correction(self, number: str, state: str) -> tuple[bool, tuple[str, str] | None]:
        """Whether a 补正 may start here (kiosk/correction.py: asked for, deadline not passed)
        and, while the case is 需补正 but it may not, why (the deadline passed, …)."""
        if state != correction.WAITING_STATE:
            return False, None
        try:
            correction.find_case(self.k.case_status.store, number, self.now().date())
        except SessionError as refused:
            return False, (refused.zh, refused.en)
        return True, None

    def _name_en(self, row: LedgerRow) -> str:
        """The matter's English name from the catalogue (the ledger keeps the Chinese)."""
        try:
            return self.k.catalogue.matter(row.matter_code).name_en or row.matter_name
        except KeyError:
            return row.matter_name

    def _unknown(self, number: str) -> ProgressError:
        here = self.k.settings.kiosk.id.replace("-", "")
        if not number.replace("-", "").startswith(here):
            return ProgressError("该回执由其他终端受理，本机暂不能查询，请到人工窗口查询",
                                 "This receipt was issued by another kiosk: this one cannot "
                                 "look it up yet; please ask at a window", code="other_kiosk")
        return ProgressError("本机台账中没有该受理编号", "No such case in this kiosk's ledger",
                             code="unknown_case")

    def _ratings(self, number: str) -> list[Evaluation]:
        return self.k.evaluations.for_number(number)

    # --- the second rating -----------------------------------------------------------------
    def print_notice(self, view: CaseView) -> bool:
        """The region's 补正通知书 for a 需补正 case, relayed on paper; False when the printer
        could not print it (never held for later: the next citizen would get it)."""
        asked = [s.time.date() for s in view.steps if s.state == REQUESTED]
        notice = relayed_notice(view.number, view.matter_name, view.applicant_masked,
                                view.received_at.date(), view.details,
                                submission.office(self.k.settings),
                                asked[-1] if asked else self.now().date())
        if notice is None:
            raise ProgressError("办理地没有列出需补正的材料，请到人工窗口咨询",
                                "The handling region listed no materials to add: please ask "
                                "at a window", code="no_notice")
        printing = self.k.printing
        printed = printing.print(printing.job(f"region-notice-{view.number}", "notice",
                                              forms.notice_blocks(notice)), hold=False)
        log.info("the region's correction notice for a case relayed with %d items, %s",
                 len(notice.items), "printed" if printed else "not printed")
        return printed

    def rate(self, number: str, level: Rating) -> CaseView:
        """评价次数 2, kept at once (uploaded by the evaluation uploader). Once per case."""
        view = self.view(number)
        if view.rating is not None:
            raise ProgressError("该办件已评价，感谢您的评价", "This case has already been "
                                "rated: thank you", code="already_rated")
        if not view.can_rate:
            raise ProgressError("办结后才能评价", "A case can be rated once it is decided",
                                code="not_decided")
        row = self.k.ledger.find(number)
        assert row is not None
        now = self.now()
        self.k.evaluations.keep(self._evaluation(row, level, now), now)
        self.k.wake_evaluation_upload()
        return self.view(number)

    def explain(self, number: str, reasons: tuple[RatingReason, ...],
                staff_may_contact: bool | None) -> None:
        """Why a bad second rating was given, and whether staff may call back: the same
        rating id, so it replaces the unsent record or follows the sent one (the store)."""
        second = [e for e in self._ratings(number) if e.round == SECOND]
        if not second or not second[0].rating.is_bad:
            raise ProgressError("只有不满意的评价需要说明原因",
                                "Only a dissatisfied rating takes reasons", code="bad_step")
        now = self.now()
        self.k.evaluations.keep(replace(
            second[0], reasons=tuple(RatingReason(r).value for r in dict.fromkeys(reasons)),
            staff_may_contact=staff_may_contact), now)
        self.k.wake_evaluation_upload()

    def _evaluation(self, row: LedgerRow, level: Rating, now: datetime) -> Evaluation:
        kiosk = self.k.settings.kiosk
        try:
            promised = self.k.catalogue.matter(row.matter_code).time_limits.promised_days
        except KeyError:          # the matter left the catalogue since: the rating still counts
            promised = 0
        return Evaluation(
            rating_id=f"{kiosk.id}-{row.case_number}-{SECOND}", kiosk_id=kiosk.id,
            area_code=kiosk.region_code, org_code=kiosk.org_code, department=kiosk.department,
            matter_code=row.matter_code, matter_name=row.matter_name, case_type=row.case_type,
            promised_days=promised, number=row.case_number, outcome="received", round=SECOND,
            level=level.value, reasons=(), comment="", staff_may_contact=None,
            rated_at=now.astimezone().isoformat(timespec="seconds"))


def state_words(state: str) -> tuple[str, str]:
    """A ledger state as the applicant reads it (zh, en)."""
    return MEANING.get(state, (state, state))

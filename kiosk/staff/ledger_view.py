"""The 台账 view (issue 21): the ledger's rows listed and filtered (date range, state, scope),
masked as the export masks them (kiosk/staff/ledger_export.py: the same mask functions over
the same rows), and per case its 审批流程登记卡 and 申请材料转办单 (kiosk/documents/
staff_forms.py) as PDF.

A case number typed by a person (the shell, a staff screen) is read by
:func:`parse_case_number`: full-width digits and any dash are accepted, spaces dropped, the
Damm check digit verified — a mistyped digit is told as such, not as "no such case".
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from kiosk.caseno import is_valid_case_number
from kiosk.casestatus.event import ZH
from kiosk.catalogue.model import Matter
from kiosk.documents import Renderer
from kiosk.documents.blocks import Block
from kiosk.documents.model import LedgerRow
from kiosk.documents.staff_forms import (
    RegistrationCard,
    SlipCopy,
    Stage,
    registration_card_blocks,
    slip_copy_blocks,
)
from kiosk.ledger import Ledger
from kiosk.privacy import mask_name, mask_phone
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_export import check_range
from kiosk.staff.roles import Action
from kiosk.staff.session import StaffSession
from kiosk.transfer.outbox import OutboxEntry, State

MAX_INPUT = 64
SHOWN = 200                        # rows a screen lists (newest first); the count is of all
_DASHES = "-‐‑‒–—―－﹣−"
# the case went out complete: its state then, or any the handling region moved it to since
DONE_STATES = ("已代收待流转", "已流转", "已送达", *ZH.values())


class Form(StrEnum):
    REGISTRATION = "registration"     # 审批流程登记卡
    TRANSFER = "transfer"             # 申请材料转办单


FORM_TITLES = {Form.REGISTRATION: "审批流程登记卡", Form.TRANSFER: "申请材料转办单"}


@dataclass(frozen=True)
class Filter:
    first: date
    last: date
    state: str | None = None          # None: any
    scope: str | None = None          # 通办类型; None: any

    def admits(self, row: LedgerRow) -> bool:
        return ((self.state is None or row.state == self.state)
                and (self.scope is None or row.scope == self.scope))


@dataclass(frozen=True)
class ViewRow:
    """One line of the list, masked."""

    case_number: str
    time: datetime
    matter_name: str
    applicant: str
    phone: str
    state: str
    scope: str
    regions: str
    count: int


@dataclass(frozen=True)
class ViewPage:
    rows: tuple[ViewRow, ...]         # newest first, at most SHOWN
    total: int                        # every row the filter admits
    states: tuple[str, ...]           # the states and scopes seen in the date range: the
    scopes: tuple[str, ...]           # filter buttons offer these


def masked(row: LedgerRow) -> ViewRow:
    return ViewRow(row.case_number, row.time, row.matter_name, mask_name(row.applicant_masked),
                   mask_phone(row.phone_masked), row.state, row.scope, row.regions, row.count)


def view(ledger: Ledger, flt: Filter, shown: int = SHOWN) -> ViewPage:
    """Rows of the range that the filter admits. Raises StaffError (bad_dates) for a range
    the export would refuse (backwards, or over 366 days)."""
    check_range(flt.first, flt.last)
    kept: deque[ViewRow] = deque(maxlen=shown)
    total, states, scopes = 0, set(), set()
    for row in ledger.between(flt.first, flt.last):
        states.add(row.state)
        scopes.add(row.scope)
        if flt.admits(row):
            total += 1
            kept.append(masked(row))
    return ViewPage(tuple(reversed(kept)), total, tuple(sorted(states)), tuple(sorted(scopes)))


def parse_case_number(text: str) -> str:
    """A case number as typed → its grouped form, or StaffError (bad_case_number)."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise _bad("受理编号过长", "the case number is too long")
    plain = unicodedata.normalize("NFKC", text)
    digits = "".join(ch for ch in plain if ch not in _DASHES and not ch.isspace())
    if not (digits.isascii() and digits.isdigit() and len(digits) == 21):
        raise _bad("受理编号应为 21 位数字（如 510802-0001-261121-0042-6）",
                   "a case number has 21 digits (e.g. 510802-0001-261121-0042-6)")
    if not is_valid_case_number(digits):
        raise _bad("受理编号校验位不符，可能有一位抄错了", "the case number's check digit "
                   "does not match: a digit may be mistyped")
    return f"{digits[:6]}-{digits[6:10]}-{digits[10:16]}-{digits[16:20]}-{digits[20]}"


def parse_form(text: str) -> Form:
    try:
        return Form(text)
    except ValueError:
        raise StaffError("表单应为 registration（审批流程登记卡）或 transfer（申请材料转办单）",
                         "--form is registration or transfer", code="bad_argument") from None


def find_case(ledger: Ledger, text: str) -> LedgerRow:
    number = parse_case_number(text)
    row = ledger.find(number)
    if row is None:
        raise StaffError(f"台账中没有受理编号 {number}", f"no case {number} in the ledger",
                         code="no_such_case")
    return row


def view_as(session: StaffSession, ledger: Ledger, flt: Filter) -> ViewPage:
    """The list, for a signed-in staff member: one audit entry (the filter, the count)."""
    shown: list[ViewPage] = []

    def run() -> dict[str, Any]:
        shown.append(view(ledger, flt))
        return {"from": flt.first.isoformat(), "to": flt.last.isoformat(),
                "state": flt.state, "scope": flt.scope, "rows": min(shown[0].total, 99_999)}
    session.perform(Action.LEDGER_VIEW, run)
    return shown[0]


def card_as(session: StaffSession, renderer: Renderer, form: Form, row: LedgerRow, hall: Hall,
            deliveries: Iterable[OutboxEntry], now: datetime) -> bytes:
    """A case's form as PDF, for a signed-in staff member: one audit entry (case, form)."""
    made: list[bytes] = []

    def run() -> dict[str, Any]:
        made.append(card_pdf(renderer, form, row, hall, deliveries, now))
        return {"form": form.value}
    session.perform(Action.LEDGER_VIEW, run, case=row.case_number)
    return made[0]


def _bad(zh: str, en: str) -> StaffError:
    return StaffError(zh, en, code="bad_case_number")


@dataclass(frozen=True)
class Hall:
    """What the forms need of the kiosk: its id, its department (接件单位), its matters and
    the case's deliveries (outbox entries for the case)."""

    kiosk_id: str
    department: str
    matters: dict[str, Matter]


def card_blocks(form: Form, row: LedgerRow, hall: Hall, deliveries: Iterable[OutboxEntry],
                now: datetime) -> list[Block]:
    sent = [d for d in deliveries if d.case_number == row.case_number]
    if form is Form.REGISTRATION:
        return registration_card_blocks(registration_card(row, hall, sent, now))
    blocks: list[Block] = []
    for slip in slip_copies(row, hall, sent, now):
        blocks += slip_copy_blocks(slip)
    return blocks


def card_pdf(renderer: Renderer, form: Form, row: LedgerRow, hall: Hall,
             deliveries: Iterable[OutboxEntry], now: datetime) -> bytes:
    return renderer.pdf(card_blocks(form, row, hall, deliveries, now),
                        title=f"{FORM_TITLES[form]} {row.case_number}")


def registration_card(row: LedgerRow, hall: Hall, sent: list[OutboxEntry],
                      now: datetime) -> RegistrationCard:
    matter = hall.matters.get(row.matter_code)
    promised = (f"{matter.time_limits.promised_days} 个工作日" if matter is not None else "—")
    staff = f"{row.staff}（{row.window}）"
    received = Stage("收件", row.time, row.time, "材料齐全，已代收" if row.state in DONE_STATES
                     else row.state, staff)
    return RegistrationCard(row.matter_name, mask_name(row.applicant_masked),
                            mask_phone(row.phone_masked), row.case_number, promised, row.time,
                            (received, _transfer_stage(row, sent, staff), Stage("办理"),
                             Stage("送达")), now, hall.kiosk_id)


def _transfer_stage(row: LedgerRow, sent: list[OutboxEntry], staff: str) -> Stage:
    if not sent:
        return Stage("流转", opinion="无电子转送记录" if row.transfer_numbers else "")
    started = min(d.created_at for d in sent)
    done = [d for d in sent if d.state is State.DELIVERED and d.delivered_at is not None]
    finished = max(d.delivered_at for d in done if d.delivered_at) if len(done) == len(sent) \
        else None
    opinion = (f"已推送至办理地（{len(sent)} 处）" if finished else
               f"推送中：{len(done)}/{len(sent)} 处已送达")
    return Stage("流转", started.astimezone(), finished.astimezone() if finished else None,
                 opinion, staff)


def slip_copies(row: LedgerRow, hall: Hall, sent: list[OutboxEntry],
                now: datetime) -> list[SlipCopy]:
    matter = hall.matters.get(row.matter_code)
    # a fixed party names its region here; the applicant's own (issue 23) only in the row
    regions = tuple(p.region for p in matter.handling if p.region is not None) \
        if matter is not None else ()
    numbers = [n for n in row.transfer_numbers.split(",") if n]
    if not numbers:             # a correction notice's case, or one stopped before transfer
        raise StaffError(f"受理编号 {row.case_number} 没有转办记录（材料未转送办理地）",
                         f"case {row.case_number} was never transferred: it has no 转办单",
                         code="no_transfer")
    slips = []
    for number in numbers:       # XT + sender + receiver division code + … (kiosk/caseno.py)
        region = next((r for r in regions if number[8:14] == r.code), None)
        # the outbox names the route that carried it (the region's, its city's, an
        # exchange's): with one receiver, its deliveries are this slip's
        delivered = [d.delivered_at for d in sent if d.delivered_at is not None
                     and (d.region == number[8:14] or len(numbers) == 1)]
        slips.append(SlipCopy(
            number, row.case_number, row.matter_name,
            f"{region.code} {region.name}" if region else row.regions,
            region.department if region else row.department, row.count,
            mask_name(row.applicant_masked), mask_phone(row.phone_masked), row.time,
            hall.department, hall.kiosk_id,
            delivered[0].astimezone() if delivered else None, now))
    return slips

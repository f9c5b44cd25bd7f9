"""The handling region's 补正通知书, relayed on paper at the status screen.

Seed 004 (三): the handling department gathers every item to add into one 补正通知书 and
sends it to the receiving window, which passes it to the applicant. Here the region's signed
需补正 event carries the items, the deadline and the notice's number
(kiosk/casestatus/event.py DETAILS); a citizen who looks the case up gets that notice on
paper to take home while gathering the materials. It is the region's notice relayed, not a
new one of this kiosk: the paper says so, names the region's department when its 已受理
event gave one, and carries the masked name the status screen shows (the lookup holds no
more; a receipt's QR needs no card)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from kiosk.case_timeline import Details
from kiosk.casestatus.event import ZH, CaseState
from kiosk.documents.model import CorrectionNotice, Office

REQUESTED = ZH[CaseState.CORRECTION_REQUIRED]        # 需补正
ACCEPTED = ZH[CaseState.ACCEPTED]
ITEM_MAX = 200        # characters of one item on paper (the event allows 500)


def requested(details: Details) -> Mapping[str, Any] | None:
    """The 需补正 event's details when it named at least one item, else None."""
    asked = details.get(REQUESTED)
    if not asked or not _items(asked):
        return None
    return asked


def relayed_notice(number: str, matter_name: str, applicant_masked: str, received_on: date,
                   details: Details, hall: Office, issued_on: date) -> CorrectionNotice | None:
    """The region's notice for the case ``number`` as this hall relays it (``issued_on``: the
    day of the region's 需补正 event); None when it named no item (nothing to relay)."""
    asked = requested(details)
    if asked is None:
        return None
    department = _text(details.get(ACCEPTED, {}).get("department")) or "办理地审批部门"
    issuer = Office(department=department, phone=hall.phone, staff=hall.department,
                    kiosk_id=hall.kiosk_id)
    return CorrectionNotice(
        number=_text(asked.get("notice_number")) or number, received_on=received_on,
        matter_name=matter_name, applicant_name=applicant_masked, submitted=(),
        items=_items(asked), office=issuer, issued_on=issued_on,
        deadline=_text(asked.get("deadline")), case_number=number)


def _items(asked: Mapping[str, Any]) -> tuple[str, ...]:
    raw = asked.get("items")
    values = raw if isinstance(raw, list | tuple) else [raw] if raw else []
    return tuple(text for v in values[:50] if (text := _text(v)))


def _text(value: Any) -> str:
    return " ".join(str(value).split())[:ITEM_MAX] if value is not None else ""

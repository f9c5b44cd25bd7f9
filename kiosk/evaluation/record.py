"""One 好差评 as it is kept and sent: the GB/T 39046-2020 table 9 facts (评价渠道, 评价次数,
满意度) with what real interfaces also carry (area, department, matter, case, case type,
promised time). Stored in our own words; codes are applied per endpoint at upload
(kiosk/evaluation/codes.py). No name, ID number or phone: the applicant is the case."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from kiosk.catalogue.model import CaseType, Matter
from kiosk.rating import Rating, RatingReason, RatingRecord
from kiosk.settings import KioskIdentity

CHANNEL = "政务大厅自助终端"


@dataclass(frozen=True)
class Evaluation:
    rating_id: str            # ours, unique: the endpoint's idempotency key
    kiosk_id: str
    area_code: str            # the hall's GB/T 2260 code
    org_code: str             # the receiving department's 统一社会信用代码 ("" if not set)
    department: str           # the receiving department (受理部门)
    matter_code: str
    matter_name: str
    case_type: str            # CaseType value; coded per endpoint
    promised_days: int
    number: str               # 受理编号, or the 补正告知 number; "" when the citizen got neither
    outcome: str              # "received" | "notice" | "none"
    round: int                # 评价次数: 1 at the kiosk, 2 after the result
    level: str                # Rating value; coded per endpoint
    reasons: tuple[str, ...]
    comment: str
    staff_may_contact: bool | None
    rated_at: str             # ISO 8601 with offset

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Evaluation:
        data: dict[str, Any] = json.loads(text)
        data["reasons"] = tuple(data["reasons"])
        return Evaluation(**data)

    @property
    def rating(self) -> Rating:
        return Rating(self.level)

    @property
    def kind(self) -> CaseType:
        return CaseType(self.case_type)


def evaluation(kiosk: KioskIdentity, matter: Matter, rating: RatingRecord, number: str | None,
               outcome: str, rated_at: datetime, rating_id: str | None = None,
               round_: int = 1) -> Evaluation:
    return Evaluation(
        rating_id=rating_id or uuid.uuid4().hex, kiosk_id=kiosk.id,
        area_code=kiosk.region_code, org_code=kiosk.org_code, department=kiosk.department,
        matter_code=matter.code, matter_name=matter.name, case_type=matter.case_type.value,
        promised_days=matter.time_limits.promised_days, number=number or "",
        outcome=outcome, round=round_, level=rating.level.value,
        reasons=tuple(RatingReason(r).value for r in rating.reasons),
        comment=rating.comment, staff_may_contact=rating.staff_may_contact,
        rated_at=rated_at.astimezone().isoformat(timespec="seconds"))

"""What hall staff added to a citizen's case (issue 21): who assisted (帮办 / 代办), the 代办
agent, the originals checked (原件核验) and the 容缺 approvals — as frozen records that the
session holds and the application freezes, so receipt, correction notice, manifest and ledger
row stay functions of the application.

The staff functions that make these records (role check, one audit entry each) are in
:mod:`kiosk.staff.casework`; this module holds data only and imports nothing of staff mode,
so the session and the application can carry it without an import cycle.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:     # a type only: recovery imports this at start-up, before any device
    from drivers.identity import Identity

RONGQUE_STATE = "容缺待补"       # the ledger state of a case accepted with a 容缺 item owed
ORIGINAL_CHECKED = "原件已核验，与扫描件一致"
ORIGINAL_PENDING = "原件待核验"
REF_LETTERS = "abcdefghjkmnpqrstuvwxyz"   # no digits: the audit log refuses runs of digits


def new_ref() -> str:
    """The case's reference in the audit log, the manifest and the ledger (the case number
    does not exist yet when staff act: it is taken at submission)."""
    return "".join(secrets.choice(REF_LETTERS) for _ in range(10))


class AssistKind(StrEnum):
    HELP = "帮办"       # the applicant is here; a staff member helps at the kiosk
    PROXY = "代办"      # an agent applies for the applicant, with a 委托书


@dataclass(frozen=True)
class OriginalCheck:
    """原件核验: a staff member compared the original with its scanned pages."""

    requirement_id: str
    material_name: str
    staff_id: str
    staff_name: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class RongqueApproval:
    """容缺受理 approved by a window staff member: the material may follow by ``deadline``;
    ``committed_at`` is when the applicant tapped 承诺 (None until then)."""

    requirement_id: str
    material_name: str
    staff_id: str
    staff_name: str
    at: datetime
    deadline: date
    attestation: str
    committed_at: datetime | None = None


@dataclass(frozen=True)
class AssistRecord:
    """The staff side of one case. ``staff_*`` is who assisted last (the receipt's 受理人);
    each check and approval names its own staff member. ``agent``: the 代办 agent's card as
    read by the identity reader (their 委托书 pages are the session's ``mandate``)."""

    kind: AssistKind
    staff_id: str
    staff_name: str
    started_at: datetime
    agent: Identity | None = None
    originals: tuple[OriginalCheck, ...] = ()
    rongque: tuple[RongqueApproval, ...] = ()
    ref: str = field(default_factory=new_ref)

    def __repr__(self) -> str:     # why: the agent's identity never goes into a log line
        return (f"AssistRecord({self.kind.name}, staff={self.staff_id!r}, "
                f"originals={len(self.originals)}, rongque={len(self.rongque)})")

    def original(self, requirement_id: str) -> OriginalCheck | None:
        return next((o for o in self.originals if o.requirement_id == requirement_id), None)

    def approval(self, requirement_id: str) -> RongqueApproval | None:
        return next((r for r in self.rongque if r.requirement_id == requirement_id), None)

    def approved_ids(self) -> frozenset[str]:
        """容缺 approvals the applicant has also committed to (the checker needs both)."""
        return frozenset(r.requirement_id for r in self.rongque if r.committed_at is not None)

    def with_original(self, check: OriginalCheck) -> AssistRecord:
        kept = tuple(o for o in self.originals if o.requirement_id != check.requirement_id)
        return replace(self, originals=(*kept, check))

    def without_original(self, requirement_id: str) -> AssistRecord:
        return replace(self, originals=tuple(o for o in self.originals
                                             if o.requirement_id != requirement_id))

    def with_approval(self, approval: RongqueApproval) -> AssistRecord:
        kept = tuple(r for r in self.rongque if r.requirement_id != approval.requirement_id)
        return replace(self, rongque=(*kept, approval))

    def staff_label(self) -> str:
        """The receipt's 受理人 / the notice's 经办人: "张敏（帮办）"."""
        return f"{self.staff_name}（{self.kind.value}）"

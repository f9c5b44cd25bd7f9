"""补正 into the same case: the case a region asked to correct, the items it asked for, the
applicant's card checked against the original applicant, and the pages for those items only.

The case is found in the hall's ledger (kiosk/ledger.py) and its status events
(kiosk/casestatus/store.py): its 办理状态 must be 需补正 and the newest event of the transfer(s)
that asked ``correction_required`` with a deadline not passed. The ledger keeps the applicant
only masked, so the original applicant is checked with a keyed hash of the card number
(HMAC-SHA256 under a per-kiosk secret, ``<data_dir>/correction/applicant.key``) written at
submission in the table ``correction_refs`` of the ledger's file: never the plain number.
The package and the 补正 receipt are made in kiosk/correction_submit.py.
"""

from __future__ import annotations

import hmac
import sqlite3
from dataclasses import dataclass, field
from datetime import date

from drivers.camera import CapturedPage
from drivers.identity import Identity
from kiosk.application import StoredPage
from kiosk.casestatus.event import ZH, CaseState
from kiosk.casestatus.store import Applied, StatusStore
from kiosk.catalogue.model import Matter
from kiosk.documents.model import LedgerRow
from kiosk.errors import SessionError
from kiosk.tempstore import SessionStore

WAITING_STATE = ZH[CaseState.CORRECTION_REQUIRED]       # 需补正
SUBMITTED_STATE = "补正已提交"                            # the kiosk's own, until the region's
FREE_ITEM = "补正材料"
MAX_ITEMS = 20                                           # a notice lists a few, never hundreds
_TABLE = ("CREATE TABLE IF NOT EXISTS correction_refs (case_number TEXT PRIMARY KEY, "
          "digest TEXT, situation TEXT, delivery TEXT)")


@dataclass(frozen=True)
class CorrectionItem:
    """One item the region asked for: its text, and the matter's material it names, if any."""

    item_id: str                  # correction_1, … (or the material's id when it names one)
    text: str                     # the region's own words, shown and printed as they are
    name: str                     # the material's name, or 补正材料
    original_or_copy: str = "原件"


@dataclass(frozen=True)
class CorrectionCase:
    case_number: str
    matter: Matter
    transfer_numbers: tuple[str, ...]   # those whose region asked (the package goes there)
    items: tuple[CorrectionItem, ...]
    deadline: date | None
    notice_number: str
    version: int                        # of the follow-up package (the original is 1)
    original_package_id: str


@dataclass
class CorrectionSession:
    """A 补正 in progress: the verified card, the pages per item (sealed, in the scratch store)."""

    case: CorrectionCase
    store: SessionStore
    verified: bool = False
    identity: Identity | None = None    # the card read, once it matched the original applicant
    situation: str = ""
    delivery: str = ""
    pages: dict[str, list[StoredPage]] = field(default_factory=dict)

    def item(self, item_id: str) -> CorrectionItem:
        found = next((i for i in self.case.items if i.item_id == item_id), None)
        if found is None:
            raise SessionError(f"补正通知没有要求该项材料（{item_id[:40]}）",
                               "The correction notice did not ask for that item",
                               code="not_requested")
        return found

    def add_page(self, item_id: str, page: CapturedPage, replace: int | None = None) -> int:
        """The page's number within the item; ``replace``: the page it takes the place of."""
        self.item(item_id)
        if not self.verified:
            raise SessionError("请先读取申请人的身份证件", "Read the applicant's ID card first",
                               code="bad_step")
        stored = StoredPage(self.store.put(page.jpeg), page.width, page.height, page.dpi,
                            page.quality, page.barcodes)
        kept = self.pages.setdefault(item_id, [])
        if replace is not None and 0 < replace <= len(kept):
            kept[replace - 1] = stored       # the old page's blob goes with the wipe
            return replace
        kept.append(stored)
        return len(kept)

    def remove_page(self, item_id: str, number: int) -> None:
        """Page ``number`` (1-based) of the item (its blob goes with the wipe)."""
        kept = self.pages.get(item_id, [])
        if 0 < number <= len(kept):
            del kept[number - 1]

    def missing(self) -> list[CorrectionItem]:
        return [i for i in self.case.items if not self.pages.get(i.item_id)]

    def wipe(self) -> None:
        self.pages.clear()
        self.store.wipe()


def find_case(store: StatusStore, case_number: str,
              today: date) -> tuple[LedgerRow, list[Applied]]:
    """The case's ledger row and the newest ``correction_required`` event per transfer that
    asked; a typed error when the case cannot be corrected now."""
    row = store.ledger.find(case_number)
    if row is None or not row.transfer_numbers:
        raise SessionError("本大厅没有该办件编号的办件", "No case with that number at this hall",
                           code="case_not_found")
    asking = _asking(store, case_number)
    if row.state != WAITING_STATE or not asking:
        raise SessionError(f"该办件目前不需要补正（当前状态：{row.state}）",
                           "The case is not waiting for a correction", code="not_waiting")
    deadline = deadline_of(asking)
    if deadline is not None and deadline < today:
        raise SessionError(f"补正期限已过（{deadline.isoformat()}），请联系窗口工作人员",
                           "The correction deadline has passed: please see the staff",
                           code="deadline_passed")
    return row, asking


def _asking(store: StatusStore, case_number: str) -> list[Applied]:
    newest: dict[str, Applied] = {}
    for event in store.events_of(case_number):
        last = newest.get(event.transfer_number)
        if last is None or event.seq > last.seq:
            newest[event.transfer_number] = event
    return [e for e in newest.values() if e.state is CaseState.CORRECTION_REQUIRED]


def deadline_of(asking: list[Applied]) -> date | None:
    """The earliest deadline of the asking regions (None: none was given)."""
    days = []
    for event in asking:
        text = str(event.details.get("deadline", ""))[:10]
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            continue
    return min(days) if days else None


def requested_items(matter: Matter, asking: list[Applied]) -> tuple[CorrectionItem, ...]:
    """Each text the regions asked for, once; named by the matter's material it mentions."""
    materials = {m.id: m for s in matter.situations for r in s.materials for m in r.options}
    texts: list[str] = []
    for event in asking:
        for text in event.details.get("items") or []:
            if isinstance(text, str) and text.strip() and text not in texts:
                texts.append(text.strip()[:200])
    items, used = [], set()
    for n, text in enumerate(texts[:MAX_ITEMS], start=1):
        hit = next((m for m in sorted(materials.values(), key=lambda m: -len(m.name))
                    if m.name in text and m.id not in used), None)
        if hit is None:
            items.append(CorrectionItem(f"correction_{n}", text, FREE_ITEM))
        else:
            used.add(hit.id)
            items.append(CorrectionItem(hit.id, text, hit.name, hit.original.value))
    return tuple(items)


def case_version(store: StatusStore, case_number: str) -> int:
    """The next package version: the original is 1, each 补正 already submitted one more."""
    done = sum(1 for state, _ in store.ledger.states(case_number) if state == SUBMITTED_STATE)
    return 2 + done


# --- the original applicant, as the ledger's keyed hash (kiosk/applicant_key.py) ---------
def remember_applicant(conn: sqlite3.Connection, case_number: str, digest: str,
                       situation: str, delivery: str) -> None:
    """At submission, on the ledger's connection: what a 补正 needs and the ledger lacks (the
    applicant's keyed digest, the situation, the delivery method; no personal data)."""
    conn.execute(_TABLE)
    conn.execute("INSERT OR REPLACE INTO correction_refs VALUES (?, ?, ?, ?)",
                 (case_number, digest, situation, delivery))


def check_applicant(store: StatusStore, case_number: str, digest: str) -> tuple[str, str]:
    """The case's (situation, delivery method) when ``digest`` is its applicant's."""
    with store.changing() as conn:
        conn.execute(_TABLE)
        row = conn.execute("SELECT digest, situation, delivery FROM correction_refs "
                           "WHERE case_number = ?", (case_number,)).fetchone()
    if row is None:
        raise SessionError("本机无法核对该办件的申请人，请到窗口办理补正",
                           "This kiosk cannot check the case's applicant: please correct at "
                           "the window", code="applicant_unknown")
    if not hmac.compare_digest(str(row[0]), digest):
        raise SessionError("证件与原申请人不一致，不能办理该办件的补正",
                           "The card is not the original applicant's: no correction for it",
                           code="wrong_applicant")
    return str(row[1]), str(row[2])

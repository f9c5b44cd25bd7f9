"""A case's life after the receipt, as the kiosk knows it: the ledger's states in order, each
delivery to a handling region, and the citizen's rating — for `kiosk ledger show` (JSON) and
`kiosk status` (a person reading it). Masked: no name, ID number or phone is in any of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.evaluation.record import Evaluation
from kiosk.evaluation.store import EvaluationStore
from kiosk.ledger import Ledger
from kiosk.transfer.outbox import Outbox, OutboxEntry

# what each state means to the applicant, in both languages
MEANING = {
    "受理中": ("正在受理", "being received"),
    "已代收待流转": ("材料已收取，等待转送办理地", "materials received, to be sent to the "
                                                  "handling region"),
    "一次性告知补正": ("已一次性告知需补正的材料", "told at once what to correct"),
    "受理中断": ("受理中断，未提交", "interrupted before it was submitted"),
    "容缺待补": ("容缺受理，待补交材料", "accepted pending materials still owed"),
}


@dataclass(frozen=True)
class Step:
    time: datetime
    state: str
    zh: str
    en: str


def timeline(ledger: Ledger, case_number: str, outbox: Outbox | None = None
             ) -> list[Step]:
    steps = [Step(at, state, *MEANING.get(state, (state, state)))
             for state, at in ledger.states(case_number)]
    for entry in _deliveries(outbox, case_number):
        if entry.delivered_at is not None:
            steps.append(Step(_local(entry.delivered_at), "已送达办理地",
                              f"已送达办理地 {entry.region}",
                              f"delivered to the handling region {entry.region}"))
    return sorted(steps, key=lambda s: s.time)


def _local(at: datetime) -> datetime:
    """The outbox keeps aware times, the ledger the hall's local ones: compare as local."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo else at


def _deliveries(outbox: Outbox | None, case_number: str) -> list[OutboxEntry]:
    if outbox is None:
        return []
    return [e for e in outbox.entries() if e.case_number == case_number]


def ratings(store_path: Path, number: str) -> list[Evaluation]:
    """The case's ratings, when this data folder keeps any (read, never created)."""
    if not store_path.is_file():
        return []
    store = EvaluationStore(store_path)
    try:
        return store.for_number(number)
    finally:
        store.close()

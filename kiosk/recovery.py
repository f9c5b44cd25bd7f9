"""After a restart: what a crash between committing a case and printing its receipt left.

The package is safe in the outbox either way; the citizen may have left without a receipt.
The kiosk prints a 补打 receipt from the ledger, so every package that goes out has a receipt
behind it. (If the receipt did print just before the crash, the citizen has two copies of
the same case number, which is harmless; a case with none is not.)

A crash before the commit leaves a case number with its row (written with the number, state
受理中) and nothing else: the row is closed as 受理中断, so every number has its outcome.
"""

from __future__ import annotations

import logging
from datetime import datetime

from kiosk import correction_submit
from kiosk.assist import RONGQUE_STATE
from kiosk.documents.forms import reprint_blocks
from kiosk.documents.model import Office
from kiosk.ledger import OPEN_STATE, Ledger
from kiosk.printing import PrintService
from kiosk.transfer.outbox import Outbox

log = logging.getLogger(__name__)
COMMITTED_STATE = "已代收待流转"
INTERRUPTED_STATE = "受理中断"


def reprint_owed_receipts(outbox: Outbox, ledger: Ledger, printing: PrintService,
                          office: Office, now: datetime) -> list[str]:
    """Print each owed receipt once; return the case numbers printed."""
    printed = []
    for entry in outbox.owed_receipts():
        row = ledger.find(entry.case_number)
        if row is None:   # cannot happen: the ledger row is written before the commit
            log.error("case %s: receipt owed but no ledger row", entry.case_number)
            continue
        # a package other than the case's first is a 补正's follow-up (kiosk/correction.py)
        follow_up = bool(row.package_id) and entry.package_id != row.package_id
        blocks = (correction_submit.reprint_blocks(row, office, now) if follow_up
                  else reprint_blocks(row, office, now))
        job = printing.job(f"reprint-{entry.case_number}", "receipt", blocks)
        if printing.print(job):
            outbox.receipt_printed(entry.package_id)
            printed.append(entry.case_number)
            log.info("case %s: receipt reprinted after an interruption", entry.case_number)
    return printed


def close_interrupted_cases(outbox: Outbox, ledger: Ledger, now: datetime) -> list[str]:
    """Cases a crash cut short: a row still 受理中 (its number was taken while the documents
    rendered) or 已代收待流转 written just before a commit that never happened. No package,
    no receipt: the guide's ledger says 受理中断, with when start-up found it."""
    committed = {e.package_id for e in outbox.entries()}
    note = f"设备中断，未出回执，材料未保存（{now:%Y-%m-%d %H:%M} 重启时发现）"
    closed = []
    # a 容缺待补 row is written before its commit too (kiosk/service.py)
    for row in (ledger.in_state(OPEN_STATE) + ledger.in_state(COMMITTED_STATE)
                + ledger.in_state(RONGQUE_STATE)):
        if row.package_id and row.package_id in committed:
            if row.state == OPEN_STATE:   # committed, but the state never followed
                ledger.set_state(row.case_number, COMMITTED_STATE, row.note)
            continue
        ledger.set_state(row.case_number, INTERRUPTED_STATE, note)
        ledger.forget_owed(row.case_number)       # no package: no 容缺 item to chase
        closed.append(row.case_number)
    return closed

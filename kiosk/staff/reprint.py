"""补打 (staff reprint of a receipt): finding the case, and the reprint's count.

A case is found by the code on its receipt (the QR holds the case number; the CODE128 its
21 digits), by the number typed in, or among the newest cases that have a package. The
reprint is built from the ledger row, like the 补打 after an interruption
(kiosk/recovery.py): the full receipt existed in memory only, so only what the ledger keeps
(masked name, no ID number) is printed again — titled 补打 第N次, with who reprinted it and
when. N counts this kiosk's staff reprints of the case (``reprints.json`` in the staff
folder, the newest MAX_TRACKED cases; the audit log records each one as well).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from kiosk.caseno import is_valid_case_number
from kiosk.documents.blocks import Block, Paragraph, Title
from kiosk.documents.forms import reprint_blocks
from kiosk.documents.model import LedgerRow, Office
from kiosk.fsutil import write_atomic
from kiosk.ledger import Ledger

RECENT = 20
MAX_TRACKED = 2000
COUNT_FILE = "reprints.json"
_DIGITS = re.compile(r"(?<!\d)(\d{6})-?(\d{4})-?(\d{6})-?(\d{4})-?(\d)(?!\d)")


def case_number_in(text: str) -> str | None:
    """The case number a scanned code or a typed text holds (dashed form), if it has one
    whose check digit holds."""
    match = _DIGITS.search(text[:512])
    if match is None:
        return None
    number = "-".join(match.groups())
    return number if is_valid_case_number(number) else None


def recent_cases(ledger: Ledger, count: int = RECENT) -> list[LedgerRow]:
    """The newest cases with a package (a receipt was issued), newest first."""
    return [row for row in ledger.rows(limit=count * 10) if row.package_id][:count]


def reprintable(ledger: Ledger, number: str) -> LedgerRow | None:
    row = ledger.find(number)
    return row if row is not None and row.package_id else None


class ReprintCounter:
    """How many times staff reprinted each case here (bounded, written atomically)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / COUNT_FILE

    def count(self, number: str) -> int:
        return int(self._read().get(number, 0))

    def record(self, number: str) -> int:
        """One more reprint of ``number``; its new count."""
        counts = self._read()
        n = counts.pop(number, 0) + 1
        counts[number] = n
        kept = dict(list(counts.items())[-MAX_TRACKED:])        # newest last
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, json.dumps(kept).encode())
        return n

    def _read(self) -> dict[str, int]:
        try:
            with open(self.path, "rb") as handle:
                doc = json.loads(handle.read(1 << 20))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(doc, dict):
            return {}
        return {str(k): v for k, v in doc.items() if isinstance(v, int) and 0 < v < 10_000}


def staff_reprint_blocks(row: LedgerRow, office: Office, now: datetime, n: int,
                         staff_name: str) -> list[Block]:
    """The ledger's receipt again, marked 补打 第N次 with who and when."""
    blocks: list[Block] = []
    for block in reprint_blocks(row, office, now):
        if isinstance(block, Title):
            block = replace(block, subtitle=f"补打 第{n}次")
        elif isinstance(block, Paragraph) and block.text.startswith("本机在打印回执前中断"):
            block = replace(block, text="本回执由工作人员应申请人要求补打，与原回执同一受理编号；"
                            "请凭受理编号查询办理进度。")
        elif isinstance(block, Paragraph) and block.text.startswith("补打时间"):
            block = replace(block, text=f"补打 第{n}次　经办：{staff_name}　"
                            f"补打时间：{now:%Y-%m-%d %H:%M}")
        blocks.append(block)
    return blocks

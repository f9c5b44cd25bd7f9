"""The 台账 export of 10,000 ledger rows (issue 21's closing note), as a ratio to the floor:
writing the same rows' cells with the csv module, in the same run.

    .venv/bin/python benchmarks/ledger_export.py [--rows N] [--repeat N]

- baseline_csv_ms: ``csv.writer`` over the rows already in memory (cells as the ledger holds
  them), to a file — no query, no masking, no formula guard, no BOM;
- read_ms: the ledger query alone (``Ledger.between`` to a list), for the breakdown;
- export_csv_ms / export_xlsx_ms: ``export_ledger`` whole (query, masking, formula guard,
  encoding, the file written), for each layout.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from dataclasses import astuple
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import median_ms  # noqa: E402
from kiosk.documents.model import LedgerRow  # noqa: E402
from kiosk.ledger import Ledger  # noqa: E402
from kiosk.staff.ledger_export import Format, Layout, export_ledger  # noqa: E402

FIRST = date(2026, 11, 1)
PER_DAY = 1000


def _fill(ledger: Ledger, rows: int) -> None:
    ledger._conn.execute("BEGIN")     # one transaction, not 10,000 fsyncs: not what is measured
    for n in range(rows):
        day = FIRST + timedelta(days=n // PER_DAY)
        seq = n % PER_DAY + 1
        ledger.record(LedgerRow(
            case_number=f"510802-0001-{day:%y%m%d}-{seq:04d}-0",
            time=datetime(day.year, day.month, day.day, 8 + seq % 10, seq % 60),
            department="广元市利州区人力资源和社会保障局", matter_code="RS-0001",
            matter_name="企业职工基本养老保险关系转移接续", count=3, case_type="承诺件",
            applicant_masked="张*华", phone_masked="138****1234", window="510802-0001",
            staff="自助终端", state="已代收待流转", scope="跨省通办", regions="四川省广元市",
            transfer_numbers=f"T{n}", note="" if n % 3 else "容缺待补"))
    ledger._conn.execute("COMMIT")


def run(rows: int, repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ledger-export-") as tmp:
        folder = Path(tmp)
        ledger = Ledger(folder / "ledger.sqlite")
        _fill(ledger, rows)
        last = FIRST + timedelta(days=(rows - 1) // PER_DAY)
        held = list(ledger.between(FIRST, last))
        assert len(held) == rows

        def baseline() -> None:
            with open(folder / "base.csv", "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(astuple(r) for r in held)

        def export(layout: Layout, fmt: Format) -> None:
            export_ledger(ledger, layout, fmt, FIRST, last, folder / f"out.{fmt.value}")

        base = median_ms(baseline, repeat)
        result: dict[str, object] = {
            "rows": rows, "repeat": repeat, "baseline_csv_ms": round(base, 1),
            "read_ms": round(median_ms(lambda: list(ledger.between(FIRST, last)), repeat), 1)}
        for layout in Layout:
            for fmt in Format:
                ms = median_ms(lambda layout=layout, fmt=fmt: export(layout, fmt), repeat)
                key = f"{layout.value}_{fmt.value}"
                result[f"{key}_ms"] = round(ms, 1)
                result[f"{key}_ratio"] = round(ms / base, 2)
        ledger.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps({"ledger_export": run(args.rows, args.repeat)}, ensure_ascii=False,
                     indent=1))


if __name__ == "__main__":
    main()

"""The 台账 export of 10,000 ledger rows (issue 21's closing note), as a ratio to the floor:
writing the same rows' cells with the csv module, in the same run.

    .venv/bin/python benchmarks/ledger_export.py [--rows N] [--repeat N] [--out FILE]

- baseline_csv_ms: ``csv.writer`` over the same rows already in memory (every field of the
  ledger row), to a file — no query, no masking, no formula guard, no BOM: the floor;
- read: the ledger query alone (``Ledger.between`` to a list), for the breakdown;
- <layout>_<format>: ``export_ledger`` whole (query, masking, formula guard, encoding, the
  file written). ``_ratio`` = its time / the baseline's, the median over pairs run in turn;
- view: the staff screen's 台账 view of the same range (kiosk/staff/ledger_view.py: the
  query, the filter, masking, the newest 200 kept), for comparison with the export.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import astuple
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import median_ms, report, run_timed, timed_ms  # noqa: E402
from kiosk.documents.model import LedgerRow  # noqa: E402
from kiosk.ledger import Ledger  # noqa: E402
from kiosk.staff.ledger_export import Format, Layout, export_ledger  # noqa: E402
from kiosk.staff.ledger_view import Filter, view  # noqa: E402

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
        cells = [astuple(r) for r in ledger.between(FIRST, last)]
        assert len(cells) == rows

        def baseline() -> None:
            with open(folder / "base.csv", "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(cells)

        result: dict[str, object] = {"rows": rows, "repeat": repeat}
        for name, fn in _contenders(ledger, folder, last).items():
            fn()                                   # warm (imports, SQLite page cache)
            pairs = [(timed_ms(baseline, 1)[0], timed_ms(fn, 1)[0]) for _ in range(repeat)]
            result[f"{name}_ms"] = round(statistics.median(t for _, t in pairs), 1)
            result[f"{name}_ratio"] = round(statistics.median(t / b for b, t in pairs), 2)
        result["baseline_csv_ms"] = round(median_ms(baseline, repeat), 1)
        ledger.close()
    return result


def _contenders(ledger: Ledger, folder: Path, last: date) -> dict[str, Callable[[], object]]:
    """Each measured against the baseline in alternation (a pair per repeat, the median of
    the pairs' ratios): the machine's load changes less within a pair than across a run."""
    out: dict[str, Callable[[], object]] = {
        "read": lambda: list(ledger.between(FIRST, last)),
        "view": lambda: view(ledger, Filter(FIRST, last))}
    for layout in Layout:
        for fmt in Format:
            out[f"{layout.value}_{fmt.value}"] = partial(
                export_ledger, ledger, layout, fmt, FIRST, last, folder / f"out.{fmt.value}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    return report({"ledger_export": run(args.rows, args.repeat)}, args.out)


if __name__ == "__main__":
    run_timed(main)

"""A case from the shell: `kiosk ledger show --case NUMBER --json` (its states in order, for
programs) and `kiosk status --case NUMBER` (the same timeline for a person, both languages).
The ledger, outbox and ratings are opened only when the data folder has them; nothing is
written but the status tables an older ledger lacks (as the kiosk adds them at start)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.case_timeline import PICKUP, Step, pickup, ratings, timeline
from kiosk.caseno import is_valid_case_number
from kiosk.casestatus.store import StatusStore
from kiosk.errors import KioskError
from kiosk.progress import StoredDetails
from kiosk.settings import load_settings
from kiosk.transfer.outbox import Outbox

DEMO_SETTINGS = Path(__file__).resolve().parents[2] / "config" / "demo.toml"
CASE_MAX = 40           # characters of --case looked at: a case number is 23


class CaseError(KioskError):
    code = "case_error"


def add_show(ledger: Any) -> None:
    """`kiosk ledger show` (``ledger``: the `kiosk ledger` subcommands)."""
    show = ledger.add_parser("show", help="one case's states in order (JSON with --json)")
    _where(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_show)


def add_status(sub: Any) -> None:
    status = sub.add_parser("status", help="one case's timeline, for a person")
    _where(status)
    status.set_defaults(func=_status)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--case", required=True, metavar="NUMBER", help="受理编号")
    p.add_argument("--settings", type=Path, default=DEMO_SETTINGS)
    p.add_argument("--data-dir", type=Path, help="default: paths.data_dir of --settings")


def _case(args: argparse.Namespace) -> tuple[str, list[Step], Path, tuple[str, str] | None]:
    """The case's steps with the handling regions' details, and where to collect its result
    while it waits at the window (None otherwise)."""
    text = str(args.case).strip()
    if len(text) > CASE_MAX or not is_valid_case_number(text):
        raise CaseError("受理编号格式不对或校验位不符（例如 510802-0001-261207-0001-7）",
                        "Not a case number, or its check digit is wrong "
                        "(e.g. 510802-0001-261207-0001-7)", code="bad_case_number")
    data = Path(args.data_dir) if args.data_dir else load_settings(args.settings).paths.data_dir
    if not (data / "ledger.sqlite").is_file():
        raise CaseError(f"{data} 中没有台账数据库", f"no ledger (ledger.sqlite) in {data}",
                        code="no_ledger")
    store = StatusStore(data / "ledger.sqlite")
    outbox = Outbox(data / "outbox") if (data / "outbox" / "outbox.sqlite").is_file() else None
    try:
        details = StoredDetails(store).details(text)
        steps = timeline(store.ledger, text, outbox, details)
        row = store.ledger.find(text)
    finally:
        store.close()
        if outbox is not None:
            outbox.close()
    if not steps:
        raise CaseError(f"本机台账中没有受理编号 {text}", f"No case {text} in this ledger",
                        code="unknown_case")
    waiting = pickup(details.get(PICKUP, {})) if row and row.state == PICKUP else None
    return text, steps, data, waiting


def _show(args: argparse.Namespace) -> int:
    number, steps, data, _ = _case(args)
    rated = ratings(data / "evaluation.sqlite", number)
    out = {"case": number,
           "states": [{"state": s.state, "time": s.time.isoformat(timespec="seconds")}
                      for s in steps],
           "rating": rated[0].level if rated else None}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for s in steps:
            print(f"{s.time:%Y-%m-%d %H:%M}  {s.state}")
        print(f"评价 / rating: {out['rating'] or '—'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    number, steps, data, waiting = _case(args)
    print(f"受理编号 / Case {number}")
    for s in steps:
        print(f"  {s.time:%Y-%m-%d %H:%M}  {s.zh}")
        print(f"  {'':16}  {s.en}")
        if s.detail_zh:
            print(f"  {'':16}    {s.detail_zh}")
            print(f"  {'':16}    {s.detail_en}")
    if waiting is not None:
        print(f"  {waiting[0]}")
        print(f"  {waiting[1]}")
    rated = ratings(data / "evaluation.sqlite", number)
    if rated:
        print(f"  您的评价 / your rating: {rated[0].level}")
    return 0

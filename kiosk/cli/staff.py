"""``kiosk audit verify`` and ``kiosk ledger export``: the staff audit log's check and the 台账
export from the shell.

From the shell nobody is signed in: the export is audited with an empty staff id and
``via: shell`` (whoever has a shell on the kiosk PC can read the data folder anyway), and
only the masked form exists (kiosk/staff/ledger_export.py says why). Every export attempt
in a kiosk's data folder (one with a ledger) — done, refused or failed, bad arguments
included — leaves one audit entry.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.cli import case
from kiosk.errors import BilingualError
from kiosk.ledger import Ledger
from kiosk.paths import DEMO_SETTINGS
from kiosk.settings import load_settings
from kiosk.staff.audit import AuditLog
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_export import Exported, Format, Layout, export_ledger
from kiosk.staff.roles import Action
from kiosk.staff.verify import verify

LEDGER_FILE = "ledger.sqlite"
STAFF_FOLDER = "staff"


def add_parsers(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the staff audit log").add_subparsers(required=True)
    check = audit.add_parser("verify", help="check the hash chain; exit 1 naming the first "
                             "bad entry")
    _where(check)
    check.set_defaults(func=_verify)

    ledger = sub.add_parser("ledger", help="the 台账").add_subparsers(required=True)
    case.add_show(ledger)          # kiosk ledger show --case N [--json]
    export = ledger.add_parser("export", help="export the 台账 (masked) as CSV or XLSX")
    _where(export)
    export.add_argument("--layout", required=True, help="appendix-c | guangyuan")
    export.add_argument("--format", required=True, help="csv | xlsx")
    export.add_argument("--from", dest="first", required=True, metavar="DATE")
    export.add_argument("--to", dest="last", required=True, metavar="DATE")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--unmasked", action="store_true",
                        help="refused: the kiosk keeps masked data only")
    export.set_defaults(func=_export)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", type=Path, default=DEMO_SETTINGS)
    p.add_argument("--data-dir", type=Path, help="default: paths.data_dir of --settings")


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        return Path(args.data_dir)
    return load_settings(args.settings).paths.data_dir


def _verify(args: argparse.Namespace) -> int:
    folder = _data_dir(args) / STAFF_FOLDER
    done = verify(folder)          # AuditError: one Chinese / English line, exit 2
    cuts = (f"; 断电截断后已记录 / torn tails cut and recorded at {list(done.torn_cuts)}"
            if done.torn_cuts else "")
    print(f"OK: {folder}: {done.entries} 条记录完整 / entries intact; "
          f"anchor seq {done.anchor.seq} {done.anchor.hash[:16]}…{cuts}")
    return 0


def _export(args: argparse.Namespace) -> int:
    data = _data_dir(args)
    if not (data / LEDGER_FILE).is_file():      # not a kiosk's data folder: nothing audited
        raise StaffError(f"{data} 中没有台账数据库", f"no ledger ({LEDGER_FILE}) in {data}",
                         code="no_ledger")
    audit = AuditLog(data / STAFF_FOLDER, load_settings(args.settings).kiosk.id)
    detail: dict[str, Any] = {"via": "shell"}
    try:
        layout = _choice(Layout, args.layout, "--layout", "版式")
        fmt = _choice(Format, args.format, "--format", "格式")
        first, last = _date(args.first, "--from"), _date(args.last, "--to")
        detail.update({"layout": layout.value, "format": fmt.value,
                       "from": first.isoformat(), "to": last.isoformat()})
        done = _run_export(data, layout, fmt, first, last, args)
    except BilingualError as exc:          # ours, and FileRefused for a bad --out
        audit.append("", Action.LEDGER_EXPORT.value, after={**detail, "result": exc.code[:40]})
        raise
    audit.append("", Action.LEDGER_EXPORT.value, after={**detail, "result": "done",
                                                         "rows": min(done.rows, 99_999)})
    print(f"OK: {done.rows} 行 / rows → {args.out} ({layout.value}, {fmt.value}, 已脱敏 / masked)")
    return 0


def _run_export(data: Path, layout: Layout, fmt: Format, first: date, last: date,
                args: argparse.Namespace) -> Exported:
    ledger = Ledger(data / LEDGER_FILE)
    try:
        return export_ledger(ledger, layout, fmt, first, last, args.out,
                             unmasked=args.unmasked)
    finally:
        ledger.close()


def _choice(kind: type[Layout] | type[Format], value: str, flag: str, zh: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        names = " | ".join(k.value for k in kind)
        raise StaffError(f"{flag} 的{zh}无效：应为 {names}", f"{flag}: not one of {names}",
                         code="bad_argument") from None


def _date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StaffError(f"{flag} 的日期无效（应为 YYYY-MM-DD）",
                         f"{flag}: not a date (YYYY-MM-DD)", code="bad_date") from None

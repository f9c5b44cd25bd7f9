"""``kiosk audit verify``, ``kiosk ledger export`` and ``kiosk ledger card``: the staff audit
log's check, the 台账 export and a case's 审批流程登记卡 / 转办单 from the shell.

From the shell nobody is signed in: the export is audited with an empty staff id and
``via: shell`` (whoever has a shell on the kiosk PC can read the data folder anyway), and
only the masked form exists (kiosk/staff/ledger_export.py says why). Every export attempt
in a kiosk's data folder (one with a ledger) — done, refused or failed, bad arguments
included — leaves one audit entry; so does every card asked for there.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import Any

from drivers.fileio import check_writable, write_file
from kiosk.catalogue import load_catalogue
from kiosk.cli import case
from kiosk.documents import Renderer
from kiosk.errors import BilingualError
from kiosk.ledger import Ledger
from kiosk.paths import DEMO_SETTINGS, FONT
from kiosk.settings import Settings, load_settings
from kiosk.staff.audit import AuditLog
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_export import Exported, Format, Layout, export_ledger
from kiosk.staff.ledger_view import FORM_TITLES, Hall, card_pdf, find_case, parse_form
from kiosk.staff.roles import Action
from kiosk.staff.verify import verify
from kiosk.transfer.outbox import Outbox, OutboxEntry

LEDGER_FILE = "ledger.sqlite"
STAFF_FOLDER = "staff"
OUTBOX_FOLDER = "outbox"          # kiosk/transfer/courier.py


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

    card = ledger.add_parser("card", help="a case's 审批流程登记卡 or 申请材料转办单 as PDF")
    _where(card)
    card.add_argument("--case", required=True, metavar="NUMBER", help="受理编号")
    card.add_argument("--form", required=True, help="registration | transfer")
    card.add_argument("--out", type=Path, required=True)
    card.set_defaults(func=_card)


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


def _card(args: argparse.Namespace) -> int:
    data = _data_dir(args)
    if not (data / LEDGER_FILE).is_file():      # not a kiosk's data folder: nothing audited
        raise StaffError(f"{data} 中没有台账数据库", f"no ledger ({LEDGER_FILE}) in {data}",
                         code="no_ledger")
    settings = load_settings(args.settings)
    audit = AuditLog(data / STAFF_FOLDER, settings.kiosk.id)
    detail: dict[str, Any] = {"via": "shell"}     # typed text never goes in: only checked
    case: str | None = None                         # values (a form's name, a case number)
    try:
        form = parse_form(args.form)
        detail["form"] = form.value
        ledger = Ledger(data / LEDGER_FILE)
        try:
            row = find_case(ledger, args.case)
        finally:
            ledger.close()
        case = row.case_number
        check_writable(args.out)
        pdf = card_pdf(Renderer(settings.paths.assets / FONT), form, row, _hall(settings),
                       _deliveries(data, case), datetime.now().astimezone())
        write_file(args.out, pdf)
    except BilingualError as exc:
        audit.append("", Action.LEDGER_VIEW.value, case=case,
                     after={**detail, "result": exc.code[:40]})
        raise
    audit.append("", Action.LEDGER_VIEW.value, case=case, after={**detail, "result": "done"})
    print(f"OK: {FORM_TITLES[form]} {case} → {args.out}（已脱敏 / masked）")
    return 0


def _hall(settings: Settings) -> Hall:
    catalogue = load_catalogue(settings.paths.catalogue)
    return Hall(settings.kiosk.id, settings.kiosk.department,
                {m.code: m for m in catalogue.matters})


def _deliveries(data: Path, case: str) -> list[OutboxEntry]:
    """The case's outbox entries, when this data folder has an outbox (read, not made)."""
    if not (data / OUTBOX_FOLDER / "outbox.sqlite").is_file():
        return []
    outbox = Outbox(data / OUTBOX_FOLDER)
    try:
        return [e for e in outbox.entries() if e.case_number == case]
    finally:
        outbox.close()

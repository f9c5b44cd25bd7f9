"""``kiosk print …``: receipts, status and a test page for a printer given by URL.

Printer URLs: ``tcp://HOST[:9100]`` (network), ``file:///dev/usb/lp0`` (a device file or any
file: no status can be read back), ``virtual`` (an in-process virtual printer, for trying
things out; its job images go to ``--virtual-out``).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from drivers.fileio import FileRefused, read_bounded, shown, write_file
from drivers.printer import PrintJob
from drivers.printer.escpos_encode import encode
from drivers.printer.program import PrinterProfile
from kiosk.devices.urls import open_printer
from kiosk.documents import forms
from kiosk.documents.model import Receipt
from kiosk.documents.samples import sample_receipt
from kiosk.documents.thermal import to_program
from kiosk.errors import KioskError
from kiosk.paths import ASSETS
from kiosk.paths import FONT as ASSET_FONT

MAX_CASE_BYTES = 1 << 20   # a receipt's case record is a few kilobytes
# the shipped assets folder (the CLI runs without settings)
FONT = ASSETS / ASSET_FONT


def add_parser(sub: Any) -> None:
    p = sub.add_parser("print", help="receipt printer").add_subparsers(required=True)
    receipt = p.add_parser("receipt", help="print a receipt from a case file (JSON)")
    receipt.add_argument("--case-file", type=Path, required=True)
    where = receipt.add_mutually_exclusive_group(required=True)
    where.add_argument("--printer")
    where.add_argument("--out", type=Path, help="write the ESC/POS bytes to this file")
    receipt.add_argument("--width", type=int, choices=[58, 80], default=80)
    receipt.add_argument("--charset", choices=["gbk", "gb18030"], default="gbk")
    receipt.set_defaults(func=_receipt)
    status = p.add_parser("status", help="ask a printer for its status (DLE EOT)")
    status.add_argument("--printer", required=True)
    status.set_defaults(func=_status)
    test = p.add_parser("test-page", help="print a test page (a fictional receipt)")
    test.add_argument("--printer", required=True)
    test.add_argument("--width", type=int, choices=[58, 80], default=80)
    test.set_defaults(func=_test_page)


def load_case(path: Path) -> Receipt:
    try:
        return TypeAdapter(Receipt).validate_json(read_bounded(path, MAX_CASE_BYTES))
    except FileRefused as exc:
        raise KioskError(f"受理信息文件无效：{exc.zh}", f"Invalid case file: {exc.en}",
                         code="bad_case_file") from None
    except ValidationError as exc:
        # locations and messages only: the inputs are a citizen's personal data
        first = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                          for e in exc.errors(include_url=False)[:3])
        count = exc.error_count()
        raise KioskError(f"受理信息文件无效：{shown(path)}（{count} 处问题）",
                         f"Invalid case file {shown(path)}: {count} problems; {first}",
                         code="bad_case_file") from None


def dump_case(receipt: Receipt) -> bytes:
    return TypeAdapter(Receipt).dump_json(receipt, indent=2)


def receipt_bytes(receipt: Receipt, width: int, charset: str = "gbk") -> bytes:
    profile = PrinterProfile(dots_per_line=576 if width == 80 else 384,
                             charset="gb18030" if charset == "gb18030" else "gbk")
    return encode(to_program(forms.receipt_blocks(receipt)), profile, FONT)


def _receipt(args: argparse.Namespace) -> int:
    data = receipt_bytes(load_case(args.case_file), args.width, args.charset)
    if args.out:
        write_file(args.out, data)
        print(json.dumps({"bytes": len(data), "out": str(args.out)}))
        return 0
    return _send(args.printer, PrintJob("cli-receipt", "receipt", b"", data))


def _test_page(args: argparse.Namespace) -> int:
    receipt = sample_receipt(3)
    data = receipt_bytes(receipt, args.width)
    return _send(args.printer, PrintJob(f"test-{date.today():%Y%m%d}", "test", b"", data))


def _status(args: argparse.Namespace) -> int:
    printer = open_printer(args.printer)
    try:
        status = printer.status()
    finally:
        printer.close()
    print(json.dumps({"state": status.state.value,
                      "paper": status.paper.value if status.paper else None,
                      "detail": status.detail, "usable": status.usable}, ensure_ascii=False))
    return 0 if status.usable else 1


def _send(url: str, job: PrintJob) -> int:
    printer = open_printer(url)
    try:
        printer.print_job(job)
    finally:
        printer.close()
    print(json.dumps({"printed": job.job_id, "bytes": len(job.escpos or b"")}))
    return 0

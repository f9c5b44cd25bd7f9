"""``kiosk-region …``: the handling region's program — its key pairs (``keygen``, with
``--status`` the key its status events are signed with), opening one package (``open``:
verify, decrypt, check every file, unpack), taking in every completed upload (``intake``),
the back office's case actions (``staff``, ``case``: cli_cases.py) and sending status events
back (``publish``, ``feed``: cli_status.py), and the back office's web page (``office``:
cli_office.py). Runs at the region (or the provincial gateway),
never on a kiosk; it shares the package format, the status event format and the crypto
suites with the kiosk's side in kiosk/transfer/ and kiosk/casestatus/."""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import replace
from pathlib import Path

from intake import cli_cases, cli_office, cli_status
from intake.db import connect
from intake.opening import load_region_key, open_package
from intake.receive import Intake, intake_lock, report_line, run_pass
from intake.source_args import add_source_arguments, source_from_args
from intake.statusout import StatusSigner
from kiosk.entry import BilingualArgumentParser, run_program
from kiosk.errors import KioskError
from kiosk.transfer.keys import Registry, generate, write_private, write_public
from kiosk.transfer.suites import SUITE_NAMES, Role


def main(argv: list[str] | None = None) -> int:
    return run_program(_parser(), argv)


def _parser() -> argparse.ArgumentParser:
    parser = BilingualArgumentParser(
        prog="kiosk-region", description="tongban-kiosk 办理地 / the handling region's tools")
    reg = parser.add_subparsers(required=True)
    keygen = reg.add_parser("keygen", help="a region's key pair (both suites by default)")
    keygen.add_argument("--region", required=True, help="its GB/T 2260 code")
    keygen.add_argument("--suite", choices=SUITE_NAMES, action="append")
    keygen.add_argument("--out", type=Path, required=True)
    keygen.add_argument("--status", action="store_true",
                        help="the status signing key (events back to kiosks) instead")
    keygen.set_defaults(func=_region_keygen)
    opener = reg.add_parser("open", help="verify, decrypt, check and unpack a package")
    opener.add_argument("package", type=Path)
    opener.add_argument("--key", type=Path, required=True, help="the region's private key")
    opener.add_argument("--kiosks", type=Path, required=True,
                        help="registered kiosk keys: a folder of exported key files, or one")
    opener.add_argument("--out", type=Path, required=True)
    opener.set_defaults(func=_region_open)
    _intake_parser(reg)
    cli_cases.add_parsers(reg)
    cli_status.add_parsers(reg)
    cli_office.add_parsers(reg)
    return parser


def _intake_parser(reg: argparse._SubParsersAction[BilingualArgumentParser]) -> None:
    take = reg.add_parser("intake", help="take in every completed upload (one pass)")
    add_source_arguments(take)         # --store DIR, or --s3 URL --bucket B
    take.add_argument("--db", type=Path, required=True, help="the region's database")
    take.add_argument("--key", type=Path, required=True, help="the region's private key")
    take.add_argument("--kiosks", type=Path, required=True, help="registered kiosk keys")
    take.add_argument("--status-key", type=Path, required=True,
                      help="the region's status signing key (keygen --status)")
    take.add_argument("--cases", type=Path, help="where packages are unpacked "
                      "(default: cases/ beside the database)")
    take.add_argument("--retry-refused", action="store_true",
                      help="try refused uploads again (say, a kiosk registered since)")
    take.add_argument("--watch", type=float, metavar="SECONDS", nargs="?", const=5.0,
                      help="keep looking, every SECONDS (default 5)")
    take.set_defaults(func=_region_intake)


def _region_keygen(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{6}", args.region):    # it becomes part of file names
        raise KioskError(f"办理地代码应为 6 位数字（GB/T 2260）：{args.region}",
                         f"A region code is 6 digits (GB/T 2260): {args.region}",
                         code="bad_region")
    role, kind = (Role.SIGN, "-status") if args.status else (Role.ENCRYPT, "")
    for name in args.suite or SUITE_NAMES:
        key = generate(args.region, role, name)
        stem = args.out / f"region-{args.region}-{name}{kind}"
        write_private(stem.with_suffix(".key"), key)
        write_public(stem.with_suffix(".pub"), key)
        print(f"{stem}.key (private, keep it at the region) / .pub (for kiosks' routing): "
              f"{name} {key.key_id}")
    return 0


def _region_open(args: argparse.Namespace) -> int:
    opened = open_package(args.package, args.key, Registry.from_path(args.kiosks), args.out)
    print(json.dumps({"package_id": opened.package_id, "kiosk_id": opened.kiosk_id,
                      "suite": opened.suite, "folder": str(opened.folder),
                      "case_number": opened.manifest.get("case_number"),
                      "files": list(opened.files)}, ensure_ascii=False, indent=2))
    return 0


def _region_intake(args: argparse.Namespace) -> int:
    region = load_region_key(args.key).owner
    signer = StatusSigner.load(args.status_key, region)
    registry = Registry.from_path(args.kiosks)
    source = source_from_args(args)
    conn = connect(args.db)
    intake = Intake(conn, source, args.key, registry, signer,
                    args.cases or args.db.parent / "cases", args.retry_refused,
                    max_package_bytes=args.max_package_bytes)
    with intake_lock(args.db):
        while True:
            result = run_pass(intake, report_line)
            print(json.dumps({"pass": vars(result)}), flush=True)
            if args.watch is None:
                return 0
            intake = replace(intake, retry_refused=False)     # once is enough
            time.sleep(max(args.watch, 0.2))

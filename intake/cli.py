"""``kiosk-region …``: the handling region's program — its key pairs (``keygen``) and
opening what kiosks send (``open``: verify, decrypt, check every file, unpack). Runs at the
region (or the provincial gateway), never on a kiosk; it shares the package format and the
crypto suites with the kiosk's side in kiosk/transfer/."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from intake.opening import open_package
from kiosk.entry import run_program
from kiosk.errors import KioskError
from kiosk.transfer.keys import Registry, generate, write_private, write_public
from kiosk.transfer.suites import SUITE_NAMES, Role


def main(argv: list[str] | None = None) -> int:
    return run_program(_parser(), argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-region", description="tongban-kiosk 办理地 / the handling region's tools")
    reg = parser.add_subparsers(required=True)
    keygen = reg.add_parser("keygen", help="a region's key pair (both suites by default)")
    keygen.add_argument("--region", required=True, help="its GB/T 2260 code")
    keygen.add_argument("--suite", choices=SUITE_NAMES, action="append")
    keygen.add_argument("--out", type=Path, required=True)
    keygen.set_defaults(func=_region_keygen)
    opener = reg.add_parser("open", help="verify, decrypt, check and unpack a package")
    opener.add_argument("package", type=Path)
    opener.add_argument("--key", type=Path, required=True, help="the region's private key")
    opener.add_argument("--kiosks", type=Path, required=True,
                        help="registered kiosk keys: a folder of exported key files, or one")
    opener.add_argument("--out", type=Path, required=True)
    opener.set_defaults(func=_region_open)
    return parser


def _region_keygen(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{6}", args.region):    # it becomes part of file names
        raise KioskError(f"办理地代码应为 6 位数字（GB/T 2260）：{args.region}",
                         f"A region code is 6 digits (GB/T 2260): {args.region}",
                         code="bad_region")
    for name in args.suite or SUITE_NAMES:
        key = generate(args.region, Role.ENCRYPT, name)
        stem = args.out / f"region-{args.region}-{name}"
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

"""``kiosk doctor [--json] [--settings FILE]``: the technician's pre-flight checks
(kiosk/ops/doctor.py). Exit status 1 when any check fails (the kiosk cannot serve as
configured), 0 otherwise; warnings are printed but do not fail."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.ops.doctor import examine
from kiosk.paths import DEMO_SETTINGS

UNIT = "tongban-kiosk.service"
MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


def add_parser(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="pre-flight checks for a technician")
    doctor.add_argument("--settings", type=Path, default=DEMO_SETTINGS)
    doctor.add_argument("--json", action="store_true", help="one JSON document")
    doctor.add_argument("--unit", default=UNIT, help="the systemd unit of the app")
    doctor.add_argument("--timeout", type=float, default=2.0,
                        help="seconds for each network connection")
    doctor.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    report = examine(args.settings, args.unit, args.timeout)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        for check in report.checks:
            print(f"{MARKS[check.verdict]} {check.verdict:<4} {check.name:<28} {check.zh} / "
                  f"{check.en}")
        failed = sum(c.verdict == "fail" for c in report.checks)
        print(f"{'可以' if report.ok else '不能'}投入服务 / "
              f"{'ready for service' if report.ok else f'not ready: {failed} failed'}")
    return 0 if report.ok else 1

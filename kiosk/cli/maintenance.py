"""``kiosk maintenance …``: what the installed systemd units run beside the app.

- ``nightly``: the nightly job (kiosk/supervision/maintenance.py), from the timer;
- ``run-ended``: from the app unit's ``ExecStopPost=``, records systemd's verdict on the run
  (``$SERVICE_RESULT``: watchdog, signal, core-dump, exit-code, ...) in the run marker, so
  the next start reports why it restarted.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from kiosk.settings import load_settings
from kiosk.supervision.maintenance import nightly
from kiosk.supervision.runmarker import RunMarker


def add_parser(sub: Any) -> None:
    group = sub.add_parser("maintenance", help="the kiosk PC's scheduled and service jobs")
    jobs = group.add_subparsers(required=True)
    night = jobs.add_parser("nightly", help="purge, device check, diagnostics (the timer)")
    night.add_argument("--settings", type=Path, required=True)
    night.set_defaults(func=_nightly)
    ended = jobs.add_parser("run-ended", help="record systemd's verdict (ExecStopPost)")
    ended.add_argument("--settings", type=Path, required=True)
    ended.set_defaults(func=_run_ended)


def _nightly(args: argparse.Namespace) -> int:
    report = nightly(load_settings(args.settings))
    print(json.dumps(report, ensure_ascii=False, indent=1))
    failed = [name for name, value in report.items()
              if isinstance(value, dict) and "error" in value]
    return 1 if failed else 0


def _run_ended(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    result = os.environ.get("SERVICE_RESULT", "")[:40]
    if result and result != "success":
        RunMarker(settings.paths.data_dir).note(service_result=result)
    return 0

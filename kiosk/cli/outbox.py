"""``kiosk outbox …`` and ``kiosk keys …``: the outbox and uploader, and the kiosk's device
keys (``keys export``: the public key a handling region registers)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.paths import DEMO_SETTINGS
from kiosk.settings import Settings, load_settings
from kiosk.transfer.courier import Courier
from kiosk.transfer.keys import DeviceKeys, write_public
from kiosk.transfer.suites import SUITE_NAMES


def add_parsers(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="packages waiting for their region")
    out = outbox.add_subparsers(required=True)
    status = out.add_parser("status", help="every package and where it is")
    _settings(status)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)
    deliver = out.add_parser("deliver", help="run the uploader (until Ctrl-C)")
    _settings(deliver)
    deliver.add_argument("--once", action="store_true", help="one pass, then exit")
    deliver.set_defaults(func=_deliver)

    keys = sub.add_parser("keys", help="this kiosk's device keys").add_subparsers(required=True)
    show = keys.add_parser("show", help="key ids and public keys")
    _settings(show)
    show.set_defaults(func=_keys_show)
    export = keys.add_parser("export", help="the public key, for the region's registry")
    _settings(export)
    export.add_argument("--suite", choices=SUITE_NAMES, help="default: transfer.suite")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=_keys_export)



def _settings(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", type=Path, default=DEMO_SETTINGS)


def _courier(settings: Settings) -> Courier:
    # the uploader logs overdue packages; recovery is the running kiosk's alone
    try:
        return Courier.build(settings, on_overdue=lambda entry: None, recover=False)
    except sqlite3.DatabaseError as exc:     # damaged, or not a database at all
        folder = settings.paths.data_dir
        raise KioskError(f"发件箱数据库无法打开：{folder}（{exc}）",
                         f"Cannot open the outbox database in {folder}: {exc}",
                         code="outbox_damaged") from None


def _status(args: argparse.Namespace) -> int:
    courier = _courier(load_settings(args.settings))
    try:
        entries, counts = courier.outbox.entries(), courier.outbox.counts()
    finally:
        courier.close()
    if args.json:
        print(json.dumps({"counts": counts, "packages": [e.as_dict() for e in entries]},
                         ensure_ascii=False, indent=2))
        return 0
    print("  ".join(f"{state}: {n}" for state, n in counts.items()))
    for e in entries:
        late = " 超时/OVERDUE" if e.alerted else ""
        print(f"{e.case_number:<24} {e.region} {e.state.value:<9} {e.offset}/{e.size} B "
              f"attempts {e.attempts} {e.last_error}{late}")
    return 0


def _deliver(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    courier = _courier(settings)
    try:
        while True:
            for entry in courier.uploader.deliver_once():
                print(f"delivered {entry.case_number} → {entry.region}")
            if args.once:
                waiting = courier.outbox.counts()
                return 0 if waiting["queued"] + waiting["uploading"] == 0 else 3
            time.sleep(settings.transfer.poll_s)
    except KeyboardInterrupt:
        return 0
    finally:
        courier.close()


def _keys(settings: Settings) -> DeviceKeys:
    return DeviceKeys(settings.paths.data_dir / "keys", settings.kiosk.id)


def _keys_show(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    for key in _keys(settings).all():
        mark = "*" if key.suite == settings.transfer.suite else " "
        print(f"{mark} {key.suite:<16} {key.key_id}  {key.public.hex()}")
    print(f"kiosk {settings.kiosk.id}; * = transfer.suite")
    return 0


def _keys_export(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    key = _keys(settings).key(args.suite or settings.transfer.suite)
    write_public(args.out, key)
    print(f"{args.out}: kiosk {key.owner} {key.suite} key {key.key_id}")
    return 0

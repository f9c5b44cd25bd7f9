"""``kiosk devices …``: read an identity document from a reader given on the command line,
and run the reader emulators by hand.

    kiosk devices identity --backend ga467 --port URL [--photo-out PATH] --json
    kiosk devices emulate ga467 [--tcp PORT] [--present KEY]

The JSON holds the Identity's fields (personal data: it goes to the caller's terminal only,
never to a log). Exit status 0 on a read, 1 with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from drivers.errors import DeviceError
from kiosk.bootstrap import load_named

ROOT = Path(__file__).resolve().parent.parent
IDENTITIES = ROOT / "assets" / "demo" / "identities.toml"


def add_parser(sub: Any) -> None:
    devices = sub.add_parser("devices", help="device tools").add_subparsers(required=True)
    ident = devices.add_parser("identity", help="read an identity document")
    ident.add_argument("--backend", choices=["ga467"], required=True)
    ident.add_argument("--port", required=True, help="serial device or pyserial URL")
    ident.add_argument("--baudrate", type=int, default=115200)
    ident.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a card")
    ident.add_argument("--photo-library", help="the vendor's WLT decoder (.so)")
    ident.add_argument("--photo-out", type=Path, help="write the photo (PNG, or raw WLT) here")
    ident.add_argument("--json", action="store_true", help="print the identity as JSON")
    ident.set_defaults(func=_identity)
    emulate = devices.add_parser("emulate", help="run a reader emulator by hand")
    emulate.add_argument("kind", choices=["ga467"])
    emulate.add_argument("--tcp", type=int, help="serve on 127.0.0.1:PORT instead of a pty")
    emulate.add_argument("--present", help="place this card at start (a key of --identities)")
    emulate.add_argument("--identities", type=Path, default=IDENTITIES)
    emulate.set_defaults(func=_emulate)


def _identity(args: argparse.Namespace) -> int:
    decoder = (load_named("drivers.identity.ga467.photo:VendorWltLibrary")(args.photo_library)
               if args.photo_library else None)
    reader = load_named("drivers.identity.ga467.reader:Ga467Reader")(
        args.port, baudrate=args.baudrate, photo_decoder=decoder)
    try:
        reader.open()
        identity = reader.read(args.timeout)
    except DeviceError as err:
        print(f"{err.code}: {err.zh} / {err.en}", file=sys.stderr)
        return 1
    finally:
        reader.close()
    if args.photo_out:
        args.photo_out.write_bytes(identity.photo or identity.raw_wlt or b"")
    fields = identity.to_json()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        for key, value in fields.items():
            print(f"{key}: {value}")
    return 0


def _emulate(args: argparse.Namespace) -> int:
    emulator = "drivers.identity.ga467.emulator"
    identities = load_named("drivers.identity.emulated:load_identities")(args.identities)
    module = load_named(f"{emulator}:Ga467Module")()
    line = (load_named(f"{emulator}:TcpModule")(module, port=args.tcp) if args.tcp
            else load_named(f"{emulator}:PtyModule")(module))
    where = line.url if args.tcp else line.port
    if args.present:
        module.present(identities[args.present])
    print(f"GA/T 467 module on {where}", flush=True)
    print("commands: present KEY | remove | fault NAME | clear | quit; "
          f"cards: {', '.join(identities)}", flush=True)
    try:
        for line_in in sys.stdin:
            words = line_in.split()
            if not words:
                continue
            verb, rest = words[0], words[1:]
            try:
                if verb == "present" and rest:
                    module.present(identities[rest[0]])
                elif verb == "remove":
                    module.remove()
                elif verb == "fault" and rest:
                    module.inject(rest[0])
                elif verb == "clear":
                    module.clear_faults()
                elif verb == "quit":
                    break
                else:
                    print(f"? {line_in.strip()}", flush=True)
                    continue
            except (KeyError, ValueError) as err:
                print(f"! {err}", flush=True)
                continue
            print("ok", flush=True)
    finally:
        line.close()
    return 0

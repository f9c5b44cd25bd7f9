"""``kiosk devices …``: read an identity document from a reader given on the command line,
and run the reader emulators by hand.

    kiosk devices identity --backend ga467 --port URL [--photo-out PATH] --json
    kiosk devices identity --backend pcsc [--reader NAME] --mrz DOCNO,YYMMDD,YYMMDD
                           [--master-list FILE] [--photo-out PATH] --json
    kiosk devices emulate ga467 [--tcp PORT] [--present KEY]
    kiosk devices emulate emrtd [--vpcd-port PORT | --rig] [--present KEY] [--face IMAGE]
                                [--card CODE] [--max-response N] [--fault NAME ...]
                                [--issuer DIR]

The JSON holds the Identity's fields (personal data: it goes to the caller's terminal only,
never to a log). Exit status 0 on a read, 1 with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from drivers.errors import DeviceError
from drivers.fileio import read_bounded, write_file
from drivers.identity import MrzKey
from kiosk.cli import face
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.registry import DeviceContext, load_named
from kiosk.errors import KioskError
from kiosk.paths import ASSETS

IDENTITIES = ASSETS / "demo" / "identities.toml"
FACE = ASSETS / "demo" / "face.jpg"
ISSUER = ASSETS / "demo" / "emrtd"
MAX_FACE_BYTES = 1 << 20        # a chip's DG2 face is tens of kilobytes


def add_parser(sub: Any) -> None:
    devices = sub.add_parser("devices", help="device tools").add_subparsers(required=True)
    ident = devices.add_parser("identity", help="read an identity document")
    ident.add_argument("--backend", choices=["ga467", "pcsc"], required=True)
    ident.add_argument("--port", help="ga467: serial device or pyserial URL")
    ident.add_argument("--reader", default="", help="pcsc: part of the reader's name")
    ident.add_argument("--mrz", help="pcsc: DOCUMENT_NUMBER,BIRTH_YYMMDD,EXPIRY_YYMMDD")
    ident.add_argument("--short-apdus", action="store_true",
                       help="pcsc: the reader does not pass extended APDUs")
    ident.add_argument("--master-list", type=Path,
                       help="pcsc: CSCA certificates (PEM, DER or an ICAO .ml) to check the "
                            "chip's document signer against")
    ident.add_argument("--baudrate", type=int, default=115200)
    ident.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a card")
    ident.add_argument("--photo-library", help="the vendor's WLT decoder (.so)")
    ident.add_argument("--photo-out", type=Path, help="write the photo (PNG, or raw WLT) here")
    ident.add_argument("--json", action="store_true", help="print the identity as JSON")
    ident.set_defaults(func=_identity)
    emulate = devices.add_parser("emulate", help="run a reader emulator by hand")
    emulate.add_argument("kind", choices=["ga467", "emrtd", "face"])
    emulate.add_argument("--tcp", type=int, help="ga467: serve on 127.0.0.1:PORT, not a pty")
    emulate.add_argument("--vpcd-port", type=int, default=0x8C7B,
                         help="emrtd: vsmartcard-vpcd's port (Debian's is 35963)")
    emulate.add_argument("--rig", action="store_true",
                         help="emrtd: start a private pcscd with vpcd first (as root)")
    emulate.add_argument("--face", type=Path, default=FACE, help="emrtd: JPEG or JPEG 2000")
    emulate.add_argument("--max-response", type=int, default=65536,
                         help="emrtd: longest response; 256 for a chip without extended length")
    emulate.add_argument("--card", metavar="CODE", default="",
                         help="emrtd: an ICAO card (TD1 MRZ) with this document code, e.g. I")
    emulate.add_argument("--fault", action="append", default=[], metavar="NAME",
                         help="emrtd: a fault or chip mode from the start (repeatable), e.g. "
                              "refuse_sfi, refuse_extended, tamper_dg2")
    emulate.add_argument("--issuer", type=Path, default=ISSUER,
                         help="emrtd: the test CSCA and document signer signing EF.SOD")
    emulate.add_argument("--present", help="place this card at start (a key of --identities)")
    emulate.add_argument("--identities", type=Path, default=IDENTITIES)
    face.add_emulate_arguments(emulate)
    emulate.set_defaults(func=_emulate)


def _identity(args: argparse.Namespace) -> int:
    try:
        reader, key = _reader_for(args)
    except ValueError as err:
        print(f"usage: {err}", file=sys.stderr)
        return 2
    except DeviceError as err:                       # e.g. a master list that cannot be used
        print(f"{err.code}: {err.zh} / {err.en}", file=sys.stderr)
        return 1
    try:
        reader.open()
        identity = reader.read(args.timeout, key)
    except DeviceError as err:
        print(f"{err.code}: {err.zh} / {err.en}", file=sys.stderr)
        return 1
    finally:
        reader.close()
    if args.photo_out:
        write_file(args.photo_out, identity.photo or identity.raw_wlt or b"")
    fields = identity.to_json()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        for key, value in fields.items():
            print(f"{key}: {value}")
    return 0


def _reader_for(args: argparse.Namespace) -> tuple[Any, MrzKey | None]:
    if args.backend == "pcsc":
        parts = (args.mrz or "").split(",")
        if len(parts) != 3:
            raise ValueError("--backend pcsc needs --mrz DOCNO,BIRTH_YYMMDD,EXPIRY_YYMMDD")
        reader = _build("pcsc", {"reader": args.reader, "extended": not args.short_apdus,
                                 "master_list": str(args.master_list or "")})
        return reader, MrzKey(*(p.strip() for p in parts))
    if not args.port:
        raise ValueError("--backend ga467 needs --port")
    return _build("ga467", {"port": args.port, "baudrate": args.baudrate,
                            "photo_library": args.photo_library or ""}), None


def _build(backend: str, options: dict[str, Any]) -> Any:
    """A reader through the device registry, as the kiosk builds its own."""
    return BUILTIN.make(DeviceKind.IDENTITY_READER, backend, options,
                        DeviceContext(assets=ASSETS, data_dir=Path(".")))


def _emulate(args: argparse.Namespace) -> int:
    if args.kind == "emrtd":
        return _emulate_emrtd(args)
    if args.kind == "face":
        return face.emulate(args)
    emulator = "drivers.identity.ga467.emulator"
    identities = load_named("drivers.identity.emulated:load_identities")(args.identities)
    module = load_named(f"{emulator}:Ga467Module")()
    line = (load_named(f"{emulator}:TcpModule")(module, port=args.tcp) if args.tcp
            else load_named(f"{emulator}:PtyModule")(module))
    where = line.url if args.tcp else line.port
    if args.present:
        module.present(_card(identities, args.present))
    print(f"GA/T 467 module on {where}", flush=True)
    try:
        _script(module.present, module.remove, module.inject, module.clear_faults, identities)
    finally:
        line.close()
    return 0


EMRTD = "drivers.identity.emrtd.emulator"


class _ChipSlot:
    """vpcd's reader with at most one emulated chip on it; faults outlive a chip (a "fault X"
    may come before "present")."""

    def __init__(self, port: int, make_files: Callable[[Any], Any]) -> None:
        self.port, self._make_files = port, make_files
        self._link: Any = None            # the VpcdCard of the chip on the reader, if any
        self._faults: set[str] = set()

    def present(self, identity: Any) -> None:
        self.remove()
        card = load_named(f"{EMRTD}:EmrtdCard")(self._make_files(identity))
        for fault in self._faults:
            card.inject(fault)
        self._link = load_named(f"{EMRTD}:VpcdCard")(card, port=self.port)
        self._link.present()

    def remove(self) -> None:
        if self._link is not None:
            self._link.remove()
            self._link = None

    def inject(self, fault: str) -> None:
        if fault not in get_args(load_named(f"{EMRTD}:EmrtdFault")):
            raise ValueError(f"unknown eMRTD fault {fault!r}")
        self._faults.add(fault)
        if self._link is not None:
            self._link.card.inject(fault)

    def clear(self) -> None:
        self._faults.clear()
        if self._link is not None:
            self._link.card.clear_faults()


def _emulate_emrtd(args: argparse.Namespace) -> int:
    """An eMRTD chip in vpcd's reader. Cards are built from the identities file (a key's
    document number, birth and expiry make its BAC key); --present places one at start."""
    identities = load_named("drivers.identity.emulated:load_identities")(args.identities)
    face = read_bounded(args.face, MAX_FACE_BYTES)
    fmt = "jp2" if args.face.suffix.lower() in (".jp2", ".j2k") else "jpeg"
    signer = load_named("drivers.identity.emrtd.issuer:demo")(args.issuer).document_signer
    rig = load_named("drivers.identity.emrtd.rig:PcscRig")().start() if args.rig else None
    slot = _ChipSlot(rig.port if rig else args.vpcd_port, lambda identity: load_named(
        f"{EMRTD}:files_for")(identity, face, fmt, args.max_response, args.card, signer))
    try:
        for fault in args.fault:
            slot.inject(fault)
        if args.present:
            slot.present(_card(identities, args.present))
        print(f"eMRTD chip for vpcd on 127.0.0.1:{slot.port}"
              + (f" (private pcscd, reader {rig.reader_names[0]!r})" if rig else ""), flush=True)
        _script(slot.present, slot.remove, slot.inject, slot.clear, identities)
    except ValueError as err:
        print(f"usage: {err}", file=sys.stderr)
        return 2
    except (OSError, DeviceError) as err:
        print(f"cannot reach vpcd on port {slot.port}: {err}", file=sys.stderr)
        return 1
    finally:
        slot.remove()
        if rig is not None:
            rig.stop()
    return 0


def _card(identities: dict[str, Any], key: str) -> Any:
    if key not in identities:
        raise KioskError(f"没有这张演示证件：{key}（可选：{', '.join(identities)}）",
                         f"No demo card {key!r} (one of: {', '.join(identities)})",
                         code="unknown_card")
    return identities[key]


def _script(present: Callable[[Any], None], remove: Callable[[], None],
            inject: Callable[[str], None], clear: Callable[[], None],
            identities: dict[str, Any]) -> None:
    """Read commands from stdin until "quit" or its end; answer "ok", "? …" or "! …"."""
    print("commands: present KEY | remove | fault NAME | clear | quit; "
          f"cards: {', '.join(identities)}", flush=True)
    for line_in in sys.stdin:
        words = line_in.split()
        if not words:
            continue
        verb, rest = words[0], words[1:]
        try:
            if verb == "present" and rest:
                present(identities[rest[0]])
            elif verb == "remove":
                remove()
            elif verb == "fault" and rest:
                inject(rest[0])
            elif verb == "clear":
                clear()
            elif verb == "quit":
                break
            else:
                print(f"? {line_in.strip()}", flush=True)
                continue
        except (KeyError, ValueError) as err:
            print(f"! {err}", flush=True)
            continue
        print("ok", flush=True)

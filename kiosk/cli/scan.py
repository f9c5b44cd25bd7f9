"""``kiosk scan``: the document pipeline on image files, for staff, scripts and later checks.

    kiosk scan detect IMAGE... [--json]        where the page is, and its quality verdict
    kiosk scan rectify IMAGE --out OUT.jpg     the straightened, cleaned page
    kiosk scan codes IMAGE... [--json]         barcodes and QR codes on the images

With --json each image gives one JSON object on its own line. An image that cannot be read
(not a regular file, too large, too small, not an image) gives an ``error`` object; the others
go on, and the exit status is 1. So does ``rectify`` on a picture with no page: it writes
nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.fileio import shown
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.registry import DeviceContext, load_named
from kiosk.errors import BilingualError, KioskError

FILES = "drivers.camera.files"


def add_parser(sub: Any) -> None:
    scan = sub.add_parser("scan", help="document pipeline on image files").add_subparsers(
        required=True)
    detect = scan.add_parser("detect", help="find the page and judge its quality")
    detect.add_argument("images", type=Path, nargs="+")
    detect.add_argument("--json", action="store_true")
    detect.set_defaults(func=_detect)
    rectify = scan.add_parser("rectify", help="straighten and clean the page")
    rectify.add_argument("image", type=Path)
    rectify.add_argument("--out", type=Path, required=True)
    rectify.add_argument("--dpi", type=int, default=200)
    rectify.add_argument("--mode", choices=["colour", "grey", "bw"], default="colour")
    rectify.add_argument("--quality", type=int, default=85, help="JPEG quality (1–100)")
    rectify.add_argument("--json", action="store_true")
    rectify.set_defaults(func=_rectify)
    codes = scan.add_parser("codes", help="read barcodes and QR codes")
    codes.add_argument("images", type=Path, nargs="+")
    codes.add_argument("--decoder", choices=BUILTIN.backends(DeviceKind.BARCODE_DECODER),
                       default="cascade")
    codes.add_argument("--json", action="store_true")
    codes.set_defaults(func=_codes)


def _detect(args: argparse.Namespace) -> int:
    return _each(args.images, load_named(f"{FILES}:detect_file"), args.json, _detect_line)


def _rectify(args: argparse.Namespace) -> int:
    if not 1 <= args.quality <= 100 or not 72 <= args.dpi <= 600:
        raise KioskError("参数超出范围：JPEG 质量 1–100，分辨率 72–600 dpi",
                         "Out of range: JPEG quality 1–100, dpi 72–600")
    rectify = load_named(f"{FILES}:rectify_file")
    return _each([args.image], lambda path: rectify(
        path, args.out, dpi=args.dpi, mode=args.mode, jpeg_quality=args.quality),
        args.json, _rectify_line)


def _codes(args: argparse.Namespace) -> int:
    decoder = BUILTIN.make(DeviceKind.BARCODE_DECODER, args.decoder, {},
                           DeviceContext(assets=Path("."), data_dir=Path(".")))
    codes = load_named(f"{FILES}:codes_file")
    return _each(args.images, lambda path: codes(path, decoder), args.json, _codes_line)


def _each(paths: list[Path], run: Callable[[Path], dict[str, Any]], as_json: bool,
          line: Callable[[dict[str, Any]], str]) -> int:
    failed = False
    for path in paths:
        try:
            result = run(path)
        except BilingualError as err:   # the drivers' typed errors, e.g. UnreadableImage
            failed = True
            result = {"image": shown(path), "error": {"code": err.code,
                                                    "zh": err.zh, "en": err.en}}
        print(json.dumps(result, ensure_ascii=False) if as_json else _text(result, line),
              flush=True)
    return 1 if failed else 0


def _text(result: dict[str, Any], line: Callable[[dict[str, Any]], str]) -> str:
    if "error" in result:
        error = result["error"]
        return f"{result['image']}: {error['zh']} / {error['en']}"
    return f"{result['image']}: {line(result)}"


def _verdict(quality: dict[str, Any]) -> str:
    return "ok" if quality["ok"] else ", ".join(quality["reasons"])


def _detect_line(result: dict[str, Any]) -> str:
    if not result["found"]:
        return "no page"
    corners = " ".join(f"({x:.0f},{y:.0f})" for x, y in result["quad"])
    return f"{corners} {_verdict(result['quality'])} [{result['ms']:.1f} ms]"


def _rectify_line(result: dict[str, Any]) -> str:
    return (f"→ {result['out']} {result['width']}x{result['height']} @{result['dpi']} dpi, "
            f"{result['bytes']} B, {_verdict(result['quality'])}")


def _codes_line(result: dict[str, Any]) -> str:
    symbols = result["symbols"]
    return "; ".join(f"{s['format']} {s['text']}" for s in symbols) if symbols else "none"

"""``kiosk face verify``: the face matcher (人证核验) on image files, for staff, scripts and
calibration.

    kiosk face verify --document IMG --live IMG [--json] [--threshold T]
    kiosk face verify --pairs FILE.csv [--json] [--threshold T]

One pair prints ``{"match": bool, "score": float, "threshold": float}``; ``--pairs`` (a CSV
with the columns ``document,live``) prints one such object a line, and for a pair that cannot
be compared an ``error`` object in its place (the others go on; exit status 1). A single pair
that cannot be compared ends with its typed error (exit status 2). Faces are biometric data:
nothing is written, nothing is logged.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drivers.fileio import shown
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.registry import DeviceContext, load_named
from kiosk.errors import BilingualError, KioskError

FILES = "drivers.face.files"


def add_parser(sub: Any) -> None:
    face = sub.add_parser("face", help="face verification (人证核验)").add_subparsers(
        required=True)
    verify = face.add_parser("verify", help="compare a document photo with a live photo")
    verify.add_argument("--document", type=Path, help="the document's photo (chip, card)")
    verify.add_argument("--live", type=Path, help="the live photo")
    verify.add_argument("--pairs", type=Path, help="CSV with the columns document,live")
    verify.add_argument("--matcher", choices=BUILTIN.backends(DeviceKind.FACE_MATCHER),
                        default="dlib")
    verify.add_argument("--threshold", type=float, help="instead of the matcher's default")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    single = args.document is not None or args.live is not None
    if single == (args.pairs is not None) or (single and not (args.document and args.live)):
        raise KioskError("请给出 --document 和 --live，或只给出 --pairs",
                         "Give --document and --live, or --pairs alone")
    options = {} if args.threshold is None else {"threshold": args.threshold}
    matcher = BUILTIN.make(DeviceKind.FACE_MATCHER, args.matcher, options,
                           DeviceContext(assets=Path("."), data_dir=Path(".")))
    compare = load_named(f"{FILES}:compare_files")
    if single:
        _print(compare(matcher, args.document, args.live).as_dict(), args.json)
        return 0
    failed = False
    for document, live in load_named(f"{FILES}:read_pairs")(args.pairs):
        try:
            result = compare(matcher, document, live).as_dict()
        except BilingualError as err:   # the drivers' typed errors: unreadable, no face, ...
            failed = True
            result = {"document": shown(document), "live": shown(live),
                      "error": {"code": err.code, "zh": err.zh, "en": err.en}}
        _print(result, args.json)
    return 1 if failed else 0


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    elif "error" in result:
        error = result["error"]
        print(f"{result['document']} ↔ {result['live']}: {error['zh']} / {error['en']}",
              flush=True)
    else:
        verdict = "一致 / match" if result["match"] else "不一致 / no match"
        print(f"{verdict}: score {result['score']:.4f}, threshold {result['threshold']:.4f}",
              flush=True)

"""``kiosk face verify``: the face matcher (人证核验) on image files, for staff, scripts and
calibration.

    kiosk face verify --document IMG --live IMG [--json] [--threshold T]
    kiosk face verify --pairs FILE.csv [--json] [--threshold T]
    kiosk devices emulate face --present SCENE [--act MOVES] [--fault frozen]
                               [--seconds S] [--fps N] --out FOLDER

One pair prints ``{"match": bool, "score": float, "threshold": float}``; ``--pairs`` (a CSV
with the columns ``document,live``) prints one such object a line, and for a pair that cannot
be compared an ``error`` object in its place (the others go on; exit status 1). A single pair
that cannot be compared ends with its typed error (exit status 2). A verdict of "no match" is
an answer, exit status 0. Faces are biometric data: verify writes nothing and logs nothing.

``kiosk devices emulate face`` films the emulated face camera (drivers/face/emulated.py): the
scene (right, other, photo, nobody) acting the moves given (turn_left, turn_right, blink, in
order), as numbered PNG frames in an existing folder — a recording the replay backend plays,
for demos and tests (fictional use of the CC BY demo people, never a citizen's face).
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
from kiosk.paths import ASSETS

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


def add_emulate_arguments(emulate: Any) -> None:
    """``kiosk devices emulate face``'s own options (``--present`` and ``--fault`` are shared
    with the other emulators: the scene, and ``frozen``)."""
    emulate.add_argument("--act", default="", metavar="MOVES",
                         help="face: moves in order, e.g. turn_left,blink,turn_right")
    emulate.add_argument("--seconds", type=float, default=5.0, help="face: length of the film")
    emulate.add_argument("--fps", type=float, default=10.0, help="face: frames a second")
    emulate.add_argument("--out", type=Path, help="face: an existing folder for the frames")


def emulate(args: argparse.Namespace) -> int:
    scene = args.present or "right"
    moves = [m.strip() for m in args.act.split(",") if m.strip()]
    known = ("turn_left", "turn_right", "blink")
    if (args.out is None or scene not in ("right", "other", "photo", "nobody")
            or any(m not in known for m in moves) or set(args.fault) - {"frozen"}
            or not 0 < args.seconds <= 120 or not 0 < args.fps <= 60):
        raise KioskError("参数有误：需要 --out 文件夹；--present 为 right/other/photo/nobody；"
                         "--act 为 turn_left/turn_right/blink；--fault 仅 frozen；"
                         "时长 0–120 秒，帧率 0–60",
                         "Bad arguments: --out FOLDER is required; --present is right, other, "
                         "photo or nobody; --act takes turn_left, turn_right, blink; --fault "
                         "only frozen; --seconds 0-120, --fps 0-60")
    written = load_named("drivers.face.emulated:film")(
        ASSETS / "demo" / "faces", args.out, scene=scene, moves=moves,
        frozen="frozen" in args.fault, seconds=args.seconds, fps=args.fps)
    print(f"{written} 帧 / frames → {shown(args.out)}")
    return 0

"""Face verification (人证核验) benchmark, JSON out.

    .venv/bin/python benchmarks/face.py [--rounds N] [--repeat N] [--out FILE]

Accuracy on the Face Research Lab London Set (benchmarks/data/london_face_set, CC BY 4.0;
its limits are in its SOURCE.md): each person's neutral photo is the document, their smiling
photo the live face; genuine pairs are the same person (102), impostor pairs every other
person's live face (10,302). The document side is measured as the set gives it, and degraded
as a card's chip photo is: cropped to head and shoulders, 102×126 pixels, then JPEG (quality 50,
about 2 KB) or JPEG 2000 at 2 KB and at 1 KB (the size of a resident card's compressed photo,
whose own wavelet codec, WLT, only a vendor's library decodes). For each:
EER, TAR at FAR 1e-2 and 1e-3 with 95 % intervals (bootstrap over people), FAR and FRR at the
matcher's default threshold.

Liveness on the emulated face camera: benchmarks/face_liveness.py.

Speed, pinned to one core: capture → verdict (a 640×480 live frame and the chip photo each
described, then compared) against the detector alone on the same frame, in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.face_liveness import liveness  # noqa: E402
from benchmarks.face_stats import summary  # noqa: E402
from benchmarks.timing import report, run_timed, timed_ms  # noqa: E402
from drivers.face import FaceImageError  # noqa: E402
from drivers.face.dlib_matcher import DEFAULT_THRESHOLD, DlibMatcher, similarity  # noqa: E402
from drivers.face.image import Rgb, load_rgb  # noqa: E402
from drivers.face.observe import Observer  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "london_face_set"


def people() -> list[str]:
    return sorted(p.stem for p in (DATA / "neutral").glob("*.jpg"))


def chip(rgb: Rgb) -> Rgb:
    """Head and shoulders at a resident card's 102×126 (the set's framing is wider)."""
    h, w = rgb.shape[:2]
    crop = rgb[int(h * 0.15):int(h * 0.85), int(w * 0.215):int(w * 0.785)]
    return np.ascontiguousarray(cv2.resize(crop, (102, 126), interpolation=cv2.INTER_AREA))


def recoded(rgb: Rgb, fmt: str) -> tuple[Rgb, int]:
    out = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(rgb).save(out, "JPEG", quality=50)
    else:     # "jp2": about 1 KB, as a resident card's photo; "jp2_2kb": twice that
        budget = 2048 if fmt == "jp2_2kb" else 1024
        Image.fromarray(rgb).save(out, "JPEG2000", quality_mode="rates",
                                  quality_layers=[rgb.size / budget])
    return load_rgb(out.getvalue()), out.tell()


def documents(variant: str) -> tuple[list[Rgb], float]:
    """The document side of every person in ``variant``, and its median size in bytes."""
    photos, sizes = [], []
    for person in people():
        rgb = load_rgb((DATA / "neutral" / f"{person}.jpg").read_bytes())
        if variant != "original":
            rgb, size = recoded(chip(rgb), variant.removeprefix("chip_"))
            sizes.append(size)
        photos.append(rgb)
    return photos, statistics.median(sizes) if sizes else 0.0


def describe_all(matcher: DlibMatcher, photos: list[Rgb], side: str) -> list[Any]:
    """Each photo's descriptor, or None where the matcher found no single face (a failure to
    acquire: the kiosk would send that person to staff)."""
    out = []
    for photo in photos:
        try:
            out.append(matcher.describe(photo, side=side).descriptor)
        except FaceImageError:
            out.append(None)
    return out


def score_matrix(doc: list[Any], live: list[Any]) -> np.ndarray:
    """Similarities; a failure to acquire scores -1 (below any threshold): a false reject for
    its genuine pair, a correct reject for its impostor pairs."""
    return np.array([[similarity(d, v) if d is not None and v is not None else -1.0
                      for v in live] for d in doc])


def accuracy(matcher: DlibMatcher, rounds: int) -> dict[str, Any]:
    live_photos = [load_rgb((DATA / "smiling" / f"{p}.jpg").read_bytes()) for p in people()]
    live = describe_all(matcher, live_photos, "live")
    out = {}
    for variant in ("original", "chip_jpeg", "chip_jp2_2kb", "chip_jp2"):
        photos, size = documents(variant)
        described = describe_all(matcher, photos, "document")
        result = summary(score_matrix(described, live), DEFAULT_THRESHOLD, rounds)
        out[variant] = {"document_bytes_median": size,
                        "failures_to_acquire": {"document": _missing(described),
                                                "live": _missing(live)}, **result}
    return out


def _missing(described: list[Any]) -> int:
    return sum(d is None for d in described)


def frame(rgb: Rgb) -> Rgb:
    """A kiosk camera's 640×480 frame with the person in the middle."""
    canvas = np.full((480, 640, 3), 200, np.uint8)
    canvas[:, 80:560] = cv2.resize(rgb, (480, 480), interpolation=cv2.INTER_LINEAR)
    return canvas


def speed(matcher: DlibMatcher, repeat: int) -> dict[str, Any]:
    live = frame(load_rgb((DATA / "smiling" / "001.jpg").read_bytes()))
    document = recoded(chip(load_rgb((DATA / "neutral" / "001.jpg").read_bytes())), "jp2")[0]
    matcher.compare(document, live)           # models loaded before timing
    verdict = timed_ms(lambda: matcher.compare(document, live), repeat)
    detector = timed_ms(lambda: matcher.detect_only(live), repeat)
    observer = Observer(matcher, describe_every=10 ** 9)    # one descriptor, then none
    observer.observe(0.0, live)
    observe = timed_ms(lambda: observer.observe(0.0, live), repeat)
    v, d, o = (statistics.median(x) for x in (verdict, detector, observe))
    return {"frame": "640x480", "document": "102x126 JPEG 2000", "repeat": repeat,
            "cores": sorted(os.sched_getaffinity(0)),
            "capture_to_verdict_ms_median": round(v, 1), "detector_alone_ms_median": round(d, 1),
            "ratio_verdict_to_detector": round(v / d, 2),
            # a liveness frame without a descriptor: detector, landmarks, eyes, change
            "liveness_frame_ms_median": round(o, 1),
            "ratio_liveness_frame_to_detector": round(o / d, 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    p.add_argument("--repeat", type=int, default=20, help="timed verdicts")
    p.add_argument("--trials", type=int, default=10, help="liveness trials per scene")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})   # one core
    matcher = DlibMatcher()
    results = {"data": "Face Research Lab London Set (CC BY 4.0), 102 people",
               "method": "dlib-resnet-v1 (HOG detector, 5-point landmarks)",
               "score": "1 - Euclidean distance of the descriptors",
               "default_threshold": DEFAULT_THRESHOLD,
               "speed": speed(matcher, args.repeat),
               "accuracy": accuracy(matcher, args.rounds),
               "liveness": liveness(matcher, args.trials)}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)

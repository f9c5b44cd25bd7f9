"""Document camera benchmark: one command, JSON out, every number beside a baseline measured
in the same run on the same frames.

    .venv/bin/python benchmarks/camera.py [--per-condition N] [--repeat N] [--out FILE.json]

- smartdoc: mean Jaccard index (SmartDoc protocol) on the SmartDoc 2015 sample frames and the
  share of frames at JI ≥ 0.9, ours vs the classic tutorial pipeline (Canny 75/200, largest
  contour, approxPolyDP);
- synthetic: the same on the synthetic 高拍仪 set, overall and per condition, and the quality
  gates: share of degraded pages rejected with the right reason, share of clean ones rejected;
- speed (one thread): detection on a 1920×1080 preview frame, ours vs the tutorial pipeline;
  a full capture at 3264×2448 (find, refine, judge, straighten, clean, JPEG) vs only
  JPEG-encoding the raw frame at the same quality — the least any capture does;
- output: bytes per A4 page (JPEG at 200 dpi) and for a 3-page material PDF, which must embed
  the JPEGs as they are (no re-encoding).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import timed_ms  # noqa: E402
from drivers.camera import Flaw  # noqa: E402
from drivers.camera.detect import detect_page  # noqa: E402
from drivers.camera.files import load_rgb  # noqa: E402
from drivers.camera.pipeline import analyse, still_to_page  # noqa: E402
from drivers.camera.scoring import jaccard_index, smartdoc_frames  # noqa: E402
from kiosk.documents.render import images_to_pdf  # noqa: E402
from rigs.frames import CONDITIONS, Shot, shot, test_set  # noqa: E402

SMARTDOC = ROOT / "benchmarks" / "data" / "smartdoc15_ch1_sample"
A4 = (2100.0, 2970.0)       # synthetic pages' reference frame for the JI (any fixed size)


def tutorial_quad(rgb: np.ndarray) -> np.ndarray | None:
    """The classic pipeline from document-scanner tutorials: resize to 500 px high, grey,
    blur, Canny 75/200, the five largest contours, the first that approximates to 4 points."""
    scale = rgb.shape[0] / 500
    small = cv2.resize(rgb, (round(rgb.shape[1] / scale), 500))
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0),
                      75, 200)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
        if len(approx) == 4:
            return _ordered(approx.reshape(4, 2).astype(np.float32) * scale)
    return None


def _ordered(quad: np.ndarray) -> np.ndarray:
    """TL, TR, BR, BL by the usual sum/difference rule (what the tutorials do)."""
    s, d = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    return np.array([quad[s.argmin()], quad[d.argmin()], quad[s.argmax()], quad[d.argmax()]],
                    np.float32)


def _ji_summary(values: list[float]) -> dict[str, float]:
    return {"frames": len(values), "mean_ji": round(statistics.fmean(values), 4),
            "min_ji": round(min(values), 4),
            "share_ji_0_9": round(sum(v >= 0.9 for v in values) / len(values), 4)}


def bench_smartdoc() -> dict[str, Any]:
    ours, baseline, frames = [], [], []
    for frame in smartdoc_frames(SMARTDOC):
        rgb = load_rgb(frame.path)
        ji = jaccard_index(frame.quad, analyse(rgb).quad, frame.reference)
        ours.append(ji)
        baseline.append(jaccard_index(frame.quad, tutorial_quad(rgb), frame.reference))
        frames.append({"frame": frame.path.name, "ji": round(ji, 4)})
    return {"ours": _ji_summary(ours), "baseline_tutorial": _ji_summary(baseline),
            "mean_ji_ratio": round(statistics.fmean(ours) / statistics.fmean(baseline), 2),
            "frames": frames}


def bench_synthetic(per_condition: int) -> dict[str, Any]:
    shots = test_set(seed=0, per_condition=per_condition)
    by_condition: dict[str, dict[str, list[float]]] = {}
    verdicts = {"clean": [0, 0], "degraded": [0, 0]}   # [rejected rightly / wrongly, total]
    for item in shots:
        analysis = analyse(item.image)
        reasons = set(analysis.quality.reasons)
        row = by_condition.setdefault(item.condition, {"ours": [], "baseline": [], "right": []})
        if _fully_inside(item):
            row["ours"].append(jaccard_index(item.quad, analysis.quad, A4))
            row["baseline"].append(jaccard_index(item.quad, tutorial_quad(item.image), A4))
        if item.expected:
            verdicts["degraded"][0] += {f.value for f in item.expected} <= reasons
            verdicts["degraded"][1] += 1
            row["right"].append(float({f.value for f in item.expected} <= reasons))
        else:
            verdicts["clean"][0] += bool(reasons)
            verdicts["clean"][1] += 1
            row["right"].append(float(not reasons))
    conditions = {}
    for name, row in by_condition.items():
        entry: dict[str, Any] = {"shots": len(row["right"]),
                                 "verdict_right": round(statistics.fmean(row["right"]), 4)}
        if row["ours"]:
            entry["mean_ji"] = round(statistics.fmean(row["ours"]), 4)
            entry["baseline_mean_ji"] = round(statistics.fmean(row["baseline"]), 4)
        conditions[name] = entry
    found = [v for row in by_condition.values() for v in row["ours"]]
    base = [v for row in by_condition.values() for v in row["baseline"]]
    return {"shots": len(shots), "ours": _ji_summary(found),
            "baseline_tutorial": _ji_summary(base),
            "degraded_rejected_with_reason": round(verdicts["degraded"][0]
                                                   / max(1, verdicts["degraded"][1]), 4),
            "clean_rejected": round(verdicts["clean"][0] / max(1, verdicts["clean"][1]), 4),
            "conditions": conditions}


def _fully_inside(item: Shot) -> bool:
    """Shots whose page should be found whole (JI is meaningless for a cut-off page)."""
    return item.quad is not None and Flaw.OUTSIDE not in item.expected


def _times(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    fn()   # warm caches so both sides are measured alike
    times = sorted(timed_ms(fn, repeat))
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2)}


def bench_speed(repeat: int) -> dict[str, Any]:
    cv2.setNumThreads(1)
    preview = shot("clean", 1, size=(1920, 1080)).image
    still = shot("clean", 2, size=(3264, 2448)).image
    detect = _times(lambda: detect_page(preview), repeat)
    tutorial = _times(lambda: tutorial_quad(preview), repeat)
    capture = _times(lambda: still_to_page(still), max(5, repeat // 4))
    encode = _times(lambda: cv2.imencode(".jpg", still, [cv2.IMWRITE_JPEG_QUALITY, 85]),
                    max(5, repeat // 4))
    return {"threads": 1,
            "detect_1080p": detect, "baseline_tutorial_1080p": tutorial,
            "detect_ratio": round(detect["median_ms"] / tutorial["median_ms"], 2),
            "capture_8mp": capture, "baseline_jpeg_encode_8mp": encode,
            "capture_ratio": round(capture["median_ms"] / encode["median_ms"], 2)}


def bench_output() -> dict[str, Any]:
    pages = [still_to_page(shot("clean", seed, size=(3264, 2448)).image) for seed in (3, 4, 5)]
    pdf = images_to_pdf([(p.jpeg, p.width, p.height, p.dpi) for p in pages])
    jpeg_bytes = [len(p.jpeg) for p in pages]
    raw = [shot("clean", seed, size=(3264, 2448)).image for seed in (3,)]
    raw_jpeg = len(cv2.imencode(".jpg", raw[0], [cv2.IMWRITE_JPEG_QUALITY, 85])[1])
    return {"page_px": [pages[0].width, pages[0].height], "dpi": pages[0].dpi,
            "jpeg_quality": 85, "bytes_per_a4_page": round(statistics.fmean(jpeg_bytes)),
            "baseline_raw_frame_jpeg_bytes": raw_jpeg,
            "page_bytes_ratio": round(statistics.fmean(jpeg_bytes) / raw_jpeg, 3),
            "pdf_3_pages_bytes": len(pdf),
            "pdf_overhead_bytes": len(pdf) - sum(jpeg_bytes),
            "pdf_embeds_jpeg_unchanged": all(p.jpeg in pdf for p in pages)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-condition", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"smartdoc": bench_smartdoc(), "synthetic": bench_synthetic(args.per_condition),
              "speed": bench_speed(args.repeat), "output": bench_output(),
              "conditions": list(CONDITIONS)}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Document camera benchmark: one command, JSON out, every number beside a baseline measured
in the same run on the same frames.

    .venv/bin/python benchmarks/camera.py [--per-condition N] [--hard-per-condition N]
                                          [--repeat N] [--out FILE.json]

- smartdoc: mean Jaccard index (SmartDoc protocol) on the SmartDoc 2015 sample frames and the
  share of frames at JI ≥ 0.9, ours vs the detector before issue 25 ("legacy") and the classic
  tutorial pipeline (Canny 75/200, largest contour, approxPolyDP). Anchor: the published
  SmartDoc 2015 challenge 1 results reach a mean JI of about 0.98–0.99 overall; background 05
  (a cluttered desk) is where classical methods drop. The sample here holds backgrounds 01
  and 03 only, so background 05 is stood in for by the synthetic "clutter"/"occluded" sets;
- synthetic: the same on the synthetic 高拍仪 set (rigs/frames.py) and the hard set of issue 25
  (rigs/hard_frames.py: pale plates, low contrast, clutter, occlusion, and scenes with no
  page), per condition: mean JI, share of pages found, share of right verdicts, detection
  ms per 1080p frame, each beside the legacy detector on the same frames in the same run;
  and the quality gates: share of degraded pages rejected with the right reason, share of
  clean ones rejected;
- speed (one thread): detection on a 1920×1080 preview frame, ours vs legacy and the
  tutorial pipeline, on a clean frame and on the slowest hard condition's frames;
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

from benchmarks import legacy_detect  # noqa: E402
from benchmarks.timing import timed_ms  # noqa: E402
from drivers.camera import Flaw  # noqa: E402
from drivers.camera.detect import detect_page  # noqa: E402
from drivers.camera.files import load_rgb  # noqa: E402
from drivers.camera.pipeline import DETECTION_ERROR, Analysis, analyse, still_to_page  # noqa: E402
from drivers.camera.quality import NOT_FOUND, judge  # noqa: E402
from drivers.camera.refine import refine  # noqa: E402
from drivers.camera.scoring import jaccard_index, smartdoc_frames  # noqa: E402
from kiosk.documents.render import images_to_pdf  # noqa: E402
from rigs.frames import CONDITIONS, Shot, shot, test_set  # noqa: E402
from rigs.hard_frames import HARD_CONDITIONS, hard_set  # noqa: E402

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


def legacy_analyse(rgb: np.ndarray) -> Analysis:
    """drivers.camera.pipeline.analyse with the detector of before issue 25 (the frozen copy
    in benchmarks/legacy_detect.py); refinement and gates are today's for both."""
    detection = legacy_detect.detect_page(rgb)
    if detection.quad is None:
        return Analysis(detection, None, NOT_FOUND)
    height, width = rgb.shape[:2]
    error = DETECTION_ERROR * max(1.0, max(height, width) / legacy_detect.WORK_SIDE)
    refined = refine(legacy_detect.darkest_channel(rgb), detection.quad, error)
    return Analysis(detection, refined.quad,
                    judge(detection, refined.quad, refined.blur, (width, height)))


def bench_smartdoc() -> dict[str, Any]:
    ours, legacy, baseline, frames = [], [], [], []
    for frame in smartdoc_frames(SMARTDOC):
        rgb = load_rgb(frame.path)
        ji = jaccard_index(frame.quad, analyse(rgb).quad, frame.reference)
        ours.append(ji)
        legacy.append(jaccard_index(frame.quad, legacy_analyse(rgb).quad, frame.reference))
        baseline.append(jaccard_index(frame.quad, tutorial_quad(rgb), frame.reference))
        frames.append({"frame": frame.path.name, "ji": round(ji, 4)})
    return {"ours": _ji_summary(ours), "legacy": _ji_summary(legacy),
            "baseline_tutorial": _ji_summary(baseline),
            "mean_ji_ratio": round(statistics.fmean(ours) / statistics.fmean(baseline), 2),
            "mean_ji_ratio_to_legacy": round(statistics.fmean(ours) / statistics.fmean(legacy),
                                             4),
            "anchor": "SmartDoc 2015 ch.1 published best mean JI ≈ 0.98–0.99 overall; "
                      "background 05 (cluttered) is where classical methods drop; this "
                      "sample holds backgrounds 01 and 03 only",
            "frames": frames}


def _verdict_right(item: Shot, reasons: set[str]) -> bool:
    if item.expected:
        return {f.value for f in item.expected} <= reasons
    return not reasons


def _one_detector(item: Shot, run: Callable[[np.ndarray], Analysis], row: dict[str, list[float]],
                  prefix: str) -> set[str]:
    analysis = run(item.image)
    reasons = set(analysis.quality.reasons)
    row[prefix + "right"].append(float(_verdict_right(item, reasons)))
    if item.quad is not None:
        row[prefix + "found"].append(float(analysis.quad is not None))
    if item.quad is not None and _fully_inside(item):
        row[prefix + "ji"].append(jaccard_index(item.quad, analysis.quad, A4))
    return reasons


def _detect_ms(item: Shot) -> tuple[float, float]:
    """Detection only, on this 1080p frame: (ours, legacy) ms, interleaved so that load on
    a shared machine hits both alike."""
    ours = statistics.median(timed_ms(lambda: detect_page(item.image), 3))
    old = statistics.median(timed_ms(lambda: legacy_detect.detect_page(item.image), 3))
    return ours, old


def _condition_entry(row: dict[str, list[float]]) -> dict[str, Any]:
    def mean(key: str) -> float | None:
        return round(statistics.fmean(row[key]), 4) if row[key] else None
    ms, legacy_ms = statistics.median(row["ms"]), statistics.median(row["legacy_ms"])
    entry: dict[str, Any] = {
        "shots": len(row["right"]), "verdict_right": mean("right"),
        "legacy_verdict_right": mean("legacy_right"),
        "found": mean("found"), "legacy_found": mean("legacy_found"),
        "mean_ji": mean("ji"), "legacy_mean_ji": mean("legacy_ji"),
        "baseline_tutorial_mean_ji": mean("tutorial_ji"),
        "ms_per_frame": round(ms, 2), "legacy_ms_per_frame": round(legacy_ms, 2),
        "ms_ratio_to_legacy": round(ms / legacy_ms, 2)}
    return {key: value for key, value in entry.items() if value is not None}


def bench_synthetic(per_condition: int, hard_per_condition: int) -> dict[str, Any]:
    cv2.setNumThreads(1)
    shots = test_set(seed=0, per_condition=per_condition) + hard_set(
        seed=0, per_condition=hard_per_condition)
    by_condition: dict[str, dict[str, list[float]]] = {}
    verdicts = {"clean": [0, 0], "degraded": [0, 0]}   # [rejected rightly / wrongly, total]
    for item in shots:
        row = by_condition.setdefault(item.condition, {key: [] for key in (
            "right", "found", "ji", "legacy_right", "legacy_found", "legacy_ji", "tutorial_ji",
            "ms", "legacy_ms")})
        reasons = _one_detector(item, analyse, row, "")
        _one_detector(item, legacy_analyse, row, "legacy_")
        if item.quad is not None and _fully_inside(item):
            row["tutorial_ji"].append(jaccard_index(item.quad, tutorial_quad(item.image), A4))
        ours_ms, legacy_ms = _detect_ms(item)
        row["ms"].append(ours_ms)
        row["legacy_ms"].append(legacy_ms)
        kind = "degraded" if item.expected else "clean"
        verdicts[kind][0] += (_verdict_right(item, reasons) if item.expected
                              else bool(reasons))
        verdicts[kind][1] += 1
    found = [v for row in by_condition.values() for v in row["ji"]]
    old = [v for row in by_condition.values() for v in row["legacy_ji"]]
    base = [v for row in by_condition.values() for v in row["tutorial_ji"]]
    return {"shots": len(shots), "ours": _ji_summary(found), "legacy": _ji_summary(old),
            "baseline_tutorial": _ji_summary(base),
            "degraded_rejected_with_reason": round(verdicts["degraded"][0]
                                                   / max(1, verdicts["degraded"][1]), 4),
            "clean_rejected": round(verdicts["clean"][0] / max(1, verdicts["clean"][1]), 4),
            "conditions": {name: _condition_entry(row) for name, row in by_condition.items()}}


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
    legacy = _times(lambda: legacy_detect.detect_page(preview), repeat)
    tutorial = _times(lambda: tutorial_quad(preview), repeat)
    hard = [item.image for item in hard_set(seed=1, per_condition=2)]
    hard_ms = _times(lambda: [detect_page(image) for image in hard], max(3, repeat // 8))
    hard_legacy = _times(lambda: [legacy_detect.detect_page(image) for image in hard],
                         max(3, repeat // 8))
    capture = _times(lambda: still_to_page(still), max(5, repeat // 4))
    encode = _times(lambda: cv2.imencode(".jpg", still, [cv2.IMWRITE_JPEG_QUALITY, 85]),
                    max(5, repeat // 4))
    return {"threads": 1,
            "detect_1080p": detect, "legacy_detect_1080p": legacy,
            "baseline_tutorial_1080p": tutorial,
            "detect_ratio": round(detect["median_ms"] / tutorial["median_ms"], 2),
            "detect_ratio_to_legacy": round(detect["median_ms"] / legacy["median_ms"], 2),
            "hard_set_ms_per_frame": round(hard_ms["median_ms"] / len(hard), 2),
            "legacy_hard_set_ms_per_frame": round(hard_legacy["median_ms"] / len(hard), 2),
            "hard_set_ratio_to_legacy": round(hard_ms["median_ms"] / hard_legacy["median_ms"],
                                              2),
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
    parser.add_argument("--hard-per-condition", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"smartdoc": bench_smartdoc(),
              "synthetic": bench_synthetic(args.per_condition, args.hard_per_condition),
              "speed": bench_speed(args.repeat), "output": bench_output(),
              "conditions": list(CONDITIONS), "hard_conditions": list(HARD_CONDITIONS)}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

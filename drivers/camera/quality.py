"""Quality gates on a captured page: is it good enough to send to another province?

A bad scan is found out weeks later, when the handling region rejects the application, so
every gate errs towards asking for a retake; the reasons are named so the citizen is told
what to fix. The limits were set on the synthetic 高拍仪 set (rigs/frames.py)
and the SmartDoc frames; ``benchmarks/camera.py`` measures them.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import Detection, Flaw, Hint, PageQuality
from drivers.camera.detect import GLARE_LIMIT, MIN_AREA

Array = npt.NDArray[Any]
BLUR_LIMIT = 0.01      # edge wider than 1 % of the page width (≈ 2 mm on A4): text smears
DARK_LIMIT = 0.40      # paper below 40 % grey: the lamp is off or failing
SKEW_LIMIT = 25.0      # a corner this many degrees off square: a lifted, folded or tilted page
SIDE_RATIO_MIN = 0.7   # opposite sides this unequal: seen too steeply to straighten faithfully


def judge(detection: Detection, quad: Array, blur: float,
          frame: tuple[int, int]) -> PageQuality:
    """The verdict on a page found at ``quad`` (refined, input pixels) in a frame of
    ``frame`` = (width, height) pixels."""
    skew, side_ratio = _geometry(quad)
    coverage = _coverage(quad, frame)
    reasons = []
    if detection.hint is Hint.OUTSIDE or coverage < 0.995:
        reasons.append(Flaw.OUTSIDE)
    if detection.area_ratio < MIN_AREA:
        reasons.append(Flaw.TOO_SMALL)
    if blur > BLUR_LIMIT:
        reasons.append(Flaw.BLURRED)
    if detection.glare > GLARE_LIMIT:
        reasons.append(Flaw.GLARE)
    if detection.paper < DARK_LIMIT:
        reasons.append(Flaw.TOO_DARK)
    if skew > SKEW_LIMIT or side_ratio < SIDE_RATIO_MIN:
        reasons.append(Flaw.SKEWED)
    return PageQuality(
        page_found=True, sharpness=max(0.0, 1 - blur / (2 * BLUR_LIMIT)),
        glare=detection.glare, coverage=coverage, reasons=tuple(r.value for r in reasons),
        brightness=detection.paper, skew=skew, area=detection.area_ratio, blur=blur)


NOT_FOUND = PageQuality(page_found=False, sharpness=0.0, coverage=0.0,
                        reasons=(Flaw.NO_PAGE.value,), brightness=0.0)


def _geometry(quad: Array) -> tuple[float, float]:
    """(worst corner's degrees off square, the smaller ratio of opposite sides)."""
    edges = np.roll(quad, -1, axis=0) - quad
    lengths = np.linalg.norm(edges, axis=1)
    worst = 0.0
    for i in range(4):
        incoming, outgoing = -edges[i - 1], edges[i]
        cosine = float(incoming @ outgoing) / max(float(lengths[i - 1] * lengths[i]), 1e-9)
        angle = float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
        worst = max(worst, abs(angle - 90.0))
    ratio = min(min(lengths[0], lengths[2]) / max(lengths[0], lengths[2], 1e-9),
                min(lengths[1], lengths[3]) / max(lengths[1], lengths[3], 1e-9))
    return worst, float(ratio)


def _coverage(quad: Array, frame: tuple[int, int]) -> float:
    """Share of the page's area inside the frame."""
    width, height = frame
    box = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                    [-0.5, height - 0.5]], np.float32)
    area = float(cv2.contourArea(quad.astype(np.float32)))
    if area <= 0:
        return 0.0
    inside, _ = cv2.intersectConvexConvex(box, quad.astype(np.float32))
    return min(1.0, float(inside) / area)

"""From a full-resolution still to the page that goes in the package: find the page, refine
its corners, judge it, straighten it, clean it up, encode it. Every camera backend ends here,
so a page is judged the same way whatever took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import CapturedPage, Detection, PageQuality
from drivers.camera.detect import WORK_SIDE, darkest_channel, detect_page
from drivers.camera.quality import NOT_FOUND, judge
from drivers.camera.rectify import Mode, encode_jpeg, enhance, page_size, rectify
from drivers.camera.refine import refine

Array = npt.NDArray[Any]
DETECTION_ERROR = 2.5     # detection's corners are within this many working pixels
NOT_FOUND_SIDE = 1280     # a shot with no page is kept this size, for the guide to look at


@dataclass(frozen=True, repr=False)
class Analysis:
    """Where the page is in a still and what is wrong with it (no image: loggable)."""

    detection: Detection
    quad: Array | None    # refined corners, TL, TR, BR, BL in input pixels
    quality: PageQuality

    def __repr__(self) -> str:
        return f"Analysis({self.detection!r}, ok={self.quality.ok})"


def analyse(rgb: npt.NDArray[np.uint8]) -> Analysis:
    """Find and judge the page in an RGB still (H×W×3 uint8)."""
    detection = detect_page(rgb)
    if detection.quad is None:
        return Analysis(detection, None, NOT_FOUND)
    height, width = rgb.shape[:2]
    error = DETECTION_ERROR * max(1.0, max(height, width) / WORK_SIDE)
    refined = refine(darkest_channel(rgb), detection.quad, error)
    return Analysis(detection, refined.quad,
                    judge(detection, refined.quad, refined.blur, (width, height)))


def still_to_page(rgb: npt.NDArray[np.uint8], *, dpi: int = 200, mode: str = "colour",
                  jpeg_quality: int = 85, mm_per_px: float | None = None) -> CapturedPage:
    """The captured page for a still: rectified and enhanced when a page was found (whatever
    its quality: the verdict travels with it), else the whole shot, scaled down, marked
    no_page. Never raises for a bad page; ``mode`` is colour, grey or bw."""
    analysis = analyse(rgb)
    if analysis.quad is None:
        shot = _scaled(rgb, NOT_FOUND_SIDE)
        return CapturedPage(encode_jpeg(shot, jpeg_quality, 0), shot.shape[1], shot.shape[0],
                            0, analysis.quality)
    size = page_size(analysis.quad, dpi, mm_per_px)
    page = enhance(rectify(rgb, analysis.quad, size), Mode(mode))
    return CapturedPage(encode_jpeg(page, jpeg_quality, dpi), size[0], size[1], dpi,
                        analysis.quality)


def _scaled(rgb: npt.NDArray[np.uint8], side: int) -> Array:
    height, width = rgb.shape[:2]
    factor = side / max(height, width)
    if factor >= 1:
        return rgb
    small: Array = cv2.resize(rgb, (round(width * factor), round(height * factor)),
                              interpolation=cv2.INTER_AREA)
    return small

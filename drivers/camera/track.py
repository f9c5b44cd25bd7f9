"""Page detection across live-preview frames: one detector per preview (the capture screen's
feed), remembering the last page it saw.

A single frame can lose a page that is plainly still there: a hand passes over it, a cable
is pulled across, the lamp flickers on a pale plate. The auto-capture then starts its
countdown again and the citizen sees the frame around the page blink. So when a frame finds
no page (or a much smaller one) right after one was found, the last page's sides are checked
in this frame: if they are still edges, the page is kept, for at most ``HOLD_FRAMES`` frames.
A page that was taken away leaves no edges there, so it is let go at once.

Sub-pixel jitter of a page lying still is smoothed out too (the same corners are reported
while every corner stays within ``STILL_PX``), so the outline on the screen does not shimmer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import Detection
from drivers.camera.detect import darkest_channel, detect_page
from drivers.camera.edges import inward_sides

Array = npt.NDArray[Any]
Detect = Callable[[npt.NDArray[np.uint8]], Detection]
HOLD_FRAMES = 3           # frames a page is kept while the detector misses it
STILL_PX = 1.5            # corners moving less than this (input pixels) are the same page
STILL_THERE = 0.6         # share of the last page's sides that must still be edges,
STEP = 4                  # steps of this many grey levels (a pale plate's page: 6 or more)
CHECK_SIDE = 640          # the check runs on a copy this long (as detection does)


class PageTracker:
    """Callable like ``detect_page``; keeps state between the frames of one preview."""

    def __init__(self, detect: Detect = detect_page, hold_frames: int = HOLD_FRAMES) -> None:
        self._detect, self._hold = detect, hold_frames
        self._last: Detection | None = None
        self._missed = 0

    def __call__(self, rgb: npt.NDArray[np.uint8]) -> Detection:
        found = self._detect(rgb)
        last = self._last
        if last is None or last.quad is None:
            return self._keep(found)
        if _lost(found, last) and self._missed < self._hold and _still_there(rgb, last.quad):
            self._missed += 1
            return last
        if found.quad is not None and found.hint is last.hint and float(
                np.abs(found.quad - last.quad).max()) < STILL_PX:
            found = Detection(last.quad, found.hint, found.area_ratio, found.glare,
                              found.fingerprint, found.paper)
        return self._keep(found)

    def reset(self) -> None:
        """Forget the last page (a new preview, a new citizen)."""
        self._last, self._missed = None, 0

    def _keep(self, found: Detection) -> Detection:
        self._last = found if found.quad is not None else None
        self._missed = 0
        return found


def _lost(found: Detection, last: Detection) -> bool:
    """No page, or one much smaller than the last (a hand split it)."""
    if found.quad is None:
        return True
    return found.area_ratio < 0.6 * last.area_ratio


def _still_there(rgb: npt.NDArray[np.uint8], quad: Array) -> bool:
    """Are the quad's sides still edges in this frame, either way round (the paper brighter
    than the plate, or darker than a white one)?"""
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        return False
    height, width = rgb.shape[:2]
    factor = min(1.0, CHECK_SIDE / max(height, width))
    small = rgb if factor >= 1 else cv2.resize(
        rgb, (max(1, round(width * factor)), max(1, round(height * factor))),
        interpolation=cv2.INTER_AREA)
    grey = darkest_channel(small)
    scale = np.array([small.shape[1] / width, small.shape[0] / height], np.float32)
    corners = ((quad + 0.5) * scale - 0.5).astype(np.float32)
    return _side_steps(grey, corners) >= STILL_THERE


def _side_steps(grey: Array, quad: Array, samples: int = 24, offset: float = 2.5) -> float:
    """Share of points along the quad's sides where just inside differs from just outside by
    STEP or more, the same way round as at most points (a page may be darker than a white
    plate; detect.edge_support wants it brighter, and by more than a pale plate gives)."""
    height, width = grey.shape
    along = np.linspace(0.05, 0.95, samples, dtype=np.float32)[:, None]
    steps = []
    for a, b, normal in inward_sides(quad):
        points = a + along * (b - a)
        inner = np.clip(np.rint(points + offset * normal), 0, (width - 1, height - 1))
        outer = np.clip(np.rint(points - offset * normal), 0, (width - 1, height - 1))
        steps.append(grey[inner[:, 1].astype(int), inner[:, 0].astype(int)].astype(np.int16)
                     - grey[outer[:, 1].astype(int), outer[:, 0].astype(int)])
    step = np.concatenate(steps)
    sign = 1 if int((step > 0).sum()) >= int((step < 0).sum()) else -1
    return float((sign * step >= STEP).mean())

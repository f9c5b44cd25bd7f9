"""Live frames → liveness observations (drivers/face/liveness.py) with the dlib matcher's
detector and landmarks: head turn from the five landmarks, eye openness from the pixels
between each eye's corners, change from the previous frame, and a descriptor every few frames.

Why pixels for the eyes: the 5-point model marks the eyes' corners, not the lids (the 68-point
model that does is not usable in a product, see pyproject.toml). An open eye between its
corners shows dark iris and white sclera, a closed one an even lid: the contrast of that strip
falls by half or more when the eyes close. Only its ratio to the same person's open eyes
counts (liveness.Rules.blink).
"""

from __future__ import annotations

import cv2
import numpy as np

from drivers.face import FaceBox
from drivers.face.dlib_matcher import DlibMatcher
from drivers.face.image import Rgb
from drivers.face.liveness import Observation, Rules

SMALL = (160, 120)      # the change between frames is measured on this thumbnail


def yaw_of(face: FaceBox) -> float:
    """The nose's horizontal offset from the eyes' midpoint, in eye distances (positive: the
    nose is to the right of the picture, the person turned to their left)."""
    (ax, ay), _, (bx, by), _, (nx, _) = face.landmarks[:5]
    eyes = float(np.hypot(ax - bx, ay - by)) or 1.0
    return (nx - (ax + bx) / 2) / eyes


def eye_openness(grey: np.ndarray, face: FaceBox) -> float:
    """Mean over both eyes of the contrast (standard deviation / mean) of the strip between the
    eye's corners, a third of the eye's width high."""
    values = []
    for outer, inner in ((0, 1), (2, 3)):
        (ox, oy), (ix, iy) = face.landmarks[outer], face.landmarks[inner]
        width = float(np.hypot(ox - ix, oy - iy))
        cy, half = (oy + iy) / 2, max(width / 6, 1.0)
        strip = grey[max(int(cy - half), 0):int(cy + half) + 1,
                     max(int(min(ox, ix)), 0):int(max(ox, ix)) + 1]
        if strip.size:
            values.append(float(strip.std()) / (float(strip.mean()) + 1.0))
    return float(np.mean(values)) if values else 0.0


class Observer:
    """One per try: it keeps the previous frame's thumbnail and counts frames."""

    def __init__(self, matcher: DlibMatcher, describe_every: int = 5,
                 frontal: float = Rules.frontal) -> None:
        self.matcher = matcher
        self.describe_every = describe_every      # frontal frames between two descriptors
        self.frontal = frontal
        self._previous: np.ndarray | None = None
        self._count = 0

    def observe(self, t: float, frame: Rgb) -> Observation:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        change = self._change(grey)
        faces = self.matcher.detect(frame)
        if len(faces) != 1:
            return Observation(t, len(faces), change=change)
        yaw, descriptor = yaw_of(faces[0]), None
        if abs(yaw) <= self.frontal:      # a turned face describes less like its photo
            if self._count % self.describe_every == 0:
                descriptor = self.matcher.describe(frame).descriptor
            self._count += 1
        return Observation(t, 1, yaw, eye_openness(grey, faces[0]), change, descriptor)

    def _change(self, grey: np.ndarray) -> float:
        small = cv2.resize(grey, SMALL, interpolation=cv2.INTER_AREA).astype(np.int16)
        previous, self._previous = self._previous, small
        if previous is None:
            return 255.0      # the first frame: nothing to compare with, not "frozen"
        return float(np.abs(small - previous).mean())

"""Observations from real photos (the London set): turn, eyes, change, descriptor cadence."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.face import FaceBox
from drivers.face.dlib_matcher import DlibMatcher
from drivers.face.image import load_rgb
from drivers.face.liveness import Rules
from drivers.face.observe import Observer, yaw_of

LONDON = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "london_face_set"


@pytest.fixture(scope="module")
def matcher() -> DlibMatcher:
    return DlibMatcher()


def photo(person: int) -> np.ndarray:
    return load_rgb((LONDON / "neutral" / f"{person:03d}.jpg").read_bytes())


def eyes_closed(rgb: np.ndarray, face: FaceBox) -> np.ndarray:
    """Lids drawn over both eyes in the skin's colour, with a lash line."""
    closed = rgb.copy()
    for outer, inner in ((0, 1), (2, 3)):
        (ox, oy), (ix, iy) = face.landmarks[outer], face.landmarks[inner]
        cx, cy, w = int((ox + ix) / 2), int((oy + iy) / 2), int(abs(ox - ix))
        skin = rgb[int(cy + w * 0.9), cx].tolist()
        cv2.ellipse(closed, (cx, cy), (int(w * 0.75), int(w * 0.45)), 0, 0, 360, skin, -1)
        cv2.line(closed, (cx - w // 2, cy + 2), (cx + w // 2, cy + 2), (60, 40, 30), 1)
    return closed


def test_yaw_follows_the_nose_between_the_eyes() -> None:
    def face(nose_x: float) -> FaceBox:
        return FaceBox(0, 0, 100, 100, ((70, 40), (58, 40), (30, 40), (42, 40), (nose_x, 60)))
    assert yaw_of(face(50)) == pytest.approx(0)
    assert yaw_of(face(62)) == pytest.approx(0.3)      # the person turned to their left
    assert yaw_of(face(38)) == pytest.approx(-0.3)


@pytest.mark.parametrize("person", [1, 2, 3, 20])
def test_a_frontal_face_then_closed_eyes(matcher: DlibMatcher, person: int) -> None:
    rgb = photo(person)
    observer = Observer(matcher, describe_every=2)
    first = observer.observe(0.0, rgb)
    again = observer.observe(0.1, rgb)
    (face,) = matcher.detect(rgb)
    closed = observer.observe(0.2, eyes_closed(rgb, face))
    assert first.faces == 1 and abs(first.yaw) < Rules().frontal
    assert first.descriptor is not None and again.descriptor is None
    assert again.change == 0.0                     # the same picture twice: frozen
    assert closed.eyes < Rules().blink * first.eyes


def test_two_faces_are_counted_and_not_described(matcher: DlibMatcher) -> None:
    two = np.ascontiguousarray(np.hstack([photo(1), photo(2)]))
    seen = Observer(matcher).observe(0.0, two)
    assert seen.faces == 2 and seen.descriptor is None

"""Issue 25: the page is found on pale plates, at low contrast, among clutter and when partly
covered, with the right verdict; scenes with no page (an empty pale plate, only clutter, a
hand) find none; and any frame (odd sizes, grey, all black or white) gets a Detection, never
an exception. The hard set is rigs/hard_frames.py; benchmarks/camera.py measures it on more
seeds beside the detector of before."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from drivers.camera import Detection, Flaw, Hint
from drivers.camera.detect import detect_page
from drivers.camera.pipeline import analyse
from drivers.camera.scoring import jaccard_index
from rigs import hard_frames as hard

A4 = (2100.0, 2970.0)
SEEDS = range(4)
WITH_PAGE = [c for c in hard.HARD_CONDITIONS if c not in hard.NEGATIVE]


@cache
def _shot(condition: str, seed: int) -> hard.Shot:
    return hard.hard_shot(condition, seed)


def test_the_hard_set_is_deterministic_and_honest() -> None:
    for condition in ("clutter", "empty_pale"):
        first, again = hard.hard_shot(condition, 3, (640, 360)), hard.hard_shot(
            condition, 3, (640, 360))
        assert np.array_equal(first.image, again.image) and first.plate == again.plate
    assert not np.array_equal(hard.hard_shot("clutter", 3, (640, 360)).image,
                              hard.hard_shot("clutter", 4, (640, 360)).image)
    for condition in hard.HARD_CONDITIONS:
        shot = _shot(condition, 0)
        assert shot.image.shape == (1080, 1920, 3) and shot.image.dtype == np.uint8
        assert (shot.quad is None) == (condition in hard.NEGATIVE)
        assert shot.expected == ({Flaw.NO_PAGE} if condition in hard.NEGATIVE else set())
    with pytest.raises(ValueError):
        hard.hard_shot("marble", 0)


def test_low_contrast_is_low() -> None:
    """The page differs from the plate beside it by a few grey levels only."""
    for seed in SEEDS:
        shot = _shot("low_contrast", seed)
        assert shot.quad is not None
        grey = shot.image.min(axis=2).astype(float)
        centre = shot.quad.mean(axis=0)
        for corner in shot.quad:
            inward = (centre - corner) / np.linalg.norm(centre - corner)
            x_in, y_in = np.round(corner + 12 * inward).astype(int)
            x_out, y_out = np.round(corner - 12 * inward).astype(int)
            if 0 <= x_out < 1920 and 0 <= y_out < 1080:
                step = abs(grey[y_in - 2:y_in + 3, x_in - 2:x_in + 3].mean()
                           - grey[y_out - 2:y_out + 3, x_out - 2:x_out + 3].mean())
                assert step <= 30, (seed, step)


@pytest.mark.parametrize("condition", WITH_PAGE)
def test_the_page_is_found_with_its_verdict(condition: str) -> None:
    """Each seed: the page passes every gate and is found at JI ≥ 0.9 (the detector of
    before found none on most of these: see benchmarks/camera.py)."""
    for seed in SEEDS:
        shot = _shot(condition, seed)
        assert shot.quad is not None
        analysis = analyse(shot.image)
        assert analysis.quality.reasons == (), (condition, seed, analysis.quality.as_dict())
        assert jaccard_index(shot.quad, analysis.quad, A4) >= 0.9, (condition, seed)


@pytest.mark.parametrize("condition", sorted(hard.NEGATIVE))
def test_no_page_is_found_where_there_is_none(condition: str) -> None:
    for seed in range(6):
        detection = detect_page(_shot(condition, seed).image)
        assert detection.quad is None and detection.hint is Hint.NO_PAGE, (condition, seed)


@pytest.mark.parametrize("frame", [
    np.zeros((1080, 1920, 3), np.uint8),                 # lens cap on
    np.full((1080, 1920, 3), 255, np.uint8),             # blown out
    np.full((480, 640), 200, np.uint8),                  # grey camera, one channel
    np.zeros((1, 1, 3), np.uint8),
    np.zeros((7, 3000, 3), np.uint8),                    # a sliver
    np.zeros((0, 0, 3), np.uint8),
    np.full((333, 777, 1), 90, np.uint8),                # H×W×1
    np.zeros((100, 100, 4), np.uint8),                   # RGBA
    np.full((200, 300, 3), 0.5, np.float32),             # a float frame
], ids=["black", "white", "grey", "1px", "sliver", "empty", "hw1", "rgba", "float"])
def test_any_frame_gets_a_detection(frame: np.ndarray) -> None:
    detection = detect_page(frame)
    assert isinstance(detection, Detection)
    assert detection.quad is None and detection.hint is Hint.NO_PAGE


def test_odd_sizes_and_grey_frames_still_find_the_page() -> None:
    shot = hard.hard_shot("pale_plate", 1, (1001, 563))
    assert shot.quad is not None
    assert jaccard_index(shot.quad, detect_page(shot.image).quad, A4) >= 0.9
    clean = hard.hard_shot("low_contrast", 2, (1280, 720))
    grey = clean.image.min(axis=2)
    assert clean.quad is not None
    assert jaccard_index(clean.quad, detect_page(grey).quad, A4) >= 0.9
    portrait = np.ascontiguousarray(np.rot90(shot.image))
    found = detect_page(portrait)
    assert found.quad is not None and found.hint is Hint.OK

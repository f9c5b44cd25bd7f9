"""Temporal consistency of page detection in the live preview (issue 25): a page that one
frame misses is kept while its sides are still there, let go at once when it is taken away,
and a page lying still does not shimmer."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from drivers.camera import Detection, Hint
from drivers.camera.detect import detect_page
from drivers.camera.track import HOLD_FRAMES, PageTracker
from rigs import hard_frames as hard

SIZE = (960, 540)


def _scripted(outcomes: list[str]) -> tuple[PageTracker, Iterator[str]]:
    """A tracker whose detector really detects ("real") or misses ("miss") in turn: the
    miss stands for a frame the detector gets wrong (a hand passing over the page)."""
    script = iter(outcomes)

    def detect(rgb: np.ndarray) -> Detection:
        return detect_page(rgb) if next(script) == "real" else Detection(None, Hint.NO_PAGE)
    return PageTracker(detect), script


def test_a_missed_frame_keeps_the_page_while_its_sides_are_there() -> None:
    page = hard.hard_shot("pale_plate", 0, SIZE).image
    tracker, _ = _scripted(["real"] + ["miss"] * (HOLD_FRAMES + 1))
    first = tracker(page)
    assert first.quad is not None and first.hint is Hint.OK
    for _ in range(HOLD_FRAMES):
        held = tracker(page)
        assert held.quad is not None and np.array_equal(held.quad, first.quad)
    assert tracker(page).quad is None          # not for ever: the detector has the last word


def test_a_page_taken_away_is_let_go_at_once() -> None:
    page = hard.hard_shot("pale_plate", 0, SIZE).image
    empty = hard.hard_shot("empty_pale", 0, SIZE).image
    tracker, _ = _scripted(["real", "miss"])
    assert tracker(page).quad is not None
    assert tracker(empty).quad is None


def test_a_still_page_does_not_shimmer_but_a_moved_one_moves() -> None:
    page = hard.hard_shot("clutter", 2, SIZE).image
    tracker = PageTracker()
    first = tracker(page)
    assert first.quad is not None
    nudged = np.roll(page, 1, axis=1)          # one pixel: what noise does to the corners
    assert np.array_equal(tracker(nudged).quad, first.quad)
    moved = np.roll(page, 12, axis=1)
    again = tracker(moved)
    assert again.quad is not None and abs(float(again.quad[0, 0] - first.quad[0, 0]) - 12) < 2


def test_reset_forgets_the_page() -> None:
    page = hard.hard_shot("pale_plate", 0, SIZE).image
    tracker, _ = _scripted(["real", "miss"])
    assert tracker(page).quad is not None
    tracker.reset()
    assert tracker(page).quad is None

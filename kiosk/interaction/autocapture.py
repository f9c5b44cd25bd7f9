"""When to take the shot by itself (自动拍摄): the page found, nothing to fix, held still.

A pure state machine over page detections: no threads, no images, a clock passed in, so it
is tested step by step. The screen shows its advice ("hold still", the countdown, what to
fix) and takes the picture on SHOOT; the capture button works whatever this says.

After a shot it waits for the page to move or leave (a page turn) before it arms again, and
a page that looks like any page already taken (in this session: ``remember``) is reported as
DUPLICATE, not shot twice — choosing another material does not make it new. The look is a
64-bit perceptual hash from page detection: two pages that differ only in small print
(consecutive pages of dense text) can look alike to it; the citizen then uses the button.

A page already on the plate when the machine starts watching (the last citizen's, left
behind) is STALE: it is never shot until the plate has been seen empty for ``clear_frames``
detections in a row (one missed detection is not an empty plate), and a page that then shows
up again where the stale one lay, looking the same, is still that page (a hand over it hid it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

OK = "ok"
NO_PAGE = "no_page"
MOVING = "moving"
SAME_PAGE_BITS = 6        # hashes this close (Hamming distance) are the same page
CLEAR_FRAMES = 6          # detections in a row with no page: the plate is empty

Quad = Sequence[Sequence[float]]


class CaptureState(StrEnum):
    SEARCHING = "searching"      # no page on the plate
    ADJUST = "adjust"            # a page, but something to fix (see the hint)
    HOLD_STILL = "hold_still"    # a good page, still moving
    COUNTDOWN = "countdown"      # a good page held still: shooting when the countdown ends
    SHOOT = "shoot"              # take the picture now (once)
    DUPLICATE = "duplicate"      # the page already shot: turn the page, or use the button
    STALE = "stale"              # on the plate before this step: take it away first


@dataclass(frozen=True)
class Advice:
    state: CaptureState
    hint: str                    # the detection's hint, or "moving"
    seconds_left: float | None = None   # COUNTDOWN and SHOOT only


def same_page(a: int, b: int) -> bool:
    return (a ^ b).bit_count() <= SAME_PAGE_BITS


class AutoCapture:
    """Feed it every detection with ``observe``; tell it about every shot with ``captured``
    (automatic or the button), about a page given up with ``forget``, and ``reset`` it for a
    new material (the countdown starts again; pages taken stay taken)."""

    def __init__(self, dwell_s: float, clock: Callable[[], float],
                 motion_px: float = 6.0, clear_frames: int = CLEAR_FRAMES) -> None:
        if dwell_s < 0 or motion_px <= 0 or clear_frames < 1:
            raise ValueError("dwell_s must be ≥ 0, motion_px > 0 and clear_frames ≥ 1")
        self.dwell_s, self.motion_px, self._clock = dwell_s, motion_px, clock
        self.clear_frames = clear_frames
        self._taken: list[int] = []          # every page shot and kept, by look
        self._plate_clear = False            # the plate was seen empty since we started
        self._empty_run = 0
        self._stale: tuple[Quad, int | None] | None = None   # where the stale page lay
        self._previous: Quad | None = None   # the quad at the last observation
        self._anchor: Quad | None = None     # where the page came to rest
        self._armed = True
        self.reset()

    @property
    def plate_clear(self) -> bool:
        """The plate was seen empty since watching began: a page now is this citizen's."""
        return self._plate_clear

    def reset(self) -> None:
        """A new material: the countdown starts again. A page that has not moved since it
        was shot stays shot, and pages taken stay taken (the citizen must say so)."""
        self._ok_since: float | None = None

    def remember(self, page_hashes: Iterable[int]) -> None:
        """Pages this session already holds (the screen was left and entered again)."""
        self._taken.extend(page_hashes)

    def captured(self, page_hash: int | None) -> None:
        """A picture was taken: do not shoot again until the page moves (or leaves), and
        call any page that looks like this one a duplicate."""
        self._armed = False
        self._ok_since = None
        if page_hash is not None:
            self._taken.append(page_hash)

    def forget(self, page_hash: int | None) -> None:
        """A page was given up (retake): the same sheet may be shot again."""
        if page_hash is not None:
            self._taken = [h for h in self._taken if not same_page(h, page_hash)]
        self._armed = True
        self._ok_since = None

    def is_taken(self, page_hash: int | None) -> bool:
        return page_hash is not None and any(same_page(page_hash, h) for h in self._taken)

    def observe(self, quad: Quad | None, hint: str, frame_hash: int | None = None) -> Advice:
        if quad is None or hint == NO_PAGE:
            self._previous = self._anchor = None
            self._empty_run += 1
            if self._empty_run >= self.clear_frames:
                self._plate_clear = True
            self._rearm()   # the page left the plate
            return Advice(CaptureState.SEARCHING, NO_PAGE)
        self._empty_run = 0
        if self._is_stale(quad, frame_hash):
            self._plate_clear = False
            self._stale = (quad, frame_hash)
            self._previous = self._anchor = quad
            self._rearm()
            return Advice(CaptureState.STALE, hint)
        self._stale = None   # a page of this step: the stale one is gone for good
        moved = self._moved(quad)
        self._previous = quad
        if moved:
            self._anchor = quad
            self._rearm()   # a turned or moved page is worth a new shot
            if hint != OK:
                return Advice(CaptureState.ADJUST, hint)
            return Advice(CaptureState.HOLD_STILL, MOVING)
        if hint != OK:
            self._ok_since = None
            return Advice(CaptureState.ADJUST, hint)
        return self._still_and_ok(frame_hash)

    def _is_stale(self, quad: Quad, frame_hash: int | None) -> bool:
        if not self._plate_clear:
            return True
        if self._stale is None:
            return False
        stale_quad, stale_hash = self._stale   # back where it lay, looking the same
        same_look = frame_hash is None or stale_hash is None or same_page(frame_hash,
                                                                          stale_hash)
        return same_look and _shift(stale_quad, quad) < 2 * self.motion_px

    def _still_and_ok(self, frame_hash: int | None) -> Advice:
        if not self._armed or self.is_taken(frame_hash):
            self._ok_since = None
            return Advice(CaptureState.DUPLICATE, OK)
        now = self._clock()
        if self._ok_since is None:
            self._ok_since = now
        left = self.dwell_s - (now - self._ok_since)
        if left > 0:
            return Advice(CaptureState.COUNTDOWN, OK, left)
        self._armed = False   # once: the screen's captured() call says what was shot
        self._ok_since = None
        return Advice(CaptureState.SHOOT, OK, 0.0)

    def _rearm(self) -> None:
        self._armed = True
        self._ok_since = None

    def _moved(self, quad: Quad) -> bool:
        """Moved since the last look, or drifted from where it came to rest (a slow slide,
        each step under the limit, still blurs the shot)."""
        if self._previous is None or self._anchor is None:
            return True
        return (_shift(self._previous, quad) >= self.motion_px
                or _shift(self._anchor, quad) >= 2 * self.motion_px)


def _shift(a: Quad, b: Quad) -> float:
    """The largest distance any corner moved."""
    return max(math.hypot(ax - bx, ay - by) for (ax, ay), (bx, by) in zip(a, b, strict=True))

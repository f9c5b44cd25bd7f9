"""When to take the shot by itself (自动拍摄): the page found, nothing to fix, held still.

A pure state machine over page detections: no threads, no images, a clock passed in, so it
is tested step by step. The screen shows its advice ("hold still", the countdown, what to
fix) and takes the picture on SHOOT; the capture button works whatever this says.

After a shot it waits for the page to move or leave (a page turn) before it arms again, and
a page that comes back looking like the last one shot is reported as DUPLICATE, not shot
twice. The look is a 64-bit perceptual hash from page detection: two pages that differ only
in small print (consecutive pages of dense text) can look alike to it; the citizen then uses
the button.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

OK = "ok"
NO_PAGE = "no_page"
MOVING = "moving"
SAME_PAGE_BITS = 6        # hashes this close (Hamming distance) are the same page

Quad = Sequence[Sequence[float]]


class CaptureState(StrEnum):
    SEARCHING = "searching"      # no page on the plate
    ADJUST = "adjust"            # a page, but something to fix (see the hint)
    HOLD_STILL = "hold_still"    # a good page, still moving
    COUNTDOWN = "countdown"      # a good page held still: shooting when the countdown ends
    SHOOT = "shoot"              # take the picture now (once)
    DUPLICATE = "duplicate"      # the page already shot: turn the page, or use the button


@dataclass(frozen=True)
class Advice:
    state: CaptureState
    hint: str                    # the detection's hint, or "moving"
    seconds_left: float | None = None   # COUNTDOWN and SHOOT only


def same_page(a: int, b: int) -> bool:
    return (a ^ b).bit_count() <= SAME_PAGE_BITS


class AutoCapture:
    """Feed it every detection with ``observe``; tell it about every shot with ``captured``
    (automatic or the button), and ``reset`` it for a new material."""

    def __init__(self, dwell_s: float, clock: Callable[[], float],
                 motion_px: float = 6.0) -> None:
        if dwell_s < 0 or motion_px <= 0:
            raise ValueError("dwell_s must be ≥ 0 and motion_px > 0")
        self.dwell_s, self.motion_px, self._clock = dwell_s, motion_px, clock
        self.reset()

    def reset(self) -> None:
        self._previous: Quad | None = None   # the quad at the last observation
        self._anchor: Quad | None = None     # where the page came to rest
        self._ok_since: float | None = None
        self._armed = True
        self._last_shot: int | None = None

    def captured(self, page_hash: int | None) -> None:
        """A picture was taken: do not shoot again until the page moves (or leaves), and
        call the next page a duplicate if it looks like this one."""
        self._armed = False
        self._ok_since = None
        self._last_shot = page_hash

    def observe(self, quad: Quad | None, hint: str, frame_hash: int | None = None) -> Advice:
        if quad is None or hint == NO_PAGE:
            self._previous = self._anchor = None
            self._rearm()   # the page left the plate
            return Advice(CaptureState.SEARCHING, NO_PAGE)
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

    def _still_and_ok(self, frame_hash: int | None) -> Advice:
        if not self._armed or self._is_last_shot(frame_hash):
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

    def _is_last_shot(self, frame_hash: int | None) -> bool:
        return (frame_hash is not None and self._last_shot is not None
                and same_page(frame_hash, self._last_shot))


def _shift(a: Quad, b: Quad) -> float:
    """The largest distance any corner moved."""
    return max(math.hypot(ax - bx, ay - by) for (ax, ay), (bx, by) in zip(a, b, strict=True))

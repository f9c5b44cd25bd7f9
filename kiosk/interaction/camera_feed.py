"""The capture screen's live view: the newest preview frame, where the page is in it, and
the auto-capture's advice — worked out on the feed's own thread, read by the UI when it
redraws (pull: the UI shows the latest, nothing queues up behind a slow screen).

Page detection is passed in (bootstrap loads drivers.camera.detect lazily), so the core
never imports OpenCV.

The auto-capture's SHOOT is also handed to ``on_shoot`` on the feed's thread the moment it
is decided, so the shot does not wait for the screen's next redraw (a slow renderer must not
stretch the hold the citizen sees).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from drivers.camera import Detection, PreviewFrame
from kiosk.interaction.autocapture import Advice, AutoCapture, CaptureState

log = logging.getLogger(__name__)
Detect = Callable[[npt.NDArray[np.uint8]], Detection]
IDLE_S = 0.005            # how long to wait when the camera has no new frame yet


class PreviewSource(Protocol):
    """The part of a DocumentCamera the feed uses."""

    def start_preview(self) -> None: ...

    def stop_preview(self) -> None: ...

    def latest_frame(self) -> PreviewFrame | None: ...


@dataclass(frozen=True, repr=False)
class FeedView:
    frame: PreviewFrame
    detection: Detection
    advice: Advice
    display: npt.NDArray[np.uint8]   # the frame cut down for the screen (every step-th
    #                                  pixel), RGBA: GL takes it as it is, with no conversion
    step: int                        # full-frame pixels per display pixel

    def display_quad(self) -> list[tuple[float, float]] | None:
        """The detected page's corners in display pixels."""
        quad = self.detection.quad
        if quad is None:
            return None
        return [(float(x) / self.step, float(y) / self.step) for x, y in quad]

    def __repr__(self) -> str:
        return f"FeedView({self.frame!r}, {self.detection!r}, {self.advice.state.value})"


@dataclass(frozen=True)
class FeedCounts:
    frames_seen: int       # new frames taken from the camera
    detections: int        # detections run (equal unless a detection failed)


class CameraFeed:
    def __init__(self, camera: PreviewSource, detect: Detect,
                 clock: Callable[[], float] = time.monotonic, dwell_s: float = 1.5,
                 motion_px: float = 6.0, display_width: int = 960,
                 on_shoot: Callable[[FeedView], None] | None = None) -> None:
        self._camera, self._detect = camera, detect
        self.on_shoot = on_shoot
        # why: the preview box is about half a 1080p frame wide; cutting the frame down here,
        # off the UI thread, saves the UI three quarters of each texture upload
        self._display_width = display_width
        self._lock = threading.Lock()
        self._auto = AutoCapture(dwell_s, clock, motion_px)
        self._latest: FeedView | None = None
        self._shot: FeedView | None = None      # said SHOOT; the screen has not said captured()
        self._frames = self._detections = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the camera's preview and the feed's thread (again after stop())."""
        if self._thread is not None:
            return
        self._camera.start_preview()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="camera-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        self._camera.stop_preview()
        with self._lock:
            self._latest = self._shot = None   # the next citizen must not see this page

    def latest(self) -> FeedView | None:
        """The newest view. SHOOT stays in the advice until ``captured()`` (or the page moves
        or leaves), so a screen that redraws slower than the camera cannot miss it."""
        with self._lock:
            return self._latest

    def captured(self, page_hash: int | None = None) -> int | None:
        """A picture was taken (auto or the button): do not shoot this page again, and call
        it a duplicate if it comes back. ``page_hash`` defaults to the page that SHOOT was
        advised for, else the page in the newest view; the one used is returned."""
        with self._lock:
            if page_hash is None:
                source = self._shot or self._latest
                page_hash = source.detection.fingerprint if source else None
            self._auto.captured(page_hash)
            self._shot = None
            return page_hash

    def reset(self) -> None:
        """A new material: the countdown starts again; pages taken stay taken."""
        with self._lock:
            self._auto.reset()
            self._shot = None

    def remember(self, page_hashes: Iterable[int]) -> None:
        """Pages the session already holds: never shot again without the citizen's say."""
        with self._lock:
            self._auto.remember(page_hashes)

    def forget(self, page_hash: int | None) -> None:
        """A page given up for a retake: the same sheet may be shot again."""
        with self._lock:
            self._auto.forget(page_hash)

    def is_taken(self, page_hash: int | None) -> bool:
        with self._lock:
            return self._auto.is_taken(page_hash)

    @property
    def plate_clear(self) -> bool:
        """The plate was seen empty since start(): a page on it now is this citizen's."""
        with self._lock:
            return self._auto.plate_clear

    @property
    def counts(self) -> FeedCounts:
        with self._lock:
            return FeedCounts(self._frames, self._detections)

    def wait_for(self, predicate: Callable[[FeedView], bool], timeout: float) -> FeedView | None:
        """Poll for a view that satisfies ``predicate`` (tests, benchmarks, the CLI)."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.latest()
            if view is not None and predicate(view):
                return view
            if time.monotonic() >= deadline or self._stop.wait(IDLE_S):
                return None

    def _run(self) -> None:
        seen = -1
        while not self._stop.is_set():
            frame = self._camera.latest_frame()
            if frame is None:   # unplugged or stopped: show nothing rather than a stale page
                with self._lock:
                    self._latest = None
            if frame is None or frame.seq == seen:
                self._stop.wait(IDLE_S)
                continue
            seen = frame.seq
            self._step(frame)

    def _step(self, frame: PreviewFrame) -> None:
        with self._lock:
            self._frames += 1
        try:
            detection = self._detect(frame.image)
        except Exception:   # why: one bad frame must not end the live view
            log.exception("page detection failed on frame %d", frame.seq)
            return
        quad = detection.quad.tolist() if detection.quad is not None else None
        step = max(1, -(-frame.image.shape[1] // self._display_width))
        display = _rgba(frame.image[::step, ::step])
        shoot: FeedView | None = None
        with self._lock:
            self._detections += 1
            advice = self._auto.observe(quad, detection.hint.value, detection.fingerprint)
            if advice.state is CaptureState.SHOOT:
                self._shot = shoot = FeedView(frame, detection, advice, display, step)
            elif self._shot is not None and advice.state is CaptureState.DUPLICATE:
                advice = self._shot.advice   # still the page to shoot: keep saying so
            else:
                self._shot = None            # it moved or left before the shot: not taken
            self._latest = FeedView(frame, detection, advice, display, step)
        if shoot is not None and self.on_shoot is not None:
            self.on_shoot(shoot)


def _rgba(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """RGB → RGBA, here on the feed's thread: a software GL (llvmpipe) converts an RGB upload
    pixel by pixel on the UI thread, and that was most of the capture screen's frame time."""
    out = np.empty((*rgb.shape[:2], 4), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = 255
    return out

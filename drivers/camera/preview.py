"""The live-preview loop every camera backend shares: grab at a frame rate on the device's own
thread, keep only the newest frame.

A preview is for a person watching, so a slow consumer gets the newest frame and never a
backlog; frames nobody looked at are simply replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers.camera import PreviewFrame

# grab(now) → (RGB image, backend's own notes on the frame), or None when there is no frame.
Grab = Callable[[float], tuple[npt.NDArray[np.uint8], Any] | None]


class PreviewLoop:
    def __init__(self, grab: Grab, fps: float, name: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if fps <= 0:
            raise ValueError("preview fps must be positive")
        self._grab, self._period, self._name, self._clock = grab, 1.0 / fps, name, clock
        self._cond = threading.Condition()
        self._latest: tuple[PreviewFrame, Any] | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        with self._cond:
            self._latest = None   # a stopped preview must not show an old frame when restarted

    def latest(self) -> tuple[PreviewFrame, Any] | None:
        with self._cond:
            return self._latest

    def wait_for(self, predicate: Callable[[PreviewFrame, Any], bool],
                 timeout: float) -> tuple[PreviewFrame, Any] | None:
        """The first new frame (grabbed after this call) that satisfies ``predicate``."""
        with self._cond:
            after = self._seq
            found = self._cond.wait_for(lambda: self._matches(after, predicate), timeout)
            return self._latest if found else None

    def _matches(self, after: int, predicate: Callable[[PreviewFrame, Any], bool]) -> bool:
        latest = self._latest
        return latest is not None and latest[0].seq > after and predicate(*latest)

    def _run(self) -> None:
        due = self._clock()
        while not self._stop.is_set():
            now = self._clock()
            grabbed = self._grab(now)
            if grabbed is not None:
                self._publish(grabbed, now)
            # A fixed rate; after a late frame the next is grabbed at once, but missed
            # frames are never made up for with a burst.
            due = max(due + self._period, self._clock())
            self._stop.wait(max(0.0, due - self._clock()))

    def _publish(self, grabbed: tuple[npt.NDArray[np.uint8], Any], now: float) -> None:
        image, notes = grabbed
        with self._cond:
            self._seq += 1
            self._latest = (PreviewFrame(image, self._seq, now), notes)
            self._cond.notify_all()

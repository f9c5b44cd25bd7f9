"""A face camera that plays a recording: a video file or an image sequence (drivers.camera.
replay.open_frames), at its frame rate, following the clock as a real camera does — the demo's
and the tests' way to put a filmed person (or a filmed attack) in front of the kiosk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from drivers.camera.replay import open_frames
from drivers.face.camera import LiveCamera, Rgb


class ReplayFaceCamera(LiveCamera):
    def __init__(self, source: Path | str, *, fps: float = 15, loop: bool = False,
                 name: str = "face_camera.replay") -> None:
        super().__init__(name, fps, self._frame)
        self._source, self._fps, self._repeat = Path(source), fps, loop
        self._frames: Any = None       # drivers.camera.replay's frames, while playing
        self._started = -1.0

    def start(self) -> None:
        self._started = -1.0           # every start plays from the beginning
        super().start()

    def stop(self) -> None:
        super().stop()
        frames, self._frames = self._frames, None
        if frames is not None:
            frames.close()

    def _frame(self, now: float) -> Rgb | None:
        if self._frames is None:
            try:
                self._frames = open_frames(self._source)
            except OSError as exc:
                self.lost(f"recording unreadable: {type(exc).__name__}")
                return None
            self.found()
        if self._started < 0:
            self._started = now
        index = int((now - self._started) * self._fps)
        count = len(self._frames)
        index = index % count if self._repeat else min(index, count - 1)
        return np.array(self._frames.frame(index), dtype=np.uint8)

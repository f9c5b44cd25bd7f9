"""A document camera that plays a recording: a video file, or an image sequence (a directory or
a glob of images, in natural order). The demo's and tests' camera when a real desk was filmed.

Frames come through the PreviewLoop at the camera's frame rate, and the position follows the
clock as a real camera's picture does: a stalled consumer misses frames, it does not slow the
recording down. ``capture`` runs the still pipeline on the frame shown (or on a separate
full-resolution still per position, when given). A script can ``seek``, ``pause`` and
``resume``, and inject faults by name as with the emulated camera."""

from __future__ import annotations

import glob
import logging
import math
import re
import threading
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import CapturedPage, PreviewFrame
from drivers.camera.preview import PreviewLoop
from drivers.errors import DeviceError, DeviceFault
from drivers.faults import Faults
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

log = logging.getLogger(__name__)
Rgb = npt.NDArray[np.uint8]
FAULTS = ("unplugged",)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def natural_key(path: Path) -> list[Any]:
    """frame9 before frame10: runs of digits compare as numbers."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", path.name)]


def list_images(source: Path) -> list[Path]:
    """A directory's images, or the images a glob pattern matches, in natural order."""
    found = source.iterdir() if source.is_dir() else map(Path, glob.glob(str(source)))
    return sorted((p for p in found if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)


def read_rgb(path: Path) -> Rgb:
    data = np.fromfile(path, np.uint8)   # not imread: it fails on non-ASCII paths on Windows
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise OSError(f"cannot read image {path}")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


class _Frames(Protocol):
    def __len__(self) -> int: ...

    def frame(self, index: int) -> Rgb: ...

    def close(self) -> None: ...


class _Images:
    def __init__(self, files: list[Path]) -> None:
        self._files = files
        self._last: tuple[int, Rgb] | None = None   # a paused camera repeats one frame

    def __len__(self) -> int:
        return len(self._files)

    def frame(self, index: int) -> Rgb:
        if self._last is None or self._last[0] != index:
            self._last = (index, read_rgb(self._files[index]))
        return self._last[1]

    def close(self) -> None:
        self._last = None


class _Video:
    """Decodes forwards as playback goes; seeks only to go back (a loop) or far ahead."""

    SEEK_AHEAD = 30     # further than this, seeking beats decoding the frames in between

    def __init__(self, path: Path) -> None:
        self._cap = cv2.VideoCapture(str(path))
        self._count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)) if self._cap.isOpened() else 0
        self._next = 0                 # the frame the next read returns
        self._last: tuple[int, Rgb] | None = None

    def __len__(self) -> int:
        return self._count

    def frame(self, index: int) -> Rgb:
        if self._last is not None and self._last[0] == index:
            return self._last[1]
        if not self._next <= index <= self._next + self.SEEK_AHEAD:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._next = index
        while self._next < index and self._cap.grab():
            self._next += 1
        ok, bgr = self._cap.read()
        if not ok:
            # The container's frame count was an estimate: the recording ends here.
            self._count = max(1, min(self._count, index))
            if self._last is None:
                raise OSError("the recording has no frames")
            return self._last[1]
        self._next = index + 1
        self._last = (index, np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8))
        return self._last[1]

    def close(self) -> None:
        self._cap.release()


def open_frames(source: Path) -> _Frames:
    """A video file, or else an image sequence; OSError when there is nothing to play."""
    if source.is_file() and source.suffix.lower() not in IMAGE_SUFFIXES:
        frames: _Frames = _Video(source)
    else:
        frames = _Images(list_images(source))
    if len(frames) == 0:
        frames.close()
        raise OSError(f"no frames at {source}")
    return frames


class ReplayCamera:
    """DocumentCamera that plays ``source``. Thread-safe: one lock guards all state."""

    def __init__(self, source: Path | str, *, fps: float = 15, loop: bool = True,
                 stills: Path | str | None = None, dpi: int = 200, mode: str = "colour",
                 jpeg_quality: int = 85, name: str = "camera.replay") -> None:
        self.name = name
        self._source = Path(source)
        self._stills_source = Path(stills) if stills is not None else None
        self._fps, self._loop = fps, loop
        self._page_options: dict[str, Any] = {"dpi": dpi, "mode": mode,
                                              "jpeg_quality": jpeg_quality}
        # Reentrant: the sink runs under the lock and may call status() back.
        self._lock = threading.RLock()
        self._reporter = StatusReporter(name)
        self._frames: _Frames | None = None
        self._stills: list[Path] = []
        self._missing = ""               # why there is nothing to play
        self._opened = False
        self._faults = Faults(name, FAULTS, self._reporter)
        self._index = 0                  # the frame shown now
        self._origin: float | None = None   # when frame 0 was (or would have been) shown
        self._paused = False
        self._ended = False
        self._preview = PreviewLoop(self._grab, fps, f"{name}.preview")

    # --- DocumentCamera ------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        """A missing recording is reported as NO_DEVICE (a camera with no picture), not raised."""
        with self._lock:
            self._reporter.set_sink(sink)
            if self._frames is None:
                try:
                    self._frames = open_frames(self._source)
                    if self._stills_source is not None:
                        self._stills = list_images(self._stills_source)
                    self._missing = ""
                except OSError as exc:
                    log.error("%s: %s", self.name, exc)
                    self._missing = str(exc)
            self._opened = True
            self._refresh_status()

    def close(self) -> None:
        self._preview.stop()
        with self._lock:
            self._opened = False
            if self._frames is not None:
                self._frames.close()
                self._frames = None
            self._refresh_status()

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def capture(self, timeout: float) -> CapturedPage:
        """The still pipeline on the frame shown now (no waiting: ``timeout`` is unused)."""
        from drivers.camera.pipeline import still_to_page  # heavy OpenCV work: on first use

        with self._lock:
            frames = self._check_ready()
            index = self._index
            still = self._stills[index] if index < len(self._stills) else None
            # A copy: the preview goes on showing (and sharing) the frame meanwhile.
            rgb = read_rgb(still) if still is not None else frames.frame(index).copy()
            self._reporter.update(DeviceState.BUSY)
        try:
            return still_to_page(rgb, **self._page_options)
        finally:
            with self._lock:
                self._refresh_status()

    def start_preview(self) -> None:
        with self._lock:
            if not self._opened:
                raise DeviceError("高拍仪尚未启动", "The document camera is not open",
                                  code="not_open")
            self._origin = None    # play on from the frame shown when it stopped
        self._preview.start()

    def stop_preview(self) -> None:
        self._preview.stop()

    def latest_frame(self) -> PreviewFrame | None:
        latest = self._latest()
        return latest[0] if latest else None

    # --- scripting -----------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        with self._lock:
            return len(self._frames) if self._frames is not None else 0

    @property
    def position(self) -> int:
        """The index of the frame shown now."""
        with self._lock:
            return self._index

    def seek(self, index: int) -> None:
        """Show frame ``index`` next, and play on from there (unless paused)."""
        with self._lock:
            if not 0 <= index < self.frame_count:
                raise ValueError(f"frame {index} is outside 0..{self.frame_count - 1}")
            self._index, self._origin, self._ended = index, None, False

    def pause(self) -> None:
        """Hold the frame shown: the preview goes on delivering it, as a still scene would."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused, self._origin = False, None

    def wait_for_index(self, index: int, timeout: float) -> PreviewFrame:
        """The first preview frame from now on that shows frame ``index``."""
        found = self._preview.wait_for(lambda _frame, shown: shown == index, timeout)
        if found is None:
            raise TimeoutError(f"the replay did not show frame {index}")
        return found[0]

    def inject(self, fault: str) -> None:
        with self._lock:
            self._faults.inject(fault)
            self._refresh_status()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._refresh_status()

    @property
    def faults(self) -> frozenset[str]:
        return self._faults.active

    # --- internals -----------------------------------------------------------------------
    def _grab(self, now: float) -> tuple[Rgb, int] | None:
        with self._lock:
            frames = self._frames
            if not self._opened or "unplugged" in self._faults or frames is None:
                return None
            if not self._paused:
                self._index = self._position(now, len(frames))
            try:
                return frames.frame(self._index), self._index
            except OSError as exc:   # an unreadable image: skip it, keep the loop alive
                log.warning("%s: %s", self.name, exc)
                return None

    def _position(self, now: float, count: int) -> int:
        if self._origin is None:   # (re)anchor the clock so that the frame shown comes now
            self._origin = now - self._index / self._fps
        # (the epsilon: origin + index / fps, multiplied back, may fall a hair short)
        index = math.floor((now - self._origin) * self._fps + 1e-6)
        if index < count:
            return index
        if self._loop:
            return index % count
        if not self._ended:
            self._ended = True
            self._reporter.emit("replay_ended", frames=count)
        return count - 1           # stopped: the last frame stays in view

    def _latest(self) -> tuple[PreviewFrame, int] | None:
        with self._lock:
            if not self._opened or "unplugged" in self._faults:
                return None   # a gone camera shows nothing, not its last picture
        latest: tuple[PreviewFrame, int] | None = self._preview.latest()
        return latest

    def _check_ready(self) -> _Frames:
        if not self._opened:
            raise DeviceError("高拍仪尚未启动", "The document camera is not open", code="not_open")
        if "unplugged" in self._faults or self._frames is None:
            raise DeviceFault("高拍仪未连接，请联系现场工作人员",
                              "The document camera is disconnected: please call staff")
        return self._frames

    def _refresh_status(self) -> None:
        if not self._opened:
            self._reporter.update(DeviceState.OFFLINE)
        elif "unplugged" in self._faults:
            self._reporter.update(DeviceState.NO_DEVICE, detail="unplugged")
        elif self._frames is None:
            self._reporter.update(DeviceState.NO_DEVICE, detail=self._missing)
        else:
            self._reporter.update(DeviceState.ONLINE)

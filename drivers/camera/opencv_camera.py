"""A real document camera (高拍仪): a UVC camera through OpenCV's V4L2 backend.

Why each step: a UVC camera lists its large sizes only under MJPG, so the pixel format is set
before the size; a driver may quietly hand back another size, so what it delivers is read back
and reported, never assumed; auto-exposure needs a few frames after the stream (re)starts; and
V4L2 queues frames, so a still first drains the queue to show the page as it lies now.

Threads: preview frames are grabbed on the PreviewLoop's thread, a still on the caller's (the
kiosk's camera worker); one lock keeps them off the device at the same time. An unplugged camera
is noticed by failed reads or by its device node vanishing, and reopened with backoff by
whichever thread is using it: the preview thread while it runs, else status polls and captures
(an idle kiosk polls status, so a replugged camera comes back without anyone touching it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import CapturedPage, PreviewFrame
from drivers.camera.preview import PreviewLoop
from drivers.errors import DeviceError, DeviceFault
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

log = logging.getLogger(__name__)
Source = int | str                    # a device index, /dev/videoN, or a recording's path
CaptureFactory = Callable[[Source], Any]   # → a cv2.VideoCapture (or a test's stand-in)
Size = tuple[int, int]
Bgr = npt.NDArray[Any]                # OpenCV's stubs type its images loosely
FAIL_LIMIT = 3      # consecutive failed reads that mean the camera is gone (one is a hiccup)


def open_capture(source: Source) -> Any:
    """Devices through V4L2 (whose controls this module relies on); a recording through
    whichever backend reads it."""
    if isinstance(source, int) or source.startswith("/dev/"):
        return cv2.VideoCapture(source, cv2.CAP_V4L2)
    return cv2.VideoCapture(source)


def device_node(source: Source) -> str | None:
    """The file whose disappearance means unplugged (None for a URL: nothing to watch)."""
    if isinstance(source, int):
        return f"/dev/video{source}"
    return None if "://" in source else source


def fourcc_text(value: float) -> str:
    code = int(value)
    return "".join(chr((code >> 8 * i) & 0xFF) for i in range(4)).strip("\0 ")


def to_rgb(bgr: Bgr) -> npt.NDArray[np.uint8]:
    """OpenCV decodes to BGR; the rest of the kiosk (and Kivy's textures) work in RGB."""
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


class OpenCvCamera:
    """DocumentCamera on a UVC camera. Stills at ``still_size`` where the device offers it
    (the preview switches back after), else at whatever the preview runs at."""

    def __init__(self, device: Source = 0, *, fourcc: str = "MJPG",
                 preview_size: Size = (1920, 1080), still_size: Size = (3264, 2448),
                 fps: float = 15, warmup_frames: int = 5, drain_frames: int = 4,
                 dpi: int = 200, mode: str = "colour", jpeg_quality: int = 85,
                 retry_s: tuple[float, float] = (0.5, 8.0), name: str = "camera.opencv",
                 capture_factory: CaptureFactory = open_capture) -> None:
        if len(fourcc) != 4:
            raise ValueError(f"fourcc {fourcc!r}: four characters, e.g. MJPG")
        self.name = name
        self._source, self._node, self._factory = device, device_node(device), capture_factory
        self._fourcc, self._fps = fourcc, fps
        self._preview_size, self._still_size = preview_size, still_size
        self._warmup, self._drain = max(0, warmup_frames), max(0, drain_frames)
        self._page_options: dict[str, Any] = {"dpi": dpi, "mode": mode,
                                              "jpeg_quality": jpeg_quality}
        self._retry_min, self._retry_max = retry_s
        self._io = threading.Lock()     # one user of the device at a time
        self._reporter = StatusReporter(name)
        self._cap: Any = None
        self._opened = False
        self._lost = ""                 # why the camera is gone; "" while it delivers
        self._failures = 0
        self._backoff, self._retry_at = self._retry_min, 0.0
        self._warm_left = 0             # frames to discard before the next one is shown
        self._switch = still_size != preview_size   # cleared if the device refuses the size
        self._delivered: Size = (0, 0)  # the preview size the device actually sends
        self._notes: dict[str, str] = {}    # "preview"/"still" → what it delivered instead
        self._stale_seq = 0             # preview frames up to this one predate an unplug
        self._preview = PreviewLoop(self._grab, fps, f"{name}.preview")

    # --- DocumentCamera ------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        """Never raises for a missing camera: it reports NO_DEVICE and keeps retrying."""
        self._reporter.set_sink(sink)
        with self._io:
            self._opened = True
            if self._cap is None and not self._connect():
                self._lose(f"no camera at {self._source}", time.monotonic())

    def close(self) -> None:
        self._preview.stop()
        with self._io:
            self._opened, self._lost = False, ""
            self._release()
            self._refresh_status()

    def status(self) -> DeviceStatus:
        # An idle camera has no thread of its own: the poll notices the unplug and retries.
        # Never block behind a still or a preview read, though: then the status is current.
        if not self._preview.running and self._io.acquire(blocking=False):
            try:
                self._ready(time.monotonic())
            finally:
                self._io.release()
        return self._reporter.status

    def capture(self, timeout: float) -> CapturedPage:
        """A still of the plate as it is now, found, rectified and checked by the pipeline.
        ``timeout`` bounds the wait for the device (the preview may be mid-read)."""
        from drivers.camera.pipeline import still_to_page  # heavy OpenCV work: on first use

        if not self._io.acquire(timeout=max(timeout, 3 / self._fps)):
            raise DeviceError("高拍仪正忙，请稍候再试", "The document camera is busy: try again",
                              code="busy")
        try:
            bgr = self._still(time.monotonic())
        finally:
            self._io.release()
        return still_to_page(to_rgb(bgr), **self._page_options)

    def start_preview(self) -> None:
        if not self._opened:
            raise DeviceError("高拍仪尚未启动", "The document camera is not open", code="not_open")
        self._preview.start()

    def stop_preview(self) -> None:
        self._preview.stop()

    def latest_frame(self) -> PreviewFrame | None:
        latest = self._preview.latest()
        if latest is None or not self._opened or self._lost or latest[0].seq <= self._stale_seq:
            return None   # a gone camera shows nothing, not its last picture
        return latest[0]

    # --- the device (all below run under self._io) ---------------------------------------
    def _grab(self, now: float) -> tuple[npt.NDArray[np.uint8], None] | None:
        with self._io:
            if not self._ready(now) or not self._skip(self._warm_left, now):
                return None
            self._warm_left = 0
            bgr = self._pull(now, decode=True)
            if bgr is None:
                return None
            height, width = bgr.shape[:2]
            if (width, height) != self._delivered:   # the backend's get() was wrong
                self._delivered = (width, height)
                self._note("preview", self._preview_size, self._delivered, "")
                self._refresh_status()
        return to_rgb(bgr), None

    def _still(self, now: float) -> Bgr:
        if not self._opened:
            raise DeviceError("高拍仪尚未启动", "The document camera is not open", code="not_open")
        if self._lost:
            self._retry_at = now   # a citizen is waiting: try now, not after the backoff
        if not self._ready(now):
            raise _disconnected()
        self._reporter.update(DeviceState.BUSY, detail=self._detail())
        try:
            if self._switch:
                return self._switched_still(now)
            # Stale frames wait in the driver's queue: drain them to shoot what lies there now.
            self._skip(max(self._warm_left, self._drain), now)
            self._warm_left = 0
            return self._shoot(now)
        finally:
            self._refresh_status()

    def _switched_still(self, now: float) -> Bgr:
        chosen = self._configure(self._still_size, "still")
        try:
            # A new mode restarts the stream: the queue is fresh, but exposure settles again.
            self._skip(max(self._warmup, self._drain), now)
            bgr = self._shoot(now)
        finally:
            if not self._lost:   # (once lost, the reconnect configures the preview anyway)
                preview = self._configure(self._preview_size, "preview")
                self._warm_left = self._warmup
        got = (bgr.shape[1], bgr.shape[0])
        if got != chosen:       # the backend's get() was wrong
            self._note("still", self._still_size, got, "")
        if got == self._delivered:
            self._switch = False   # no larger size on offer: stop switching for nothing
            log.warning("%s: stills stay at the preview's %dx%d", self.name, *got)
        self._delivered = preview
        return bgr

    def _shoot(self, now: float) -> Bgr:
        bgr = None if self._lost else self._pull(now, decode=True)
        if bgr is not None:
            return bgr
        if self._lost:
            raise _disconnected()
        raise DeviceFault("高拍仪拍照失败，请重试", "The document camera failed to take the "
                          "picture: try again", code="capture_failed")

    def _ready(self, now: float) -> bool:
        """Whether the device is there to read; reconnects when the backoff allows."""
        if not self._opened:
            return False
        if not self._lost and self._node is not None and not os.path.exists(self._node):
            self._lose(f"{self._node} is gone", now)
        if self._lost and now >= self._retry_at and not self._connect():
            self._backoff = min(self._backoff * 2, self._retry_max)
            self._retry_at = now + self._backoff
        return not self._lost

    def _connect(self) -> bool:
        """Open and configure the device; True once it delivers a frame (only then is it back)."""
        self._release()
        if self._node is not None and not os.path.exists(self._node):
            return False   # opening a missing node only fills the log with OpenCV warnings
        cap = self._factory(self._source)
        if not cap.isOpened():
            cap.release()
            return False
        self._cap = cap
        self._delivered = self._configure(self._preview_size, "preview")
        cap.set(cv2.CAP_PROP_FPS, self._fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # a short queue keeps frames current (if honoured)
        if not cap.grab():
            self._release()
            return False
        if self._lost:
            log.info("%s: camera back after %s", self.name, self._lost)
        self._lost, self._failures, self._backoff = "", 0, self._retry_min
        self._warm_left = max(0, self._warmup - 1)   # that grab was the first
        self._refresh_status()
        return True

    def _configure(self, size: Size, role: str) -> Size:
        """Ask for ``size`` in our pixel format; return the size the device chose."""
        cap = self._cap
        # The format first: asked while still in YUYV, a UVC camera gives its largest YUYV
        # size (often 640×480), and switching to MJPG afterwards keeps that.
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self._fourcc))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        got = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self._note(role, size, got, fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)))
        return got

    def _note(self, role: str, asked: Size, got: Size, fourcc: str) -> None:
        """Record (and log once) what the device delivered instead of what was asked; the
        caller publishes it in the status detail."""
        wrong_format = bool(fourcc) and fourcc != self._fourcc
        if got == asked and not wrong_format:
            self._notes.pop(role, None)
            return
        note = (f"{role}: asked {asked[0]}x{asked[1]} {self._fourcc}, "
                f"got {got[0]}x{got[1]}{' ' + fourcc if wrong_format else ''}")
        if self._notes.get(role) != note:
            log.warning("%s: %s", self.name, note)
            self._notes[role] = note

    def _skip(self, frames: int, now: float) -> bool:
        """Discard ``frames`` frames (grab without decoding); False if the camera went."""
        for _ in range(frames):
            if self._lost:
                break
            self._pull(now, decode=False)
        return not self._lost

    def _pull(self, now: float, decode: bool) -> Bgr | None:
        """The next frame (decoded or only grabbed); counts failures towards an unplug."""
        cap = self._cap
        ok, bgr = cap.read() if decode else (cap.grab(), None)
        if not ok and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 0:
            # A recording standing in for the camera: at its end it starts over; a device
            # has no frame count, so this never hides a real unplug.
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = cap.read() if decode else (cap.grab(), None)
        if ok:
            self._failures = 0
            return bgr if decode else None
        self._failures += 1
        if self._failures >= FAIL_LIMIT:
            self._lose(f"{self._failures} reads failed", now)
        return None

    def _lose(self, reason: str, now: float) -> None:
        if not self._lost:
            log.warning("%s: camera lost (%s)", self.name, reason)
        self._release()
        self._lost = reason
        self._retry_at = now + self._backoff
        latest = self._preview.latest()
        self._stale_seq = latest[0].seq if latest else 0
        self._refresh_status()

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def _refresh_status(self) -> None:
        if not self._opened:
            self._reporter.update(DeviceState.OFFLINE)
        elif self._lost:
            self._reporter.update(DeviceState.NO_DEVICE, detail=f"unplugged: {self._lost}")
        else:
            self._reporter.update(DeviceState.ONLINE, detail=self._detail())

    def _detail(self) -> str:
        return "; ".join(self._notes[role] for role in sorted(self._notes))


def _disconnected() -> DeviceFault:
    return DeviceFault("高拍仪未连接，请联系现场工作人员",
                       "The document camera is disconnected: please call staff")

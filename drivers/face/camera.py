"""Face camera (人证核验): the interface every backend fulfils, and the live loop they share.

A face camera only streams: the liveness challenge and the capture both work on its frames
(drivers/face/observe.py, liveness.py), so it has no still mode. Frames are kept in memory
only — the newest one, replaced at the frame rate — and never written anywhere: a live face is
biometric data (the session wipes what it took from them).

Status and faults are those of every device (drivers/status.py, drivers/faults.py):
``unplugged`` (no frames, NO_DEVICE) and ``frozen`` (the same frame again and again, as a
hung driver or an injected still picture gives — liveness fails it as "still").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from drivers.camera import PreviewFrame
from drivers.camera.preview import PreviewLoop
from drivers.errors import DeviceError
from drivers.faults import Faults
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

Rgb = npt.NDArray[np.uint8]
FAULTS = ("unplugged", "frozen")


class FaceCamera(Protocol):
    name: str

    def open(self, sink: EventSink | None = None) -> None: ...

    def close(self) -> None: ...

    def status(self) -> DeviceStatus: ...

    def start(self) -> None:
        """Start streaming on the device's own thread, at its frame rate."""
        ...

    def stop(self) -> None:
        """Stop streaming and drop the last frame."""
        ...

    def latest_frame(self) -> PreviewFrame | None:
        """The newest frame only (never a backlog); None before the first, or while gone."""
        ...


@runtime_checkable
class FaceStage(Protocol):
    """What a hand does to an emulated face camera: put someone (or a photo, or nobody) in
    front of it, and have them do a move (``turn_left``, ``turn_right``, ``blink``)."""

    def present(self, scene: str) -> None: ...

    def act(self, challenge: str) -> None: ...


class LiveCamera:
    """What every face camera backend shares: status, faults, the streaming loop. A backend
    gives ``grab(now)`` → an RGB frame, or None when it has none (then it may call
    :meth:`lost`)."""

    def __init__(self, name: str, fps: float, grab: Callable[[float], Rgb | None],
                 faults: tuple[str, ...] = FAULTS) -> None:
        self.name = name
        self._lock = threading.RLock()       # the sink runs under it and may call status()
        self._reporter = StatusReporter(name)
        self._faults = Faults(name, faults, self._reporter)
        self._opened = False
        self._gone = ""                      # why the backend has no frames ("" = it has)
        self._grab_frame = grab
        self._last: Rgb | None = None
        self._stream = PreviewLoop(self._grab, fps, f"{name}.stream")

    def open(self, sink: EventSink | None = None) -> None:
        with self._lock:
            self._reporter.set_sink(sink)
            self._opened = True
            self._refresh()

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._opened = False
            self._refresh()

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def start(self) -> None:
        with self._lock:
            if not self._opened:
                raise DeviceError("人脸摄像头尚未启动", "The face camera is not open",
                                  code="not_open")
        self._stream.start()

    def stop(self) -> None:
        self._stream.stop()
        with self._lock:
            self._last = None                # a live face is not kept past its use

    def latest_frame(self) -> PreviewFrame | None:
        with self._lock:
            if not self._opened or "unplugged" in self._faults or self._gone:
                return None
        latest = self._stream.latest()
        return latest[0] if latest else None

    def inject(self, fault: str) -> None:
        with self._lock:
            self._faults.inject(fault)
            self._refresh()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._refresh()

    @property
    def faults(self) -> frozenset[str]:
        return self._faults.active

    def lost(self, reason: str) -> None:
        """The backend lost its frames (a camera unplugged, a recording unreadable)."""
        with self._lock:
            self._gone = reason
            self._refresh()

    def found(self) -> None:
        with self._lock:
            self._gone = ""
            self._refresh()

    def _grab(self, now: float) -> tuple[Rgb, None] | None:
        with self._lock:
            if not self._opened or "unplugged" in self._faults:
                return None
            frozen = "frozen" in self._faults and self._last is not None
            if frozen:
                return self._last.copy(), None      # type: ignore[union-attr]
        frame = self._grab_frame(now)
        if frame is None:
            return None
        with self._lock:
            self._last = frame
        return frame, None

    def _refresh(self) -> None:
        if not self._opened:
            self._reporter.update(DeviceState.OFFLINE)
        elif "unplugged" in self._faults:
            self._reporter.update(DeviceState.NO_DEVICE, detail="unplugged")
        elif self._gone:
            self._reporter.update(DeviceState.NO_DEVICE, detail=self._gone)
        else:
            self._reporter.update(DeviceState.ONLINE)

"""A real face camera: a UVC camera through OpenCV's V4L2 backend (the RGB half of a binocular
module, or a plain USB camera above the screen). Frames are grabbed on the streaming thread;
three failed reads in a row mean the camera is gone, and it is reopened with backoff from the
same thread, so an unplugged camera comes back by itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import cv2

from drivers.camera.opencv_camera import open_capture, to_rgb
from drivers.face.camera import LiveCamera, Rgb

log = logging.getLogger(__name__)
FAIL_LIMIT = 3


class OpenCvFaceCamera(LiveCamera):
    def __init__(self, device: int | str = 0, *, size: tuple[int, int] = (640, 480),
                 fps: float = 15, fourcc: str = "MJPG", name: str = "face_camera.opencv",
                 factory: Callable[[int | str], Any] = open_capture, retry_s: float = 2.0) -> None:
        super().__init__(name, fps, self._frame)
        self._device, self._size, self._fps, self._fourcc = device, size, fps, fourcc
        self._factory, self._retry_s = factory, retry_s
        self._cap: Any = None
        self._failures = 0
        self._retry_at = 0.0

    def stop(self) -> None:
        super().stop()
        self._release()       # the camera's light goes off between citizens

    def _frame(self, now: float) -> Rgb | None:
        if self._cap is None and not self._connect(now):
            return None
        ok, bgr = self._cap.read()
        if ok:
            self._failures = 0
            return to_rgb(bgr)
        self._failures += 1
        if self._failures >= FAIL_LIMIT:
            log.warning("%s: camera lost (%d reads failed)", self.name, self._failures)
            self._release()
            self._retry_at = now + self._retry_s
            self.lost("unplugged")
        return None

    def _connect(self, now: float) -> bool:
        if now < self._retry_at:
            return False
        cap = self._factory(self._device)
        if not cap.isOpened():
            cap.release()
            self._retry_at = now + self._retry_s
            self.lost("not found")
            return False
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self._fourcc))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
        cap.set(cv2.CAP_PROP_FPS, self._fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap, self._failures = cap, 0
        self.found()
        return True

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

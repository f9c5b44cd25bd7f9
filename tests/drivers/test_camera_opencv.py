"""OpenCvCamera: the real cv2.VideoCapture path on a recording, and the V4L2 logic on a fake.

This machine has no /dev/video device and no v4l2loopback, so the V4L2-specific behaviour
(FOURCC before size, the delivered size read back, the still's resolution switch, warm-up,
draining the queue, unplug and reconnect) is tested on ``FakeUvc``, injected through
``capture_factory``: it behaves as OpenCV's V4L2 backend does with a UVC camera. What OpenCV
itself does (decoding, BGR order, what a file delivers against what was asked, a vanishing
source) is tested on an MJPG .avi through the real cv2.VideoCapture.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from drivers.camera import CapturedPage, PreviewFrame
from drivers.camera.emulated import EmulatedCamera
from drivers.camera.opencv_camera import FAIL_LIMIT, OpenCvCamera, fourcc_text
from drivers.camera.scene import DeskScene
from drivers.errors import DeviceError, DeviceFault
from drivers.status import DeviceEvent, DeviceState

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30.0
PROP = {cv2.CAP_PROP_FOURCC: "fourcc", cv2.CAP_PROP_FRAME_WIDTH: "width",
        cv2.CAP_PROP_FRAME_HEIGHT: "height", cv2.CAP_PROP_FPS: "fps",
        cv2.CAP_PROP_BUFFERSIZE: "buffersize"}
BRIGHT_BGR = (200, 100, 50)          # what the fake's settled frames are filled with


# --- the fake UVC camera ----------------------------------------------------------------------
class FakeUvc:
    """A UVC camera as OpenCV's V4L2 backend presents it (mocked: no V4L2 device exists here).

    Like the real thing: it starts in YUYV; each format offers its own sizes, and a size is
    applied (the nearest offered) once both width and height are set, in the format current
    then; a format or size change restarts the stream, after which ``dark`` frames come before
    auto-exposure settles; the driver queues ``depth`` frames whatever BUFFERSIZE says (as
    many do); unplugging kills every open handle, and opening fails until it is back."""

    def __init__(self, node: Path, sizes: dict[str, list[tuple[int, int]]] | None = None,
                 depth: int = 3, dark: int = 2) -> None:
        self.node = node
        node.touch()
        self.sizes = sizes or {"MJPG": [(640, 480), (1920, 1080), (3264, 2448)],
                               "YUYV": [(640, 480)]}
        self.depth, self.dark = depth, dark
        self.scene = 0           # what lies on the plate now; each frame records it
        self.counter = 0         # frames the sensor has produced
        self.present = True
        self.generation = 0      # bumped by unplug: older handles are dead
        self.opened = 0          # handles the factory made
        self.calls: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.current: FakeCapture | None = None

    def factory(self, source: int | str) -> FakeCapture:
        with self.lock:
            self.opened += 1
            self.current = FakeCapture(self)
            return self.current

    def unplug(self, remove_node: bool = False) -> None:
        with self.lock:
            self.present = False
            self.generation += 1
        if remove_node:
            self.node.unlink()

    def replug(self) -> None:
        self.node.touch()
        with self.lock:
            self.present = True

    def sets(self) -> list[str]:
        """The properties set so far, in order (with the four-letter code for FOURCC)."""
        return [f"fourcc={fourcc_text(v)}" if p == "fourcc" else p for p, v in self.calls]


class FakeCapture:
    def __init__(self, rig: FakeUvc) -> None:
        self.rig = rig
        self.alive = rig.present
        self.generation = rig.generation
        self.fourcc, self.size = "YUYV", (640, 480)
        self.pending: dict[str, int] = {}
        self.queue: deque[tuple[int, int, bool]] = deque()
        self.dark_left = 0
        self._restart()

    def isOpened(self) -> bool:
        return self.alive

    def set(self, prop: int, value: float) -> bool:
        self.rig.calls.append((PROP.get(prop, str(prop)), value))
        if prop == cv2.CAP_PROP_FOURCC:
            if fourcc_text(value) in self.rig.sizes:   # else the driver keeps its format
                self.fourcc = fourcc_text(value)
                self.size = self._nearest(self.size)
                self._restart()
        elif prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT):
            self.pending[PROP[prop]] = int(value)
            if len(self.pending) == 2:   # OpenCV's V4L2 backend applies the pair together
                self.size = self._nearest((self.pending.pop("width"),
                                           self.pending.pop("height")))
                self._restart()
        return True

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self.size[0])
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self.size[1])
        if prop == cv2.CAP_PROP_FOURCC:
            return float(cv2.VideoWriter.fourcc(*self.fourcc))
        return -1.0    # FRAME_COUNT and the rest: a live device has none

    def grab(self) -> bool:
        with self.rig.lock:
            if not (self.alive and self.rig.present and self.generation == self.rig.generation):
                return False
            self.last = self.queue.popleft()
            self.queue.append(self._produce())
            return True

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        counter, scene, dark = self.last
        w, h = self.size
        frame = np.zeros((h, w, 3), np.uint8) if dark else np.empty((h, w, 3), np.uint8)
        if not dark:
            frame[:] = BRIGHT_BGR
        frame[0, 0] = (counter % 256, counter // 256, scene)
        return True, frame

    def read(self) -> tuple[bool, np.ndarray | None]:
        return self.retrieve() if self.grab() else (False, None)

    def release(self) -> None:
        self.alive = False

    def _nearest(self, size: tuple[int, int]) -> tuple[int, int]:
        offered = self.rig.sizes.get(self.fourcc, [(640, 480)])
        return min(offered, key=lambda s: abs(s[0] - size[0]) + abs(s[1] - size[1]))

    def _produce(self) -> tuple[int, int, bool]:
        self.rig.counter += 1
        dark = self.dark_left > 0
        self.dark_left = max(0, self.dark_left - 1)
        return self.rig.counter, self.rig.scene, dark

    def _restart(self) -> None:
        self.dark_left = self.rig.dark
        self.queue = deque(self._produce() for _ in range(self.rig.depth))


def _counter(frame: PreviewFrame) -> int:
    b, g, _ = frame.image[0, 0][::-1]    # the frame is RGB now: the marker pixel reversed
    return int(b) + 256 * int(g)


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _new_frame(camera: OpenCvCamera, after: int) -> PreviewFrame:
    found: list[PreviewFrame] = []

    def fresh() -> bool:
        frame = camera.latest_frame()
        if frame is not None and frame.seq > after:
            found.append(frame)
        return bool(found)
    _wait(fresh, f"a preview frame after #{after}")
    return found[0]


@pytest.fixture
def rig(tmp_path: Path) -> FakeUvc:
    return FakeUvc(tmp_path / "video0")


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def make(rig: FakeUvc, events: list[DeviceEvent]) -> Iterator[Callable[..., OpenCvCamera]]:
    """Opens cameras on the fake (the node is a file standing in for /dev/video0)."""
    cameras: list[OpenCvCamera] = []

    def make(**options: Any) -> OpenCvCamera:
        options.setdefault("fps", 60)
        options.setdefault("retry_s", (0.01, 0.05))
        camera = OpenCvCamera(str(rig.node), capture_factory=rig.factory, **options)
        camera.open(events.append)
        cameras.append(camera)
        return camera
    yield make
    for camera in cameras:
        camera.close()


def _states(events: list[DeviceEvent]) -> list[str]:
    return [e.data["state"] for e in events if e.kind == "status"]


# --- format and size (fake device) ------------------------------------------------------------
def test_fourcc_is_set_before_the_size(rig: FakeUvc, make: Callable[..., OpenCvCamera]) -> None:
    """Mocked (no V4L2 device here). The fake, like a UVC camera, has 1920×1080 only in MJPG:
    asked for the size while still in YUYV it would stay at 640×480."""
    camera = make()
    sets = rig.sets()
    assert sets[:3] == ["fourcc=MJPG", "width", "height"]
    assert "buffersize" in sets
    assert camera.status().state is DeviceState.ONLINE and camera.status().detail == ""
    camera.start_preview()
    assert _new_frame(camera, 0).image.shape == (1080, 1920, 3)


def test_delivered_size_mismatch_is_reported(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                             caplog: pytest.LogCaptureFixture) -> None:
    """Mocked (no V4L2 device here): the fake offers 1920×1080 for the 1600×1200 asked."""
    with caplog.at_level(logging.WARNING):
        camera = make(preview_size=(1600, 1200), still_size=(1600, 1200))
    status = camera.status()
    assert status.state is DeviceState.ONLINE and status.usable
    assert "asked 1600x1200" in status.detail and "got 1920x1080" in status.detail
    assert any("got 1920x1080" in r.getMessage() for r in caplog.records)
    camera.start_preview()
    assert _new_frame(camera, 0).image.shape == (1080, 1920, 3)   # what came, not what was asked


def test_a_refused_pixel_format_is_reported(tmp_path: Path, events: list[DeviceEvent]) -> None:
    """Mocked (no V4L2 device here): a camera with no MJPG at all stays in YUYV."""
    rig = FakeUvc(tmp_path / "video0", sizes={"YUYV": [(640, 480)]})
    camera = OpenCvCamera(str(rig.node), capture_factory=rig.factory, preview_size=(640, 480),
                          still_size=(640, 480))
    camera.open(events.append)
    try:
        assert "YUYV" in camera.status().detail
        assert "no_device" not in _states(events)
    finally:
        camera.close()


# --- stills (fake device) ---------------------------------------------------------------------
def test_still_switches_resolution_then_back(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                             stills: list[tuple[np.ndarray, dict[str, Any]]]
                                             ) -> None:
    """Mocked (no V4L2 device here). The still is taken at the still size, after the exposure
    settled (the fake's first frames after a switch are black), in RGB; then the preview is
    back at its own size, also without a dark frame."""
    camera = make(dpi=300, mode="grey")
    camera.start_preview()
    _new_frame(camera, 0)
    before = len(rig.calls)
    page = camera.capture(timeout=5)
    rgb, options = stills[-1]
    assert rgb.shape == (2448, 3264, 3) and (page.width, page.height) == (3264, 2448)
    assert options == {"dpi": 300, "mode": "grey", "jpeg_quality": 85}
    assert tuple(rgb[10, 10]) == BRIGHT_BGR[::-1]          # settled, and converted to RGB
    switches = [p for p, _ in rig.calls[before:] if p in ("fourcc", "width", "height")]
    assert switches == ["fourcc", "width", "height"] * 2   # to the still size, and back
    assert rig.current is not None and rig.current.size == (1920, 1080)
    frame = _new_frame(camera, camera.latest_frame().seq)  # type: ignore[union-attr]
    assert frame.image.shape == (1080, 1920, 3) and frame.image[10, 10].any()
    assert camera.status().state is DeviceState.ONLINE


@pytest.mark.parametrize(("warmup", "dark"), [(5, False), (0, True)])
def test_still_waits_for_the_exposure(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                      stills: list[tuple[np.ndarray, dict[str, Any]]],
                                      warmup: int, dark: bool) -> None:
    """Mocked (no V4L2 device here). Without warm-up frames the still is the black first
    frame after the switch: the control that shows the test can fail."""
    rig.depth = 1      # so draining alone does not hide the dark frames
    camera = make(warmup_frames=warmup, drain_frames=0)
    camera.capture(timeout=5)
    assert bool(stills[-1][0][10, 10].any()) is not dark


@pytest.mark.parametrize(("drain", "scene"), [(4, 1), (0, 0)])
def test_still_drains_stale_frames(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                   stills: list[tuple[np.ndarray, dict[str, Any]]],
                                   drain: int, scene: int) -> None:
    """Mocked (no V4L2 device here). The fake queues three frames whatever BUFFERSIZE says; a
    page laid down after they were taken shows only once they are drained (drain 0: the
    control, which shoots the empty plate)."""
    camera = make(still_size=(1920, 1080), drain_frames=drain)   # no switch: the queue stays
    camera.capture(timeout=5)           # uses up the warm-up after opening
    rig.scene = 1                       # the citizen lays the page down
    camera.capture(timeout=5)
    assert stills[-1][0][0, 0, 0] == scene    # RGB: the marker's scene byte comes first


def test_a_refused_still_size_stops_the_switching(
        tmp_path: Path, events: list[DeviceEvent],
        stills: list[tuple[np.ndarray, dict[str, Any]]]) -> None:
    """Mocked (no V4L2 device here): the camera offers nothing above 1920×1080."""
    rig = FakeUvc(tmp_path / "video0", sizes={"MJPG": [(640, 480), (1920, 1080)]})
    camera = OpenCvCamera(str(rig.node), capture_factory=rig.factory)
    camera.open(events.append)
    try:
        camera.capture(timeout=5)
        assert stills[-1][0].shape == (1080, 1920, 3)
        assert "still: asked 3264x2448 MJPG, got 1920x1080" in camera.status().detail
        before = len(rig.calls)
        camera.capture(timeout=5)
        assert rig.calls[before:] == []          # no pointless switch (and warm-up) again
    finally:
        camera.close()


def test_capture_needs_an_open_camera(rig: FakeUvc) -> None:
    """Mocked (no V4L2 device here), though the device is never touched."""
    camera = OpenCvCamera(str(rig.node), capture_factory=rig.factory)
    with pytest.raises(DeviceError) as info:
        camera.capture(timeout=0)
    assert info.value.code == "not_open"
    with pytest.raises(DeviceError):
        camera.start_preview()
    assert camera.status().state is DeviceState.OFFLINE


# --- the preview (fake device) ----------------------------------------------------------------
def test_a_slow_consumer_gets_the_newest_frame_not_a_backlog(
        make: Callable[..., OpenCvCamera]) -> None:
    """Mocked (no V4L2 device here). The preview runs at 60 fps; the consumer looks five
    times a second: each look is newer than the last and frames in between were dropped."""
    camera = make()
    camera.start_preview()
    seen = [_new_frame(camera, 0)]
    for _ in range(5):
        time.sleep(0.2)
        seen.append(_new_frame(camera, seen[-1].seq))
    seqs, counters = [f.seq for f in seen], [_counter(f) for f in seen]
    assert seqs == sorted(set(seqs)) and counters == sorted(set(counters))
    assert max(b - a for a, b in itertools.pairwise(seqs)) > 1
    assert max(b - a for a, b in itertools.pairwise(counters)) > 1


# --- unplug and reconnect (fake device) -------------------------------------------------------
def test_unplug_then_reconnect_while_previewing(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                                events: list[DeviceEvent]) -> None:
    """Mocked (no V4L2 device here): reads fail while the node stays (a USB hub resetting)."""
    camera = make()
    camera.start_preview()
    last = _new_frame(camera, 0)
    rig.unplug()
    _wait(lambda: camera.status().state is DeviceState.NO_DEVICE, "NO_DEVICE")
    assert "reads failed" in camera.status().detail and not camera.status().usable
    assert camera.latest_frame() is None
    with pytest.raises(DeviceFault) as info:
        camera.capture(timeout=5)
    assert "高拍仪" in info.value.zh and "camera" in info.value.en
    rig.replug()
    _wait(lambda: camera.status().state is DeviceState.ONLINE, "ONLINE again")
    assert _new_frame(camera, last.seq).image.shape == (1080, 1920, 3)
    assert _states(events) == ["online", "no_device", "online"]
    assert rig.opened >= 2


def test_node_gone_then_back_while_idle(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                                        events: list[DeviceEvent]) -> None:
    """Mocked (no V4L2 device here): no preview runs, so the status poll notices and retries;
    it does not try to open a node that is not there."""
    camera = make()
    rig.unplug(remove_node=True)
    status = camera.status()
    assert status.state is DeviceState.NO_DEVICE and "is gone" in status.detail
    opened = rig.opened
    for _ in range(20):
        time.sleep(0.01)
        assert camera.status().state is DeviceState.NO_DEVICE
    assert rig.opened == opened
    rig.replug()
    _wait(lambda: camera.status().state is DeviceState.ONLINE, "ONLINE again")
    assert _states(events) == ["online", "no_device", "online"]


def test_reconnect_backs_off(rig: FakeUvc, make: Callable[..., OpenCvCamera],
                            events: list[DeviceEvent]) -> None:
    """Mocked (no V4L2 device here). The preview thread's grab, driven by hand with made-up
    times: one attempt after 1 s, then 2 s, then at most every 4 s. (status() is not called
    until the end: with no preview running it would retry on the real clock.)"""
    camera = make(retry_s=(1.0, 4.0))
    t = 1000.0
    rig.unplug()                                  # the node stays: opening is tried, and fails
    for _ in range(FAIL_LIMIT):
        assert camera._grab(t) is None
    assert _states(events)[-1] == "no_device"
    attempts: list[float] = []
    for step in range(0, 120):
        now = t + step / 10
        opened = rig.opened
        camera._grab(now)
        if rig.opened > opened:
            attempts.append(round(now - t, 1))
    assert attempts == [1.0, 3.0, 7.0, 11.0]
    rig.replug()
    grabbed = camera._grab(t + 15.0)
    assert grabbed is not None and grabbed[0].shape == (1080, 1920, 3)
    assert camera.status().state is DeviceState.ONLINE


# --- the real cv2.VideoCapture on a recording -------------------------------------------------
def _write_avi(path: Path, frames: list[np.ndarray], fps: float = 10) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "this OpenCV build cannot write MJPG"
    for frame in frames:
        writer.write(frame)
    writer.release()


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Twelve 320×240 MJPG frames: grey levels 0, 20, … with a red left quarter (BGR)."""
    frames = []
    for k in range(12):
        frame = np.full((240, 320, 3), k * 20, np.uint8)
        frame[:, :80] = (0, 0, 255)
        frames.append(frame)
    path = tmp_path / "desk.avi"
    _write_avi(path, frames)
    return path


def test_recording_through_opencv(recording: Path, events: list[DeviceEvent]) -> None:
    """Real cv2.VideoCapture: a file ignores the size asked (reported), decodes to BGR
    (converted), and at its end starts over instead of looking unplugged."""
    camera = OpenCvCamera(str(recording), fps=60, warmup_frames=0)
    camera.open(events.append)
    try:
        status = camera.status()
        assert status.state is DeviceState.ONLINE
        assert "asked 1920x1080 MJPG, got 320x240" in status.detail
        camera.start_preview()
        frame = _new_frame(camera, 0)
        assert frame.image.shape == (240, 320, 3)
        red = frame.image[:, :80].reshape(-1, 3).mean(axis=0)
        assert red[0] > 200 and red[2] < 60
        _new_frame(camera, 30)              # more than twice through the twelve frames
        assert "no_device" not in _states(events)
    finally:
        camera.close()


def test_recording_vanishes_and_comes_back(recording: Path, events: list[DeviceEvent]) -> None:
    """Real cv2.VideoCapture, reopened after its source went away and came back."""
    camera = OpenCvCamera(str(recording), fps=60, warmup_frames=0, retry_s=(0.01, 0.05))
    camera.open(events.append)
    try:
        camera.start_preview()
        last = _new_frame(camera, 0)
        hidden = recording.with_suffix(".moved")
        recording.rename(hidden)
        _wait(lambda: camera.status().state is DeviceState.NO_DEVICE, "NO_DEVICE")
        assert camera.latest_frame() is None
        hidden.rename(recording)
        _wait(lambda: camera.status().state is DeviceState.ONLINE, "ONLINE again")
        assert _new_frame(camera, last.seq).image.shape == (240, 320, 3)
        assert _states(events) == ["online", "no_device", "online"]
    finally:
        camera.close()


def test_capture_from_a_recording_with_the_real_pipeline(tmp_path: Path) -> None:
    """Real cv2.VideoCapture and the real still pipeline on a filmed (composed) desk."""
    pages = EmulatedCamera(REPO / "assets" / "demo" / "pages",
                           REPO / "assets" / "fonts" / "NotoSansSC-Regular.otf")
    scene = DeskScene((1280, 720))
    scene.lay(pages._page_image("申请表", 1), 3, now=0.0)
    rgb, _, _ = scene.compose(5.0)
    path = tmp_path / "page.avi"
    _write_avi(path, [cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)] * 3)
    camera = OpenCvCamera(str(path), preview_size=(1280, 720), still_size=(1280, 720))
    camera.open()
    try:
        page = camera.capture(timeout=5)
    finally:
        camera.close()
    assert isinstance(page, CapturedPage) and page.jpeg.startswith(b"\xff\xd8")
    assert page.quality.page_found

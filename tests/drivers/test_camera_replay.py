"""ReplayCamera: image sequences and video files played as the camera, at its frame rate.

The rate is checked by counting frames against the made-up times the preview loop would
pass (``_grab(now)``), never by timing a run; the threaded preview is checked for order and
for showing only the newest frame."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from drivers.camera import CapturedPage, PreviewFrame
from drivers.camera.emulated import EmulatedCamera
from drivers.camera.opencv_camera import OpenCvCamera
from drivers.camera.replay import ReplayCamera, list_images
from drivers.camera.scene import DeskScene
from drivers.errors import DeviceError, DeviceFault
from drivers.status import DeviceEvent, DeviceState
from kiosk.bootstrap import device_context
from kiosk.devices.builtin import BUILTIN
from kiosk.errors import ConfigError
from kiosk.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30.0
COUNT = 12


def _level(k: int) -> int:
    return 10 + k * 20            # frame k is this grey (steps survive JPEG in a video)


def _image(k: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    return np.full((size[1], size[0], 3), _level(k), np.uint8)


def _shown(image: np.ndarray) -> int:
    """Which frame an image is, from its grey level."""
    return round((float(image.mean()) - 10) / 20)


@pytest.fixture
def sequence(tmp_path: Path) -> Path:
    """frame0.png … frame11.png: names that sort wrongly as text (frame10 before frame2)."""
    folder = tmp_path / "seq"
    folder.mkdir()
    for k in range(COUNT):
        cv2.imwrite(str(folder / f"frame{k}.png"), _image(k))
    (folder / "notes.txt").write_text("not a frame")
    return folder


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def make(events: list[DeviceEvent]) -> Iterator[Callable[..., ReplayCamera]]:
    cameras: list[ReplayCamera] = []

    def make(source: Path | str, **options: Any) -> ReplayCamera:
        camera = ReplayCamera(source, **options)
        camera.open(events.append)
        cameras.append(camera)
        return camera
    yield make
    for camera in cameras:
        camera.close()


def _play(camera: ReplayCamera, times: list[float]) -> list[int]:
    """What the camera shows at each of ``times`` (as the preview loop would grab)."""
    shown = []
    for now in times:
        grabbed = camera._grab(now)
        assert grabbed is not None
        image, index = grabbed
        assert _shown(image) == index          # the notes and the picture agree
        shown.append(index)
    return shown


def _ticks(seconds: float, step: float = 0.025, start: float = 500.0) -> list[float]:
    return [start + i * step for i in range(round(seconds / step) + 1)]   # both ends


def _changes(shown: list[int]) -> int:
    return sum(a != b for a, b in itertools.pairwise(shown))


# --- order, rate, loop ------------------------------------------------------------------------
def test_image_sequence_in_natural_order(sequence: Path) -> None:
    names = [p.name for p in list_images(sequence)]
    assert names == [f"frame{k}.png" for k in range(COUNT)]
    assert [p.name for p in list_images(sequence / "frame1*.png")] == [
        "frame1.png", "frame10.png", "frame11.png"]


@pytest.mark.parametrize("fps", [4, 10, 25])
def test_plays_at_the_configured_rate(sequence: Path, make: Callable[..., ReplayCamera],
                                      fps: int) -> None:
    """Over two (made-up) seconds, grabbed 40 times a second: 2 × fps frames go by, each shown
    in turn, none skipped (the loop wraps the twelve frames)."""
    camera = make(sequence, fps=fps)
    shown = _play(camera, _ticks(2.0))
    assert _changes(shown) == 2 * fps
    assert shown[0] == 0
    steps = {(b - a) % COUNT for a, b in itertools.pairwise(shown)}
    assert steps <= {0, 1}


def test_a_late_grab_skips_frames_as_a_camera_would(sequence: Path,
                                                    make: Callable[..., ReplayCamera]) -> None:
    camera = make(sequence, fps=10)
    assert _play(camera, [100.0, 100.1, 100.55, 100.6]) == [0, 1, 5, 6]


def test_loops_or_stops_at_the_end(sequence: Path, make: Callable[..., ReplayCamera],
                                   events: list[DeviceEvent]) -> None:
    looping = make(sequence, fps=10)
    assert _play(looping, [0.0, 1.1, 1.2, 2.4]) == [0, 11, 0, 0]
    stopping = make(sequence, fps=10, loop=False)
    assert _play(stopping, [0.0, 1.1, 1.2, 5.0]) == [0, 11, 11, 11]
    assert [e.kind for e in events].count("replay_ended") == 1


def test_seek_pause_resume(sequence: Path, make: Callable[..., ReplayCamera]) -> None:
    camera = make(sequence, fps=10)
    assert _play(camera, [0.0, 0.3]) == [0, 3]
    camera.pause()
    assert _play(camera, [0.4, 0.9, 3.0]) == [3, 3, 3]    # a still scene: same frame
    camera.resume()
    assert _play(camera, [10.0, 10.1, 10.25]) == [3, 4, 5]
    camera.seek(9)
    assert camera.position == 9
    assert _play(camera, [20.0, 20.1]) == [9, 10]
    with pytest.raises(ValueError):
        camera.seek(COUNT)


def test_video_file(tmp_path: Path, make: Callable[..., ReplayCamera]) -> None:
    path = tmp_path / "desk.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (64, 48))
    assert writer.isOpened(), "this OpenCV build cannot write MJPG"
    for k in range(COUNT):
        writer.write(_image(k))
    writer.release()
    camera = make(path, fps=10)
    assert camera.frame_count == COUNT and camera.status().state is DeviceState.ONLINE
    assert _play(camera, [0.0, 0.1, 0.2, 0.9, 1.3]) == [0, 1, 2, 9, 1]   # forwards, then wraps
    camera.seek(7)
    assert _play(camera, [5.0]) == [7]
    camera.seek(2)                                                     # backwards
    assert _play(camera, [6.0, 6.1]) == [2, 3]


# --- the preview thread -----------------------------------------------------------------------
def _new_frame(camera: ReplayCamera, after: int) -> PreviewFrame:
    deadline = time.monotonic() + WAIT_S
    while True:
        frame = camera.latest_frame()
        if frame is not None and frame.seq > after:
            return frame
        assert time.monotonic() < deadline, f"no preview frame after #{after}"
        time.sleep(0.005)


def test_preview_shows_the_sequence_newest_first(sequence: Path,
                                                 make: Callable[..., ReplayCamera]) -> None:
    """A consumer looking ten times a second at a 50 fps replay: each look newer, frames in
    between dropped, the pictures in sequence order (and then the last one held)."""
    camera = make(sequence, fps=50, loop=False)
    with pytest.raises(DeviceError):
        ReplayCamera(sequence).start_preview()        # not open
    camera.start_preview()
    seen = [_new_frame(camera, 0)]
    for _ in range(4):
        time.sleep(0.1)
        seen.append(_new_frame(camera, seen[-1].seq))
    seqs, shown = [f.seq for f in seen], [_shown(f.image) for f in seen]
    assert seqs == sorted(set(seqs)) and max(b - a for a, b in itertools.pairwise(seqs)) > 1
    assert shown == sorted(shown)                     # never backwards (no loop)
    assert camera.wait_for_index(COUNT - 1, WAIT_S).image.mean() == _level(COUNT - 1)


def test_unplugged_fault(sequence: Path, make: Callable[..., ReplayCamera],
                         events: list[DeviceEvent]) -> None:
    camera = make(sequence, fps=30)
    camera.start_preview()
    _new_frame(camera, 0)
    camera.inject("unplugged")
    assert camera.status().state is DeviceState.NO_DEVICE and not camera.status().usable
    assert camera.latest_frame() is None
    with pytest.raises(DeviceFault) as info:
        camera.capture(timeout=0)
    assert "高拍仪" in info.value.zh
    camera.clear_faults()
    assert camera.status().state is DeviceState.ONLINE
    _new_frame(camera, 0)
    faults = [(e.data["fault"], e.data["active"]) for e in events if e.kind == "fault"]
    assert faults == [("unplugged", True), ("unplugged", False)]
    with pytest.raises(ValueError):
        camera.inject("on_fire")


def test_missing_source_is_no_device(tmp_path: Path, make: Callable[..., ReplayCamera]) -> None:
    camera = make(tmp_path / "nothing-here")
    status = camera.status()
    assert status.state is DeviceState.NO_DEVICE and "nothing-here" in status.detail
    with pytest.raises(DeviceFault):
        camera.capture(timeout=0)
    camera.close()
    assert camera.status().state is DeviceState.OFFLINE


# --- capture ----------------------------------------------------------------------------------
def test_capture_uses_the_frame_shown(sequence: Path, make: Callable[..., ReplayCamera],
                                      stills: list[tuple[np.ndarray, dict[str, Any]]]) -> None:
    camera = make(sequence, fps=10, dpi=300)
    _play(camera, [0.0, 0.4])                         # showing frame 4
    page = camera.capture(timeout=0)
    rgb, options = stills[-1]
    assert _shown(rgb) == 4 and (page.width, page.height) == (64, 48)
    assert options == {"dpi": 300, "mode": "colour", "jpeg_quality": 85}
    assert camera.status().state is DeviceState.ONLINE


def test_capture_uses_the_full_resolution_still(tmp_path: Path, sequence: Path,
                                                make: Callable[..., ReplayCamera],
                                                stills: list[tuple[np.ndarray, dict[str, Any]]]
                                                ) -> None:
    folder = tmp_path / "stills"
    folder.mkdir()
    for k in range(3):                               # stills for the first three frames only
        cv2.imwrite(str(folder / f"still{k}.jpg"), _image(k, (640, 480)))
    camera = make(sequence, stills=folder)
    camera.seek(2)
    camera.capture(timeout=0)
    assert stills[-1][0].shape == (480, 640, 3) and _shown(stills[-1][0]) == 2
    camera.seek(5)
    camera.capture(timeout=0)                        # no still: the frame shown
    assert stills[-1][0].shape == (48, 64, 3) and _shown(stills[-1][0]) == 5


def test_capture_with_the_real_pipeline(tmp_path: Path, make: Callable[..., ReplayCamera]) -> None:
    """A composed desk with a page, then the empty desk: a page is found, then none (and the
    pipeline does not raise for the empty one)."""
    pages = EmulatedCamera(REPO / "assets" / "demo" / "pages",
                           REPO / "assets" / "fonts" / "NotoSansSC-Regular.otf")
    scene = DeskScene((1280, 720))
    empty, _, _ = scene.compose(5.0)
    scene.lay(pages._page_image("户口簿首页", 1), 5, now=0.0)
    placed, _, _ = scene.compose(5.0)
    for name, rgb in (("0-page.png", placed), ("1-empty.png", empty)):
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    camera = make(tmp_path / "*.png")
    page = camera.capture(timeout=0)
    assert isinstance(page, CapturedPage) and page.quality.page_found
    camera.seek(1)
    nothing = camera.capture(timeout=0)
    assert not nothing.quality.page_found and not nothing.quality.ok


# --- settings ---------------------------------------------------------------------------------
def test_backends_from_settings(sequence: Path) -> None:
    settings = load_settings(REPO / "config" / "default.toml")
    replay = BUILTIN.make("document_camera", "replay", {
        "source": str(sequence), "fps": 5, "loop": False, "dpi": 250}, device_context(settings))
    assert isinstance(replay, ReplayCamera)
    replay.open()
    assert replay.frame_count == COUNT
    relative = BUILTIN.make("document_camera", "replay", {}, device_context(settings))
    relative.open()                                   # demo/replay under paths.assets
    assert str(settings.paths.assets / "demo" / "replay") in relative.status().detail
    opencv = BUILTIN.make("document_camera", "opencv", {
        "device": "/dev/video2", "preview_size": [1280, 720], "still_size": [2592, 1944],
        "fourcc": "YUYV", "warmup_frames": 8}, device_context(settings))
    assert isinstance(opencv, OpenCvCamera)           # not opened: no device here
    for bad in ({"fourcc": "MJPEG"}, {"still_size": [3264]}, {"mode": "sepia"}):
        with pytest.raises(ConfigError):
            BUILTIN.make("document_camera", "opencv", bad, device_context(settings))

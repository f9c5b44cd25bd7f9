"""Face camera backends: the status vocabulary and faults every device has, the emulator's
scenes judged by the real observer and liveness judge, a recording played back, and the OpenCV
backend on a real video file standing in for the camera."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import PreviewFrame
from drivers.face.camera import LiveCamera
from drivers.face.dlib_matcher import DlibMatcher, similarity
from drivers.face.emulated import BACKGROUND, EmulatedFaceCamera
from drivers.face.image import load_rgb
from drivers.face.liveness import Challenge, Rules, Verdict, judge
from drivers.face.observe import Observer
from drivers.face.opencv_camera import OpenCvFaceCamera
from drivers.face.replay import ReplayFaceCamera
from drivers.status import DeviceState

FACES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "faces"
ORDER = (Challenge.TURN_RIGHT, Challenge.BLINK, Challenge.TURN_LEFT)
FPS = 8


@pytest.fixture(scope="module")
def matcher() -> DlibMatcher:
    return DlibMatcher()


def next_frame(camera: LiveCamera, after: int = 0, wait: float = 20.0) -> PreviewFrame:
    """The first frame newer than ``after`` (polls; a bound against hanging, not a timing)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        frame = camera.latest_frame()
        if frame is not None and frame.seq > after:
            return frame
        time.sleep(0.01)
    raise AssertionError("no frame")


def watch(camera: EmulatedFaceCamera, matcher: DlibMatcher, seconds: float,
          rules: Rules | None = None) -> tuple[Verdict, list[np.ndarray]]:
    """The emulator's frames at FPS on its own clock, observed and judged."""
    observer, seen, frames = Observer(matcher, describe_every=3), [], []
    for i in range(round(seconds * FPS)):
        frame = camera.render(0.2 + i / FPS)
        frames.append(frame)
        seen.append(observer.observe(i / FPS, frame))
    return judge(ORDER, seen, similarity, rules or Rules()), frames


def card(key: str = "applicant") -> np.ndarray:
    return load_rgb((FACES / f"{key}_card.jpg").read_bytes())


def test_the_applicant_acting_the_challenges_passes_and_matches(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="right")
    for challenge in ORDER:
        camera.act(challenge)
    verdict, frames = watch(camera, matcher, 4.5)
    assert verdict.passed, verdict
    assert matcher.compare(card(), frames[verdict.capture]).match


def test_someone_else_is_live_but_not_the_cards_holder(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="other")
    for challenge in ORDER:
        camera.act(challenge)
    verdict, frames = watch(camera, matcher, 4.5)
    assert verdict.passed, verdict
    assert not matcher.compare(card(), frames[verdict.capture]).match


def test_a_photo_held_up_does_not_act_and_times_out(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="photo")
    for challenge in ORDER:
        camera.act(challenge)
    verdict, _ = watch(camera, matcher, 3.0, Rules(time_limit=2.5))
    assert verdict.reason == "timeout" and verdict.done == ()


def test_acting_in_the_wrong_order_fails(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="right")
    camera.act("turn_left")                     # a recording's own order
    verdict, _ = watch(camera, matcher, 1.5)
    assert verdict.reason == "wrong_move"


def test_status_faults_and_scenes() -> None:
    camera = EmulatedFaceCamera(FACES, fps=30)
    assert camera.status().state is DeviceState.OFFLINE
    events: list[str] = []
    camera.open(lambda event: events.append(event.kind))
    assert camera.status().state is DeviceState.ONLINE
    camera.start()
    try:
        first = next_frame(camera)
        assert np.abs(first.image.astype(int) - BACKGROUND).mean() < 4    # nobody: background
        camera.inject("unplugged")
        assert camera.status().state is DeviceState.NO_DEVICE
        assert camera.latest_frame() is None
        camera.clear_faults()
        camera.inject("frozen")
        a = next_frame(camera, next_frame(camera).seq)
        b = next_frame(camera, a.seq)
        assert np.array_equal(a.image, b.image)          # a hung driver's frame, again
    finally:
        camera.close()
    assert camera.status().state is DeviceState.OFFLINE
    assert "fault" in events
    with pytest.raises(ValueError):
        camera.inject("on_fire")
    with pytest.raises(ValueError):
        camera.present("twins")


def test_a_recording_plays_back_and_a_missing_one_is_no_device(tmp_path: Path) -> None:
    emulator = EmulatedFaceCamera(FACES, present="right")
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), emulator.render(i / 10)[:, :, ::-1])
    camera = ReplayFaceCamera(tmp_path, fps=30)
    camera.open()
    camera.start()
    try:
        frame = next_frame(camera)
        assert frame.image.shape == (480, 640, 3)
    finally:
        camera.close()
    gone = ReplayFaceCamera(tmp_path / "nothing-here", fps=30)
    gone.open()
    gone.start()
    try:
        end = time.monotonic() + 20
        while gone.status().state is DeviceState.ONLINE and time.monotonic() < end:
            time.sleep(0.01)
        assert gone.status().state is DeviceState.NO_DEVICE
        assert "unreadable" in gone.status().detail
    finally:
        gone.close()


def test_the_opencv_backend_streams_a_video_and_reports_a_missing_camera(
        tmp_path: Path) -> None:
    video = tmp_path / "face.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 15, (640, 480))
    emulator = EmulatedFaceCamera(FACES, present="right")
    for i in range(10):
        writer.write(emulator.render(i / 10)[:, :, ::-1].copy())
    writer.release()
    camera = OpenCvFaceCamera(str(video), fps=30)
    camera.open()
    camera.start()
    try:
        assert next_frame(camera).image.shape == (480, 640, 3)
    finally:
        camera.close()
    missing = OpenCvFaceCamera("/dev/video-none", fps=30)
    missing.open()
    missing.start()
    try:
        end = time.monotonic() + 20
        while missing.status().state is DeviceState.ONLINE and time.monotonic() < end:
            time.sleep(0.01)
        assert missing.status().state is DeviceState.NO_DEVICE
    finally:
        missing.close()


def test_the_registry_builds_each_backend_and_an_unset_emulator_shows_nobody() -> None:
    from kiosk.devices.builtin import BUILTIN
    from kiosk.devices.registry import DeviceContext
    from kiosk.errors import ConfigError
    context = DeviceContext(assets=FACES.parents[1], data_dir=FACES)
    assert BUILTIN.make("face_camera", "emulated", {}, context).scene == "nobody"
    assert BUILTIN.make("face_camera", "replay", {"source": "x"}, context).name
    assert BUILTIN.make("face_camera", "opencv", {"device": "/dev/video7"}, context).name
    assert BUILTIN.make("face_matcher", "dlib", {}, context).threshold == 0.5
    with pytest.raises(ConfigError) as info:
        BUILTIN.make("face_camera", "emulated", {"present": "twins", "fsp": 3}, context)
    assert "fsp" in str(info.value.problems)

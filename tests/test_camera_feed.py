"""The capture screen's live feed: the emulated camera's preview, real page detection and the
auto-capture, on the feed's own thread; the UI only ever reads the newest view."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from drivers.camera import Detection, Hint, PreviewFrame
from drivers.camera.detect import detect_page
from drivers.camera.emulated import EmulatedCamera
from kiosk.interaction.autocapture import CaptureState
from kiosk.interaction.camera_feed import CameraFeed, FeedView

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "assets" / "demo" / "pages"
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"
WAIT_S = 30.0   # bounds on waiting for an outcome, never assertions about speed


def in_state(state: CaptureState, after: int = 0):  # type: ignore[no-untyped-def]
    return lambda view: view.advice.state is state and view.frame.seq > after


@pytest.fixture
def camera() -> Iterator[EmulatedCamera]:
    cam = EmulatedCamera(PAGES, FONT, preview_fps=30, preview_size=(960, 540), slide_s=0.3)
    cam.open()
    yield cam
    cam.close()


@pytest.fixture
def feed(camera: EmulatedCamera) -> Iterator[CameraFeed]:
    live = CameraFeed(camera, detect_page, dwell_s=0.3)
    live.start()
    yield live
    live.stop()


def wait(feed: CameraFeed, predicate, what: str) -> FeedView:  # type: ignore[no-untyped-def]
    view = feed.wait_for(predicate, WAIT_S)
    assert view is not None, f"gave up waiting for {what}; latest: {feed.latest()!r}"
    return view


def plate_seen_empty(feed: CameraFeed) -> None:
    wait(feed, lambda view: feed.plate_clear, "the plate seen empty")


def test_place_hold_shoot_turn_shoot_again(camera: EmulatedCamera, feed: CameraFeed) -> None:
    plate_seen_empty(feed)
    camera.place("申请表")
    shot = wait(feed, in_state(CaptureState.SHOOT), "the first shot")
    assert shot.detection.hint is Hint.OK and shot.detection.fingerprint is not None
    # SHOOT stays until the screen says it took the picture: a slow redraw cannot miss it
    wait(feed, in_state(CaptureState.SHOOT, after=shot.frame.seq + 2), "SHOOT held")
    feed.captured()
    same = wait(feed, in_state(CaptureState.DUPLICATE), "the shot page reported as shot")
    camera.place("申请表", 2)                                   # the citizen turns the page
    wait(feed, in_state(CaptureState.SHOOT, after=same.frame.seq), "the second shot")
    feed.captured()
    camera.place("申请表", 2)                                   # lifted and put back
    settled, _ = camera.wait_still(WAIT_S)
    back = wait(feed, lambda view: view.frame.seq >= settled.seq, "the page back at rest")
    assert back.advice.state is CaptureState.DUPLICATE
    camera.remove()
    wait(feed, in_state(CaptureState.SEARCHING), "the plate cleared")
    counts = feed.counts
    assert counts.frames_seen >= counts.detections > 10


def test_the_next_material_does_not_shoot_a_taken_page_a_retake_does(
        camera: EmulatedCamera, feed: CameraFeed) -> None:
    plate_seen_empty(feed)
    camera.place("户口簿首页")
    wait(feed, in_state(CaptureState.SHOOT), "the shot")
    taken = feed.captured()
    assert taken is not None and feed.is_taken(taken)
    feed.reset()                                              # the next material
    camera.place("户口簿首页")                                 # lifted and laid again
    settled, _ = camera.wait_still(WAIT_S)
    back = wait(feed, lambda view: view.frame.seq > settled.seq + 3, "the page at rest")
    assert back.advice.state is CaptureState.DUPLICATE
    feed.forget(taken)                                        # the citizen retakes it
    wait(feed, in_state(CaptureState.SHOOT), "a shot of the page given up")


def test_a_page_on_the_plate_before_start_is_not_shot(camera: EmulatedCamera) -> None:
    camera.place("申请表")
    shots: list[FeedView] = []
    live = CameraFeed(camera, detect_page, dwell_s=0.0, on_shoot=shots.append)
    live.start()
    try:
        settled, _ = camera.wait_still(WAIT_S)
        view = wait(live, lambda v: v.frame.seq > settled.seq + 5, "the page at rest")
        assert view.advice.state is CaptureState.STALE and not live.plate_clear
        camera.remove()
        plate_seen_empty(live)
        camera.place("申请表", 2)
        shot = wait(live, in_state(CaptureState.SHOOT), "the citizen's own page shot")
        assert shots and shots[0].frame.seq == shot.frame.seq   # handed over at once
    finally:
        live.stop()


def test_the_screen_gets_a_cut_down_frame_with_the_page_where_it_is() -> None:
    cam = EmulatedCamera(PAGES, FONT, preview_fps=30, preview_size=(1920, 1080), slide_s=0.3)
    cam.open()
    live = CameraFeed(cam, detect_page, display_width=960)
    live.start()
    try:
        cam.place("申请表")
        view = wait(live, lambda v: v.detection.quad is not None, "the page")
        assert view.step == 2 and view.display.shape == (540, 960, 4)
        assert view.display.flags["C_CONTIGUOUS"]             # uploaded as it is
        corners = view.display_quad()
        assert corners is not None
        for (x, y), (fx, fy) in zip(corners, view.detection.quad, strict=True):
            assert (x, y) == (fx / 2, fy / 2)
        # the same picture, not a different one: pixel (1, 1) of the cut is (2, 2) of the frame
        assert (view.display[1, 1, :3] == view.frame.image[2, 2]).all()
        assert (view.display[..., 3] == 255).all()
    finally:
        live.stop()
        cam.close()


def test_unplugged_camera_shows_nothing_and_stop_wipes(camera: EmulatedCamera,
                                                      feed: CameraFeed) -> None:
    camera.place("申请表")
    wait(feed, lambda view: view.detection.quad is not None, "the page")
    camera.inject("unplugged")
    deadline = time.monotonic() + WAIT_S
    while feed.latest() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert feed.latest() is None, "the feed kept showing the unplugged camera's last frame"
    camera.clear_faults()
    wait(feed, lambda view: view.detection.quad is not None, "the page again")
    feed.stop()
    assert feed.latest() is None and camera.latest_frame() is None


class StaticCamera:
    """A camera whose newest frame never changes (a frozen driver)."""

    def __init__(self) -> None:
        self.frame = PreviewFrame(np.zeros((48, 64, 3), np.uint8), seq=7, timestamp=0.0)
        self.polls = 0
        self.previewing = False
        self.polled = threading.Event()

    def start_preview(self) -> None:
        self.previewing = True

    def stop_preview(self) -> None:
        self.previewing = False

    def latest_frame(self) -> PreviewFrame | None:
        self.polls += 1
        if self.polls >= 20:
            self.polled.set()
        return self.frame


def test_a_frame_is_detected_once_however_often_it_is_seen() -> None:
    camera, calls = StaticCamera(), []

    def detect(image: np.ndarray) -> Detection:
        calls.append(image)
        return Detection(None, Hint.NO_PAGE)

    feed = CameraFeed(camera, detect)
    feed.start()
    assert camera.previewing
    assert camera.polled.wait(WAIT_S)
    feed.stop()
    assert not camera.previewing
    assert len(calls) == 1 and feed.counts.frames_seen == 1 and feed.counts.detections == 1


def test_a_failing_detection_does_not_end_the_feed() -> None:
    camera = StaticCamera()
    outcomes = iter([RuntimeError("bad frame"), Detection(None, Hint.NO_PAGE)])

    def detect(image: np.ndarray) -> Detection:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    feed = CameraFeed(camera, detect)
    feed.start()
    try:
        assert camera.polled.wait(WAIT_S)
        assert feed.latest() is None and feed.counts.detections == 0
        camera.frame = PreviewFrame(camera.frame.image, seq=8, timestamp=1.0)
        view = feed.wait_for(lambda v: v.frame.seq == 8, WAIT_S)
        assert view is not None and view.advice.state is CaptureState.SEARCHING
        assert feed.counts.frames_seen == 2 and feed.counts.detections == 1
    finally:
        feed.stop()

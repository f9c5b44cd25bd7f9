"""Our 人证核验 end to end: the emulated person acting each prompted move, the verifier
observing, judging and comparing. The camera is stepped on a virtual clock (a frame each
tenth of a second, however slow the machine), so what is tested is the verifier's logic, not
this machine's load; the emulator's real-time stream is tested in test_face_camera.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from drivers.camera import PreviewFrame
from drivers.errors import DeviceFault
from drivers.face.dlib_matcher import DlibMatcher
from drivers.face.emulated import EmulatedFaceCamera
from drivers.face.image import load_rgb
from drivers.face.liveness import Challenge, Rules
from drivers.face.verify import ChallengeVerifier, LivenessFailed
from drivers.status import DeviceStatus

FACES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "faces"
CARD = FACES / "applicant_card.jpg"


class SteppedCamera:
    """The emulated face camera, one frame per look, on a clock that moves 0.1 s a frame."""

    def __init__(self, scene: str) -> None:
        self.emulator = EmulatedFaceCamera(FACES, present=scene)
        self.name, self.now, self.seq, self.streaming = "stepped", 0.0, 0, False

    def open(self, sink: object = None) -> None:
        self.emulator.open()

    def close(self) -> None:
        self.emulator.close()

    def status(self) -> DeviceStatus:
        return self.emulator.status()

    def start(self) -> None:
        self.streaming = True

    def stop(self) -> None:
        self.streaming = False

    def latest_frame(self) -> PreviewFrame | None:
        if "unplugged" in self.emulator.faults:
            return None
        self.now += 0.1
        self.seq += 1
        return PreviewFrame(self.emulator.render(self.now), self.seq, self.now)


@pytest.fixture(scope="module")
def matcher() -> DlibMatcher:
    return DlibMatcher()


def verify(camera: SteppedCamera, matcher: DlibMatcher, rules: Rules | None = None,
           said: list[Challenge | None] | None = None):
    heard = said if said is not None else []

    def prompt(move: Challenge | None) -> None:     # the person does what the screen says
        heard.append(move)
        if move is not None:
            camera.emulator.act(move)
    camera.open()
    try:
        return ChallengeVerifier(camera, matcher, rules=rules, rng=random.Random(3),
                                 prompt=prompt, clock=lambda: camera.now).verify(
                                     load_rgb(CARD.read_bytes()), 60)
    finally:
        camera.close()


def test_the_cards_holder_doing_each_prompted_move_is_verified(matcher: DlibMatcher) -> None:
    said: list[Challenge | None] = []
    camera = SteppedCamera("right")
    result = verify(camera, matcher, said=said)
    assert result.match and result.liveness == "passed" and result.score >= result.threshold
    assert len(said) == 5 and said[-1] is None            # four moves, then "done"
    assert not camera.streaming                           # the camera is stopped after


def test_a_move_missed_is_asked_again_and_then_done(matcher: DlibMatcher) -> None:
    # the citizen did not hear the first prompt (or the camera caught too few frames of the
    # move): after REMIND_S it is asked again, and done then, the try still passes
    camera = SteppedCamera("right")
    heard: list[Challenge | None] = []

    def prompt(move: Challenge | None) -> None:
        heard.append(move)
        if move is not None and len(heard) > 1:       # the very first prompt is missed
            camera.emulator.act(move)
    camera.open()
    try:
        result = ChallengeVerifier(camera, matcher, rules=Rules(), rng=random.Random(3),
                                   prompt=prompt, clock=lambda: camera.now).verify(
                                       load_rgb(CARD.read_bytes()), 60)
    finally:
        camera.close()
    assert result.match and result.liveness == "passed"
    assert heard[0] is not None and heard[1] == heard[0]   # the same move, asked again
    assert len(heard) == 6 and heard[-1] is None


def test_someone_else_is_live_but_does_not_match(matcher: DlibMatcher) -> None:
    result = verify(SteppedCamera("other"), matcher)
    assert not result.match and result.liveness == "passed"


def test_a_photo_held_up_fails_liveness_with_a_bilingual_reason(matcher: DlibMatcher) -> None:
    with pytest.raises(LivenessFailed) as info:
        verify(SteppedCamera("photo"), matcher, Rules(time_limit=2.0))
    assert info.value.verdict.reason == "timeout"
    assert "规定时间" in info.value.zh and "in time" in info.value.en


def test_an_unplugged_camera_is_a_device_fault(matcher: DlibMatcher) -> None:
    camera = SteppedCamera("right")
    camera.emulator.open()
    camera.emulator.inject("unplugged")
    with pytest.raises(DeviceFault):
        verify(camera, matcher)

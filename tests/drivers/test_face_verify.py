"""Our 人证核验 end to end in real time: the emulated face camera streaming on its own thread,
the person acting each prompted move, the verifier observing, judging and comparing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from drivers.errors import DeviceFault
from drivers.face.dlib_matcher import DlibMatcher
from drivers.face.emulated import EmulatedFaceCamera
from drivers.face.image import load_rgb
from drivers.face.liveness import Challenge, Rules
from drivers.face.verify import ChallengeVerifier, LivenessFailed

FACES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "faces"
CARD = FACES / "applicant_card.jpg"


@pytest.fixture(scope="module")
def matcher() -> DlibMatcher:
    return DlibMatcher()


def verifier(camera: EmulatedFaceCamera, matcher: DlibMatcher, rules: Rules | None = None,
             prompts: list[Challenge | None] | None = None) -> ChallengeVerifier:
    said = prompts if prompts is not None else []

    def prompt(move: Challenge | None) -> None:     # the person does what the screen says
        said.append(move)
        if move is not None:
            camera.act(move)
        if move is Challenge.BLINK:     # and blinks again: one blink may fall between the
            camera.act(move)            # frames a loaded machine gets to look at
    return ChallengeVerifier(camera, matcher, rules=rules, rng=random.Random(3), prompt=prompt,
                             describe_every=3)


def test_the_cards_holder_doing_each_prompted_move_is_verified(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="right", fps=10)
    camera.open()
    said: list[Challenge | None] = []
    result = verifier(camera, matcher, prompts=said).verify(load_rgb(CARD.read_bytes()), 30)
    camera.close()
    assert result.match and result.liveness == "passed" and result.score >= result.threshold
    assert len(said) == 5 and said[-1] is None            # four moves, then "done"
    assert camera.latest_frame() is None                  # nothing kept after the call


def test_someone_else_is_live_but_does_not_match(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="other", fps=10)
    camera.open()
    result = verifier(camera, matcher).verify(load_rgb(CARD.read_bytes()), 30)
    camera.close()
    assert not result.match and result.liveness == "passed"


def test_a_photo_held_up_fails_liveness_with_a_bilingual_reason(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="photo", fps=10)
    camera.open()
    with pytest.raises(LivenessFailed) as info:
        verifier(camera, matcher, Rules(time_limit=2.0)).verify(load_rgb(CARD.read_bytes()), 30)
    camera.close()
    assert info.value.verdict.reason == "timeout"
    assert "规定时间" in info.value.zh and "in time" in info.value.en


def test_an_unplugged_camera_is_a_device_fault(matcher: DlibMatcher) -> None:
    camera = EmulatedFaceCamera(FACES, present="right", fps=10)
    camera.open()
    camera.inject("unplugged")
    with pytest.raises(DeviceFault):
        verifier(camera, matcher).verify(load_rgb(CARD.read_bytes()), 30)
    camera.close()

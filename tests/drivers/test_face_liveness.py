"""The liveness judge on synthetic observation sequences: what a cooperative person, a photo,
a replayed video, a frozen feed and a swap look like to it."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from drivers.face.dlib_matcher import similarity
from drivers.face.liveness import Challenge, Observation, Rules, Verdict, draw_challenges, judge

L, R, B = Challenge.TURN_LEFT, Challenge.TURN_RIGHT, Challenge.BLINK
FPS = 10
ME = np.zeros(128)
SOMEONE = np.full(128, 0.1)          # distance 1.13 from ME: another person


class Script:
    """Frames at 10 per second: a sensor's noise (change 2.0) unless said otherwise."""

    def __init__(self) -> None:
        self.frames: list[Observation] = []

    def hold(self, seconds: float, *, yaw: float = 0.0, eyes: float = 1.0, faces: int = 1,
             change: float = 2.0, who: np.ndarray | None = ME) -> Script:
        for i in range(round(seconds * FPS)):
            described = who if i % 5 == 0 and faces == 1 else None   # every half second
            self.frames.append(Observation(len(self.frames) / FPS, faces, yaw, eyes, change,
                                           described))
        return self

    def turn(self, challenge: Challenge, who: np.ndarray = ME) -> Script:
        sign = 1 if challenge is L else -1
        for yaw in (0.1, 0.2, 0.3, 0.35, 0.3, 0.2, 0.1):
            self.hold(0.1, yaw=sign * yaw, who=None)
        return self.hold(0.5, who=who)

    def blink(self) -> Script:
        return self.hold(0.1, eyes=0.7).hold(0.2, eyes=0.3).hold(0.1, eyes=0.8).hold(0.5)

    def act(self, challenge: Challenge) -> Script:
        return self.blink() if challenge is B else self.turn(challenge)


def run(order: tuple[Challenge, ...], script: Script, rules: Rules | None = None) -> Verdict:
    return judge(order, script.frames, similarity, rules or Rules())


@pytest.mark.parametrize("order", [(L, R, B), (B, R, L), (R, B, L)])
def test_a_cooperative_person_passes_in_any_order(order: tuple[Challenge, ...]) -> None:
    s = Script().hold(1.0)
    for c in order:
        s.act(c)
    verdict = run(order, s.hold(0.6))
    assert verdict.passed, verdict
    assert verdict.done == order
    assert s.frames[verdict.capture].descriptor is not None
    assert verdict.seconds < 6


def test_a_photo_held_up_never_turns_or_blinks() -> None:
    # a hand-held print moves (change > 0) and may tilt, but the nose stays between the eyes
    s = Script()
    for i in range(160):
        s.hold(0.1, yaw=0.03 * np.sin(i / 3), change=4.0)
    verdict = run((L, B, R), s)
    assert not verdict.passed and verdict.reason == "timeout" and verdict.done == ()


def test_a_recorded_video_in_its_own_order_fails_on_the_first_wrong_move() -> None:
    s = Script().hold(1.0).turn(L).turn(R).blink().hold(0.6)    # the recording's order
    verdict = run((R, L, B), s)
    assert not verdict.passed and verdict.reason == "wrong_move"


def test_a_frozen_feed_fails_even_mid_challenge() -> None:
    s = Script().hold(1.0).turn(L).hold(1.5, change=0.0)
    verdict = run((L, B, R), s)
    assert verdict.reason == "still" and verdict.done == (L,)


def test_another_face_after_the_challenges_fails_the_capture() -> None:
    # the last move done, someone else steps in before the capture frame
    s = Script().hold(1.0).turn(R).blink().turn(L, who=SOMEONE)
    verdict = run((R, B, L), s)
    assert verdict.reason == "face_changed" and verdict.done[:2] == (R, B)


def test_leaving_the_frame_between_challenges_fails() -> None:
    s = Script().hold(1.0).turn(L).hold(1.0, faces=0).hold(0.5).blink().turn(R).hold(0.6)
    assert run((L, B, R), s).reason == "face_lost"


def test_a_detector_miss_of_a_few_frames_is_forgiven() -> None:
    s = Script().hold(1.0).turn(L).hold(0.3, faces=0).hold(0.5).blink().turn(R).hold(0.6)
    assert run((L, B, R), s).passed


def test_a_second_person_in_the_frame_fails() -> None:
    s = Script().hold(1.0).turn(L).hold(0.2, faces=2)
    assert run((L, B, R), s).reason == "several_faces"


def test_too_slow_fails_at_the_time_limit() -> None:
    s = Script().hold(1.0).turn(L).hold(5.0).blink().turn(R).hold(0.6)
    verdict = run((L, B, R), s, Rules(time_limit=5.0))
    assert verdict.reason == "timeout" and verdict.done == (L,)


def test_a_blink_during_a_turn_challenge_is_not_a_wrong_move() -> None:
    s = Script().hold(1.0).blink().turn(L).blink().turn(R).hold(0.6)
    assert run((L, B, R), s).passed


def test_the_order_is_drawn_afresh_and_never_repeats_a_move_at_once() -> None:
    rng = random.Random(7)
    orders = {draw_challenges(rng) for _ in range(600)}
    assert len(orders) == 24
    assert all(len(o) == 4 and all(a is not b for a, b in itertools.pairwise(o))
               for o in orders)


def test_the_same_move_twice_needs_a_return_to_frontal_between() -> None:
    s = Script().hold(1.0).turn(L).turn(L).blink().turn(R).hold(0.6)
    assert run((L, L, B, R), s).passed
    s = Script().hold(1.0).turn(L).blink().turn(R).hold(0.6)
    assert run((L, L, B, R), s).reason == "wrong_move"     # one turn cannot count twice

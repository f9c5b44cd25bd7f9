"""Auto-capture decisions, step by step with a hand-moved clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kiosk.interaction.autocapture import Advice, AutoCapture, CaptureState, same_page

QUAD = [[100.0, 80.0], [500.0, 90.0], [490.0, 640.0], [95.0, 630.0]]
PAGE_1 = 0x777F7FFEECDCFEBD
PAGE_2 = 0x77F2D696FAF6F2B9


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def moved(quad: list[list[float]], dx: float, dy: float = 0.0) -> list[list[float]]:
    return [[x + dx, y + dy] for x, y in quad]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def cleared(auto: AutoCapture) -> AutoCapture:
    """The plate seen empty first, as every step starts."""
    for _ in range(auto.clear_frames):
        auto.observe(None, "no_page")
    assert auto.plate_clear
    return auto


@pytest.fixture
def auto(clock: Clock) -> AutoCapture:
    return cleared(AutoCapture(dwell_s=1.5, clock=clock))


def hold(auto: AutoCapture, clock: Clock, seconds: float, page: int | None = PAGE_1,
         quad: list[list[float]] = QUAD, step: float = 0.1) -> list[Advice]:
    """Observe a still, good page every ``step`` s for ``seconds``."""
    advice = []
    end = clock.now + seconds
    while clock.now < end - 1e-9:
        advice.append(auto.observe(quad, "ok", page))
        clock.now += step
    return advice


def states(advice: list[Advice]) -> list[CaptureState]:
    return [a.state for a in advice]


def test_searching_without_a_page(auto: AutoCapture) -> None:
    assert auto.observe(None, "no_page") == Advice(CaptureState.SEARCHING, "no_page")
    assert auto.observe(QUAD, "no_page").state is CaptureState.SEARCHING


def test_a_new_page_must_first_hold_still(auto: AutoCapture) -> None:
    assert auto.observe(QUAD, "ok", PAGE_1) == Advice(CaptureState.HOLD_STILL, "moving")
    assert auto.observe(moved(QUAD, 30), "ok", PAGE_1).state is CaptureState.HOLD_STILL


def test_countdown_then_one_shot(auto: AutoCapture, clock: Clock) -> None:
    auto.observe(QUAD, "ok", PAGE_1)
    first = auto.observe(QUAD, "ok", PAGE_1)
    assert first.state is CaptureState.COUNTDOWN and first.seconds_left == pytest.approx(1.5)
    clock.now += 1.0
    later = auto.observe(QUAD, "ok", PAGE_1)
    assert later.state is CaptureState.COUNTDOWN and later.seconds_left == pytest.approx(0.5)
    clock.now += 0.5
    assert auto.observe(QUAD, "ok", PAGE_1) == Advice(CaptureState.SHOOT, "ok", 0.0)
    # once: the same still page is not shot again, before or after captured()
    assert set(states(hold(auto, clock, 5))) == {CaptureState.DUPLICATE}
    auto.captured(PAGE_1)
    assert set(states(hold(auto, clock, 5))) == {CaptureState.DUPLICATE}


def test_sensor_jitter_is_still_but_a_slow_drift_is_not(auto: AutoCapture,
                                                        clock: Clock) -> None:
    auto.observe(QUAD, "ok", PAGE_1)
    assert auto.observe(moved(QUAD, 2, -2), "ok", PAGE_1).state is CaptureState.COUNTDOWN
    assert auto.observe(QUAD, "ok", PAGE_1).state is CaptureState.COUNTDOWN
    # 4 px a step (each under motion_px) but 12 px from where it came to rest: moving
    drift = [auto.observe(moved(QUAD, 4 * i), "ok", PAGE_1).state for i in range(1, 4)]
    assert drift == [CaptureState.COUNTDOWN, CaptureState.COUNTDOWN, CaptureState.HOLD_STILL]


def test_a_problem_stops_the_countdown_and_says_what(auto: AutoCapture, clock: Clock) -> None:
    auto.observe(QUAD, "ok", PAGE_1)
    auto.observe(QUAD, "ok", PAGE_1)
    clock.now += 1.4
    assert auto.observe(QUAD, "glare", PAGE_1) == Advice(CaptureState.ADJUST, "glare")
    assert auto.observe(moved(QUAD, 40), "outside", None) == Advice(CaptureState.ADJUST,
                                                                     "outside")
    auto.observe(QUAD, "ok", PAGE_1)
    restarted = auto.observe(QUAD, "ok", PAGE_1)
    assert restarted.state is CaptureState.COUNTDOWN
    assert restarted.seconds_left == pytest.approx(1.5)   # the full dwell again


def test_a_turned_page_is_shot_the_same_page_is_a_duplicate(auto: AutoCapture,
                                                            clock: Clock) -> None:
    hold(auto, clock, 2)
    auto.captured(PAGE_1)
    auto.observe(moved(QUAD, 60), "ok", PAGE_2)           # a hand turns the page
    assert CaptureState.SHOOT in states(hold(auto, clock, 2, PAGE_2, moved(QUAD, 60)))
    auto.captured(PAGE_2)
    auto.observe(None, "no_page")                         # lifted off ...
    auto.observe(QUAD, "ok", PAGE_2)                      # ... and put back
    back = states(hold(auto, clock, 5, PAGE_2))
    assert set(back) == {CaptureState.DUPLICATE}
    # a slightly different look (Hamming distance ≤ 6) is still the same page
    assert auto.observe(QUAD, "ok", PAGE_2 ^ 0b1010101).state is CaptureState.DUPLICATE


def test_without_a_hash_a_moved_page_is_shot_again(auto: AutoCapture, clock: Clock) -> None:
    hold(auto, clock, 2, page=None)
    auto.captured(None)
    auto.observe(moved(QUAD, 20), "ok", None)
    assert CaptureState.SHOOT in states(hold(auto, clock, 2, None, moved(QUAD, 20)))


def test_the_next_material_does_not_make_a_taken_page_new(auto: AutoCapture,
                                                          clock: Clock) -> None:
    hold(auto, clock, 2)
    auto.captured(PAGE_1)
    auto.reset()                                          # the next material
    assert set(states(hold(auto, clock, 5))) == {CaptureState.DUPLICATE}   # not moved
    auto.observe(None, "no_page")                         # lifted and laid elsewhere
    auto.observe(moved(QUAD, 80), "ok", PAGE_1)
    assert set(states(hold(auto, clock, 5, quad=moved(QUAD, 80)))) == {CaptureState.DUPLICATE}
    # without a look to go by, the page that has not moved since its shot stays shot
    hold(auto, clock, 2, page=PAGE_2, quad=moved(QUAD, 160))
    auto.captured(None)
    auto.reset()
    assert CaptureState.SHOOT not in states(hold(auto, clock, 5, None, moved(QUAD, 160)))


def test_a_page_given_up_may_be_shot_again(auto: AutoCapture, clock: Clock) -> None:
    auto.remember([PAGE_2])                               # from before the screen was left
    hold(auto, clock, 2)
    auto.captured(PAGE_1)
    auto.forget(PAGE_1)                                   # its retake
    assert CaptureState.SHOOT in states(hold(auto, clock, 2))
    assert auto.is_taken(PAGE_2) and not auto.is_taken(PAGE_1)


def test_a_page_there_before_watching_began_is_stale_until_the_plate_is_empty(
        clock: Clock) -> None:
    auto = AutoCapture(dwell_s=1.5, clock=clock)
    assert not auto.plate_clear
    assert set(states(hold(auto, clock, 5))) == {CaptureState.STALE}
    # a hand over it hides it for a few frames: not yet an empty plate
    for _ in range(2):
        for _ in range(auto.clear_frames - 1):
            auto.observe(None, "no_page")
        assert auto.observe(QUAD, "glare", PAGE_1).state is CaptureState.STALE
    assert not auto.plate_clear
    auto.observe(moved(QUAD, 30), "ok", PAGE_1)           # slid, not removed: still stale
    assert set(states(hold(auto, clock, 5, quad=moved(QUAD, 30)))) == {CaptureState.STALE}
    for _ in range(auto.clear_frames):
        auto.observe(None, "no_page")
    assert auto.plate_clear
    # back where it lay, looking the same: the stale page, hidden for a while, not a new one
    assert auto.observe(moved(QUAD, 31), "ok", PAGE_1).state is CaptureState.STALE
    cleared(auto)
    auto.observe(moved(QUAD, 90), "ok", PAGE_2)           # the citizen's own page
    assert CaptureState.SHOOT in states(hold(auto, clock, 2, PAGE_2, moved(QUAD, 90)))
    cleared(auto)                                         # and later the first one again,
    auto.observe(moved(QUAD, 31), "ok", PAGE_1)           # laid by this citizen: theirs
    assert CaptureState.SHOOT in states(hold(auto, clock, 2, quad=moved(QUAD, 31)))


def test_zero_dwell_shoots_on_the_first_still_look(clock: Clock) -> None:
    auto = cleared(AutoCapture(dwell_s=0, clock=clock))
    auto.observe(QUAD, "ok", PAGE_1)
    assert auto.observe(QUAD, "ok", PAGE_1).state is CaptureState.SHOOT


def test_arguments_and_hash_distance() -> None:
    with pytest.raises(ValueError):
        AutoCapture(dwell_s=-1, clock=Clock())
    with pytest.raises(ValueError):
        AutoCapture(dwell_s=1, clock=Clock(), motion_px=0)
    with pytest.raises(ValueError):
        AutoCapture(dwell_s=1, clock=Clock(), clear_frames=0)
    assert same_page(PAGE_1, PAGE_1 ^ 0b111111)
    assert not same_page(PAGE_1, PAGE_1 ^ 0b1111111)
    assert not same_page(PAGE_1, PAGE_2)

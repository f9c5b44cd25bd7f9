"""Liveness by an active challenge: turn the head left, right, blink — four moves in a random
order, within a time limit — judged from landmarks over the live frames. A pure function of the
frames' observations (drivers/face/observe.py makes them from pictures), so it is tested on
synthetic and recorded sequences alike.

What it stops and what not (docs/face.md): a printed photo or a still picture cannot turn
(a flat picture turned keeps the nose between the eyes) or blink; a recorded video does its
moves in its own order, and the order is drawn afresh each try; a frozen feed, a face that
leaves the frame, a second face, or another face between the challenge and the capture
fail. It is not a certified presentation-attack detector (ISO/IEC 30107-3): a person acting
out the moves with a video on a phone, a mask, or a deepfake puppet are not stopped by it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class Challenge(StrEnum):
    TURN_LEFT = "turn_left"     # the person's left: the nose moves right in an unmirrored frame
    TURN_RIGHT = "turn_right"
    BLINK = "blink"


# What the citizen is told (Chinese first); the screen mirrors the preview, the words do not.
PROMPTS = {Challenge.TURN_LEFT: ("请向左转头", "Turn your head to the left"),
           Challenge.TURN_RIGHT: ("请向右转头", "Turn your head to the right"),
           Challenge.BLINK: ("请眨眨眼", "Blink your eyes")}

# Why a try failed, as the citizen is told (Chinese first); keys are Verdict reasons.
FAILURES = {
    "timeout": ("未在规定时间内完成动作，请重试",
                "The moves were not done in time: please try again"),
    "incomplete": ("未完成全部动作，请重试", "Not every move was done: please try again"),
    "wrong_move": ("动作与提示不符，请按提示操作", "A move did not follow the prompt"),
    "still": ("画面静止，请本人正对摄像头",
              "The picture did not move: please face the camera yourself"),
    "face_changed": ("核验过程中人脸发生了变化", "The face changed during the check"),
    "face_lost": ("人脸离开了画面，请保持在框内",
                  "The face left the picture: please stay in the frame"),
    "several_faces": ("画面中有多张人脸，请确保只有本人",
                      "More than one face: only the applicant, please"),
}


@dataclass(frozen=True, repr=False)
class Observation:
    """What one live frame showed. ``yaw``: the nose's offset from the eyes' midpoint in eye
    distances, positive when the person turns to their left (unmirrored frame); ``eyes``: how
    open the eyes look, on the observer's own scale (only ratios to this person's frontal
    frames count); ``change``: mean absolute difference to the previous frame (0–255) around
    the face, 0 for a frozen feed; ``descriptor``: the face's descriptor on the frames that
    were described (not every one: describing costs about 0.2 s)."""

    t: float
    faces: int
    yaw: float = 0.0
    eyes: float = 1.0
    change: float = 1.0
    descriptor: NDArray[np.float64] | None = None

    def __repr__(self) -> str:       # the descriptor is biometric data: never in a log
        return f"Observation(t={self.t:.2f}, faces={self.faces}, yaw={self.yaw:.2f})"


@dataclass(frozen=True)
class Rules:
    time_limit: float = 15.0        # seconds from the first frame to the capture
    turn: float = 0.15              # |yaw| of a turn (dlib's point is below the nose, not its tip;
                                    # not calibrated on measured head poses)
    frontal: float = 0.08           # |yaw| of looking straight (the London set: at most 0.05)
    blink: float = 0.7              # eyes below this share of their frontal level: closed (set on
                                    # drawn lids, tests/drivers/test_face_observe.py: no licensable
                                    # recording of real blinks was at hand; calibrate on one)
    max_gap: float = 0.6            # seconds without a face before the try fails
    max_still: float = 1.0          # seconds of identical frames: a frozen feed or a still
    still_change: float = 0.3       # below this mean change a frame is "identical"
    same_person: float = 0.50       # similarity every described frame keeps to the first (the
                                    # matcher's own bar: a smile keeps 0.58 or more, London set)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str                     # "passed" or why not (a key for the prompts)
    done: tuple[Challenge, ...]     # challenges completed, in order
    seconds: float                  # first frame to the verdict
    capture: int = -1               # index of the frame to compare with the document


def draw_challenges(rng: random.Random, count: int = 4) -> tuple[Challenge, ...]:
    """``count`` moves in a random order, never the same twice in a row (3·2·2·2 = 24 orders
    for four): a recording made for one order passes another try by chance once in 24,
    where the three moves once each would let it through once in 6."""
    moves = [rng.choice(list(Challenge))]
    while len(moves) < count:
        moves.append(rng.choice([c for c in Challenge if c is not moves[-1]]))
    return tuple(moves)


Similarity = Callable[["NDArray[np.float64]", "NDArray[np.float64]"], float]


def judge(challenges: Sequence[Challenge], frames: Sequence[Observation],
          similarity: Similarity, rules: Rules = Rules()) -> Verdict:
    """Walk the frames in time order: each challenge must be done in turn, then a frontal
    frame with open eyes is the capture. The first rule broken ends the try."""
    run = _Run(tuple(challenges), similarity, rules)
    for index, frame in enumerate(frames):
        verdict = run.step(index, frame)
        if verdict is not None:
            return verdict
    return run.end("incomplete")


class _Run:
    def __init__(self, challenges: tuple[Challenge, ...], similarity: Similarity,
                 rules: Rules) -> None:
        self.todo, self.done = list(challenges), []   # type: list[Challenge], list[Challenge]
        self.similarity, self.rules = similarity, rules
        self.start = self.last_face = self.still_since = -1.0
        self.reference: NDArray[np.float64] | None = None
        self.open_levels: list[float] = []
        self.moved = self.closed = False
        self.now = 0.0

    def step(self, index: int, f: Observation) -> Verdict | None:
        if self.start < 0:
            self.start = self.last_face = f.t
        self.now = f.t
        broken = self._broken(f)
        if broken:
            return self.end(broken)
        if f.faces == 0:
            return None
        if not self.todo:
            return self._capture(index, f)
        return self._progress(f)

    def end(self, reason: str, capture: int = -1) -> Verdict:
        return Verdict(reason == "passed", reason, tuple(self.done),
                       round(self.now - max(self.start, 0.0), 3), capture)

    def _broken(self, f: Observation) -> str:
        r = self.rules
        if f.t - self.start > r.time_limit:
            return "timeout"
        if f.faces > 1:
            return "several_faces"
        if f.faces == 0:
            return "face_lost" if f.t - self.last_face > r.max_gap else ""
        self.last_face = f.t
        if f.change < r.still_change:
            self.still_since = f.t if self.still_since < 0 else self.still_since
            if f.t - self.still_since >= r.max_still:
                return "still"
        else:
            self.still_since = -1.0
        if f.descriptor is not None:
            if self.reference is None:
                self.reference = f.descriptor
            elif self.similarity(self.reference, f.descriptor) < r.same_person:
                return "face_changed"
        return ""

    def _progress(self, f: Observation) -> Verdict | None:
        r, want = self.rules, self.todo[0]
        closed = self._eyes_closed(f)
        if abs(f.yaw) <= r.frontal and not closed:
            self.open_levels.append(f.eyes)      # this person's open eyes, looking straight
        if f.yaw >= r.turn or f.yaw <= -r.turn:
            turned = Challenge.TURN_LEFT if f.yaw > 0 else Challenge.TURN_RIGHT
            if turned != want:
                return self.end("wrong_move")
            self.moved = True
        elif want is Challenge.BLINK and closed:
            self.closed = True
        if self._finished(want, f):
            self.done.append(self.todo.pop(0))
            self.moved = self.closed = False
        return None

    def _eyes_closed(self, f: Observation) -> bool:
        if len(self.open_levels) < 3 or abs(f.yaw) > self.rules.frontal:
            return False
        return f.eyes < self.rules.blink * _median(self.open_levels)

    def _finished(self, want: Challenge, f: Observation) -> bool:
        back = abs(f.yaw) <= self.rules.frontal
        if want is Challenge.BLINK:
            return self.closed and back and not self._eyes_closed(f)
        return self.moved and back

    def _capture(self, index: int, f: Observation) -> Verdict | None:
        if abs(f.yaw) > self.rules.frontal or self._eyes_closed(f) or f.descriptor is None:
            return None      # wait for a frontal, described frame with open eyes
        return self.end("passed", capture=index)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

"""Our own 人证核验 as one :class:`~drivers.face.FaceVerifier`: the challenge over the face
camera's live frames, then the capture frame's descriptor against the document photo's.

Run it on the face camera's worker thread (it blocks for the challenge). The screen learns
what to ask through ``prompt`` — called with the next move, or None when the moves are done —
and never the other way round (the library never prompts by itself). No frame is kept: each is
observed and dropped; the capture is compared through its descriptor, so nothing but the verdict
outlives the call.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from drivers.errors import DeviceError, DeviceFault
from drivers.face import FaceMatch
from drivers.face.camera import FaceCamera
from drivers.face.dlib_matcher import METHOD, DlibMatcher, similarity
from drivers.face.image import Rgb
from drivers.face.liveness import (
    FAILURES,
    Challenge,
    Observation,
    Rules,
    Verdict,
    draw_challenges,
    judge,
)
from drivers.face.observe import Observer
from drivers.status import DeviceState

Prompt = Callable[[Challenge | None], None]



class LivenessFailed(DeviceError):
    code = "liveness_failed"

    def __init__(self, verdict: Verdict) -> None:
        zh, en = FAILURES.get(verdict.reason, FAILURES["incomplete"])
        super().__init__(zh, en)
        self.verdict = verdict


# a move not seen within this long is asked for again: said once more for a citizen who
# missed it, done once more by one whose move the camera caught too few frames of
REMIND_S = 4.0


class ChallengeVerifier:
    name = "challenge"

    def __init__(self, camera: FaceCamera, matcher: DlibMatcher, *, rules: Rules | None = None,
                 rng: random.Random | None = None, prompt: Prompt = lambda move: None,
                 describe_every: int = 5, clock: Callable[[], float] = time.monotonic) -> None:
        self.camera, self.matcher = camera, matcher
        self.rules = rules or Rules()
        self._rng = rng or random.SystemRandom()   # an attacker must not predict the order
        self._prompt, self._describe_every, self._clock = prompt, describe_every, clock

    def verify(self, document: Rgb, timeout: float) -> FaceMatch:
        """LivenessFailed, NoFace (document) or a DeviceError when there is no verdict."""
        reference = self.matcher.describe(document, side="document").descriptor
        order = draw_challenges(self._rng)
        verdict, seen = self._challenge(order, min(timeout, self.rules.time_limit))
        if not verdict.passed:
            raise LivenessFailed(verdict)
        live = seen[verdict.capture].descriptor
        assert live is not None                  # judge() captures only a described frame
        score = similarity(reference, live)
        threshold = self.matcher.threshold
        return FaceMatch(score >= threshold, score, threshold, METHOD, liveness=verdict.reason)

    def _challenge(self, order: tuple[Challenge, ...],
                   limit: float) -> tuple[Verdict, list[Observation]]:
        observer = Observer(self.matcher, self._describe_every, self.rules.frontal)
        seen: list[Observation] = []
        asked, last_seq, start = -1, 0, self._clock()
        asked_at = start
        self.camera.start()
        try:
            while True:
                now = self._clock()
                if now - start > limit:
                    done = judge(order, seen, similarity, self.rules).done if seen else ()
                    return Verdict(False, "timeout", done, round(now - start, 3)), seen
                frame = self.camera.latest_frame()
                if frame is None or frame.seq <= last_seq:
                    self._check_camera(frame is None)
                    time.sleep(0.01)
                    continue
                last_seq = frame.seq
                seen.append(observer.observe(now - start, frame.image))
                frame = None                      # the picture goes; its observation stays
                verdict = judge(order, seen, similarity, self.rules)
                if verdict.passed or verdict.reason != "incomplete":
                    return verdict, seen
                if len(verdict.done) != asked or (
                        asked < len(order) and now - asked_at > REMIND_S):
                    asked, asked_at = len(verdict.done), now
                    self._prompt(order[asked] if asked < len(order) else None)
        finally:
            self.camera.stop()

    def _check_camera(self, no_frame: bool) -> None:
        if no_frame and self.camera.status().state is DeviceState.NO_DEVICE:
            raise DeviceFault("人脸摄像头未连接，请联系现场工作人员",
                              "The face camera is disconnected: please call staff")

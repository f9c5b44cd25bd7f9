"""人证核验 for the screens: begin the step, run a try on the face camera's worker, the newest
live frame for the preview, and nothing else. The policy is kiosk/face_step.py's; the staff's
check by sight is kiosk/staff/casework.py's.

The prompts (the next move) go out on the bus (``face.prompt``): the screen shows and says
them, and the demo's hand acts them out on the emulated camera (kiosk/demo/hand.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drivers.face.liveness import Challenge, Rules
from kiosk import face_step
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.registry import load_named
from kiosk.errors import SessionError
from kiosk.face_step import PROMPT_TOPIC, FaceCheck
from kiosk.session import Session

if TYPE_CHECKING:
    from kiosk.bootstrap import Kiosk

log = logging.getLogger(__name__)


class FaceService:
    def __init__(self, kiosk: Kiosk, now: Callable[[], datetime]) -> None:
        self.k, self._now = kiosk, now

    @property
    def enabled(self) -> bool:
        return self.k.settings.face.enabled

    @property
    def tries(self) -> int:
        return self.k.settings.face.tries

    def needs_staff(self, session: Session) -> bool:
        return face_step.needs_staff(session.face, self.k.settings.face)

    def begin(self, session: Session) -> FaceCheck | None:
        """The step starts: the session takes nothing until it is cleared. A document with
        no photo goes to staff at once (the check returned); None: a try is to run."""
        identity = self._identity(session)
        session.begin_face()
        if session.face is None and not identity.photo:
            session.record_face(face_step.no_photo(identity, self._now()))
        return session.face if self.needs_staff(session) or _cleared(session) else None

    def attempt(self, session: Session) -> FaceCheck:
        """One try (blocks for the challenge: call it off the UI thread)."""
        identity = self._identity(session)
        if self.needs_staff(session) or _cleared(session):
            raise SessionError("人证核验无需再试", "No further face check try",
                               code="bad_step")
        verifier = self._verifier()
        limit = self.k.settings.face.time_limit_s
        check = self.k.run(DeviceKind.FACE_CAMERA, lambda: face_step.run_try(
            verifier, identity, session.face, limit + 5, self._now)).result()
        session.record_face(check)
        log.info("face check try %d: %s", check.tries, check.result.value)   # no score, no one
        return check

    def latest_frame(self) -> Any:
        """The face camera's newest frame (H×W×3 RGB), or None: for the preview only."""
        frame = self.k.face_camera.latest_frame()
        return frame.image if frame is not None else None

    def _verifier(self) -> Any:
        # dlib and OpenCV load by name on first use (device libraries stay in drivers/)
        verifier = load_named("drivers.face.verify:ChallengeVerifier")

        def prompt(move: Challenge | None) -> None:
            self.k.bus.publish(PROMPT_TOPIC, {"move": move.value if move else ""})
        rules = Rules(time_limit=self.k.settings.face.time_limit_s)
        return verifier(self.k.face_camera, self.k.face_matcher, rules=rules, prompt=prompt)

    @staticmethod
    def _identity(session: Session) -> Any:
        if session.identity is None:
            raise SessionError("请先读取身份证件", "Read the identity document first",
                               code="bad_step")
        return session.identity


def _cleared(session: Session) -> bool:
    return session.face is not None and session.face.cleared

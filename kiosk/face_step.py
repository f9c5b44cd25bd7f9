"""人证核验 as a step of the citizen's journey (issue 22): the policy around the verifier.

Right after the card read and before any material is taken, when ``[face] enabled``: up to
``[face] tries`` tries, each a liveness challenge then the capture compared with the
document's photo (drivers/face/verify.py, or a vendor's module behind ``FaceVerifier``).

- pass → the journey goes on;
- mismatch (live, another face) or spoof (the challenge failed) → another try; after the last,
  a member of staff verifies the person by sight (``staff_verified``, kiosk/staff/casework.py)
  or ends the session;
- no photo on the document (a GA/T 467 read without the vendor's photo decoder, an eMRTD
  without DG2, a photo with no face in it) or a face camera that cannot be used (``skipped``)
  → straight to staff. Never a silent pass.

The outcome is evidence on the session (:class:`FaceCheck`): no frame, no descriptor — the
frames stay in the verifier's memory and go with the try.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from drivers.errors import DeviceError
from drivers.face import FaceImageError, FaceMatch, FaceVerifier
from drivers.face.liveness import FAILURES, PROMPTS
from drivers.identity import CardType, Identity

if TYPE_CHECKING:
    from kiosk.settings import FaceSettings

PROMPT_TOPIC = "face.prompt"      # {"move": "turn_left" | "turn_right" | "blink" | ""}
STAFF_METHOD = "staff"


class FaceResult(StrEnum):
    PASS = "pass"
    MISMATCH = "mismatch"              # live, but not the document's face
    SPOOF = "spoof"                    # the liveness challenge failed (liveness says why)
    NO_PHOTO = "no_photo"              # nothing on the document to compare with
    STAFF_VERIFIED = "staff_verified"  # a member of staff compared person and card by sight
    SKIPPED = "skipped"                # the face camera could not be used: the check never ran


CLEARED = frozenset({FaceResult.PASS, FaceResult.STAFF_VERIFIED})
Pair = tuple[str, str]      # (Chinese, English)
FACE_THE_CAMERA: Pair = ("请正对摄像头", "Face the camera")
MOVE_PROMPTS: dict[str, Pair] = {move.value: words for move, words in PROMPTS.items()}
TO_STAFF: Pair = ("请联系工作人员核验", "Please ask a member of staff to verify you")
RESULT_TEXT: dict[FaceResult, Pair] = {
    FaceResult.PASS: ("核验通过，是本人", "Verified: you are the holder of the document"),
    FaceResult.MISMATCH: ("人脸与证件照片不一致，请重试",
                          "Your face does not match the document's photo: please try again"),
    FaceResult.NO_PHOTO: ("证件中没有可比对的照片，请联系工作人员当面核验",
                          "The document holds no photo to compare with: a member of staff "
                          "will verify you in person"),
    FaceResult.SKIPPED: ("人脸摄像头暂不可用，请联系工作人员核验",
                         "The face camera is not available: a member of staff will verify you"),
    FaceResult.STAFF_VERIFIED: ("工作人员已核验，请点下一步",
                                "Verified by a member of staff: tap Next"),
}
TO_STAFF_AT_ONCE = frozenset({FaceResult.NO_PHOTO, FaceResult.SKIPPED})


@dataclass(frozen=True)
class FaceCheck:
    """The latest state of one applicant's 人证核验. ``tries``: tries that ran; ``liveness``:
    ``passed``, the last try's failure (``timeout``, ``still``, ...) or ``not_run``;
    ``staff_id``: who verified by sight (the audit log has the same entry)."""

    result: FaceResult
    tries: int
    method: str
    photo_source: str                  # chip | card_module | none
    at: datetime
    score: float | None = None
    threshold: float | None = None
    liveness: str = "not_run"
    staff_id: str = ""

    @property
    def cleared(self) -> bool:
        """The journey may go on to the materials."""
        return self.result in CLEARED

    def as_evidence(self) -> dict[str, object]:
        """The session's ``face_check`` evidence (also the ledger's note): no image."""
        out: dict[str, object] = {"result": self.result.value, "tries": self.tries,
                                  "method": self.method, "liveness": self.liveness,
                                  "photo_source": self.photo_source}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        if self.staff_id:
            out["staff_id"] = self.staff_id
        return out


def result_text(check: FaceCheck) -> Pair:
    """What the citizen is told of a check (Chinese first): a failed challenge says why."""
    if check.result is FaceResult.SPOOF:
        return FAILURES.get(check.liveness, FAILURES["incomplete"])
    return RESULT_TEXT[check.result]


def photo_source(identity: Identity) -> str:
    if not identity.photo:
        return "none"
    return "chip" if identity.card_type is CardType.EMRTD else "card_module"


def needs_staff(check: FaceCheck | None, settings: FaceSettings) -> bool:
    """Only staff can clear it now: no photo, no camera, or every try used."""
    if check is None or check.cleared:
        return False
    return check.result in TO_STAFF_AT_ONCE or check.tries >= settings.tries


def no_photo(identity: Identity, at: datetime) -> FaceCheck:
    return FaceCheck(FaceResult.NO_PHOTO, 0, "none", "none", at)


def after_try(prior: FaceCheck | None, identity: Identity, at: datetime,
              match: FaceMatch | None, failure: DeviceError | None) -> FaceCheck:
    """What one try gave: a verdict (``match``), or why there was none (``failure``)."""
    tries = (prior.tries if prior is not None else 0) + 1
    source = photo_source(identity)
    if match is not None:
        result = FaceResult.PASS if match.match else FaceResult.MISMATCH
        return FaceCheck(result, tries, match.method, source, at, match.score,
                         match.threshold, match.liveness or "not_run")
    verdict = getattr(failure, "verdict", None)       # LivenessFailed carries the judge's
    if verdict is not None:
        return FaceCheck(FaceResult.SPOOF, tries, "challenge", source, at,
                         liveness=str(verdict.reason))
    if isinstance(failure, FaceImageError) and failure.side == "document":
        return FaceCheck(FaceResult.NO_PHOTO, tries - 1, "none", source, at)
    if isinstance(failure, FaceImageError):           # no face / several faces in front
        return FaceCheck(FaceResult.SPOOF, tries, "challenge", source, at,
                         liveness=failure.code or "face_lost")
    return FaceCheck(FaceResult.SKIPPED, tries - 1, "none", source, at,
                     liveness=(failure.code if failure is not None else "") or "fault")


def staff_verified(prior: FaceCheck | None, identity: Identity, staff_id: str,
                   at: datetime) -> FaceCheck:
    """A member of staff compared the person with the card by sight: the evidence keeps the
    tries and the last liveness result, not the matcher's score (no matcher decided)."""
    if prior is None:
        return FaceCheck(FaceResult.STAFF_VERIFIED, 0, STAFF_METHOD, photo_source(identity),
                         at, staff_id=staff_id)
    return replace(prior, result=FaceResult.STAFF_VERIFIED, method=STAFF_METHOD, at=at,
                   score=None, threshold=None, staff_id=staff_id)


def run_try(verifier: FaceVerifier, identity: Identity, prior: FaceCheck | None,
            timeout: float, now: Callable[[], datetime]) -> FaceCheck:
    """One try on the face camera's worker: decode the document's photo (bounded), let the
    verifier challenge and compare, and judge what it gave. Nothing of the frames survives."""
    from drivers.face.image import load_rgb  # numpy and PIL: only when a try runs

    if not identity.photo:
        return no_photo(identity, now())
    try:
        document = load_rgb(identity.photo, side="document")
        match = verifier.verify(document, timeout)
    except DeviceError as exc:
        return after_try(prior, identity, now(), None, exc)
    return after_try(prior, identity, now(), match, None)

"""人证核验 (face verification): the live face against the document's photo.

Two device classes share this interface:

- a **face matcher**, a pure function on two pictures (like the barcode decoders): find the one
  face in each, align it, describe it, compare → :class:`FaceMatch`;
- a **face camera** (drivers/face/camera.py and its backends): live frames for the liveness
  challenge and the capture.

A vendor's binocular RGB+IR 人证核验 module does both, with its own liveness, behind
:class:`FaceVerifier`; the kiosk's step asks whichever it has for a :class:`FaceMatch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from drivers.errors import DeviceError

if TYPE_CHECKING:     # numpy only for the annotations: importing the interface stays cheap
    import numpy as np
    from numpy.typing import NDArray

Point = tuple[float, float]


@dataclass(frozen=True)
class FaceBox:
    """One face found in a picture: its box and five landmarks in the picture's pixels, in
    dlib's 5-point order: outer and inner corner of the eye on the picture's right (the person's
    left eye in an unmirrored frame), outer and inner corner of the other eye, below the nose."""

    left: float
    top: float
    right: float
    bottom: float
    landmarks: tuple[Point, ...] = ()

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class FaceMatch:
    """The verdict of one comparison. ``score`` is a similarity (higher: more alike) on the
    method's own scale; ``match`` is ``score >= threshold``. Evidence records all four."""

    match: bool
    score: float
    threshold: float
    method: str
    liveness: str = ""          # "passed" when a liveness challenge ran ("" when none did)

    def as_dict(self) -> dict[str, object]:
        return {"match": self.match, "score": round(self.score, 4),
                "threshold": round(self.threshold, 4)}


class FaceImageError(DeviceError):
    """A picture handed to the matcher cannot be used. ``side`` says which one ("document",
    "live" or "" when there is only one)."""

    code = "face_image"

    def __init__(self, zh: str, en: str, *, side: str = "", code: str | None = None) -> None:
        zh_side = {"document": "证件照片：", "live": "现场照片：", "": ""}[side]
        en_side = {"document": "Document photo: ", "live": "Live photo: ", "": ""}[side]
        super().__init__(zh_side + zh, en_side + en, code=code)
        self.side = side


class UnreadableFaceImage(FaceImageError):
    code = "unreadable_image"

    def __init__(self, detail: str = "", zh_detail: str = "", *, side: str = "") -> None:
        super().__init__("无法读取图像" + (f"（{zh_detail}）" if zh_detail else ""),
                         "unreadable image" + (f" ({detail})" if detail else ""), side=side)


class NoFace(FaceImageError):
    code = "no_face"

    def __init__(self, *, side: str = "") -> None:
        super().__init__("没有检测到人脸，请正对摄像头", "no face found: please face the camera",
                         side=side)


class SeveralFaces(FaceImageError):
    code = "several_faces"

    def __init__(self, count: int, *, side: str = "") -> None:
        super().__init__(f"检测到 {count} 张人脸，请确保只有本人在镜头前",
                         f"{count} faces found: only the applicant may be in front of the camera",
                         side=side)


class FaceMatcher(Protocol):
    """Implementations are stateless after loading: one instance serves every thread."""

    name: str
    threshold: float

    def compare(self, document: NDArray[np.uint8], live: NDArray[np.uint8]) -> FaceMatch:
        """Compare the face in ``document`` (the chip's or card module's photo) with the face in
        ``live``, both H×W×3 RGB; raises NoFace / SeveralFaces (with ``side``)."""
        ...


class FaceVerifier(Protocol):
    """A whole 人证核验 module (a vendor's binocular RGB+IR camera with its own liveness and
    matcher): given the document photo, it captures, checks liveness and compares by itself.
    The kiosk records its method, score and threshold exactly as for ours."""

    name: str

    def verify(self, document: NDArray[np.uint8], timeout: float) -> FaceMatch:
        """Raise a DeviceError (NoFace, a liveness failure, a fault) when there is no verdict."""
        ...

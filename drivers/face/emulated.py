"""A face camera with no hardware, scriptable: who stands in front of it, and what they do.

Scenes: ``right`` (the applicant), ``other`` (someone else, who acts as well), ``photo`` (the
applicant's photo held up: it shakes in the hand but cannot turn or blink), ``nobody``. A person
``act``s out a challenge (turn left, turn right, blink, about a second each): the head turn
moves the nose sideways between the eyes, as a real turn moves it in the picture, and a blink
draws the lids over the eyes — where the five landmarks of ``faces.json`` say they are
(assets/demo/faces/make_faces.py), so the real observer and liveness judge run on the
frames. Faults: ``unplugged`` and ``frozen`` (drivers/face/camera.py).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import cv2
import numpy as np

from drivers.face.camera import LiveCamera, Rgb
from drivers.face.liveness import Challenge
from drivers.fileio import write_file

Scene = Literal["right", "other", "photo", "nobody"]
SCENES: tuple[str, ...] = get_args(Scene)
ACT_S = 1.0             # one challenge acted out
TURN = 0.5              # the nose's shift at the peak of a turn, in eye distances
BACKGROUND = (196, 200, 204)


@dataclass(frozen=True)
class _Person:
    image: Rgb                      # placed on the canvas
    eyes: tuple[tuple[float, float], ...]    # outer, inner, outer, inner corner (canvas)
    nose: tuple[float, float]
    bump: np.ndarray                # where a turn moves the picture (1 at the nose)
    eye_distance: float


class EmulatedFaceCamera(LiveCamera):
    def __init__(self, faces: Path | str, *, person: str = "applicant", other: str = "other",
                 present: str = "nobody", size: tuple[int, int] = (640, 480), fps: float = 15,
                 seed: int = 22, act_s: float = ACT_S, name: str = "face_camera.emulated") -> None:
        super().__init__(name, fps, self.render)
        self._size, self._act_s = size, act_s     # act_s: seconds a move takes
        marks = json.loads((Path(faces) / "faces.json").read_text(encoding="utf-8"))
        self._people = {key: _place(Path(faces) / f"{key}.jpg", marks[key]["landmarks"], size)
                        for key in (person, other)}
        self._person, self._other = person, other
        self._scene_lock = threading.Lock()
        self._scene: Scene = "nobody"
        self._acts: deque[tuple[Challenge, float]] = deque()   # (challenge, start or -1)
        self._rng = np.random.default_rng(seed)
        self.present(present)

    def present(self, scene: str) -> None:
        """Put ``scene`` in front of the camera (``nobody`` to clear it)."""
        if scene not in SCENES:
            raise ValueError(f"unknown scene {scene!r}; expected one of {', '.join(SCENES)}")
        with self._scene_lock:
            self._scene = scene     # type: ignore[assignment]
            self._acts.clear()
        self._reporter.emit("scene", scene=scene)

    def act(self, challenge: str) -> None:
        """The person in front does ``challenge`` next (after any queued): a photo or nobody
        does nothing."""
        with self._scene_lock:
            self._acts.append((Challenge(challenge), -1.0))

    @property
    def scene(self) -> str:
        return self._scene

    def render(self, now: float) -> Rgb:
        """The frame the camera shows at ``now`` (its stream calls this at the frame rate;
        tests and ``kiosk devices emulate face`` call it with their own clock)."""
        with self._scene_lock:
            scene, act = self._scene, self._current_act(now)
        w, h = self._size
        canvas = np.empty((h, w, 3), np.uint8)
        canvas[:] = BACKGROUND
        if scene != "nobody":
            person = self._people[self._other if scene == "other" else self._person]
            canvas = person.image.copy()
            if scene == "photo":
                canvas = _held_up(canvas, now)
            elif act is not None:
                canvas = _acted(canvas, person, *act)
        noise = self._rng.normal(0, 2.0, canvas.shape)       # a sensor's noise
        return np.clip(canvas + noise, 0, 255).astype(np.uint8)

    def _current_act(self, now: float) -> tuple[Challenge, float] | None:
        """The challenge being acted and how far into it (0..1); None between acts."""
        if self._scene in ("photo", "nobody"):
            self._acts.clear()
            return None
        while self._acts:
            challenge, start = self._acts[0]
            if start < 0:
                self._acts[0] = (challenge, now)
                start = now
            progress = (now - start) / self._act_s
            if progress < 1.0:
                return challenge, progress
            self._acts.popleft()
        return None


def film(faces: Path, out: Path, *, scene: str, moves: list[str], frozen: bool = False,
         seconds: float = 5.0, fps: float = 10.0) -> int:
    """Write ``scene`` acting ``moves`` as ``out/frame0000.png`` … (a recording for the replay
    backend); ``frozen``: every frame the first one. The number of frames written."""
    camera = EmulatedFaceCamera(faces, present=scene)
    for move in moves:
        camera.act(move)
    first = camera.render(0.0)
    count = max(1, round(seconds * fps))
    for i in range(count):
        frame = first if frozen else camera.render(i / fps)
        _, png = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        write_file(out / f"frame{i:04d}.png", png.tobytes())
    return count


def _place(path: Path, landmarks: list[list[float]], size: tuple[int, int]) -> _Person:
    """The person's picture scaled to the frame's height, centred, and their landmarks there."""
    bgr = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read the emulated face {path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    w, h = size
    scale = h / rgb.shape[0]
    face = cv2.resize(rgb, (round(rgb.shape[1] * scale), h), interpolation=cv2.INTER_AREA)
    left = (w - face.shape[1]) // 2
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:] = BACKGROUND
    canvas[:, max(left, 0):max(left, 0) + min(face.shape[1], w)] = \
        face[:, max(-left, 0):max(-left, 0) + min(face.shape[1], w)]
    points = [(x * scale + left, y * scale) for x, y in landmarks]
    eye_distance = float(np.hypot(points[0][0] - points[2][0], points[0][1] - points[2][1]))
    nose = points[4]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    sigma = 0.45 * eye_distance
    bump = np.exp(-((xs - nose[0]) ** 2 + (ys - nose[1]) ** 2) / (2 * sigma ** 2))
    return _Person(canvas, tuple(points[:4]), nose, bump.astype(np.float32), eye_distance)


def _acted(canvas: Rgb, person: _Person, challenge: Challenge, progress: float) -> Rgb:
    if challenge is Challenge.BLINK:
        return _lids(canvas, person) if 0.25 <= progress < 0.65 else canvas
    sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
    shift = sign * TURN * person.eye_distance * float(np.sin(np.pi * progress))
    h, w = canvas.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.asarray(cv2.remap(canvas, xs - shift * person.bump, ys, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def _lids(canvas: Rgb, person: _Person) -> Rgb:
    """Closed eyes: each eye covered by the skin below it, with a lash line."""
    out = canvas.copy()
    for (ox, oy), (ix, iy) in (person.eyes[0:2], person.eyes[2:4]):
        cx, cy, w = int((ox + ix) / 2), int((oy + iy) / 2), int(abs(ox - ix))
        skin = canvas[min(int(cy + w * 0.9), canvas.shape[0] - 1), cx].tolist()
        cv2.ellipse(out, (cx, cy), (int(w * 0.75), int(w * 0.45)), 0, 0, 360, skin, -1)
        cv2.line(out, (cx - w // 2, cy + 2), (cx + w // 2, cy + 2), (60, 40, 30), 1)
    return out


def _held_up(canvas: Rgb, now: float) -> Rgb:
    """A print in a hand: it drifts and tilts a little, all of it at once."""
    h, w = canvas.shape[:2]
    dx, dy = 6 * np.sin(now * 2.1), 4 * np.sin(now * 1.7)
    angle = 2.0 * np.sin(now * 1.3)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[:, 2] += (dx, dy)
    return np.asarray(cv2.warpAffine(canvas, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE),
                      dtype=np.uint8)

"""What the emulated document camera sees: its desk plate, and a page laid on it.

Realistic enough for page detection and auto-capture to be tested on it: a grey-brown plate
with uneven light and texture, the page slightly rotated and in perspective (the camera looks
down at an angle), sliding in when placed, then still with sensor noise. Faults show as they
would on a real camera: a blown-out reflection (glare), defocus (blurred), an empty plate.

Cheap per frame: each page is warped once per placement (and per fault look); a frame is a
copy of the plate, one blend of the page sprite and a shifted window of precomputed noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Image8 = npt.NDArray[Any]      # uint8 RGB (OpenCV's stubs type its results loosely)
Quad = npt.NDArray[Any]        # 4×2 float corners

PLATE_RGB = (116, 104, 92)     # grey-brown felt of a typical 高拍仪 base plate
NOISE_PAD = 16                 # noise windows shift by up to this many pixels per frame
BLUR_SIGMA = 0.004             # defocus, as a share of the frame's longer side
PAGE_FILL = 0.78               # the resting page spans this share of the frame's tighter side


@dataclass
class _Sprite:
    """One look of the page, warped into a small patch: premultiplied colour + 1 − alpha."""

    premult: Image8
    inverse: Image8
    quad: Quad                 # page corners inside the patch (TL, TR, BR, BL)


@dataclass
class _Page:
    image: Image8              # the page as lit on the plate, about its size in the frame
    homography: npt.NDArray[Any]
    size: tuple[int, int]      # patch width, height
    rest: tuple[int, int]      # patch origin in the frame when the page lies still
    start: tuple[int, int]     # where the slide began
    since: float               # when the slide began
    looks: dict[frozenset[str], _Sprite]


class DeskScene:
    """Composes preview frames of ``size`` (width, height). Not thread-safe: one owner."""

    def __init__(self, size: tuple[int, int], slide_s: float = 0.6, seed: int = 7) -> None:
        self.width, self.height = size
        self.slide_s = slide_s
        rng = np.random.default_rng(seed)
        self._plate = _plate(self.width, self.height, rng)
        self._blurred_plate: Image8 | None = None
        pad = (self.height + NOISE_PAD, self.width + NOISE_PAD, 3)
        self._noise_up = rng.integers(0, 3, pad, dtype=np.uint8)     # ±2 grey levels
        self._noise_down = rng.integers(0, 3, pad, dtype=np.uint8)
        self._rng = rng
        self._page: _Page | None = None

    def lay(self, page: Image.Image, seed: int, now: float) -> None:
        """A page was laid on the plate: it slides in from the citizen's side."""
        quad = _resting_quad(page.size, (self.width, self.height), seed)
        lo = np.floor(quad.min(axis=0)).astype(int) - 3 * self._blur_px()
        hi = np.ceil(quad.max(axis=0)).astype(int) + 3 * self._blur_px()
        small = _lit_page(page, quad)
        src = _corners(small.shape[1], small.shape[0])
        homography = cv2.getPerspectiveTransform(src, (quad - lo).astype(np.float32))
        rest = (int(lo[0]), int(lo[1]))
        start = (rest[0], rest[1] + int(self.height * 0.6))
        size = (int(hi[0] - lo[0]), int(hi[1] - lo[1]))
        self._page = _Page(small, homography, size, rest, start, now, {})

    def shift(self, dx: float, dy: float, now: float) -> None:
        """Push the page by (dx, dy) shares of the frame; it slides there like a hand moved it."""
        page = self._page
        if page is None:
            return
        page.start = self._origin(page, now)
        page.rest = (page.rest[0] + round(dx * self.width), page.rest[1] + round(dy * self.height))
        page.since = now

    def clear(self) -> None:
        self._page = None

    def compose(self, now: float, faults: frozenset[str] = frozenset()) -> tuple[
            Image8, Quad | None, bool]:
        """The frame at ``now``: (RGB image, page corners in it or None, page still moving)."""
        blurred = "blurred" in faults
        frame = (self._blurred() if blurred else self._plate).copy()
        quad, moving = None, False
        page = self._page
        if page is not None and "no_page" not in faults:
            look = frozenset(faults & {"glare", "blurred"})
            sprite = page.looks.get(look) or self._sprite(page, look)
            x, y = self._origin(page, now)
            _blend(frame, sprite, x, y)
            quad = sprite.quad + np.array([x, y], np.float64)
            moving = now - page.since < self.slide_s
        return self._add_noise(frame), quad, moving

    # --- helpers ---------------------------------------------------------------------------
    def _origin(self, page: _Page, now: float) -> tuple[int, int]:
        u = min(1.0, max(0.0, (now - page.since) / self.slide_s)) if self.slide_s > 0 else 1.0
        ease = 1 - (1 - u) ** 3      # a hand slows down as the page reaches its place
        return (round(page.start[0] + (page.rest[0] - page.start[0]) * ease),
                round(page.start[1] + (page.rest[1] - page.start[1]) * ease))

    def _sprite(self, page: _Page, look: frozenset[str]) -> _Sprite:
        image = _with_glare(page.image) if "glare" in look else page.image
        width, height = page.size
        colour = cv2.warpPerspective(image, page.homography, (width, height),
                                     flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpPerspective(np.full(image.shape[:2], 255, np.uint8), page.homography,
                                    (width, height), flags=cv2.INTER_LINEAR)
        alpha = cv2.merge([alpha] * 3)
        premult = cv2.multiply(colour, alpha, scale=1 / 255)
        if "blurred" in look:
            premult, alpha = (self._blur(premult), self._blur(alpha))
        quad = cv2.perspectiveTransform(_corners(image.shape[1], image.shape[0])[None],
                                        page.homography)[0].astype(np.float64)
        sprite = _Sprite(premult, cv2.bitwise_not(alpha), quad)
        page.looks[look] = sprite
        return sprite

    def _blur_px(self) -> int:
        return max(1, round(BLUR_SIGMA * max(self.width, self.height)))

    def _blur(self, image: Image8) -> Image8:
        return cv2.GaussianBlur(image, (0, 0), self._blur_px())

    def _blurred(self) -> Image8:
        if self._blurred_plate is None:
            self._blurred_plate = self._blur(self._plate)
        return self._blurred_plate

    def _add_noise(self, frame: Image8) -> Image8:
        # A fresh-looking grain each frame from a shifted window: no random numbers per frame.
        ox, oy = (int(v) for v in self._rng.integers(0, NOISE_PAD, 2))
        window = np.s_[oy:oy + self.height, ox:ox + self.width]
        frame = cv2.add(frame, self._noise_up[window])
        return cv2.subtract(frame, self._noise_down[window])


def _corners(width: int, height: int) -> npt.NDArray[np.float32]:
    """Outer corners of a ``width``×``height`` image in OpenCV's pixel-centre coordinates."""
    w, h = width - 0.5, height - 0.5
    return np.array([[-0.5, -0.5], [w, -0.5], [w, h], [-0.5, h]], np.float32)


def _plate(width: int, height: int, rng: np.random.Generator) -> Image8:
    """The empty plate: brighter under the lamp in the middle, a faint felt texture."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xs / width - 0.5) ** 2 + (ys / height - 0.45) ** 2) / 0.5
    light = 1.08 - 0.25 * r2
    coarse = rng.normal(0, 1, (max(2, height // 48), max(2, width // 48))).astype(np.float32)
    texture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) * 4
    grain = rng.normal(0, 2, (height, width)).astype(np.float32)
    shade = (texture + grain)[..., None]
    plate = np.asarray(PLATE_RGB, np.float32) * light[..., None] + shade
    out: Image8 = np.clip(plate, 0, 255).astype(np.uint8)
    return out


def _resting_quad(page_size: tuple[int, int], frame: tuple[int, int], seed: int) -> Quad:
    """Where a page lies: near the middle, turned a little, keystoned by the camera's tilt."""
    rng = np.random.default_rng(seed)
    scale = PAGE_FILL * min(frame[0] / page_size[0], frame[1] / page_size[1])
    w, h = page_size[0] * scale, page_size[1] * scale
    keystone = rng.uniform(0.015, 0.04)          # the far (top) edge looks shorter
    corners = np.array([[-w / 2 * (1 - keystone), -h / 2], [w / 2 * (1 - keystone), -h / 2],
                        [w / 2, h / 2], [-w / 2, h / 2]])
    angle = np.radians(rng.uniform(-3.0, 3.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array(frame) / 2 + rng.uniform(-0.03, 0.03, 2) * frame
    jitter = rng.uniform(-0.004, 0.004, (4, 2)) * h
    quad: Quad = corners @ rot.T + centre + jitter
    return quad


def _lit_page(page: Image.Image, quad: Quad) -> Image8:
    """The page shrunk to about its size in the frame, under the plate's uneven light (paper
    reads a little below white, so a reflection can still be brighter than it)."""
    side = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[1] - quad[0])
    height = max(8, round(float(side[0])))
    width = max(8, round(page.width * height / page.height))
    small = cv2.resize(np.asarray(page.convert("RGB")), (width, height),
                       interpolation=cv2.INTER_AREA)
    xs = np.linspace(0.86, 0.94, width, dtype=np.float32)[None, :]
    ys = np.linspace(0.97, 1.0, height, dtype=np.float32)[:, None]
    return np.clip(small * (xs * ys)[..., None], 0, 255).astype(np.uint8)


def _with_glare(page: Image8) -> Image8:
    """A desk lamp's reflection on glossy paper: an oval blown out to pure white."""
    height, width = page.shape[:2]
    oval: Image8 = np.zeros((height, width), np.float32)
    centre = (round(width * 0.6), round(height * 0.27))
    cv2.ellipse(oval, centre, (round(width * 0.25), round(height * 0.15)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(oval, (0, 0), max(1.0, width / 80))[..., None]
    return (page * (1 - mask) + 255 * mask).astype(np.uint8)


def _blend(frame: Image8, sprite: _Sprite, x: int, y: int) -> None:
    """Lay the sprite at (x, y), clipped to the frame (a sliding page may be partly off it)."""
    height, width = sprite.premult.shape[:2]
    fx0, fy0 = max(x, 0), max(y, 0)
    fx1, fy1 = min(x + width, frame.shape[1]), min(y + height, frame.shape[0])
    if fx0 >= fx1 or fy0 >= fy1:
        return
    sx, sy = np.s_[fx0 - x:fx1 - x], np.s_[fy0 - y:fy1 - y]
    under = cv2.multiply(frame[fy0:fy1, fx0:fx1], sprite.inverse[sy, sx], scale=1 / 255)
    frame[fy0:fy1, fx0:fx1] = cv2.add(under, sprite.premult[sy, sx])

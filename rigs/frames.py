"""Synthetic 高拍仪 frames with exact ground truth, to measure page detection (Jaccard index)
and the quality gates (``drivers.camera.Flaw``).

Each shot is a top-down document-camera frame: a base plate (dark grey, black with printed
guide marks, blue felt, wood, light grey, a cluttered cutting mat), a page laid on it in
perspective (sample pages from assets/demo/pages and generic pages, mostly portrait A4), and
what a real camera adds to every frame: uneven light (vignetting and a ramp from the lamp),
white balance, lens/MJPEG softness and sensor noise. One condition per shot: a clean page, or
one clear fault, with the verdict a good gate should give.

The page is drawn by a homography from the flat page to its quad, and its alpha is computed
from the quad's own sides (a one-pixel anti-aliased ramp whose half-way line is the side), so
the quad is exactly where the page's edges are, in pixel-centre coordinates (pixel (x, y)
covers x ± 0.5, y ± 0.5). Deterministic: the same (condition, seed, size, page, plate) gives
the same shot, bit for bit.

    python -m rigs.frames --out DIR [--seed 0] [--per-condition 12] [--size WxH]

writes ``<condition>-<i>.jpg`` (quality 92) and ``truth.json`` (a list of {image, quad,
condition, expected, plate, seed, size}; ``shot(condition, seed, size, plate=plate)`` redraws
any of them).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from drivers.camera import Flaw
from drivers.camera.emulated import _read_index, render_generic_page
from drivers.camera.scene import _corners
from kiosk.paths import ASSETS

Image8 = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]
Float = npt.NDArray[Any]       # float32 images and points (OpenCV's stubs type them loosely)
Mask = npt.NDArray[Any]        # uint8 coverage, 255 = fully covered
Point = Float | Sequence[float]

PAGES_DIR = ASSETS / "demo" / "pages"
FONT_PATH = ASSETS / "fonts" / "NotoSansSC-Regular.otf"   # as kiosk/bootstrap.py's FONT
# Generic pages (render_generic_page) beside the sample pages: (title, page number).
GENERIC_PAGES = (("在职证明", 1), ("房屋租赁合同", 1), ("房屋租赁合同", 2), ("授权委托书", 1),
                 ("个人承诺书", 1))

CONDITIONS = ("clean", "shadow", "hand", "glare", "motion_blur", "defocus", "dark", "outside",
              "too_small", "skewed", "no_page")
EXPECTED: dict[str, frozenset[Flaw]] = {
    "clean": frozenset(), "shadow": frozenset(), "hand": frozenset(),
    "glare": frozenset({Flaw.GLARE}), "motion_blur": frozenset({Flaw.BLURRED}),
    "defocus": frozenset({Flaw.BLURRED}), "dark": frozenset({Flaw.TOO_DARK}),
    "outside": frozenset({Flaw.OUTSIDE}), "too_small": frozenset({Flaw.TOO_SMALL}),
    "skewed": frozenset({Flaw.SKEWED}), "no_page": frozenset({Flaw.NO_PAGE}),
}
PLATES = ("dark_grey", "black", "blue_felt", "wood", "light_grey", "cutting_mat")
CLEAN_WEIGHT = 2           # test_set draws this many times per_condition clean shots

# --- bounds: every shot is CLEARLY clean or CLEARLY degraded -------------------------------
# Geometry of every page that is not "outside", "too_small" or "skewed" (the clean one):
ROTATION_MAX_DEG = 25.0        # in-plane turn of the page, either way
CLEAN_ANGLE_TOL_DEG = 12.0     # every corner angle within 90° ± this (mild perspective)
CLEAN_SIDE_RATIO_MIN = 0.85    # shorter / longer side, for both pairs of opposite sides
CLEAN_AREA = (0.18, 0.60)      # page area / frame area (portrait A4 in 16:9 tops out ~ 0.36)
CLEAN_MARGIN = 0.02            # gap to the frame's edges: share of its width (x), height (y)
# Light: paper (where nothing is printed) under the lamp's peak, and everywhere on the page.
PAPER_LEVEL = (228.0, 240.0)   # grey level of the paper at the brightest light, before noise
PAPER_MIN = 180.0              # paper is at least this bright all over a page (lamp falloff)
SOFTNESS_SIGMA = (0.35, 0.7)   # Gaussian lens + MJPEG softness on every shot (pixels)
NOISE_SIGMA = (1.0, 3.0)       # sensor noise, grey levels, dark to bright (clipped at 2.5 σ)
# "shadow": a soft shadow (a leaning citizen, the camera arm) over part of page and plate.
SHADOW_PAPER_MIN = 150.0       # paper stays at least this bright inside the shadow
SHADOW_DEPTH = (0.22, 0.40)    # light taken away at the shadow's core (less if paper would
SHADOW_PAGE_SHARE = (0.15, 0.65)   # drop below SHADOW_PAPER_MIN); share of the page shaded
# "hand": a thumb pressing the page flat, from outside, across one side.
HAND_SIDE_MAX = 0.12           # the thumb covers at most this share of that side's length
THUMB_MM = (17.0, 21.0)        # thumb width, on the 210 mm side of an A4 page
# "glare": the lamp reflected off glossy paper: a saturated (255) spot with a soft rim.
GLARE_SHARE = (0.06, 0.15)     # share of the page area with every channel ≥ 250 (and = 255)
GLARE_CORE = (0.07, 0.11)      # share of the page drawn as the spot's saturated core
GLARE_HALO = 0.6               # its milky halo lifts the paper at most this share towards 255
# "motion_blur" / "defocus", as shares of the page width (its shorter side, in pixels).
MOTION_BLUR = (0.03, 0.05)     # linear motion kernel length; the bound is ≥ 0.025
MOTION_BLUR_MIN = 0.025
DEFOCUS = (0.02, 0.03)         # Gaussian sigma: ≥ 0.018 of the width, the body text (30 px
DEFOCUS_MIN = 0.018            # on a 1240 px page) smears into grey bands
# "dark": exposure so low that paper is grey.
DARK_PAPER = (36.0, 52.0)      # paper at the brightest light, before noise
DARK_PAPER_MAX = 60.0          # the bound: paper ≤ 60 / 255
# "outside": the page is partly off the frame.
OUTSIDE_SHARE = (0.10, 0.30)   # share of the page's area off the frame
OUTSIDE_AREA = (0.20, 0.45)    # the whole page's area / frame area
# "too_small": a page far too small to reach the dpi, fully inside.
SMALL_AREA = (0.015, 0.035)
SMALL_AREA_MAX = 0.04          # the bound: page area ≤ 4 % of the frame
# "skewed": seen too steeply to straighten faithfully, fully inside.
SKEW_SIDE_RATIO_MAX = 0.55     # far side ≤ 55 % of the near side (a pair of opposite sides),
SKEW_ANGLE_MIN_DEG = 35.0      # or a corner angle off 90° by ≥ 35°
SKEW_AREA = (0.18, 0.45)

_LIGHT_CELL = 8                # the light map is computed at 1/8 of the frame and scaled up


@dataclass(frozen=True, eq=False)
class Shot:
    """One synthetic frame and its truth. ``quad``: 4×2 float32 page corners TL, TR, BR, BL
    (clockwise on screen from the one nearest the top-left) in pixel-centre coordinates,
    possibly off the frame ("outside"); None when no page is on the plate. ``expected``: the
    flaws a good gate reports, empty for a page that must be accepted. Compared by identity
    (eq=False): the image is an array. ``seed``: redraw it with ``shot(condition, seed,
    size, plate=plate)``."""

    image: Image8              # H×W×3 uint8 RGB
    quad: Quad | None
    condition: str
    expected: frozenset[Flaw]
    plate: str
    seed: int = 0

    def __repr__(self) -> str:
        h, w = self.image.shape[:2]
        return f"Shot({self.condition}, {self.plate}, seed={self.seed}, {w}x{h})"


def shot(condition: str, seed: int, size: tuple[int, int] = (1920, 1080),
         page: Image.Image | None = None, plate: str | None = None) -> Shot:
    """Draw one ``size`` = (width, height) frame of ``condition``. ``page``: the page to lay
    (default: a sample or generic page chosen by the seed); ``plate``: one of PLATES (default:
    chosen by the seed)."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {CONDITIONS}")
    if plate is not None and plate not in PLATES:
        raise ValueError(f"unknown plate {plate!r}; expected one of {PLATES}")
    width, height = size
    rng = np.random.default_rng([seed, zlib.crc32(condition.encode())])
    plate = plate or PLATES[int(rng.integers(len(PLATES)))]
    frame = _plate(plate, size, rng)
    unit = min(width, height) / 1080         # sizes below are tuned on a 1080-line frame
    gains = rng.uniform(0.975, 1.025, 3)
    gains /= gains.max()                     # white balance; never brightens paper past level
    level = rng.uniform(*PAPER_LEVEL)
    quad = None
    page_mask = None
    layout: _Layout | None = None
    if condition == "no_page":
        _clutter(frame, rng, unit)
    else:
        sheet = _sheet(page, rng)
        quad = _quad(condition, sheet.shape[1] / sheet.shape[0], size, rng)
        layout = _lay_page(frame, sheet, quad, level * rng.uniform(0.975, 1.0, 3), rng, unit)
        page_mask = _low_mask(quad, size)
        if condition == "hand":
            _thumb(frame, quad, rng)
    light = _light(condition, rng, size, page_mask, level)
    if condition == "dark":
        gains *= rng.uniform(*DARK_PAPER) / level
    lit: Float = frame
    lit *= cv2.resize(light, size, interpolation=cv2.INTER_LINEAR)[..., None]
    lit *= gains.astype(np.float32)
    lit = cv2.GaussianBlur(lit, (0, 0), rng.uniform(*SOFTNESS_SIGMA))
    if quad is not None and condition == "defocus":
        lit = cv2.GaussianBlur(lit, (0, 0), rng.uniform(*DEFOCUS) * page_width(quad))
    if quad is not None and condition == "motion_blur":
        kernel = _motion_kernel(rng.uniform(*MOTION_BLUR) * page_width(quad),
                                rng.uniform(0, 180))
        lit = cv2.filter2D(lit, -1, kernel, borderType=cv2.BORDER_REFLECT)
    _add_noise(lit, rng, 1.6 if condition == "dark" else 1.0)
    if quad is not None and layout is not None and condition == "glare":
        _glare(lit, quad, layout, rng)
    np.clip(lit, 0, 255, out=lit)
    image: Image8 = np.rint(lit, out=lit).astype(np.uint8)
    return Shot(image, None if quad is None else _order(quad), condition, EXPECTED[condition],
                plate, seed)


def test_set(seed: int = 0, per_condition: int = 12,
             size: tuple[int, int] = (1920, 1080)) -> list[Shot]:
    """``per_condition`` shots of every condition (CLEAN_WEIGHT times as many clean ones),
    the plates taken in turn so each condition meets each plate. The i-th shot of a
    condition is ``shot(condition, item_seed(seed, i), size, plate=...)``."""
    shots = []
    for index, condition in enumerate(CONDITIONS):
        count = per_condition * (CLEAN_WEIGHT if condition == "clean" else 1)
        for i in range(count):
            plate = PLATES[(i + index) % len(PLATES)]
            shots.append(shot(condition, item_seed(seed, i), size, plate=plate))
    return shots


test_set.__test__ = False  # type: ignore[attr-defined]   # not a pytest test


def item_seed(seed: int, i: int) -> int:
    return seed * 100_000 + i


# --- measures (the bounds above are stated in these) ----------------------------------------
def quad_area(quad: Float) -> float:
    x, y = np.asarray(quad, np.float64).T
    return float(abs(x @ np.roll(y, -1) - y @ np.roll(x, -1)) / 2)


def corner_angles(quad: Float) -> Float:
    """The four interior angles, degrees."""
    q = np.asarray(quad, np.float64)
    incoming, outgoing = np.roll(q, 1, axis=0) - q, np.roll(q, -1, axis=0) - q
    cosine = (incoming * outgoing).sum(axis=1) / (
        np.linalg.norm(incoming, axis=1) * np.linalg.norm(outgoing, axis=1))
    angles: Float = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    return angles


def side_ratio(quad: Float) -> float:
    """The smaller of (shorter / longer) over the two pairs of opposite sides."""
    sides = np.linalg.norm(np.asarray(quad, np.float64) - np.roll(quad, -1, axis=0), axis=1)
    return float(min(min(sides[0], sides[2]) / max(sides[0], sides[2]),
                     min(sides[1], sides[3]) / max(sides[1], sides[3])))


def page_width(quad: Float) -> float:
    """The page's width in pixels: the shorter of the two mean side lengths."""
    sides = np.linalg.norm(np.asarray(quad, np.float64) - np.roll(quad, -1, axis=0), axis=1)
    return float(min(sides[0] + sides[2], sides[1] + sides[3]) / 2)


def inside_share(quad: Float, size: tuple[int, int]) -> float:
    """Share of the page's area inside a frame of ``size`` = (width, height)."""
    width, height = size
    box = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                    [-0.5, height - 0.5]], np.float32)
    inter, _ = cv2.intersectConvexConvex(box, np.asarray(quad, np.float32))
    return float(inter) / quad_area(quad)


# --- page geometry --------------------------------------------------------------------------
def _quad(condition: str, aspect: float, size: tuple[int, int],
          rng: np.random.Generator) -> Float:
    """Corners (in the page's own order) for a page of ``aspect`` = width / height."""
    kind = "skewed" if condition == "skewed" else "clean"
    area = {"too_small": SMALL_AREA, "skewed": SKEW_AREA, "outside": OUTSIDE_AREA}.get(
        condition, CLEAN_AREA)
    for _ in range(1000):
        placed = _place(_shape(kind, aspect, rng), area, size, rng)
        if placed is None:
            continue
        if condition != "outside":
            return placed
        moved = _push_out(placed, size, rng)
        if moved is not None:
            return moved
    raise RuntimeError(f"no page geometry for {condition!r} in a {size} frame")


def _shape(kind: str, aspect: float, rng: np.random.Generator) -> Float:
    """A page 1 high, turned and in perspective, centred near the origin."""
    half = np.array([aspect / 2, 0.5])
    rect = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    while True:
        pts = rect @ _rotation(rng.uniform(-ROTATION_MAX_DEG, ROTATION_MAX_DEG)).T
        if kind == "clean":
            # The camera head tilts a little: the top of the frame is slightly farther.
            direction = math.radians(-90 + rng.uniform(-35, 35))
            pts = _keystone(pts, rng.uniform(0, 0.14), direction)
            if (pts is not None and side_ratio(pts) >= CLEAN_SIDE_RATIO_MIN + 0.01
                    and np.abs(corner_angles(pts) - 90).max() <= CLEAN_ANGLE_TOL_DEG - 0.5):
                return pts
        else:
            if rng.random() < 0.5:   # steep tilt: strong keystone
                pts = _keystone(pts, rng.uniform(0.55, 1.0), rng.uniform(0, 2 * math.pi))
            else:                    # seen obliquely while turned: a squashed parallelogram
                pts = rect @ _rotation(rng.choice([-1, 1]) * rng.uniform(30, 60)).T
                pts = pts * np.array([1.0, rng.uniform(0.3, 0.5)])
                pts = pts @ _rotation(rng.uniform(-ROTATION_MAX_DEG, ROTATION_MAX_DEG)).T
                pts = _keystone(pts, rng.uniform(0, 0.1), rng.uniform(0, 2 * math.pi))
            if pts is None or not _convex(pts):
                continue
            ratio, off = side_ratio(pts), np.abs(corner_angles(pts) - 90).max()
            if ((ratio <= SKEW_SIDE_RATIO_MAX - 0.01 or off >= SKEW_ANGLE_MIN_DEG + 0.5)
                    and ratio >= 0.25 and off <= 65):
                return pts


def _rotation(degrees: float) -> Float:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s], [s, c]])


def _keystone(pts: Float, strength: float, direction: float) -> Float | None:
    """Perspective: points towards ``direction`` (radians) recede, so that side shrinks."""
    k = strength * np.array([math.cos(direction), math.sin(direction)])
    w = 1 + pts @ k
    if (w <= 0.2).any():
        return None
    out: Float = pts / w[:, None]
    centred: Float = out - out.mean(axis=0)
    return centred


def _convex(pts: Float) -> bool:
    edges = np.roll(pts, -1, axis=0) - pts
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(
        edges, -1, axis=0)[:, 0]
    return bool((cross > 0).all() or (cross < 0).all())


def _place(shape: Float, area: tuple[float, float], size: tuple[int, int],
           rng: np.random.Generator) -> Float | None:
    """Scale ``shape`` to a page area drawn from ``area`` (shares of the frame) and put it
    anywhere fully inside the frame with CLEAN_MARGIN; None if it cannot be that big."""
    width, height = size
    mx, my = CLEAN_MARGIN * width + 1, CLEAN_MARGIN * height + 1
    extent = shape.max(axis=0) - shape.min(axis=0)
    unit_area = quad_area(shape)
    s_max = min((width - 2 * mx) / extent[0], (height - 2 * my) / extent[1])
    top = min(area[1], 0.999 * s_max ** 2 * unit_area / (width * height))
    if top < area[0]:
        return None
    scale = math.sqrt(rng.uniform(area[0], top) * width * height / unit_area)
    pts = shape * scale
    low = np.array([mx - 0.5, my - 0.5]) - pts.min(axis=0)
    high = np.array([width - 0.5 - mx, height - 0.5 - my]) - pts.max(axis=0)
    placed: Float = pts + rng.uniform(low, np.maximum(low, high))
    return placed


def _push_out(quad: Float, size: tuple[int, int], rng: np.random.Generator) -> Float | None:
    """Slide the page towards an edge or a corner until the drawn share of it is off."""
    target = rng.uniform(OUTSIDE_SHARE[0] + 0.02, OUTSIDE_SHARE[1] - 0.02)
    towards = int(rng.integers(6))   # 4 edges, or 2 diagonals (either end)
    if towards < 4:
        direction = [np.array(v, float) for v in ((1, 0), (-1, 0), (0, 1), (0, -1))][towards]
    else:
        direction = np.array([rng.choice([-1, 1]), rng.choice([-1, 1])]) / math.sqrt(2)
    lo, hi = 0.0, float(sum(size))
    for _ in range(50):   # the share off the frame grows as the page slides out
        mid = (lo + hi) / 2
        if 1 - inside_share(quad + mid * direction, size) < target:
            lo = mid
        else:
            hi = mid
    moved: Float = quad + hi * direction
    off = 1 - inside_share(moved, size)
    return moved if OUTSIDE_SHARE[0] < off < OUTSIDE_SHARE[1] else None


def _order(quad: Float) -> Quad:
    """TL, TR, BR, BL: clockwise on screen, starting with the corner nearest the top-left."""
    q = np.asarray(quad, np.float64)
    centre = q.mean(axis=0)
    clockwise = q[np.argsort(np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0]))]
    ordered: Quad = np.roll(clockwise, -int(np.argmin(clockwise.sum(axis=1))),
                            axis=0).astype(np.float32)
    return ordered


# --- pages ----------------------------------------------------------------------------------
def _sheet(page: Image.Image | None, rng: np.random.Generator) -> Image8:
    """The page as an RGB array, turned as it lies: mostly upright, some sideways or upside
    down (the quad's order is by screen position, so the turn does not change it)."""
    if page is None:
        pool = _pool()
        array = _source(pool[int(rng.integers(len(pool)))])
    else:
        array = np.asarray(page.convert("RGB"))
    turns = int(rng.choice(4, p=[0.62, 0.14, 0.1, 0.14]))
    out: Image8 = np.ascontiguousarray(np.rot90(array, turns))
    return out


@lru_cache(maxsize=1)
def _pool() -> tuple[tuple[str, ...], ...]:
    files = sorted({file for _, file in _read_index(PAGES_DIR / "index.toml")})
    samples = [("sample", file) for file in files if (PAGES_DIR / file).exists()]
    return (*samples, *(("generic", title, str(n)) for title, n in GENERIC_PAGES))


@lru_cache(maxsize=16)
def _source(key: tuple[str, ...]) -> Image8:
    if key[0] == "sample":
        with Image.open(PAGES_DIR / key[1]) as src:
            image = src.convert("RGB")
    else:
        image = render_generic_page(key[1], int(key[2]), FONT_PATH)
    array: Image8 = np.asarray(image)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class _Layout:
    """Where the page was drawn: its bounding box in the frame and its alpha there."""

    x0: int
    y0: int
    alpha: Float              # h×w float32, 1 on the page, the anti-aliased ramp at its edge


def _lay_page(frame: Float, sheet: Image8, quad: Float, paper: Float,
              rng: np.random.Generator, unit: float) -> _Layout:
    """Draw ``sheet`` onto ``frame`` (float32, in place) with its corners on ``quad`` (the
    sheet's TL, TR, BR, BL); ``paper``: the RGB level white paper takes."""
    height, width = frame.shape[:2]
    shade = max(2.0, rng.uniform(2, 5) * unit)            # a faint contact shadow round it
    x0 = max(0, math.floor(quad[:, 0].min() - shade - 2))
    y0 = max(0, math.floor(quad[:, 1].min() - shade - 2))
    x1 = min(width, math.ceil(quad[:, 0].max() + shade + 3))
    y1 = min(height, math.ceil(quad[:, 1].max() + shade + 3))
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    across, down = max(sides[0], sides[2]), max(sides[1], sides[3])
    src_h, src_w = sheet.shape[:2]
    if across < src_w or down < src_h:   # shrink first: the warp then only interpolates
        sheet = _resized(sheet, (max(8, min(src_w, round(across))),
                                 max(8, min(src_h, round(down)))))
    dst = (quad - np.array([x0, y0])).astype(np.float32)
    homography = cv2.getPerspectiveTransform(_corners(sheet.shape[1], sheet.shape[0]), dst)
    warped = cv2.warpPerspective(sheet, homography, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    inside = _inside_distance(quad, x0, y0, x1 - x0, y1 - y0)
    alpha = np.clip(inside + 0.5, 0, 1)
    region = frame[y0:y1, x0:x1]
    contact = np.clip(1 + inside / shade, 0, 1)
    region *= (1 - rng.uniform(0.02, 0.05) * contact * contact)[..., None]
    page = warped.astype(np.float32) * (paper / 255).astype(np.float32)
    region += (page - region) * alpha[..., None]
    return _Layout(x0, y0, alpha)


def _inside_distance(quad: Float, x0: int, y0: int, w: int, h: int) -> Float:
    """Signed distance (pixels, > 0 inside) of each pixel centre of the box to the convex
    ``quad``'s nearest side line: its 0 line is the quad's outline."""
    xs = np.arange(x0, x0 + w, dtype=np.float32)[None, :]
    ys = np.arange(y0, y0 + h, dtype=np.float32)[:, None]
    centre = quad.mean(axis=0)
    nearest: Float | None = None
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        normal = np.array([a[1] - b[1], b[0] - a[0]]) / np.linalg.norm(b - a)
        if (centre - a) @ normal < 0:
            normal = -normal
        dist = (xs - np.float32(a[0])) * np.float32(normal[0]) + (
            ys - np.float32(a[1])) * np.float32(normal[1])
        nearest = dist if nearest is None else np.minimum(nearest, dist)
    assert nearest is not None
    return nearest


def _resized(image: Image8, size: tuple[int, int]) -> Image8:
    small: Image8 = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    return small


def _unit_homography(quad: Float) -> Float:
    """Maps the unit square (page coordinates u, v in 0..1) onto ``quad``."""
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    homography: Float = cv2.getPerspectiveTransform(square, quad.astype(np.float32))
    return homography


def _map(homography: Float, points: Float) -> Float:
    mapped: Float = cv2.perspectiveTransform(
        np.asarray(points, np.float32).reshape(-1, 1, 2), homography).reshape(-1, 2)
    return mapped


# --- plates ---------------------------------------------------------------------------------
def _plate(name: str, size: tuple[int, int], rng: np.random.Generator) -> Float:
    """The empty plate as the lamp's peak lights it: float32 RGB, H×W×3."""
    width, height = size
    unit = min(width, height) / 1080
    jitter = rng.uniform(-1, 1, 3)
    if name == "wood":
        base, texture = _wood(size, rng)
    else:
        colour, coarse, fine = {
            "dark_grey": ((74, 74, 78), 0.04, 0.035),
            "black": ((24, 24, 27), 0.06, 0.05),
            "blue_felt": ((36, 64, 122), 0.06, 0.06),
            "light_grey": ((198, 198, 195), 0.012, 0.008),
            "cutting_mat": ((44, 100, 76), 0.03, 0.03),
        }[name]
        spread = 6 if name == "light_grey" else 4
        base = np.asarray(colour, np.float32) + (jitter * spread).astype(np.float32)
        texture = (coarse * _smooth_noise(rng, size, 48 * unit)
                   + fine * _smooth_noise(rng, size, 2.5 * unit))
    plate = np.empty((height, width, 3), np.float32)
    np.multiply((1 + texture)[..., None], base, out=plate)
    if name == "black":
        _guide_marks(plate, rng, unit)
    elif name == "cutting_mat":
        _mat_pattern(plate, rng, unit)
    return plate


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cell: float) -> Float:
    """Unit-variance noise smooth over ``cell`` pixels, H×W float32."""
    width, height = size
    small = (max(2, round(width / cell)), max(2, round(height / cell)))
    coarse = rng.standard_normal((small[1], small[0]), dtype=np.float32)
    noise: Float = cv2.resize(coarse, size, interpolation=cv2.INTER_CUBIC)
    return noise


def _wood(size: tuple[int, int], rng: np.random.Generator) -> tuple[Float, Float]:
    """A veneer desk: long grain lines of uneven spacing, gently bent, with fine streaks."""
    width, height = size
    half = (max(2, width // 2), max(2, height // 2))
    vertical = rng.random() < 0.3
    w, h = (half[1], half[0]) if vertical else half
    # The grain's phase: uneven growth rings (a wandering rate), bent slowly along the board.
    rate = 1 + 0.6 * cv2.resize(rng.standard_normal((max(2, h // 12), 1), dtype=np.float32),
                                (1, h), interpolation=cv2.INTER_CUBIC)
    phase = np.cumsum(rate, axis=0) / h / rng.uniform(0.018, 0.03)
    bend = _smooth_noise(rng, (w, h), max(w, h) / 3) * 1.5
    grain = np.sin((phase + bend) * np.float32(2 * np.pi))
    lines = np.maximum(grain, 0) ** 6                     # thin dark late-wood lines
    streaks = cv2.resize(rng.standard_normal((h, max(2, w // 60)), dtype=np.float32), (w, h),
                         interpolation=cv2.INTER_CUBIC)
    texture: Float = -0.16 * lines + 0.04 * grain + 0.035 * streaks
    texture += 0.05 * _smooth_noise(rng, (w, h), max(w, h) / 5)
    if vertical:
        texture = np.ascontiguousarray(texture.T)
    full: Float = cv2.resize(texture, size, interpolation=cv2.INTER_LINEAR)
    full += 0.02 * rng.standard_normal((height, width), dtype=np.float32)
    base = np.array([168, 118, 74], np.float32) * np.float32(rng.uniform(0.85, 1.1))
    return base, full


def _guide_marks(plate: Float, rng: np.random.Generator, unit: float) -> None:
    """Printed A4/A3 corner marks and a centre cross, as on many 高拍仪 base plates."""
    height, width = plate.shape[:2]
    mask: Mask = np.zeros((height, width), np.uint8)
    thick = max(1, round(2 * unit))
    for fill in (0.82, 0.62):
        bw, bh = fill * width, fill * width / math.sqrt(2)
        if bh > 0.95 * height:
            bw, bh = 0.95 * height * math.sqrt(2), 0.95 * height
        cx, cy, arm = width / 2, height / 2, 0.05 * height
        for sx in (-1, 1):
            for sy in (-1, 1):
                corner = (cx + sx * bw / 2, cy + sy * bh / 2)
                _line(mask, corner, (corner[0] - sx * arm, corner[1]), thick)
                _line(mask, corner, (corner[0], corner[1] - sy * arm), thick)
    arm = 0.02 * height
    _line(mask, (width / 2 - arm, height / 2), (width / 2 + arm, height / 2), thick)
    _line(mask, (width / 2, height / 2 - arm), (width / 2, height / 2 + arm), thick)
    _paint(plate, mask, np.full(3, rng.uniform(70, 95), np.float32))


def _mat_pattern(plate: Float, rng: np.random.Generator, unit: float) -> None:
    """A cutting mat: a grid (heavier every fifth line), 45° guides, sticky notes, a pen."""
    height, width = plate.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    step = rng.uniform(40, 48) * unit
    ox, oy = rng.uniform(0, step, 2)
    for i, x in enumerate(np.arange(ox, width, step)):
        _line(mask, (x, 0), (x, height), 2 if i % 5 == 0 else 1, 255 if i % 5 == 0 else 150)
    for i, y in enumerate(np.arange(oy, height, step)):
        _line(mask, (0, y), (width, y), 2 if i % 5 == 0 else 1, 255 if i % 5 == 0 else 150)
    for k in range(-2, 3):
        x = width / 2 + k * 6 * step
        _line(mask, (x - height, height), (x + height, 0), 1, 120)
    _paint(plate, mask, np.array([120, 172, 142], np.float32))
    for _ in range(int(rng.integers(1, 3))):   # sticky notes near the mat's edges
        side = rng.uniform(0.06, 0.08) * height
        centre = (rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95)]) * width,
                  rng.uniform(0.1, 0.9) * height)
        colour = [(236, 212, 74), (240, 150, 170), (245, 170, 70)][int(rng.integers(3))]
        _rounded_box(plate, centre, (side, side), rng.uniform(0, 90), side * 0.04,
                     np.asarray(colour, np.float32))
    _pen(plate, rng, unit)


def _line(mask: Mask, a: Point, b: Point, thickness: int,
          value: int = 255) -> None:
    cv2.line(mask, _fixed(a), _fixed(b), value, thickness, cv2.LINE_AA, 4)


def _fixed(point: Point) -> tuple[int, int]:
    """A point in OpenCV's 4-bit fixed point (drawing calls with shift=4)."""
    return round(float(point[0]) * 16), round(float(point[1]) * 16)


def _paint(frame: Float, mask: Mask, colour: Float, shade: Float | None = None) -> None:
    """Blend ``colour`` (RGB, or an H×W×3 array over the mask's box) into ``frame`` where
    ``mask`` (uint8 coverage) is set, only over the mask's bounding box."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return
    alpha = mask[y:y + h, x:x + w].astype(np.float32)[..., None] / 255
    region = frame[y:y + h, x:x + w]
    ink = colour if colour.ndim == 1 else colour[y:y + h, x:x + w]
    if shade is not None:
        ink = ink * shade[y:y + h, x:x + w, None]
    region += (ink - region) * alpha


def _rounded_box(frame: Float, centre: Point, size: Point, angle: float,
                 radius: float, colour: Float) -> Mask:
    """Paint a turned rounded rectangle; returns its coverage mask."""
    height, width = frame.shape[:2]
    hw, hh = size[0] / 2 - radius, size[1] / 2 - radius
    pts = []
    for cx, cy, start in ((hw, -hh, -90), (hw, hh, 0), (-hw, hh, 90), (-hw, -hh, 180)):
        for t in np.radians(np.linspace(start, start + 90, 7)):
            pts.append((cx + radius * math.cos(t), cy + radius * math.sin(t)))
    poly = np.array(pts) @ _rotation(angle).T + np.asarray(centre)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    _paint(frame, mask, colour)
    return mask


# --- things on the plate --------------------------------------------------------------------
def _pen(frame: Float, rng: np.random.Generator, unit: float,
         where: Point | None = None) -> None:
    """A ballpoint pen: dark barrel with a highlight along it and a metal tip."""
    height, width = frame.shape[:2]
    length, thick = rng.uniform(280, 400) * unit, rng.uniform(10, 14) * unit
    angle = rng.uniform(0, 2 * math.pi)
    centre = np.asarray(where if where is not None else
                        (rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height))
    axis = np.array([math.cos(angle), math.sin(angle)]) * length / 2
    normal = np.array([-axis[1], axis[0]]) / np.linalg.norm(axis)
    colour = [(25, 35, 90), (20, 20, 24), (150, 25, 30)][int(rng.integers(3))]
    mask = np.zeros((height, width), np.uint8)
    _line(mask, centre - axis, centre + axis * 0.85, max(1, round(thick)))
    _paint(frame, mask, np.asarray(colour, np.float32))
    mask[:] = 0
    _line(mask, centre - axis * 0.95 - normal * thick * 0.2,
          centre + axis * 0.8 - normal * thick * 0.2, max(1, round(thick * 0.25)), 150)
    _paint(frame, mask, np.asarray(colour, np.float32) * 1.8 + 40)
    mask[:] = 0
    _line(mask, centre + axis * 0.85, centre + axis, max(1, round(thick * 0.5)))
    _paint(frame, mask, np.array([170, 170, 165], np.float32))


def _phone(frame: Float, rng: np.random.Generator, unit: float) -> None:
    """A phone put down on the plate: black glass with a faint reflection."""
    height, width = frame.shape[:2]
    size = np.array([rng.uniform(140, 170), rng.uniform(290, 340)]) * unit
    centre = (rng.uniform(0.2, 0.8) * width, rng.uniform(0.25, 0.75) * height)
    angle = rng.uniform(-40, 40)
    _rounded_box(frame, centre, size, angle, size[0] * 0.12, np.array([58, 58, 64], np.float32))
    mask = _rounded_box(frame, centre, size * 0.94, angle, size[0] * 0.1,
                        np.array([16, 17, 20], np.float32))
    band = np.zeros_like(mask)
    direction = np.array([math.cos(math.radians(angle + 60)), math.sin(math.radians(angle + 60))])
    _line(band, np.asarray(centre) - direction * size[1], np.asarray(centre) + direction *
          size[1], max(1, round(size[0] * 0.3)), 60)
    _paint(frame, cv2.min(band, mask), np.array([120, 125, 135], np.float32))


def _clutter(frame: Float, rng: np.random.Generator, unit: float) -> None:
    """What an empty plate may hold: nothing, a hand reaching in, a pen, a phone."""
    height, width = frame.shape[:2]
    kind = int(rng.integers(4))
    if kind == 1 or kind == 3:
        edge = int(rng.integers(4))
        inward = [np.array(v, float) for v in ((0, -1), (0, 1), (-1, 0), (1, 0))][edge]
        entry = [(rng.uniform(0.2, 0.8) * width, height), (rng.uniform(0.2, 0.8) * width, 0),
                 (width, rng.uniform(0.2, 0.8) * height), (0, rng.uniform(0.2, 0.8) * height)]
        reach = rng.uniform(0.3, 0.5) * min(width, height)
        tip = np.asarray(entry[edge]) + inward @ _rotation(rng.uniform(-25, 25)).T * reach
        thumb = rng.uniform(38, 46) * unit
        _hand(frame, tip, inward @ _rotation(rng.uniform(-20, 20)).T, thumb, rng, None)
    if kind == 2 or kind == 3:
        _pen(frame, rng, unit)
    if kind == 3 and rng.random() < 0.5:
        _phone(frame, rng, unit)


SKIN = ((226, 182, 156), (214, 164, 132), (194, 140, 104), (164, 112, 80))
SLEEVES = ((38, 44, 62), (84, 86, 92), (30, 30, 32), (112, 40, 44), (180, 176, 168))


def _thumb(frame: Float, quad: Float, rng: np.random.Generator) -> None:
    """A thumb pressing the page flat, from outside across one side (not near a corner)."""
    height, width = frame.shape[:2]
    short = page_width(quad)
    centre = quad.mean(axis=0)
    for _ in range(200):
        side = int(rng.integers(4))
        a, b = quad[side], quad[(side + 1) % 4]
        length = float(np.linalg.norm(b - a))
        along = (b - a) / length
        outward = np.array([along[1], -along[0]])
        if (centre - a) @ outward > 0:
            outward = -outward
        thumb = rng.uniform(*THUMB_MM) / 210 * short
        tilt = rng.uniform(-20, 20)
        inward = -outward @ _rotation(tilt).T
        crossing = thumb / math.cos(math.radians(tilt))
        if crossing > (HAND_SIDE_MAX - 0.015) * length:
            continue
        cross = a + (b - a) * rng.uniform(0.25, 0.75)
        tip = cross + inward * thumb * rng.uniform(0.6, 1.3)
        rest = np.zeros((height, width), np.uint8)      # everything but the thumb
        page = np.zeros((height, width), np.uint8)
        cv2.fillConvexPoly(page, np.round(quad * 16).astype(np.int32), 255, cv2.LINE_AA, 4)
        _hand(frame, tip, inward, thumb, rng, rest, dry_run=True)
        if cv2.countNonZero(cv2.min(rest, page)):
            continue                                     # the palm would lie on the page
        _hand(frame, tip, inward, thumb, rng, None)
        return
    raise RuntimeError("no room for a thumb")


def _hand(frame: Float, tip: Float, pointing: Float, thumb: float, rng: np.random.Generator,
          rest: Mask | None, dry_run: bool = False) -> None:
    """A hand whose thumb ends at ``tip``, pointing along ``pointing``: the thumb, a palm
    and curled fingers behind it, the wrist and a sleeve out to the frame's edge. With
    ``dry_run`` only ``rest`` (all but the thumb) is drawn, to check where the hand lies."""
    height, width = frame.shape[:2]
    state = rng.bit_generator.state   # the dry run and the real one draw the same hand
    pointing = pointing / np.linalg.norm(pointing)
    side = np.array([-pointing[1], pointing[0]]) * rng.choice([-1, 1])
    base = tip - pointing * thumb * 2.0
    palm = base - pointing * thumb * 1.3 + side * thumb * 1.0
    wrist = palm - pointing * thumb * 2.2
    far = wrist - pointing * (width + height)
    skin = np.asarray(SKIN[int(rng.integers(len(SKIN)))], np.float32)
    sleeve = np.asarray(SLEEVES[int(rng.integers(len(SLEEVES)))], np.float32)
    if dry_run:
        rng.bit_generator.state = state
    hand = np.zeros((height, width), np.uint8)
    _line(hand, palm, wrist - pointing * thumb * 0.8, round(thumb * 2.6))
    cv2.ellipse(hand, _fixed(palm), _fixed((thumb * 2.0, thumb * 1.6)),
                math.degrees(math.atan2(pointing[1], pointing[0])), 0, 360, 255, -1,
                cv2.LINE_AA, 4)
    for k in range(4):   # curled fingers along the palm's front, beside the thumb
        knuckle = palm + pointing * thumb * 1.2 + side * thumb * (0.6 * k - 0.45)
        _line(hand, knuckle, knuckle + pointing * thumb * (0.55 - 0.1 * abs(k - 1.5)),
              round(thumb * 0.85))
    arm = np.zeros_like(hand)
    _line(arm, wrist - pointing * thumb * 1.2, far, round(thumb * 3.2))
    if rest is not None:
        cv2.max(rest, hand, dst=rest)
        cv2.max(rest, arm, dst=rest)
    if dry_run:
        return
    finger = np.zeros_like(hand)
    _line(finger, base, tip, round(thumb))
    _line(finger, base - pointing * thumb * 0.4, base + pointing * thumb * 0.5,
          round(thumb * 1.3))                  # its ball, wider than the tip
    cv2.max(hand, finger, dst=hand)
    _cast_shadow(frame, cv2.max(hand, arm), thumb)
    _paint(frame, arm, sleeve, _rounded_shade(arm, thumb * 1.6))
    _paint(frame, hand, skin, _rounded_shade(hand, thumb * 0.5))
    nail = np.zeros_like(hand)
    centre = tip - pointing * thumb * 0.42
    cv2.ellipse(nail, _fixed(centre), _fixed((thumb * 0.28, thumb * 0.22)),
                math.degrees(math.atan2(pointing[1], pointing[0])), 0, 360, 110, -1,
                cv2.LINE_AA, 4)
    _paint(frame, nail, np.minimum(skin * 1.12 + np.array([8, 0, 4], np.float32), 250))


def _rounded_shade(mask: Mask, radius: float) -> Float:
    """Light falling on a rounded limb: darker towards its outline."""
    depth = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    shade: Float = 0.72 + 0.28 * np.sqrt(np.minimum(depth / max(radius, 1.0), 1.0))
    return shade


def _cast_shadow(frame: Float, mask: Mask, thumb: float) -> None:
    """The hand's soft shadow on what lies under it, offset away from the lamp."""
    x, y, w, h = cv2.boundingRect(mask)
    pad = round(thumb)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(frame.shape[1], x + w + pad), min(frame.shape[0], y + h + pad)
    cover = mask[y0:y1, x0:x1].astype(np.float32) / 255
    shift = np.array([[1, 0, 0.25 * thumb], [0, 1, 0.3 * thumb]], np.float32)
    shadow: Float = cv2.GaussianBlur(cv2.warpAffine(cover, shift, (x1 - x0, y1 - y0)), (0, 0),
                                     0.35 * thumb)
    frame[y0:y1, x0:x1] *= (1 - 0.18 * shadow)[..., None]


# --- light and camera -----------------------------------------------------------------------
def _low_mask(quad: Float, size: tuple[int, int]) -> Mask:
    """The page's footprint on the light map's grid."""
    small = (math.ceil(size[1] / _LIGHT_CELL), math.ceil(size[0] / _LIGHT_CELL))
    mask = np.zeros(small, np.uint8)
    scale = np.array([small[1] / size[0], small[0] / size[1]])
    pts = (quad + 0.5) * scale - 0.5
    cv2.fillConvexPoly(mask, np.round(pts * 16).astype(np.int32), 255, cv2.LINE_8, 4)
    return mask


def _light(condition: str, rng: np.random.Generator, size: tuple[int, int],
           page: Mask | None, paper: float) -> Float:
    """The lamp's light over the frame at 1/8 scale, 1.0 at its peak: vignetting, a ramp
    away from the lamp, and for "shadow" a soft shadow; the paper stays ≥ PAPER_MIN
    (≥ SHADOW_PAPER_MIN in the shadow)."""
    width, height = size
    small = (math.ceil(width / _LIGHT_CELL), math.ceil(height / _LIGHT_CELL))
    ys, xs = np.mgrid[0:small[1], 0:small[0]].astype(np.float32)
    xs, ys = (xs + 0.5) / small[0] - 0.5, (ys + 0.5) / small[1] - 0.5
    aspect = width / height
    cx, cy = rng.uniform(-0.06, 0.06, 2)
    r2 = (((xs - cx) * aspect) ** 2 + (ys - cy) ** 2) / (0.25 * (aspect ** 2 + 1))
    ramp = rng.uniform(0, 2 * math.pi)
    light = (1 - rng.uniform(0.06, 0.18) * r2) * (
        1 + rng.uniform(0, 0.14) * (xs * math.cos(ramp) + ys * math.sin(ramp)))
    light /= light.max()
    on_page = page > 0 if page is not None else None
    if on_page is not None and on_page.any():
        lowest = float(light[on_page].min())
        floor = max((PAPER_MIN + 4) / paper, 0.9 if condition == "shadow" else 0.0)
        if lowest < floor:   # too much falloff for this page: flatten the light
            light = 1 - (1 - light) * (1 - floor) / (1 - lowest)
    if condition == "shadow" and on_page is not None:
        light *= 1 - _shadow(rng, light, on_page, paper)
    out: Float = light.astype(np.float32)
    return out


def _shadow(rng: np.random.Generator, light: Float, page: npt.NDArray[np.bool_],
            paper: float) -> Float:
    """A soft shadow (light taken away, 0..depth) over part of the page and the plate."""
    h, w = light.shape
    for _ in range(200):
        mask: Float = np.zeros((h, w), np.float32)
        if rng.random() < 0.5:   # a head or shoulder leaning over, from an edge
            centre = (rng.uniform(0, w), rng.choice([rng.uniform(-0.1, 0.3),
                                                     rng.uniform(0.7, 1.1)]) * h)
            axes = (rng.uniform(0.25, 0.45) * w, rng.uniform(0.3, 0.5) * h)
            cv2.ellipse(mask, (round(centre[0]), round(centre[1])),
                        (round(axes[0]), round(axes[1])), rng.uniform(0, 180), 0, 360, 1.0, -1)
        else:                    # the camera arm: a broad band across the frame
            angle = rng.uniform(0, math.pi)
            direction = np.array([math.cos(angle), math.sin(angle)]) * (w + h)
            middle = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
            cv2.line(mask, tuple(int(v) for v in middle - direction),
                     tuple(int(v) for v in middle + direction), 1.0,
                     max(2, round(rng.uniform(0.12, 0.25) * h)))
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.04, 0.08) * h)
        shaded = float((mask[page] > 0.5).mean())
        if not SHADOW_PAGE_SHARE[0] <= shaded <= SHADOW_PAGE_SHARE[1] or (mask > 0.5).mean() \
                < shaded * page.mean() + 0.03:
            continue   # covers too little or too much of the page, or none of the plate
        depth = rng.uniform(*SHADOW_DEPTH)
        worst = float((light[page] * (1 - depth * mask[page])).min())
        if worst * paper < SHADOW_PAPER_MIN + 6:   # keep the shaded paper readable
            allowed = (1 - (SHADOW_PAPER_MIN + 6) / paper / light[page]) / np.maximum(
                mask[page], 1e-6)
            depth = float(np.clip(allowed.min(), 0, SHADOW_DEPTH[1]))
        if depth >= 0.15:
            out: Float = depth * mask
            return out
    raise RuntimeError("no room for a shadow")


def _motion_kernel(length: float, degrees: float) -> Float:
    """A straight, centred, symmetric motion blur of ``length`` pixels."""
    size = 2 * math.ceil(length / 2) + 3
    kernel = np.zeros((size, size), np.uint8)
    c = size // 2
    half = np.array([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]) * (
        length / 2)
    _line(kernel, (c - half[0], c - half[1]), (c + half[0], c + half[1]), 1)
    weights = kernel.astype(np.float32)
    weights += weights[::-1, ::-1]
    out: Float = weights / weights.sum()
    return out


def _add_noise(frame: Float, rng: np.random.Generator, gain: float) -> None:
    """Sensor noise, stronger on bright pixels (shot noise), clipped at 2.5 σ: a window at a
    random offset into a fixed field of noise (drawing 6 M normals per shot is the slowest
    step of all; the offset makes every shot's grain its own)."""
    height, width = frame.shape[:2]
    field = _noise_field(width, height)
    ox, oy = (int(v) for v in rng.integers(0, _NOISE_PAD, 2))
    noise = field[oy:oy + height, ox:ox + width].astype(np.float32)
    lo, hi = NOISE_SIGMA
    sigma = np.sqrt(np.maximum(frame[..., 1], 0) * np.float32(1 / 255))
    sigma *= np.float32(hi - lo)
    sigma += np.float32(lo)
    sigma *= np.float32(gain * rng.uniform(0.8, 1.0) / _NOISE_STEPS)
    noise *= sigma[..., None]
    frame += noise


_NOISE_PAD = 64
_NOISE_STEPS = 40              # the field holds round(40 · N(0, 1)), clipped at 2.5 σ


@lru_cache(maxsize=2)
def _noise_field(width: int, height: int) -> npt.NDArray[np.int8]:
    rng = np.random.default_rng([width, height])
    normal = rng.standard_normal((height + _NOISE_PAD, width + _NOISE_PAD, 3), np.float32)
    field = np.clip(np.rint(normal * _NOISE_STEPS), -2.5 * _NOISE_STEPS, 2.5 * _NOISE_STEPS)
    out = field.astype(np.int8)
    out.setflags(write=False)
    return out


def _glare(frame: Float, quad: Float, layout: _Layout, rng: np.random.Generator) -> None:
    """The lamp's reflection: an oval saturated to 255 with a soft rim, on the page only."""
    area = quad_area(quad)
    to_page = _unit_homography(quad)
    for _ in range(200):
        share = rng.uniform(*GLARE_CORE)
        stretch = rng.uniform(1.0, 2.2)
        a = math.sqrt(share * area * stretch / math.pi)
        axes = (a, a / stretch)
        angle = rng.uniform(0, 180)
        centre = _map(to_page, np.array([rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)]))[0]
        rim = rng.uniform(0.04, 0.07) * page_width(quad)
        outline = cv2.ellipse2Poly((round(centre[0]), round(centre[1])),
                                   (round(axes[0]), round(axes[1])), round(angle), 0, 360, 10)
        if _min_inside(quad, np.asarray(outline, np.float64)) < rim:
            continue
        pad = math.ceil(2.5 * rim)
        bottom, right = layout.y0 + layout.alpha.shape[0], layout.x0 + layout.alpha.shape[1]
        x0 = max(layout.x0, round(centre[0] - a) - pad)
        y0 = max(layout.y0, round(centre[1] - a) - pad)
        x1, y1 = min(right, round(centre[0] + a) + pad), min(bottom, round(centre[1] + a) + pad)
        core = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.ellipse(core, _fixed(centre - np.array([x0, y0])), _fixed(axes), angle, 0, 360, 255,
                    -1, cv2.LINE_AA, 4)
        outside = cv2.distanceTransform((core < 128).astype(np.uint8), cv2.DIST_L2, 5)
        halo = np.float32(GLARE_HALO) * np.exp(-(outside / rim) ** 2)
        hot = cv2.GaussianBlur(core.astype(np.float32) / 255, (0, 0), max(1.0, 0.06 * rim))
        weight = np.maximum(hot, halo)
        alpha = layout.alpha[y0 - layout.y0:y1 - layout.y0, x0 - layout.x0:x1 - layout.x0]
        weight *= alpha
        region = frame[y0:y1, x0:x1]
        lit = region + (np.float32(255) - region) * weight[..., None]
        darkest = lit.min(axis=2)
        blown = float((darkest >= 249.5).sum()) / area      # what a gate sees as blown out
        saturated = float((darkest >= 254.5).sum()) / area
        if GLARE_SHARE[0] + 0.005 <= saturated <= blown <= GLARE_SHARE[1] - 0.005:
            region[...] = lit
            return
    raise RuntimeError("no room for a glare spot")


def _min_inside(quad: Float, points: Float) -> float:
    """The smallest distance of ``points`` inside the convex ``quad`` (< 0: outside)."""
    centre = quad.mean(axis=0)
    least = math.inf
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        normal = np.array([a[1] - b[1], b[0] - a[0]]) / np.linalg.norm(b - a)
        if (centre - a) @ normal < 0:
            normal = -normal
        least = min(least, float(((points - a) @ normal).min()))
    return least


# --- CLI --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rigs.frames",
        description="Write the synthetic 高拍仪 test set: <condition>-<i>.jpg and truth.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-condition", type=int, default=12)
    parser.add_argument("--size", default="1920x1080", help="frame size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be WIDTHxHEIGHT, not {args.size!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    truth = []
    counts: dict[str, int] = {}
    for item in test_set(args.seed, args.per_condition, (width, height)):
        i = counts[item.condition] = counts.get(item.condition, -1) + 1
        name = f"{item.condition}-{i}.jpg"
        Image.fromarray(item.image).save(args.out / name, quality=92)
        truth.append({
            "image": name,
            "quad": None if item.quad is None else [[float(x), float(y)] for x, y in item.quad],
            "condition": item.condition, "expected": sorted(f.value for f in item.expected),
            "plate": item.plate, "seed": item.seed, "size": [width, height]})
    lines = ",\n ".join(json.dumps(record, ensure_ascii=False) for record in truth)
    (args.out / "truth.json").write_text(f"[{lines}]\n", encoding="utf-8")
    print(f"{len(truth)} shots written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

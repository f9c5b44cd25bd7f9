"""Hard synthetic 高拍仪 frames (issue 25): pale plates, low contrast, clutter and occlusion,
with the same exact ground truth and camera model as ``rigs.frames`` (which this builds on).

Conditions, each with the verdict a good detector and gate should give:
- ``pale_plate``: a page on a white, cream, pale grey, beige or light wood plate (its darkest
  channel at least 6 grey levels below the paper's: as little as ``low_contrast``);
- ``low_contrast``: a neutral plate only 6–20 grey levels from the paper (a quarter of them
  brighter than the paper: a white counter under recycled paper), under the usual uneven
  light, so the plate varies across the frame by more than the page differs from it;
- ``clutter``: a page on a pale plate with things beside it: a pen, a phone, a cable, a
  second, smaller sheet (a slip, an ID card, an A6 note), a hand reaching in;
- ``occluded``: a cable across the page, and a pen across one side or a phone over the rim;
  the corners stay visible;
- ``empty_pale``, ``clutter_only``, ``hand_only``: no page at all (NO_PAGE).
The page geometry, lighting, softness and noise are those of ``rigs.frames`` "clean" shots.
Deterministic: ``hard_shot(condition, seed, size)`` gives the same frame bit for bit.
"""

from __future__ import annotations

import math
import zlib

import cv2
import numpy as np

from drivers.camera import Flaw
from rigs.frames import (
    PAPER_LEVEL,
    SLEEVES,
    Float,
    Mask,
    Shot,
    _add_noise,
    _hand,
    _lay_page,
    _light,
    _line,
    _low_mask,
    _order,
    _paint,
    _pen,
    _phone,
    _quad,
    _rotation,
    _rounded_box,
    _sheet,
    _smooth_noise,
    _wood,
    page_width,
)

HARD_CONDITIONS = ("pale_plate", "low_contrast", "clutter", "occluded", "empty_pale",
                   "clutter_only", "hand_only")
NEGATIVE = frozenset({"empty_pale", "clutter_only", "hand_only"})
HARD_EXPECTED: dict[str, frozenset[Flaw]] = {
    name: frozenset({Flaw.NO_PAGE}) if name in NEGATIVE else frozenset()
    for name in HARD_CONDITIONS}
PALE_PLATES = ("white", "cream", "pale_grey", "beige", "light_wood")
PALE_COLOURS = {"white": (238, 238, 235), "cream": (236, 226, 200), "pale_grey": (214, 214, 211),
                "beige": (224, 210, 182)}
LOW_CONTRAST_STEP = (6.0, 20.0)   # |plate − paper|, grey levels at the lamp's peak
LOW_CONTRAST_BRIGHTER = 0.25      # share of low-contrast plates brighter than the paper
LOW_PAPER_LEVEL = (200.0, 222.0)  # paper level when the plate is the brighter one
CABLE_COLOURS = ((28, 28, 30), (70, 72, 76), (232, 232, 228), (150, 150, 152))
PAPER_TINT = 0.975                # each paper channel is 0.975–1 of the paper level
SHEET_MM = ((85.6, 54.0), (80.0, 120.0), (105.0, 148.0))   # ID card, receipt slip, A6


def hard_shot(condition: str, seed: int, size: tuple[int, int] = (1920, 1080)) -> Shot:
    """Draw one ``size`` = (width, height) frame of a HARD_CONDITIONS ``condition``."""
    if condition not in HARD_CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {HARD_CONDITIONS}")
    width, height = size
    rng = np.random.default_rng([seed, zlib.crc32(b"hard/" + condition.encode())])
    unit = min(width, height) / 1080
    level = rng.uniform(*PAPER_LEVEL)
    if condition == "low_contrast":
        plate, frame, level = _low_contrast_plate(size, rng)
    else:
        plate = PALE_PLATES[int(rng.integers(len(PALE_PLATES)))]
        frame = _pale_plate(plate, size, rng, level)
    quad = None
    if condition in NEGATIVE:
        _negative_scene(condition, frame, rng, unit)
    else:
        sheet = _sheet(None, rng)
        quad = _quad("clean", sheet.shape[1] / sheet.shape[0], size, rng)
        if condition == "clutter":
            _beside(frame, quad, rng, unit)
        _lay_page(frame, sheet, quad, level * rng.uniform(PAPER_TINT, 1.0, 3), rng, unit)
        if condition == "occluded":
            _across(frame, quad, rng, unit)
    image = _camera(frame, rng, size, quad, level)
    return Shot(image, None if quad is None else _order(quad), condition,
                HARD_EXPECTED[condition], plate, seed)


def hard_set(seed: int = 0, per_condition: int = 6,
             size: tuple[int, int] = (1920, 1080)) -> list[Shot]:
    """``per_condition`` shots of every hard condition; the i-th is
    ``hard_shot(condition, seed * 100_000 + i, size)``."""
    return [hard_shot(condition, seed * 100_000 + i, size)
            for condition in HARD_CONDITIONS for i in range(per_condition)]


def _camera(frame: Float, rng: np.random.Generator, size: tuple[int, int],
            quad: Float | None, level: float) -> np.ndarray:
    """What rigs.frames does to every clean shot: uneven light, white balance, softness,
    noise, 8 bits."""
    gains = rng.uniform(0.975, 1.025, 3)
    gains /= gains.max()
    page = None if quad is None else _low_mask(quad, size)
    light = _light("clean", rng, size, page, level)
    frame *= cv2.resize(light, size, interpolation=cv2.INTER_LINEAR)[..., None]
    frame *= gains.astype(np.float32)
    lit = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.35, 0.7))
    _add_noise(lit, rng, 1.0)
    np.clip(lit, 0, 255, out=lit)
    return np.rint(lit).astype(np.uint8)


# --- plates ---------------------------------------------------------------------------------
def _pale_plate(name: str, size: tuple[int, int], rng: np.random.Generator,
                paper: float) -> Float:
    """A pale plate whose darkest channel is at least LOW_CONTRAST_STEP[0] below the paper's
    (a white plate as bright as the paper leaves nothing to see but a contact shadow: no
    detector's job, and not what a 高拍仪's plate is made for)."""
    width, height = size
    unit = min(width, height) / 1080
    if name == "light_wood":
        _, texture = _wood(size, rng)
        texture *= np.float32(0.45)                  # pale veneer: faint grain
        base = np.array([222, 196, 158], np.float32) * np.float32(rng.uniform(0.96, 1.04))
    else:
        base = np.asarray(PALE_COLOURS[name], np.float32) + rng.uniform(-3, 3, 3).astype(
            np.float32)
        texture = (0.012 * _smooth_noise(rng, size, 48 * unit)
                   + 0.006 * _smooth_noise(rng, size, 2.5 * unit))
    darkest, lowest_paper = float(base.min()), PAPER_TINT * paper   # see hard_shot's tint
    if darkest > lowest_paper - LOW_CONTRAST_STEP[0]:
        base *= np.float32((lowest_paper - LOW_CONTRAST_STEP[0] - rng.uniform(0, 4)) / darkest)
    return _textured(base, texture, size)


def _low_contrast_plate(size: tuple[int, int],
                        rng: np.random.Generator) -> tuple[str, Float, float]:
    """A neutral matte plate a few grey levels from the paper: (name, plate, paper level)."""
    step = rng.uniform(*LOW_CONTRAST_STEP)
    if rng.random() < LOW_CONTRAST_BRIGHTER:
        level = rng.uniform(*LOW_PAPER_LEVEL)
        grey, name = min(250.0, level + step), "low_brighter"
    else:
        level = rng.uniform(*PAPER_LEVEL)
        grey, name = level - step, "low_darker"
    base = np.full(3, grey, np.float32) + rng.uniform(-1.5, 1.5, 3).astype(np.float32)
    unit = min(size) / 1080
    texture = 0.006 * _smooth_noise(rng, size, 48 * unit) + 0.004 * _smooth_noise(
        rng, size, 2.5 * unit)
    return name, _textured(base, texture, size), level


def _textured(base: Float, texture: Float, size: tuple[int, int]) -> Float:
    plate = np.empty((size[1], size[0], 3), np.float32)
    np.multiply((1 + texture)[..., None], base, out=plate)
    return plate


# --- things on the plate --------------------------------------------------------------------
def _negative_scene(condition: str, frame: Float, rng: np.random.Generator,
                    unit: float) -> None:
    if condition == "empty_pale":
        return
    if condition == "hand_only":
        _reaching_hand(frame, rng, unit)
        return
    _pen(frame, rng, unit)
    _cable(frame, rng, unit)
    if rng.random() < 0.7:
        _phone(frame, rng, unit)
    if rng.random() < 0.5:
        _reaching_hand(frame, rng, unit)


def _reaching_hand(frame: Float, rng: np.random.Generator, unit: float) -> None:
    height, width = frame.shape[:2]
    edge = int(rng.integers(4))
    inward = [np.array(v, float) for v in ((0, -1), (0, 1), (-1, 0), (1, 0))][edge]
    entry = [(rng.uniform(0.2, 0.8) * width, height), (rng.uniform(0.2, 0.8) * width, 0),
             (width, rng.uniform(0.2, 0.8) * height), (0, rng.uniform(0.2, 0.8) * height)]
    reach = rng.uniform(0.3, 0.5) * min(width, height)
    tip = np.asarray(entry[edge]) + inward @ _rotation(rng.uniform(-25, 25)).T * reach
    _hand(frame, tip, inward @ _rotation(rng.uniform(-20, 20)).T, rng.uniform(38, 46) * unit,
          rng, None)


def _cable(frame: Float, rng: np.random.Generator, unit: float,
           through: Float | None = None) -> None:
    """A charging cable: a gentle curve from one edge of the frame to another, through
    ``through`` when given."""
    height, width = frame.shape[:2]
    centre = through if through is not None else np.array(
        [rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height])
    angle = rng.uniform(0, math.pi)
    direction = np.array([math.cos(angle), math.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    reach = width + height
    bow = rng.uniform(-0.15, 0.15) * min(width, height)
    t = np.linspace(-1, 1, 64)[:, None]
    points = centre + t * reach * direction + (1 - t * t) * bow * normal
    mask = np.zeros((height, width), np.uint8)
    thick = max(1, round(rng.uniform(7, 12) * unit))
    cv2.polylines(mask, [np.round(points * 16).astype(np.int32)], False, 255, thick,
                  cv2.LINE_AA, 4)
    colour = np.asarray(CABLE_COLOURS[int(rng.integers(len(CABLE_COLOURS)))], np.float32)
    _paint(frame, mask, colour)


def _free_spot(taken: np.ndarray, extent: float, rng: np.random.Generator) -> Float | None:
    """A centre whose disc of radius ``extent`` lies inside the frame and off ``taken``."""
    height, width = taken.shape
    free = cv2.distanceTransform((taken == 0).astype(np.uint8), cv2.DIST_L2, 5)
    for _ in range(100):
        x, y = rng.uniform(extent, width - extent), rng.uniform(extent, height - extent)
        if width <= 2 * extent or height <= 2 * extent:
            return None
        if free[int(y), int(x)] > extent:
            return np.array([x, y])
    return None


def _beside(frame: Float, quad: Float, rng: np.random.Generator, unit: float) -> None:
    """Two to four things beside (never on) the page: a second small sheet, a phone, a pen,
    a hand reaching in; a cable may run under the page (drawn before it)."""
    height, width = frame.shape[:2]
    page = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(page, np.round(quad).astype(np.int32), 255)
    taken: Mask = cv2.dilate(page, np.ones((3, 3), np.uint8), iterations=max(1, round(12 * unit)))
    mm = page_width(quad) / 210
    kinds = rng.permutation(["sheet", "phone", "pen", "cable"])[:int(rng.integers(2, 5))]
    for kind in kinds:
        if kind == "cable":
            _cable(frame, rng, unit)         # the page is laid over it afterwards
            continue
        if kind == "sheet":
            w_mm, h_mm = SHEET_MM[int(rng.integers(len(SHEET_MM)))]
            extent = 0.5 * math.hypot(w_mm, h_mm) * mm
        else:
            extent = (200 if kind == "pen" else 175) * unit
        spot = _free_spot(taken, extent + 4 * unit, rng)
        if spot is None:
            continue
        if kind == "sheet":
            paper = rng.uniform(225, 245) * rng.uniform(0.96, 1.0, 3)
            _rounded_box(frame, spot, (w_mm * mm, h_mm * mm), rng.uniform(0, 180), 2 * mm,
                         paper.astype(np.float32))
        elif kind == "phone":
            _phone_at(frame, spot, rng, unit)
        else:
            _pen(frame, rng, unit, where=spot)
        cv2.circle(taken, (int(spot[0]), int(spot[1])), int(extent + 8 * unit), 255, -1)


def _phone_at(frame: Float, centre: Float, rng: np.random.Generator, unit: float) -> None:
    """rigs.frames' phone, but at ``centre``, smaller than its free disc."""
    size = np.array([rng.uniform(140, 170), rng.uniform(290, 330)]) * unit
    angle = rng.uniform(0, 180)
    _rounded_box(frame, centre, size, angle, size[0] * 0.12, np.array([58, 58, 64], np.float32))
    _rounded_box(frame, centre, size * 0.94, angle, size[0] * 0.1,
                 np.array([16, 17, 20], np.float32))


def _across(frame: Float, quad: Float, rng: np.random.Generator, unit: float) -> None:
    """On top of the page: a cable across it, and a pen across one side's middle or a
    sleeve's cuff over the rim, both near a side's middle, so the corners mostly stay
    visible."""
    u, v = rng.uniform(0.3, 0.7, 2)
    top, bottom = quad[0] + u * (quad[1] - quad[0]), quad[3] + u * (quad[2] - quad[3])
    _cable(frame, rng, unit, through=top + v * (bottom - top))
    if rng.random() < 0.6:
        side = int(rng.integers(4))
        a, b = quad[side], quad[(side + 1) % 4]
        _pen(frame, rng, unit, where=a + rng.uniform(0.35, 0.65) * (b - a))
    else:
        side = int(rng.integers(4))
        a, b = quad[side], quad[(side + 1) % 4]
        middle = a + rng.uniform(0.35, 0.65) * (b - a)
        outward = middle - quad.mean(axis=0)
        outward /= np.linalg.norm(outward)
        mask = np.zeros(frame.shape[:2], np.uint8)
        cuff = middle - outward * rng.uniform(15, 40) * unit
        _line(mask, cuff, cuff + outward * (frame.shape[0] + frame.shape[1]),
              max(1, round(rng.uniform(110, 150) * unit)))
        sleeve = np.asarray(SLEEVES[int(rng.integers(len(SLEEVES)))], np.float32)
        _paint(frame, mask, sleeve)

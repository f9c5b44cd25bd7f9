"""Corner refinement and edge sharpness on the full-resolution still.

Preview detection works on a 640-pixel copy, so on an 8 MP still its corners are a few pixels
off. Here each side is looked at across its length in the full image: along the side's normal,
where does the paper (bright) give way to the plate (dark)? A straight line is fitted through
those crossings and the corners are where neighbouring lines meet.

The same profiles across the edge tell how sharp the picture is. The page's own edge is the one
feature every page has (a blank back page has no text to judge focus by), so blur is measured as
the width over which the edge rises from 10 % to 90 %, as a share of the page's width. Motion
blurs the sides across the motion only, and always two opposite sides alike, so the second
widest side counts: one side misread (a pen lying along it, a faint edge on a pale plate) cannot
fail a sharp page on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera.edges import intersect_lines

Array = npt.NDArray[Any]
SAMPLES = 40              # profiles across each side
STEP_MIN = 12             # a profile whose paper-to-plate step is smaller shows no edge
SEARCH = 0.06             # how far either side of a side to look, as a share of the page width
MIN_POINTS = 8            # fewer edge points on a side: keep the side as detected


@dataclass(frozen=True)
class Refined:
    quad: Array           # 4×2 float32, TL, TR, BR, BL
    blur: float           # 2nd widest edge (10–90 %) over the page width; 0.0: not measurable


def refine(grey: npt.NDArray[np.uint8], quad: Array, error_px: float) -> Refined:
    """Snap ``quad`` (from detection, in ``grey``'s pixels, up to ``error_px`` off) onto the
    page's edges, and measure how blurred they are."""
    quad = quad.astype(np.float32)
    reach = max(4.0, SEARCH * _page_width(quad))
    centre = quad.mean(axis=0)
    sides = [_side(quad[i], quad[(i + 1) % 4], centre) for i in range(4)]
    # Look no further than detection can be off: a ruled line printed near the page's edge
    # is a step too, and must not win.
    search = max(3.0, error_px)
    lines = [_fit_edge(grey, a, b, normal, search) for a, b, normal in sides]
    corners = [intersect_lines(lines[i - 1], lines[i]) for i in range(4)]
    refined = quad
    if all(c is not None for c in corners):
        candidate = np.array(corners, np.float32)
        if float(np.abs(candidate - quad).max()) <= 2 * search:   # else a fit went astray
            refined = candidate
    centre = refined.mean(axis=0)
    widths = [_edge_width(grey, *_side(refined[i], refined[(i + 1) % 4], centre), reach)
              for i in range(4)]
    measured = sorted(w for w in widths if w is not None)
    blur = measured[-2] / _page_width(refined) if len(measured) >= 2 else 0.0
    return Refined(refined, blur)


def _page_width(quad: Array) -> float:
    """The shorter of the two mean side lengths: the page's width in pixels."""
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    return float(max(1.0, min(sides[0] + sides[2], sides[1] + sides[3]) / 2))


def _side(a: Array, b: Array, centre: Array) -> tuple[Array, Array, Array]:
    """The side from a to b with its unit normal pointing away from the page."""
    direction = b - a
    normal = np.array([direction[1], -direction[0]], np.float32)
    normal /= max(float(np.linalg.norm(normal)), 1e-6)
    if float((a - centre) @ normal) < 0:
        normal = -normal
    return a, b, normal


def _profiles(grey: npt.NDArray[np.uint8], a: Array, b: Array, normal: Array,
              reach: float) -> tuple[Array, Array, Array]:
    """Brightness sampled across the side: rows are positions along it (10–90 %), columns run
    from ``reach`` inside the page to ``reach`` outside. Also the row points and offsets."""
    along = np.linspace(0.1, 0.9, SAMPLES, dtype=np.float32)[:, None]
    points = a + along * (b - a)
    offsets = np.arange(-reach, reach + 0.5, 1.0, dtype=np.float32)
    xy = points[:, None, :] + offsets[None, :, None] * normal
    values = cv2.remap(grey, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inside = ((xy >= 0) & (xy <= (grey.shape[1] - 1, grey.shape[0] - 1))).all(axis=2)
    return np.where(inside, values.astype(np.float32), np.nan), points, offsets


def _fit_edge(grey: npt.NDArray[np.uint8], a: Array, b: Array, normal: Array,
              reach: float) -> tuple[Array, Array]:
    """The edge near side a–b as (point, direction): the steepest fall in brightness on each
    profile (to sub-pixel, by a parabola through the peak), then a robust line fit."""
    profiles, points, offsets = _profiles(grey, a, b, normal, reach)
    smooth = (profiles[:, :-2] + 2 * profiles[:, 1:-1] + profiles[:, 2:]) / 4
    fall = smooth[:, :-1] - smooth[:, 1:]          # positive where it gets darker outwards
    edge_points = []
    for row, drop in enumerate(fall):
        if np.isnan(drop).any():
            continue                               # runs off the frame: no edge to trust
        k = int(np.argmax(drop))
        if profiles[row, 0] - profiles[row, -1] < STEP_MIN or not 0 < k < len(drop) - 1:
            continue
        left, peak, right = drop[k - 1], drop[k], drop[k + 1]
        curve = left - 2 * peak + right
        shift = 0.5 * (left - right) / curve if curve < 0 else 0.0
        # fall[k] lies between smooth[k] and smooth[k+1], i.e. offsets[k+1] and offsets[k+2].
        offset = offsets[k + 1] + 0.5 + shift
        edge_points.append(points[row] + offset * normal)
    if len(edge_points) < MIN_POINTS:
        return a, (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    vx, vy, x0, y0 = cv2.fitLine(np.array(edge_points, np.float32), cv2.DIST_HUBER, 0, 0.01,
                                 0.01).flatten()
    return np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)


def _edge_width(grey: npt.NDArray[np.uint8], a: Array, b: Array, normal: Array,
                reach: float) -> float | None:
    """Pixels over which the median profile across the side rises from 10 % to 90 % of its
    step; None when too little of the side shows a clear edge (off the frame, covered)."""
    profiles, _, offsets = _profiles(grey, a, b, normal, reach)
    fifth = max(1, len(offsets) // 5)
    paper = np.median(profiles[:, :fifth], axis=1)
    plate = np.median(profiles[:, -fifth:], axis=1)
    step = paper - plate
    seen = ~np.isnan(profiles).any(axis=1)
    good = (step >= STEP_MIN) & seen
    # The side as a whole must show a clear edge: where paper and plate differ by less, the
    # rows that pass STEP_MIN are picked by noise and their widths mean nothing.
    if int(good.sum()) < MIN_POINTS or float(np.median(step[seen])) < STEP_MIN:
        return None
    norm = (profiles[good] - plate[good, None]) / step[good, None]
    curve = np.median(norm, axis=0)                # 1 on the paper, 0 on the plate
    return _crossing(curve, offsets, 0.1) - _crossing(curve, offsets, 0.9)


def _crossing(curve: Array, offsets: Array, level: float) -> float:
    """Offset where the falling curve last drops through ``level`` coming from the paper
    (linear interpolation between samples)."""
    above = np.nonzero(curve >= level)[0]
    if len(above) == 0:
        return float(offsets[0])
    k = int(above[-1])
    if k + 1 >= len(curve):
        return float(offsets[-1])
    high, low = float(curve[k]), float(curve[k + 1])
    t = (high - level) / (high - low) if high != low else 0.0
    return float(offsets[k] + t * (offsets[k + 1] - offsets[k]))

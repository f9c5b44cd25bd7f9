"""Page detection from straight edges, for scenes where the page is not clearly brighter than
the plate (white paper on a white, cream or light-wood plate) or where other things lie on and
around it (a pen, a phone, a cable across the page, a second sheet, a hand).

detect.py's brightness outline fails there: the paper does not stand out from the plate, and
what does stand out merges with the clutter into blobs that are not four-sided. What every
page still has is four straight sides where the colour changes, the same way all round. So:
1. edges of the darkest channel (min of R, G, B: a whiteness measure, high only where all
   channels are, so a cream, wood or pale-blue plate differs from white paper there even when
   its brightness does not), on a half-size copy where print is mostly smoothed away; then
   straight segments (probabilistic Hough), each weighed by how much of it is a step (a
   printed rule has paper on both sides), merged into lines;
2. every two roughly parallel pairs of lines that meet at roughly right angles (perspective
   keeps them within ``CORNER_TOLERANCE``) make a candidate quad;
3. a side is supported where it runs along an edge; occlusion (a cable, a pen, a cuff)
   takes a little of a side, so every side needs only MIN_SIDE_SUPPORT;
4. the best candidate by support, right angles, page-like aspect ratio (A4/A5, ID card,
   户口簿) and size, whose inside is paper: nearly neutral (colour spread), mostly among the
   brightest things in the frame (a phone is dark, a hand skin-coloured) and different from
   the plate just outside it (a quad closed round bare plate by a cable is not a page);
5. its sides snapped onto the strongest edge nearby at full working size, either polarity
   (paper may be darker than a white plate).
Runs on detect.py's working copy (640 pixels on the longer side), in a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
_NEAR = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
CANNY = (6, 16)            # hysteresis thresholds (L2 gradient, on the half-size search copy)
MIN_SEGMENT = 0.08         # Hough segments shorter than this share of the shorter side: noise
MAX_GAP = 3                # search pixels a segment may jump (a cable across a side)
MAX_LINES = 20             # strongest merged lines kept
MERGE_DEG, MERGE_PX = 2.0, 1.5   # segments this close in angle and offset are one line
PARALLEL_DEG = 28.0        # opposite sides of a page in perspective differ at most this much
CORNER_TOLERANCE = 35.0    # and each corner is within this many degrees of a right angle
MIN_AREA = 0.02            # a candidate smaller than this share of the frame is not a page
FRAME_SLACK = 0.01         # corners may lie this share of the frame outside it (rounding)
SAMPLES = 24               # points per side where support is measured
STEP_OFFSETS = (1.0, 2.0)  # search pixels either side of a line where the level is read
STEP_MIN = 4.0             # a step across a line: inside and outside differ this much
MIN_SIDE_SUPPORT = 0.3     # every side at least this supported (occlusion takes the rest)
MIN_SUPPORT = 0.6          # and the four on average this much
PAPER_LEVEL = 0.78         # most of the inside (all but PAPER_SHARE, the print) is at
PAPER_SHARE = 0.4          # least this share of the frame's brightest 1 % (darkest channel)
PAPER_CHROMA = 40          # and its mean colour spread (max − min channel) at most this
PAPER_STEP = 2             # and its margin's median this far from that of the plate round it
PAGE_ASPECTS = (math.sqrt(2), 1.294, 1.586, 1.38)   # A-series, letter, ID card, 户口簿 page
ASPECT_SLACK = 0.12        # log-aspect within this of a page size: no penalty
NEAR_INSIDE, FAR_OUTSIDE = 4.0, 9.0   # working pixels either side of a side: past a cable
SNAP_REACH = 3             # working pixels either side of a found side searched for its edge


def find_page_quad(small: Array, darkest: Array, bright: int) -> tuple[Array, float] | None:
    """The page's corners (4×2 float32 in working pixels, in order round the page) and a
    0..1 score, or None. ``small``: the RGB working copy; ``darkest``: its darkest channel;
    ``bright``: that channel's brightest-1 % level (detect.py has all three anyway)."""
    height, width = darkest.shape
    half = cv2.resize(darkest, (max(1, width // 2), max(1, height // 2)),
                      interpolation=cv2.INTER_AREA)
    smooth = cv2.GaussianBlur(half, (0, 0), 0.8)
    edges = cv2.Canny(smooth, *CANNY, L2gradient=True)
    lines = _lines(edges, smooth)
    if len(lines) < 4:
        return None
    quads = _candidates(lines, *half.shape[::-1])
    if len(quads) == 0:
        return None
    scores = _scores(quads, _hits(cv2.dilate(edges, _NEAR), quads), half.size)
    scale = np.array([width / half.shape[1], height / half.shape[0]], np.float32)
    spread = cv2.subtract(cv2.max(cv2.max(small[..., 0], small[..., 1]), small[..., 2]),
                          darkest)
    for k in np.argsort(-scores)[:8]:
        if scores[k] <= 0:
            break
        quad = (quads[k] + 0.5) * scale - 0.5
        if _paperlike(darkest, spread, quad, bright) and sides_bound(darkest, quad):
            return _snap(darkest, quad), float(scores[k])
    return None


def _lines(edges: Array, smooth: Array) -> Array:
    """Straight lines through the edge map as rows (nx, ny, rho, weight): unit normal and
    offset (n · p = rho), near-duplicates merged, heaviest first. A segment weighs its length
    times the share of it where the colour steps across it (a page's side): a table rule or
    a row of print has paper on both sides and weighs little, however long it is."""
    height, width = edges.shape
    segments = cv2.HoughLinesP(edges, 1, np.pi / 180, 20,
                               minLineLength=MIN_SEGMENT * min(width, height),
                               maxLineGap=MAX_GAP)
    if segments is None:
        return np.zeros((0, 4), np.float32)
    seg = segments.reshape(-1, 4).astype(np.float32)
    d = seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    theta = np.arctan2(d[:, 1], d[:, 0]) % np.pi
    normal = np.stack([-np.sin(theta), np.cos(theta)], axis=1)
    rho = (normal * seg[:, :2]).sum(axis=1)
    weight = length * (0.3 + 0.7 * _stepping(smooth.astype(np.float32), seg[:, :2],
                                             seg[:, 2:], normal))
    keep = weight > 0
    return _merge(theta[keep], rho[keep], weight[keep])


def _stepping(smooth: Array, a: Array, b: Array, normal: Array) -> Array:
    """Share of points along each segment a–b with a colour step across it, either way."""
    along = np.linspace(0.1, 0.9, 8, dtype=np.float32)[None, :, None]
    points = a[:, None] + along * (b - a)[:, None]
    steps = _band_steps(smooth, points, normal[:, None])
    stepped: Array = (np.abs(steps).min(axis=-1) > STEP_MIN).mean(axis=1)
    return stepped


def _merge(theta: Array, rho: Array, weight: Array) -> Array:
    """Greedy, heaviest first: each segment takes the still unclaimed ones on its line."""
    order = np.argsort(-weight)[:4 * MAX_LINES]
    theta, rho, weight = theta[order], rho[order], weight[order]
    turn = np.abs(theta[:, None] - theta[None, :])
    flip = np.where(turn > np.pi / 2, -1.0, 1.0)
    same = ((np.minimum(turn, np.pi - turn) < math.radians(MERGE_DEG))
            & (np.abs(rho[:, None] - flip * rho[None, :]) < MERGE_PX))
    free = np.ones(len(theta), bool)
    lines = []
    for k in range(len(theta)):
        if not free[k]:
            continue
        members = same[k] & free
        free &= ~members
        lines.append((-math.sin(theta[k]), math.cos(theta[k]), rho[k],
                      float(weight[members].sum())))
    lines.sort(key=lambda line: -line[3])
    return np.array(lines[:MAX_LINES], np.float32).reshape(-1, 4)


def _candidates(lines: Array, width: int, height: int) -> Array:
    """Quads (N×4×2, corners in order round the quad) from two roughly parallel pairs of
    lines meeting at roughly right angles, inside the frame, convex and big enough."""
    angle = np.arctan2(lines[:, 1], lines[:, 0]) % np.pi
    count = len(lines)
    i, j = np.triu_indices(count, 1)
    turn = np.abs(angle[i] - angle[j])
    turn = np.minimum(turn, np.pi - turn)
    parallel = turn < math.radians(PARALLEL_DEG)
    pi, pj = i[parallel], j[parallel]
    if len(pi) < 2:
        return np.zeros((0, 4, 2), np.float32)
    a, b = np.triu_indices(len(pi), 1)
    cross = np.abs(angle[pi[a]] - angle[pi[b]])
    cross = np.minimum(cross, np.pi - cross)
    square = cross > math.radians(90 - CORNER_TOLERANCE)
    a, b = a[square], b[square]
    sides = np.stack([pi[a], pi[b], pj[a], pj[b]], axis=1)   # L1, M1, L2, M2 round the quad
    corners = np.stack([_meet(lines[sides[:, k]], lines[sides[:, (k + 1) % 4]])
                        for k in range(4)], axis=1)
    return corners[_plausible(corners, width, height)].astype(np.float32)


def _meet(p: Array, q: Array) -> Array:
    """Intersections of the lines in rows of ``p`` and ``q`` (n · x = rho); far away when
    they are parallel."""
    det = p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]
    det = np.where(np.abs(det) < 1e-6, 1e-6, det)
    x = (p[:, 2] * q[:, 1] - p[:, 1] * q[:, 2]) / det
    y = (p[:, 0] * q[:, 2] - p[:, 2] * q[:, 0]) / det
    return np.stack([x, y], axis=1)


def _plausible(quads: Array, width: int, height: int) -> Array:
    slack = FRAME_SLACK * max(width, height)
    inside = ((quads[..., 0] > -slack) & (quads[..., 0] < width + slack)
              & (quads[..., 1] > -slack) & (quads[..., 1] < height + slack)).all(axis=1)
    edges = np.roll(quads, -1, axis=1) - quads
    turn = edges[:, :, 0] * np.roll(edges, -1, axis=1)[:, :, 1] - edges[:, :, 1] * np.roll(
        edges, -1, axis=1)[:, :, 0]
    convex = (turn > 0).all(axis=1) | (turn < 0).all(axis=1)
    area = _areas(quads) > MIN_AREA * width * height
    square = _corner_offsets(quads).max(axis=1) < CORNER_TOLERANCE
    plausible: Array = inside & convex & area & square
    return plausible


def _areas(quads: Array) -> Array:
    x, y = quads[..., 0], quads[..., 1]
    areas: Array = 0.5 * np.abs((x * np.roll(y, -1, axis=1) - y * np.roll(x, -1, axis=1))
                                .sum(axis=1))
    return areas


def _corner_offsets(quads: Array) -> Array:
    """Degrees each corner is off a right angle (N×4)."""
    incoming = np.roll(quads, 1, axis=1) - quads
    outgoing = np.roll(quads, -1, axis=1) - quads
    cosine = (incoming * outgoing).sum(axis=2) / np.maximum(
        np.linalg.norm(incoming, axis=2) * np.linalg.norm(outgoing, axis=2), 1e-6)
    offsets: Array = np.abs(np.degrees(np.arccos(np.clip(cosine, -1, 1))) - 90)
    return offsets


def _hits(edges: Array, quads: Array) -> Array:
    """Share of each side (N×4) that runs along an edge."""
    a, b = quads, np.roll(quads, -1, axis=1)
    along = np.linspace(0.05, 0.95, SAMPLES, dtype=np.float32)[None, None, :, None]
    points = a[:, :, None] + along * (b - a)[:, :, None]
    hits: Array = (_sample(edges, points) > 0).mean(axis=-1)
    return hits


def _band_steps(image: Array, points: Array, normal: Array) -> Array:
    """Level on the ``normal`` side minus the other side at each point, for each of
    STEP_OFFSETS (last axis). Two offsets, so that a thin printed rule on the line (one
    offset sees it, the other paper again) is no step."""
    steps = [_sample(image, points + o * normal) - _sample(image, points - o * normal)
             for o in STEP_OFFSETS]
    return np.stack(steps, axis=-1)


def _sample(image: Array, xy: Array) -> Array:
    height, width = image.shape[:2]
    x = np.clip(np.rint(xy[..., 0]), 0, width - 1).astype(np.intp)
    y = np.clip(np.rint(xy[..., 1]), 0, height - 1).astype(np.intp)
    values: Array = image[y, x].astype(np.float32)
    return values


def _scores(quads: Array, support: Array, frame_area: int) -> Array:
    """Support × right angles × page aspect × size; 0 where a side is hardly supported."""
    mean = support.mean(axis=1)
    usable = (support.min(axis=1) >= MIN_SIDE_SUPPORT) & (mean >= MIN_SUPPORT)
    square = 1 - 0.5 * (_corner_offsets(quads).max(axis=1) / CORNER_TOLERANCE) ** 2
    sides = np.linalg.norm(np.roll(quads, -1, axis=1) - quads, axis=2)
    pair_a, pair_b = sides[:, 0] + sides[:, 2], sides[:, 1] + sides[:, 3]
    aspect = np.log(np.maximum(pair_a, pair_b) / np.maximum(np.minimum(pair_a, pair_b), 1e-6))
    miss = np.min(np.abs(aspect[:, None] - np.log(PAGE_ASPECTS)[None, :]), axis=1)
    shaped = np.exp(-np.maximum(miss - ASPECT_SLACK, 0) ** 2 / (2 * 0.2 ** 2))
    size = np.sqrt(_areas(quads) / frame_area)
    scores: Array = np.where(usable, mean * square * (0.6 + 0.4 * shaped) * size, 0.0)
    return scores


def _paperlike(darkest: Array, spread: Array, quad: Array, bright: int) -> bool:
    """Is the inside of ``quad`` paper: near-neutral (``spread``: max − min channel), about
    as bright as the brightest things in the frame, and unlike what lies just outside it (a
    quad that the sides of a phone and a cable close round the bare plate is plate inside)?
    Print covers part of a page, but not most of it (a phone does)."""
    filled = np.zeros(darkest.shape, np.uint8)
    cv2.fillConvexPoly(filled, np.round(quad).astype(np.int32), 255)
    mask = cv2.erode(filled, _NEAR, iterations=2)
    rim = cv2.subtract(mask, cv2.erode(mask, _NEAR, iterations=4))     # the page's margin
    ring = cv2.subtract(cv2.dilate(filled, _NEAR, iterations=6),
                        cv2.dilate(filled, _NEAR, iterations=2))     # the plate round it
    if min(cv2.countNonZero(rim), cv2.countNonZero(ring)) == 0:
        return False
    level, chroma = _share_level(darkest, mask, PAPER_SHARE), float(cv2.mean(spread, mask)[0])
    step = abs(_share_level(darkest, rim, 0.5) - _share_level(darkest, ring, 0.5))
    return level >= PAPER_LEVEL * bright and chroma <= PAPER_CHROMA and step >= PAPER_STEP


def sides_bound(darkest: Array, quad: Array) -> bool:
    """Does every side of ``quad`` (working pixels) bound the page: is it different just
    inside from a little way outside, past anything thin lying along it? A cable or a pen
    across the page makes a straight, strong line, but with paper on its far side too."""
    height, width = darkest.shape
    along = np.linspace(0.1, 0.9, SAMPLES, dtype=np.float32)[:, None]
    for a, b, normal in inward_sides(quad):
        points = a + along * (b - a)
        far = points - FAR_OUTSIDE * normal
        seen = ((far >= 0) & (far <= (width - 1, height - 1))).all(axis=1)
        if int(seen.sum()) < SAMPLES // 3:
            continue                     # off the frame: nothing to compare with
        inside = _sample(darkest, points[seen] + NEAR_INSIDE * normal)
        outside = _sample(darkest, far[seen])
        if abs(float(np.median(inside - outside))) < PAPER_STEP:   # print: either way
            return False
    return True


def _share_level(grey: Array, mask: Array, share: float) -> int:
    """The level below which ``share`` of ``grey`` lies where ``mask`` is set."""
    cumulative = np.cumsum(cv2.calcHist([grey], [0], mask, [256], [0, 256]).ravel())
    return int(np.searchsorted(cumulative, share * cumulative[-1]))


def _snap(darkest: Array, quad: Array) -> Array:
    """Move each side of ``quad`` (found at half size) onto the strongest edge within
    SNAP_REACH working pixels, fitted through the points where it is found; corners where
    the fitted sides meet. A side with too few edge points stays where it was."""
    gx = cv2.Sobel(darkest, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(darkest, cv2.CV_32F, 0, 1, ksize=3)
    lines = [_snap_side(gx, gy, quad[i], quad[(i + 1) % 4]) for i in range(4)]
    corners = [intersect_lines(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return quad.astype(np.float32)
    snapped = np.array(corners, np.float32)
    if float(np.abs(snapped - quad).max()) > 3 * SNAP_REACH:   # a fit went astray
        return quad.astype(np.float32)
    return snapped


def _snap_side(gx: Array, gy: Array, a: Array, b: Array) -> tuple[Array, Array]:
    """(point, direction) of the edge near side a–b: on each of SAMPLES profiles across the
    side, the offset where the gradient across it is strongest (either polarity)."""
    direction = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    normal = np.array([-direction[1], direction[0]], np.float32)
    along = np.linspace(0.08, 0.92, SAMPLES, dtype=np.float32)[:, None]
    points = a + along * (b - a)
    offsets = np.arange(-SNAP_REACH, SNAP_REACH + 0.5, 0.5, dtype=np.float32)
    xy = (points[:, None, :] + offsets[None, :, None] * normal).astype(np.float32)
    across = np.abs(cv2.remap(gx, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR) * normal[0]
                    + cv2.remap(gy, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR) * normal[1])
    best = across.argmax(axis=1)
    strong = across[np.arange(len(best)), best] > 4 * STEP_MIN
    if int(strong.sum()) < SAMPLES // 3:
        return a, direction
    found = points[strong] + offsets[best[strong], None] * normal
    vx, vy, x0, y0 = cv2.fitLine(found.astype(np.float32), cv2.DIST_HUBER, 0, 0.01,
                                 0.01).flatten()
    return np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)


def inward_sides(quad: Array) -> Iterator[tuple[Array, Array, Array]]:
    """Each side of a quadrilateral as (start, end, unit normal pointing into it)."""
    centre = quad.mean(axis=0)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        normal = np.array([a[1] - b[1], b[0] - a[0]], np.float32)
        normal /= max(float(np.linalg.norm(normal)), 1e-6)
        yield a, b, (-normal if float((centre - a) @ normal) < 0 else normal)


def intersect_lines(p: tuple[Array, Array], q: tuple[Array, Array]) -> Array | None:
    """Where two lines (point, direction) cross; None when they are parallel."""
    (p0, pd), (q0, qd) = p, q
    det = float(pd[0] * -qd[1] + qd[0] * pd[1])
    if abs(det) < 1e-6:
        return None
    diff = q0 - p0
    t = float(diff[0] * -qd[1] + qd[0] * diff[1]) / det
    point: Array = p0 + t * pd
    return point

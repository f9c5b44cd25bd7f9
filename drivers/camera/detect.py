"""Page detection on a live-preview frame (OpenCV + NumPy): where is the page, and what should
the citizen fix before the shot?

Runs on every preview frame, so it works on a copy downscaled to ``WORK_SIDE`` pixels:
1. paper vs plate: the darkest channel is high on white paper and low on a coloured or dark
   plate. A global threshold fails under a desk lamp (the lit plate is as bright as the paper
   in the shade), so each pixel is compared with the mean of its neighbourhood instead: the
   paper near its edge stands out from the plate beside it whatever the lighting. Inside a
   large page the mask is hollow, which does not matter: only outer outlines are used;
2. every outline is a candidate; the page is the one that is most quadrilateral and whose
   sides are real edges, brighter inside than outside (a lamp's hot spot is neither);
   When that outline is weak, slanted, or has pale plate right round it (white paper on a
   pale plate, a table's cells inside a page), edges.py looks for four straight sides, and
   its page replaces the outline's if it holds it (see edges.py);
3. the winner's sides are re-fitted as straight lines through its outline points, so rounded
   or blurred corners do not pull the corners inwards;
4. hints: no page, off the frame, too small, glare; and a perceptual hash of the page so the
   auto-capture can tell a turned page from the same one.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera import Detection, Hint
from drivers.camera.edges import find_page_quad, intersect_lines, sides_bound

__all__ = ["Detection", "Hint", "detect_page", "page_hash"]

Array = npt.NDArray[Any]    # float32 points; OpenCV's stubs type its results loosely
Mat = npt.NDArray[Any]      # uint8 images from OpenCV
WORK_SIDE = 640           # detection runs at this longer side
LOCAL_BLOCK = WORK_SIDE // 8 | 1   # neighbourhood for local contrast: an eighth of the frame
LOCAL_CONTRAST = 10       # paper must be this much brighter than its neighbourhood (0–255)
EDGE_STEP = 12            # a page side is this much brighter just inside than just outside
EDGE_OFFSET = 2.5         # working pixels either side of a side where that is measured
MIN_RECTANGULAR = 0.88    # outline hull / its quad: a page is four-sided, a blob is not
MIN_SCORE = 0.45          # rectangularity × edge support below this: no page
MIN_SIDE = 16             # a frame narrower than this shows no page
STRONG_SCORE = 0.8        # at or above this the bright outline is trusted without edges.py
TRUSTED_CORNER_DEG = 25.0 # ... and every corner within this of a right angle
PALE_AROUND = 0.8         # plate at this share of the paper's level: check the outline
RUNS_OFF_SHARE = 0.01     # outline points on the frame's edge that mean "off the frame"
HELD_SHARE = 0.9          # edges.py's page replaces a weak outline that it holds this much of
MIN_BLOB = 0.01           # smaller bright blobs are not a page (a cuff, a reflection)
DIM_LEVEL = 200           # a frame whose brightest 1 % is darker than this is brightened
MAX_GAIN = 5.0            # ... by at most this factor (more only amplifies noise)
REFIT_LIMIT = 0.05        # side refits may move a corner this share of the diagonal at most
MIN_AREA = 0.08           # a page smaller than this share of the frame: "too small"
GLARE_LIMIT = 0.02        # more than this share of the page blown out: "glare"
BORDER_PX = 2             # working pixels from the frame's edge that count as touching it
HASH_SIZE = (192, 272)    # the page is rectified to this before hashing (portrait A4)
_SPECKS = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))


def detect_page(rgb: npt.NDArray[np.uint8], *, min_area: float = MIN_AREA,
                glare_limit: float = GLARE_LIMIT) -> Detection:
    """Find the page in an RGB frame (H×W×3 uint8)."""
    rgb = _as_rgb(rgb)
    if min(rgb.shape[:2]) < MIN_SIDE:
        return Detection(None, Hint.NO_PAGE)
    small, scale = _downscale(rgb)
    darkest = darkest_channel(small)
    level = _bright_level(darkest)
    height, width = darkest.shape
    outline, score = _page_outline(_brightened(darkest, level))
    quad = None if outline is None else _fit_quad(outline)
    if not (_trusted(darkest, quad, score) and not _pale_around(darkest, quad)) and not _runs_off(
            outline, width, height):
        # Not clearly a bright page on a darker plate: look for four straight sides.
        found = find_page_quad(small, darkest, level)
        if found is not None and (quad is None or _holds(found[0], quad)):
            outline, quad = None, _order(found[0])
    if quad is None:
        return Detection(None, Hint.NO_PAGE)
    # The quad's area, not the outline's: a thumb on the edge bites into the outline.
    area_ratio = float(cv2.contourArea(quad)) / (width * height)
    glare, paper = _page_levels(darkest, quad)
    if _touches_border(outline, quad, width, height):
        hint = Hint.OUTSIDE
    elif area_ratio < min_area:
        hint = Hint.TOO_SMALL
    elif glare > glare_limit:
        hint = Hint.GLARE
    else:
        hint = Hint.OK
    return Detection(_to_input(quad, scale), hint, round(area_ratio, 4), round(glare, 4),
                     page_hash(_rectify(darkest, quad)), round(paper, 3))


def _trusted(darkest: Mat, quad: Array | None, score: float) -> bool:
    """A bright outline that needs no second look: strong sides and a page's right angles
    (a page cut in two by a dark cable has strong sides too, but a slanted one)."""
    if quad is None or score < STRONG_SCORE:
        return False
    if not sides_bound(darkest, quad):
        return False
    edges = np.roll(quad, -1, axis=0) - quad
    incoming = -np.roll(edges, 1, axis=0)
    cosine = (incoming * edges).sum(axis=1) / np.maximum(
        np.linalg.norm(incoming, axis=1) * np.linalg.norm(edges, axis=1), 1e-6)
    return float(np.abs(cosine).max()) <= math.sin(math.radians(TRUSTED_CORNER_DEG))


def _pale_around(darkest: Mat, quad: Array | None) -> bool:
    """Is what lies just outside the outline nearly as bright as inside it? Then it may be a
    bright part of a page (the cells of a 户口簿 page's table) on a pale plate, not the page."""
    if quad is None:
        return False
    filled = np.zeros(darkest.shape, np.uint8)
    cv2.fillConvexPoly(filled, np.round(quad).astype(np.int32), 255)
    ring = cv2.subtract(cv2.dilate(filled, _SPECKS, iterations=8),
                        cv2.dilate(filled, _SPECKS, iterations=3))
    if cv2.countNonZero(ring) == 0:
        return False
    inside = float(np.percentile(darkest[filled > 0], 90))
    return float(cv2.mean(darkest, ring)[0]) >= PALE_AROUND * inside


def _runs_off(outline: Mat | None, width: int, height: int) -> bool:
    """Does the outline follow the frame's edge for a stretch (the page runs off the frame,
    which no page of four straight sides inside the frame explains)?"""
    if outline is None:
        return False
    x, y, near = outline[:, 0], outline[:, 1], BORDER_PX + 1
    on_edge = (x <= near) | (x >= width - 1 - near) | (y <= near) | (y >= height - 1 - near)
    return float(on_edge.mean()) >= RUNS_OFF_SHARE


def _holds(sides: Array, outline_quad: Array) -> bool:
    """Do the straight sides make a page that holds the bright outline's (the outline was
    part of the page: a cable cut it, a thumb bit into it)? A page of straight sides that
    only overlaps it is more likely a table's rules or the plate's grain."""
    area = float(cv2.contourArea(outline_quad))
    inter, _ = cv2.intersectConvexConvex(sides.astype(np.float32),
                                         outline_quad.astype(np.float32))
    return float(inter) >= HELD_SHARE * area and cv2.contourArea(sides) >= HELD_SHARE * area


def _as_rgb(image: npt.NDArray[np.uint8]) -> Mat:
    """H×W×3 uint8 whatever came in: a grey frame (H×W or H×W×1) is repeated into three
    channels, RGBA loses its alpha, other types are clipped into 0..255."""
    if image.dtype != np.uint8:
        image = np.clip(np.nan_to_num(image.astype(np.float64)), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"not an image: shape {image.shape}")
    if image.shape[2] < 3:
        return cv2.merge([image[..., 0]] * 3)
    return np.ascontiguousarray(image[..., :3])


def page_hash(gray_small: npt.NDArray[np.uint8]) -> int:
    """64-bit difference hash (dHash) of a grey page image: bit set where a cell of an 8×8
    grid is brighter than its right neighbour. Turned pages differ in many bits, the same
    page photographed again in few (compare with a Hamming distance)."""
    cells = cv2.resize(gray_small, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (cells[:, 1:] > cells[:, :-1]).flatten()
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


# --- steps ----------------------------------------------------------------------------------
def _downscale(rgb: npt.NDArray[np.uint8]) -> tuple[Mat, tuple[float, float]]:
    height, width = rgb.shape[:2]
    factor = WORK_SIDE / max(height, width)
    if factor >= 1:
        return rgb, (1.0, 1.0)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return small, (width / size[0], height / size[1])


def darkest_channel(rgb: Mat) -> Mat:
    """min(R, G, B): high only where all channels are, i.e. on white paper, not on a coloured
    or grey plate. (cv2 rather than ndarray.min(axis=2): ten times faster on a frame.)"""
    red, green, blue = cv2.split(rgb)
    darkest: Mat = cv2.min(cv2.min(red, green), blue)
    return darkest


def _bright_level(darkest: Mat) -> int:
    """The level of the frame's brightest 1 % (the paper, when there is one)."""
    cumulative = np.cumsum(cv2.calcHist([darkest], [0], None, [256], [0, 256]).ravel())
    return int(np.searchsorted(cumulative, 0.99 * darkest.size))


def _brightened(darkest: Mat, bright: int) -> Mat:
    """An underexposed frame (lamp off, failing) stretched so its brightest 1 % reaches a
    normal paper level: the page is still found, and then judged too dark, which names the
    problem, where "no page" would send the citizen looking for one."""
    if bright >= DIM_LEVEL:
        return darkest
    gain = min(MAX_GAIN, DIM_LEVEL / max(bright, 1))
    brightened: Mat = cv2.convertScaleAbs(darkest, alpha=gain)
    return brightened


def _page_outline(darkest: Mat) -> tuple[Mat | None, float]:
    """The outline of the most page-like bright region and its score, or (None, 0.0)."""
    mask = cv2.adaptiveThreshold(darkest, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,
                                 LOCAL_BLOCK, -LOCAL_CONTRAST)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _SPECKS)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    least = MIN_BLOB * darkest.size
    best, best_score, best_rank = None, 0.0, 0.0
    for contour in contours:
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull)
        if area < least:
            continue
        quad = _rough_quad(hull.reshape(-1, 2))
        quad_area = cv2.contourArea(quad)
        rectangular = min(area, quad_area) / max(area, quad_area, 1e-6)
        if rectangular < MIN_RECTANGULAR:
            continue
        score = rectangular * edge_support(darkest, quad)
        # Of two page-like outlines the bigger one is the page (a slip or an ID card lies
        # beside it), unless it is much less page-like.
        rank = score * math.sqrt(area / darkest.size)
        if score > MIN_SCORE and rank > best_rank:
            best, best_score, best_rank = contour, score, rank
    return (None, 0.0) if best is None else (best.reshape(-1, 2), best_score)


def edge_support(grey: Mat, quad: Array, samples: int = 24) -> float:
    """Share of points along the quad's sides where the image is clearly brighter just inside
    than just outside: 1.0 for a page on a plate, low for a blob with no edge of its own (a
    hot spot, a shadow's rim). Points whose outside lies off the frame count as no edge."""
    height, width = grey.shape
    centre = quad.mean(axis=0)
    along = np.linspace(0.05, 0.95, samples, dtype=np.float32)[:, None]
    hits = 0
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        length = float(np.linalg.norm(b - a))
        if length < 1:
            return 0.0
        normal = np.array([a[1] - b[1], b[0] - a[0]], np.float32) / length
        if float((centre - a) @ normal) < 0:
            normal = -normal
        points = a + along * (b - a)
        inner = np.round(points + EDGE_OFFSET * normal).astype(np.int32)
        outer = np.round(points - EDGE_OFFSET * normal).astype(np.int32)
        seen = ((outer >= 0) & (outer < (width, height))).all(axis=1)
        inner = np.clip(inner, 0, (width - 1, height - 1))
        outer = np.clip(outer, 0, (width - 1, height - 1))
        step = (grey[inner[:, 1], inner[:, 0]].astype(np.int16)
                - grey[outer[:, 1], outer[:, 0]].astype(np.int16))
        hits += int(((step > EDGE_STEP) & seen).sum())
    return hits / (4 * samples)


def _fit_quad(outline: Mat) -> Array:
    rough = _rough_quad(outline)
    centre = rough.mean(axis=0)
    lines = [_fit_side(outline, rough[i], rough[(i + 1) % 4], centre) for i in range(4)]
    corners = [intersect_lines(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return rough
    fitted = np.array(corners, np.float32)
    # A side fitted through too few or the wrong points (a shadowed edge, a thumb) can swing
    # far off; the refit only ever nudges corners, so a big move means keep the rough quad.
    limit = REFIT_LIMIT * float(np.linalg.norm(rough[2] - rough[0]))
    if float(np.linalg.norm(fitted - rough, axis=1).max()) > limit:
        return rough
    return _order(fitted)


def _rough_quad(outline: Mat) -> Array:
    hull = cv2.convexHull(outline)
    perimeter = cv2.arcLength(hull, True)
    for share in (0.01, 0.02, 0.04):
        approx = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(approx) == 4:
            return _order(approx.reshape(4, 2).astype(np.float32))
    return _order(cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32))


def _fit_side(outline: Mat, a: Array, b: Array,
              centre: Array) -> tuple[Array, Array]:
    """The side from ``a`` to ``b`` as (point, unit direction), fitted through the outline
    points near its middle 80%; the rough side if too few points lie there."""
    direction = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    normal = np.array([-direction[1], direction[0]], np.float32)
    rel = outline.astype(np.float32) - a
    along = rel @ direction / max(float(np.linalg.norm(b - a)), 1e-6)
    across = np.abs(rel @ normal)
    near = outline[(along > 0.1) & (along < 0.9) & (across < 4)]
    point, direction = a, direction
    if len(near) >= 8:
        vx, vy, x0, y0 = cv2.fitLine(near.astype(np.float32), cv2.DIST_HUBER, 0, 0.01,
                                     0.01).flatten()
        point, direction = np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)
    # The outline runs through the last paper pixels; the edge is half a pixel further out.
    outward = np.array([-direction[1], direction[0]], np.float32)
    if float((point - centre) @ outward) < 0:
        outward = -outward
    return point + 0.5 * outward, direction


def _order(quad: Array) -> Array:
    """Corners as TL, TR, BR, BL: clockwise on screen, starting nearest the top-left."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    clockwise = quad[np.argsort(angles)]
    first = int(np.argmin(clockwise.sum(axis=1)))
    ordered: Array = np.roll(clockwise, -first, axis=0).astype(np.float32)
    return ordered


def _touches_border(outline: Mat | None, quad: Array, width: int,
                    height: int) -> bool:
    low, high = BORDER_PX, np.array([width - 1 - BORDER_PX, height - 1 - BORDER_PX])
    points = quad if outline is None else np.vstack([outline.astype(np.float32), quad])
    return bool((points < low).any() or (points > high).any())


def _page_levels(darkest: Mat, quad: Array) -> tuple[float, float]:
    """(glare, paper) on the page. Glare: the share blown out, near-white in every channel
    AND clearly brighter than the paper itself (the paper is white too; only a reflection
    saturates above it). Paper: its level 0..1, the 90th percentile (the page's background,
    whatever share of it is print)."""
    mask = np.zeros(darkest.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 255)
    area = cv2.countNonZero(mask)
    if area == 0:
        return 0.0, 0.0
    cumulative = np.cumsum(cv2.calcHist([darkest], [0], mask, [256], [0, 256]).ravel())
    median = int(np.searchsorted(cumulative, area / 2))
    floor = min(255, max(245, median + 10))
    glare = float(area - (cumulative[floor - 1] if floor else 0)) / area
    return glare, int(np.searchsorted(cumulative, 0.9 * area)) / 255


def _rectify(gray: Mat, quad: Array) -> Mat:
    width, height = HASH_SIZE
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    if sides[0] + sides[2] > sides[1] + sides[3]:   # lying landscape: hash it landscape
        width, height = height, width
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_LINEAR)


def _to_input(quad: Array, scale: tuple[float, float]) -> Array:
    """Working pixels → input pixels (pixel centres: x_in = (x + 0.5) · s − 0.5)."""
    out: Array = ((quad + 0.5) * np.array(scale, np.float32) - 0.5).astype(np.float32)
    return out

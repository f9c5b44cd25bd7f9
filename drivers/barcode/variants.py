"""Image variants the decoding cascade hands to the decoders, and where codes may lie.

Each variant answers one way a photographed code defeats a decoder's own binariser: soft focus
(``sharpen``), a grey-on-grey print (``stretch``), uneven light (``sauvola``, ``adaptive``),
speckle (``otsu`` after a blur), a symbol too small or too large for the decoder's module
search (``scale``), a 1D code skewed past the decoder's scan lines (``rotate``). ``proposals``
finds code-like regions (dense strong edges, one dominant direction for 1D codes) so that a
small code on a large page can be cropped and enlarged instead of searched at page scale.

All functions are pure (grey uint8 in, new grey uint8 out) and bounded by their input's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from drivers.barcode.image import Grey

PROPOSAL_SIDE = 1024        # proposals are searched on a copy this long: cheap, and a code
                            # of 1/30 of a page's width still spans ~30 pixels of it
MIN_PROPOSAL = 12           # pixels of that copy a region's shorter side needs at least
MIN_CROP_SIDE = 480         # a cropped region smaller than this is enlarged to it
MAX_CROP_SIDE = 1600        # ... and one larger is reduced to it


@dataclass(frozen=True)
class Region:
    """A code-like region in the full image's pixels, with its dominant edge angle."""

    x: int
    y: int
    width: int
    height: int
    angle: float             # degrees the region's long axis is turned from horizontal


def scale(grey: Grey, factor: float) -> Grey:
    """``grey`` resized by ``factor``: area averaging down (no aliasing), cubic up."""
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    height, width = grey.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.ascontiguousarray(cv2.resize(grey, size, interpolation=interp))


def fit(grey: Grey, longest: int) -> Grey:
    """``grey`` reduced so that its long side is at most ``longest`` (never enlarged)."""
    side = max(grey.shape)
    return grey if side <= longest else scale(grey, longest / side)


def percentiles(grey: Grey) -> tuple[int, int]:
    """The 1st and 99th percentile grey levels (from the histogram: no sort of the pixels)."""
    cumulative = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    low, high = np.searchsorted(cumulative, (0.01 * grey.size, 0.99 * grey.size))
    return int(low), int(high)


def span(grey: Grey) -> int:
    """How many grey levels the 1st..99th percentiles span (speckle does not count)."""
    low, high = percentiles(grey)
    return high - low


def stretch(grey: Grey) -> Grey:
    """Contrast stretched so the 1st..99th percentiles span 0..255 (a faint print)."""
    low, high = percentiles(grey)
    if high - low < 1:
        return grey.copy()
    lut = np.clip((np.arange(256) - low) * 255.0 / (high - low), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.LUT(grey, lut))


def sharpen(grey: Grey) -> Grey:
    """Unsharp mask: a soft-focus edge made steep again (a blurred code's bars)."""
    sigma = max(1.0, max(grey.shape) / 800)
    blurred = cv2.GaussianBlur(grey, (0, 0), sigma)
    return np.ascontiguousarray(cv2.addWeighted(grey, 2.0, blurred, -1.0, 0))


def otsu(grey: Grey) -> Grey:
    """One global threshold (Otsu) after a light blur, so speckle does not split modules."""
    smooth = cv2.GaussianBlur(grey, (3, 3), 0)
    _, binary = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.ascontiguousarray(binary)


def _window(grey: Grey) -> int:
    """An odd window about 1/24 of the short side: several modules of a code at page scale."""
    side: int = max(15, min(grey.shape) // 24)
    return side | 1


def adaptive(grey: Grey) -> Grey:
    """A threshold following the local mean (light falling off across the page)."""
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,
                                   _window(grey), 8)
    return np.ascontiguousarray(binary)


def sauvola(grey: Grey, k: float = 0.2, spread: float = 128.0) -> Grey:
    """Sauvola's threshold m·(1 + k·(s/R − 1)) from a local mean m and deviation s: dark
    modules survive in shadow, flat paper stays white (a plain mean threshold speckles it)."""
    size = (_window(grey),) * 2
    pixels = grey.astype(np.float32)
    mean = cv2.boxFilter(pixels, -1, size)
    mean_sq = cv2.boxFilter(pixels * pixels, -1, size)
    deviation = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
    threshold = mean * (1 + k * (deviation / spread - 1))
    return np.ascontiguousarray(np.where(pixels > threshold, 255, 0).astype(np.uint8))


def rotate(grey: Grey, degrees: float) -> Grey:
    """``grey`` turned by ``degrees`` on a canvas large enough to keep every corner."""
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    turned = cv2.warpAffine(grey, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(turned)


def crop(grey: Grey, region: Region, margin: float = 0.2) -> Grey:
    """``region`` with a quiet-zone margin, brought to a size the decoders search well."""
    pad_x, pad_y = int(region.width * margin) + 8, int(region.height * margin) + 8
    height, width = grey.shape
    x0, y0 = max(0, region.x - pad_x), max(0, region.y - pad_y)
    x1 = min(width, region.x + region.width + pad_x)
    y1 = min(height, region.y + region.height + pad_y)
    part = grey[y0:y1, x0:x1]
    side = max(part.shape)
    if side < MIN_CROP_SIDE:
        return scale(part, MIN_CROP_SIDE / side)
    return fit(np.ascontiguousarray(part), MAX_CROP_SIDE)


def proposals(grey: Grey, limit: int) -> list[Region]:
    """At most ``limit`` code-like regions, the most edge-dense first.

    A code is a patch of steep edges packed closer than text's; closing the edge map with a
    kernel a few modules wide fuses a code into one blob while keeping it apart from the plain
    paper around it. Searched on a small copy: the cost does not grow with the picture.
    """
    small = fit(grey, PROPOSAL_SIDE)
    factor = grey.shape[1] / small.shape[1]
    edges = _edge_energy(small)
    blobs = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    blobs = cv2.morphologyEx(blobs, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(blobs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = MIN_PROPOSAL ** 2
    found = []
    for contour in contours:
        _, (w, h), angle = cv2.minAreaRect(contour)
        if w * h < min_area:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        density = float(edges[y:y + bh, x:x + bw].mean())
        long_angle = angle if w >= h else angle - 90
        found.append((density, Region(int(x * factor), int(y * factor), int(bw * factor),
                                      int(bh * factor), float(long_angle))))
    found.sort(key=lambda item: -item[0])
    return [region for _, region in found[:limit]]


def _edge_energy(small: Grey) -> Grey:
    """A binary map of steep edges (Scharr magnitude above Otsu's cut)."""
    gx = cv2.Scharr(small, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(small, cv2.CV_32F, 0, 1)
    magnitude = cv2.convertScaleAbs(cv2.magnitude(gx, gy), alpha=0.25)
    magnitude = cv2.blur(magnitude, (3, 3))
    _, edges = cv2.threshold(magnitude, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.asarray(edges, dtype=np.uint8)

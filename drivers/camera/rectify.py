"""Straighten a found page, clean it up, and encode it as the JPEG that goes in the package.

Size: the page's aspect ratio comes from its quad (snapped to √2 when within 3 %: nearly every
material is an A-series sheet). Its physical size comes from the camera's calibration
(``mm_per_px`` at the plate, which a fixed-height 高拍仪 has) or, without one, from the
assumption that the longer side is A4's 297 mm. Output is at the stated dpi (200 by default,
what the handling regions ask for).

Enhancement divides out the light falling on the page (lamp gradient, a hand's shadow), so the
paper is evenly white and print keeps its contrast; ``grey`` and ``bw`` (text only) follow.
"""

from __future__ import annotations

import struct
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
A4_LONG_MM = 297.0
A_SERIES = 2 ** 0.5
SNAP = 0.03               # aspect within 3 % of √2: treat as an A-series sheet
MM_PER_INCH = 25.4
MAX_BLACK = 0.4          # never call anything lighter than 40 % of the paper "black"
BW_BLOCK_SHARE = 0.013    # black-and-white: compare with a neighbourhood ≈ 4 mm across on A4
BW_OFFSET = 12            # ... and call a pixel ink when this much darker than it
GRID = 16                 # cells per side for fitting the light
_CELL = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))   # wider than a pen stroke


class Mode(StrEnum):
    COLOUR = "colour"     # seals stay red: the default for materials
    GREY = "grey"
    BW = "bw"             # text only: smallest files, seals and photos lost


def page_size(quad: Array, dpi: int, mm_per_px: float | None = None) -> tuple[int, int]:
    """(width, height) in output pixels of the page at ``quad``."""
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    width_px, height_px = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    long_px, short_px = max(width_px, height_px), max(1.0, min(width_px, height_px))
    aspect = long_px / short_px
    if abs(aspect / A_SERIES - 1) < SNAP:
        aspect = A_SERIES
    long_mm = long_px * mm_per_px if mm_per_px else A4_LONG_MM
    long_out = max(1, round(long_mm / MM_PER_INCH * dpi))
    short_out = max(1, round(long_out / aspect))
    return (long_out, short_out) if width_px >= height_px else (short_out, long_out)


def rectify(rgb: npt.NDArray[np.uint8], quad: Array, size: tuple[int, int]) -> Array:
    """The page at ``quad`` warped flat to ``size`` = (width, height)."""
    width, height = size
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32) - 0.5
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    page: Array = cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
    return page


def enhance(page: npt.NDArray[np.uint8], mode: Mode) -> Array:
    """Even out the light on a rectified RGB page, then apply ``mode`` (RGB or one channel)."""
    light = _illumination(page)
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    sample = (slice(None, None, 4), slice(None, None, 4))
    paper = grey[sample] >= 0.9 * light[sample]
    # Lit at ``light``, each channel of the paper should read white: dividing by it evens out
    # the light and its colour (a warm lamp, a blue window) in one step.
    flat_channels = []
    for channel in cv2.split(page):
        tint = float(np.median(channel[sample][paper])) / max(
            float(np.median(grey[sample][paper])), 1.0) if paper.any() else 1.0
        light_c = np.clip(light * tint, 1, 255).astype(np.uint8)
        flat_channels.append(cv2.divide(channel, light_c, scale=255))
    flat_grey = cv2.divide(grey, np.clip(light, 1, 255).astype(np.uint8), scale=255)
    # Levels: the darkest print to black (the paper is at white already).
    black = min(float(np.percentile(flat_grey[sample], 1)), 255 * MAX_BLACK)
    lut = np.clip((np.arange(256) - black) * 255 / (255 - black), 0, 255).astype(np.uint8)

    def levels(channel: Array) -> Array:
        stretched: Array = cv2.LUT(channel, lut)
        return stretched
    if mode is Mode.COLOUR:
        return cv2.merge([levels(channel) for channel in flat_channels])
    flat = levels(flat_grey)
    if mode is Mode.GREY:
        return flat
    block = max(3, round(BW_BLOCK_SHARE * max(page.shape[:2])) | 1)
    bw: Array = cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                      cv2.THRESH_BINARY, block, BW_OFFSET)
    return bw


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int, dpi: int) -> bytes:
    """Baseline JPEG with the dpi written into its JFIF header (viewers and the PDF builder
    size the page from it)."""
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return _set_density(encoded.tobytes(), dpi)


def _illumination(page: npt.NDArray[np.uint8]) -> Array:
    """How brightly each part of the page is lit, as a smooth surface (quadratic in x and y)
    fitted to the paper: the brightest pixel of each cell of a coarse grid, cells that hold
    only print or a photo (well below the fit) left out. A surface this smooth cannot follow
    a seal or a photo, so it never bleaches them; it follows a lamp's gradient and fall-off."""
    height, width = page.shape[:2]
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    cells = cv2.resize(cv2.dilate(grey, _CELL), (GRID, GRID), interpolation=cv2.INTER_AREA)
    y, x = np.mgrid[0:GRID, 0:GRID].astype(np.float32) / (GRID - 1) - 0.5
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1).reshape(-1, 6)
    level = cells.reshape(-1).astype(np.float32)
    paper = level >= np.percentile(level, 30)
    fitted = level
    for _ in range(3):   # refit on the cells that look like paper under the last fit
        coeffs, *_ = np.linalg.lstsq(terms[paper], level[paper], rcond=None)
        fitted = terms @ coeffs
        paper = level >= 0.9 * fitted
    surface = np.clip(fitted.reshape(GRID, GRID), 1, 255).astype(np.float32)
    light: Array = cv2.resize(surface, (width, height), interpolation=cv2.INTER_LINEAR)
    return light


def _set_density(jpeg: bytes, dpi: int) -> bytes:
    """Write dpi into the JFIF APP0 segment OpenCV emits (it always writes 'no units');
    ``dpi`` 0 (unknown) leaves it so."""
    if dpi <= 0 or jpeg[2:4] != b"\xff\xe0" or jpeg[6:11] != b"JFIF\x00":
        return jpeg
    return jpeg[:13] + struct.pack(">BHH", 1, dpi, dpi) + jpeg[18:]

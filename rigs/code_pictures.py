"""Pictures for the barcode cascade's tests and benchmark: codes made harder, and no codes.

``degrade(grey, kind)`` spoils a code picture one general way a document camera does — soft
focus, a faint print, a skewed code, a code photographed small, sensor noise, light falling
off across the page — with strengths relative to the picture's size, never tuned to one
file. ``negatives(seed)`` yields pictures that hold no code at all: plain paper, printed
text, noise, fine stripes and checks (1D- and 2D-code-like textures), random blocks.

Deterministic: the same input, kind and seed give the same pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

Grey = npt.NDArray[np.uint8]

DEGRADATIONS = ("blur", "faint", "skew", "small", "noise", "shadow")
FONT = Path(__file__).resolve().parent.parent / "assets" / "fonts" / "NotoSansSC-Regular.otf"


def degrade(grey: Grey, kind: str, seed: int = 0) -> Grey:
    """``grey`` spoiled one way (one of DEGRADATIONS)."""
    rng = np.random.default_rng(seed)
    side = max(grey.shape)
    if kind == "blur":                        # soft focus: a blur of ~0.5 % of the picture
        out = cv2.GaussianBlur(grey, (0, 0), max(1.0, side / 200))
    elif kind == "faint":                     # grey print on grey paper, a little noise
        out = 120 + grey.astype(np.float32) * (40 / 255) + rng.normal(0, 3, grey.shape)
    elif kind == "skew":                      # a code turned 30° on the plate
        out = _turn(grey, 30.0)
    elif kind == "small":                     # photographed from far away
        small = cv2.resize(grey, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
        out = cv2.GaussianBlur(small, (0, 0), 0.6)
    elif kind == "noise":                     # a dim sensor: strong noise
        out = grey.astype(np.float32) + rng.normal(0, 45, grey.shape)
    elif kind == "shadow":                    # light falling off to a fifth across it
        ramp = np.linspace(1.0, 0.2, grey.shape[1], dtype=np.float32)[None, :]
        out = grey.astype(np.float32) * ramp + rng.normal(0, 2, grey.shape)
    else:
        raise ValueError(f"unknown degradation {kind!r}")
    return np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8))


def _turn(grey: Grey, degrees: float) -> Grey:
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(height * sin + width * cos), int(height * cos + width * sin))
    matrix[0, 2] += size[0] / 2 - width / 2
    matrix[1, 2] += size[1] / 2 - height / 2
    paper = int(np.percentile(grey, 90))
    return np.asarray(cv2.warpAffine(grey, matrix, size, borderValue=paper), dtype=np.uint8)


def negatives(seed: int, size: tuple[int, int] = (700, 900)) -> Iterator[tuple[str, Grey]]:
    """(name, picture) of pictures with no code in them."""
    rng = np.random.default_rng(seed)
    width, height = size
    yield "plain", np.full((height, width), int(rng.integers(150, 256)), np.uint8)
    yield "text", _text_page(rng, size)
    yield "noise", rng.integers(0, 256, (height, width), dtype=np.uint8)
    yield "grain", np.clip(rng.normal(200, 30, (height, width)), 0, 255).astype(np.uint8)
    widths = rng.integers(1, 6, width)        # bars of random widths: 1D-code-like, no code
    row = np.repeat((np.arange(width) % 2) * 255, widths)[:width].astype(np.uint8)
    yield "stripes", np.ascontiguousarray(np.repeat(row[None, :], height, axis=0))
    cell = int(rng.integers(3, 20))
    yy, xx = np.mgrid[:height, :width]
    yield "checks", (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    blocks = rng.integers(0, 2, (height // 8 + 1, width // 8 + 1), dtype=np.uint8) * 255
    yield "blocks", np.ascontiguousarray(np.kron(blocks, np.ones((8, 8), np.uint8))[
        :height, :width])


def _text_page(rng: np.random.Generator, size: tuple[int, int]) -> Grey:
    """Lines of random Chinese characters and numbers, as on a form."""
    page = Image.new("L", size, 235)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 28)
    for line in range(size[1] // 36):
        if line % 2:
            text = "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FA5, 15))
        else:
            text = " ".join(str(int(n)) for n in rng.integers(0, 10**6, 6))
        draw.text((20, 20 + line * 34), text, fill=20, font=font)
    return np.asarray(page, dtype=np.uint8)

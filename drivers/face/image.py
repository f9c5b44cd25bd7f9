"""Encoded pictures (JPEG, JPEG 2000, PNG, ...) → RGB arrays the matcher works on, within bounds.

A document photo from a chip is a few kilobytes; a live photo from a file may be anything. The
header is read first (a decompression bomb is refused before decoding), JPEGs are decoded at a
reduced scale straight away (libjpeg's DCT scaling, so a 50-megapixel photo never becomes
150 MB), and every picture is brought down to :data:`WORK_SIDE` on its longest side: the
descriptor sees a 150×150 face chip, so more pixels only cost time.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from drivers.face import UnreadableFaceImage

Rgb = npt.NDArray[np.uint8]     # H×W×3

MAX_PIXELS = 40_000_000         # above any camera a kiosk has; refuses decompression bombs
WORK_SIDE = 1280                # longest side the matcher works at
# PIL warns of images above its own limit; ours is lower and checked first (set once here:
# catch_warnings is not thread-safe).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def load_rgb(data: bytes, *, side: str = "") -> Rgb:
    """Decode ``data`` to an H×W×3 uint8 RGB array no larger than WORK_SIDE, upright by its
    EXIF orientation; UnreadableFaceImage (naming ``side``) for anything else."""
    if not data:
        raise UnreadableFaceImage("empty", "文件为空", side=side)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise _too_large(width, height, side)
            img.draft("RGB", (WORK_SIDE, WORK_SIDE))   # JPEG only; others ignore it
            upright = ImageOps.exif_transpose(img).convert("RGB")  # full decode: truncation
    except UnreadableFaceImage:
        raise
    except Image.DecompressionBombError:
        raise _too_large(0, 0, side) from None
    except Exception as exc:   # PIL's decoders raise many kinds on crafted input
        raise UnreadableFaceImage(type(exc).__name__, "不是图像或文件损坏", side=side) from exc
    upright.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(upright, dtype=np.uint8)


def check_rgb(image: Rgb, *, side: str = "") -> Rgb:
    """``image`` as a C-contiguous H×W×3 uint8 array; a wrong type is a programming error."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3:
        raise TypeError("face images are H×W×3 numpy uint8 arrays (RGB)")
    if image.size == 0 or image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise UnreadableFaceImage(f"{image.shape[1]}x{image.shape[0]}", "尺寸不可用", side=side)
    return np.ascontiguousarray(image)


def _too_large(width: int, height: int, side: str) -> UnreadableFaceImage:
    size = f"{width}x{height}" if width else "over PIL's limit"
    return UnreadableFaceImage(f"too large: {size}, the limit is {MAX_PIXELS:,} pixels",
                               f"图像过大，上限 {MAX_PIXELS:,} 像素", side=side)

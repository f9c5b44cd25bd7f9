"""The one image-loading rule every barcode backend shares: encoded bytes → 8-bit greyscale.

Kept in one place so that backends agree on what is unreadable (empty, corrupt, truncated,
absurdly large), and so a page already in memory can skip it (``decode_grey``).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image

from drivers.barcode import UnreadableImage

Grey = npt.NDArray[np.uint8]    # H×W, one byte a pixel

MAX_PIXELS = 60_000_000         # far above any document camera; refuses decompression bombs
# PIL warns on stderr of images above its own limit (89 M pixels); ours is lower and checked
# first, so the warning only repeats a refusal. Set once here: catch_warnings is not thread-safe.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def load_grey(data: bytes) -> Grey:
    """Decode JPEG/PNG/WebP/... bytes to an H×W uint8 array, or raise UnreadableImage."""
    image_size(data)                   # the header first: a bomb is refused before decoding
    try:
        with Image.open(io.BytesIO(data)) as img:
            grey = img.convert("L")    # forces the full decode, so truncation surfaces here
    except Exception as exc:   # PIL's decoders raise many kinds on crafted input
        raise UnreadableImage(type(exc).__name__, "文件损坏或不完整") from exc
    return np.asarray(grey, dtype=np.uint8)


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from an encoded image's header, without decoding its pixels; refuses
    an empty file, one that is not an image, and one of more than MAX_PIXELS."""
    if not data:
        raise UnreadableImage("empty", "文件为空")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError:       # over twice PIL's own limit
        over = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise _too_large(f"over {over:,}", f"超过 {over:,}") from None
    except Exception as exc:   # PIL's header parsers raise many kinds on crafted input
        raise UnreadableImage(f"not an image: {type(exc).__name__}", "不是图像文件") from exc
    if width * height > MAX_PIXELS:
        raise _too_large(f"{width}x{height}", f"{width}x{height}")
    return width, height


def _too_large(en: str, zh: str) -> UnreadableImage:
    return UnreadableImage(f"too large: {en} pixels, the limit is {MAX_PIXELS:,}",
                           f"图像过大：{zh} 像素，上限 {MAX_PIXELS:,} 像素")


def check_grey(grey: Grey) -> Grey:
    """``grey`` as a C-contiguous H×W uint8 array (both libraries read it row by row).

    A wrong shape or dtype is a programming error, not a bad picture: TypeError.
    """
    if not isinstance(grey, np.ndarray) or grey.dtype != np.uint8 or grey.ndim != 2:
        raise TypeError("decode_grey wants an H×W numpy uint8 array")
    if grey.size == 0:
        raise UnreadableImage("empty")
    if grey.size > MAX_PIXELS:
        raise UnreadableImage(f"{grey.shape[1]}x{grey.shape[0]} is too large")
    return np.ascontiguousarray(grey)

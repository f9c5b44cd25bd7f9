"""The one image-loading rule every barcode backend shares: encoded bytes → 8-bit greyscale.

Kept in one place so that backends agree on what is unreadable (empty, corrupt, truncated,
absurdly large), and so a page already in memory can skip it (``decode_grey``).
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image

from drivers.barcode import UnreadableImage

Grey = npt.NDArray[np.uint8]    # H×W, one byte a pixel

MAX_PIXELS = 60_000_000         # far above any document camera; refuses decompression bombs


def load_grey(data: bytes) -> Grey:
    """Decode JPEG/PNG/WebP/... bytes to an H×W uint8 array, or raise UnreadableImage."""
    if not data:
        raise UnreadableImage("empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UnreadableImage(f"{img.width}x{img.height} is too large")
            grey = img.convert("L")    # forces the full decode, so truncation surfaces here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(type(exc).__name__) from exc
    return np.asarray(grey, dtype=np.uint8)


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

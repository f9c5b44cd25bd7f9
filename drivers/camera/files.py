"""The document pipeline on image files: what ``kiosk scan`` runs, and what later checks and
benchmarks compare against. Results are plain dicts, ready for JSON; a file that is not an
image gives :class:`UnreadableImage` and the other files go on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.barcode import BarcodeDecoder, UnreadableImage
from drivers.camera.pipeline import analyse, still_to_page

MAX_PIXELS = 60_000_000     # far above any document camera; refuses decompression bombs


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """An image file as RGB (H×W×3 uint8), or UnreadableImage."""
    try:
        data = np.fromfile(path, np.uint8)   # not imread: it cannot read non-ASCII paths
    except OSError as exc:
        raise UnreadableImage(type(exc).__name__) from exc
    if data.size == 0:
        raise UnreadableImage("empty")
    header = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if header is None:
        raise UnreadableImage("not an image")
    if header.size * 64 > MAX_PIXELS:
        raise UnreadableImage("too large")
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise UnreadableImage("not an image")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)


def detect_file(path: Path) -> dict[str, Any]:
    """``{"image", "found", "quad", "quality", "ms"}``: quad as [[x, y] × 4] in TL, TR, BR,
    BL order, input pixel coordinates; ms is the time to find and judge the page."""
    rgb = load_rgb(path)
    start = time.perf_counter()
    analysis = analyse(rgb)
    ms = (time.perf_counter() - start) * 1000
    quad = None if analysis.quad is None else [[round(float(x), 2), round(float(y), 2)]
                                               for x, y in analysis.quad]
    return {"image": str(path), "found": quad is not None, "quad": quad,
            "quality": analysis.quality.as_dict(), "ms": round(ms, 2)}


def rectify_file(path: Path, out: Path, *, dpi: int = 200, mode: str = "colour",
                 jpeg_quality: int = 85) -> dict[str, Any]:
    """Write the straightened page to ``out`` (JPEG); its size and quality record."""
    page = still_to_page(load_rgb(path), dpi=dpi, mode=mode, jpeg_quality=jpeg_quality)
    out.write_bytes(page.jpeg)
    return {"image": str(path), "out": str(out), "width": page.width, "height": page.height,
            "dpi": page.dpi, "bytes": len(page.jpeg), "quality": page.quality.as_dict()}


def codes_file(path: Path, decoder: BarcodeDecoder) -> dict[str, Any]:
    """Every symbol on the image: format, text (UTF-8, else GB18030) and the raw bytes."""
    data = path.read_bytes()
    start = time.perf_counter()
    found = decoder.decode(data)
    ms = (time.perf_counter() - start) * 1000
    return {"image": str(path), "decoder": decoder.name, "ms": round(ms, 2),
            "symbols": [{"format": b.format, "text": b.text, "raw_hex": b.raw.hex()}
                        for b in found]}

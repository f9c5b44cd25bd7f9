"""The document pipeline on image files: what ``kiosk scan`` runs, and what later checks and
benchmarks compare against. Results are plain dicts, ready for JSON; a file that is not an
image gives :class:`UnreadableImage`, a name that is not a readable file :class:`FileRefused`,
and the other files go on.

Files come from outside, so each is read within bounds (drivers.fileio: a regular file of at
most MAX_FILE_BYTES) and its size is read from its header before any pixel is decoded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.barcode import BarcodeDecoder, UnreadableImage
from drivers.barcode.image import image_size
from drivers.camera import NoPageFound
from drivers.camera.pipeline import analyse, still_to_page
from drivers.fileio import check_writable, read_bounded, shown, write_file

MAX_FILE_BYTES = 256 << 20  # a MAX_PIXELS picture as uncompressed TIFF or BMP is 180 MB
MIN_SIDE = 64               # detection looks at 81-pixel neighbourhoods (of a 640-pixel copy):
                            # a smaller picture cannot show a page


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """An image file as RGB (H×W×3 uint8), or UnreadableImage / FileRefused."""
    data = read_bounded(path, MAX_FILE_BYTES)
    width, height = image_size(data)         # refuses a bomb before decoding
    if min(width, height) < MIN_SIDE:
        raise UnreadableImage(f"{width}x{height} is too small to show a page, at least "
                              f"{MIN_SIDE} pixels a side", f"{width}x{height} 像素太小，"
                              f"每边至少 {MIN_SIDE} 像素")
    try:
        # imdecode, not imread: imread cannot read non-ASCII paths
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise UnreadableImage("cannot decode", "无法解码") from exc
    # a header that one library reads differently from the other is not trusted (EXIF
    # orientation may swap the sides)
    if bgr is None or sorted(bgr.shape[:2]) != sorted((height, width)):
        raise UnreadableImage("damaged or not an image", "文件损坏或不是图像")
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
    return {"image": shown(path), "found": quad is not None, "quad": quad,
            "quality": analysis.quality.as_dict(), "ms": round(ms, 2)}


def rectify_file(path: Path, out: Path, *, dpi: int = 200, mode: str = "colour",
                 jpeg_quality: int = 85) -> dict[str, Any]:
    """Write the straightened page to ``out`` (JPEG); its size and quality record. No page
    in the picture: NoPageFound, and nothing is written."""
    check_writable(out)                      # before the work, not after
    page = still_to_page(load_rgb(path), dpi=dpi, mode=mode, jpeg_quality=jpeg_quality)
    if not page.quality.page_found:
        raise NoPageFound()
    write_file(out, page.jpeg)
    return {"image": shown(path), "out": shown(out), "width": page.width,
            "height": page.height, "dpi": page.dpi, "bytes": len(page.jpeg),
            "quality": page.quality.as_dict()}


def codes_file(path: Path, decoder: BarcodeDecoder) -> dict[str, Any]:
    """Every symbol on the image: format, text (UTF-8, else GB18030) and the raw bytes."""
    data = read_bounded(path, MAX_FILE_BYTES)
    start = time.perf_counter()
    found = decoder.decode(data)
    ms = (time.perf_counter() - start) * 1000
    return {"image": shown(path), "decoder": decoder.name, "ms": round(ms, 2),
            "symbols": [{"format": b.format, "text": b.text, "raw_hex": b.raw.hex()}
                        for b in found]}

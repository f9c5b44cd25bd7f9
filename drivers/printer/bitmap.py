"""Pictures for the printer: lines of text drawn with the TTF font, QR symbols, logos,
and the ``GS v 0`` raster command that carries them (1 bit per dot, MSB first, 1 = black).

Text lines are drawn on the printer's own grid — 12 × 24 dots per half-width column, 24 × 24
per full-width one (twice that for double size) — so a line drawn here is as wide as the
same line printed with the built-in font, and ``textwidth.wrap`` measures both.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from drivers.printer.textwidth import cluster_width, clusters

DOT_COLUMN = 12          # dots per half-width column, font A
GLYPH_HEIGHT = 24        # dots per text line, font A
LINE_PITCH = 30          # default line spacing (ESC 2): a drawn line advances like a text one
_BASELINE = 21           # Noto CJK: ascender 0.88 em, so a 24-dot em sits on row 21
_HALF_SIZE = 19          # a Latin glyph of this size fits a 12-dot column
_BAND_ROWS = 255         # rows per GS v 0 command: small printers have small buffers
_QR_QUIET = 4            # modules of white around a drawn QR symbol


def paper_width(dots_per_line: int) -> int:
    """The widest raster the printer takes: whole bytes per row."""
    return dots_per_line // 8 * 8


@lru_cache(maxsize=8)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def draw_line(line: str, dots_per_line: int, font_path: Path, *, scale: int = 1,
              align: str = "left", bold: bool = False) -> Image.Image:
    """One text line, full paper width (alignment drawn in, so ESC a does not matter)."""
    width = paper_width(dots_per_line)
    height = max(LINE_PITCH, GLYPH_HEIGHT * scale)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    parts = clusters(line)
    used = sum(cluster_width(c) for c in parts) * DOT_COLUMN * scale
    x = {"left": 0, "center": (width - used) // 2, "right": width - used}.get(align, 0)
    for part in parts:
        cell = cluster_width(part) * DOT_COLUMN * scale
        size = (_HALF_SIZE if cell == DOT_COLUMN * scale else GLYPH_HEIGHT) * scale
        font = _font(str(font_path), size)
        draw.text((x + cell / 2, _BASELINE * scale), part, font=font, fill=0, anchor="ms",
                  stroke_width=1 if bold else 0, stroke_fill=0)
        x += cell
    return image


def open_picture(png: bytes) -> Image.Image:
    """A PNG (or any format Pillow reads) as grey on white; transparency becomes paper."""
    with Image.open(io.BytesIO(png)) as source:
        rgba = source.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("L")


def qr_picture(payload: str, module_size: int, dots_per_line: int) -> Image.Image:
    """A QR symbol (level M, UTF-8) with whole-dot modules no wider than the paper."""
    matrix = qr_matrix(payload)
    span = len(matrix) + 2 * _QR_QUIET
    box = max(1, min(module_size, paper_width(dots_per_line) // span))
    image = Image.new("L", (span, span), 255)
    image.putdata([0 if dark else 255 for row in _with_quiet(matrix) for dark in row])
    return image.resize((span * box, span * box), Image.Resampling.NEAREST)


def qr_matrix(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _with_quiet(matrix: list[list[bool]]) -> list[list[bool]]:
    blank = [False] * (len(matrix) + 2 * _QR_QUIET)
    rows = [[False] * _QR_QUIET + row + [False] * _QR_QUIET for row in matrix]
    return [blank] * _QR_QUIET + rows + [blank] * _QR_QUIET


def centred(image: Image.Image, dots_per_line: int) -> Image.Image:
    """Scaled down to the paper if wider, then centred on a full-width white strip (as
    python-escpos does: ESC a is not honoured for raster images by every printer)."""
    width = paper_width(dots_per_line)
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    strip = Image.new("L", (width, image.height), 255)
    strip.paste(image, ((width - image.width) // 2, 0))
    return strip


def raster(image: Image.Image) -> bytes:
    """``GS v 0`` commands for a grey image (dark < 128 prints), in bands of rows."""
    grey = image.convert("L")
    if grey.width % 8:
        padded = Image.new("L", (grey.width + 8 - grey.width % 8, grey.height), 255)
        padded.paste(grey, (0, 0))
        grey = padded
    bits = grey.point(lambda v: 255 if v < 128 else 0, mode="1")
    out = bytearray()
    row_bytes = grey.width // 8
    for top in range(0, grey.height, _BAND_ROWS):
        band = bits.crop((0, top, grey.width, min(grey.height, top + _BAND_ROWS)))
        out += b"\x1d\x76\x30\x00" + _u16(row_bytes) + _u16(band.height) + band.tobytes()
    return bytes(out)


def _u16(n: int) -> bytes:
    return bytes((n & 0xFF, n >> 8))

"""Draw parsed ESC/POS elements as the paper would look: a PNG as wide as the paper, with
the print head's dots centred on it and the blank edges a real printer leaves either side
(58 mm paper under a 48 mm head, 80 mm under 72 mm), so the picture shows the margin the
citizen's receipt has.

Used by the virtual printer. Text uses a TTF/OTF font at 24 px lines (font A is 12 × 24 dots),
double size is 2× both ways, bold is a 1 px stroke; QR and CODE128 are re-drawn from their data
with the same libraries python-escpos uses, so a scanner reads what the printer would print.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import qrcode
from barcode import Code128
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

from drivers.printer.escpos_parse import (
    QR,
    Barcode,
    Element,
    Feed,
    RasterImage,
    TextLine,
)
from drivers.printer.textwidth import cluster_width, clusters

LINE_HEIGHT = 24             # font A glyph height, dots
LINE_PITCH = 30              # default line spacing (ESC 2) of common 203-dpi printers, as
                             # bitmap.LINE_PITCH: the gap between lines is on the paper too
_QR_MODULE = 6               # dots per QR module (GS ( k fn 43 default on the kiosk's receipts)
_BARCODE_OPTIONS = {"module_width": 0.25, "module_height": 10.0, "quiet_zone": 2.0,
                    "font_size": 8, "text_distance": 3.0}
_PRINTER_DPI = 203

Block = tuple[Image.Image, str]  # a picture and its alignment

HALF_WIDTH_DOTS = 12           # font A cell width
_PAPER_DOTS = {384: 464, 576: 640}   # print head → paper width, 8 dots a millimetre


def paper_edge(dots_per_line: int) -> int:
    """Blank dots between the paper's edge and the head's first dot (4–5 mm on real paper)."""
    return (_PAPER_DOTS.get(dots_per_line, dots_per_line + 64) - dots_per_line) // 2


class ReceiptRenderer:
    """Renders element lists; keeps its fonts loaded, so reuse one per printer."""

    def __init__(self, font_path: Path, dots_per_line: int = 576) -> None:
        self.font_path = font_path
        self.width = dots_per_line
        self.edge = paper_edge(dots_per_line)
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}

    def render(self, elements: Sequence[Element]) -> bytes:
        blocks = [block for element in elements for block in self._blocks(element)]
        height = max(1, sum(image.height for image, _ in blocks))
        page = Image.new("L", (self.width + 2 * self.edge, height), 255)
        y = 0
        for image, align in blocks:
            page.paste(image, (self.edge + self._x(image.width, align), y))
            y += image.height
        out = io.BytesIO()
        page.save(out, format="PNG")
        return out.getvalue()

    def _blocks(self, element: Element) -> list[Block]:
        match element:
            case TextLine():
                return [(self._text(element), element.align)]
            case QR(payload=payload):
                return [(self._fit(_qr_image(payload)), "center")]
            case Barcode(data=data):
                return [(self._fit(_code128_image(data)), "center")]
            case RasterImage():
                return [(_raster_image(element), "left")]
            case Feed(n=n) if n > 0:
                return [(Image.new("L", (1, n * LINE_PITCH), 255), "left")]
        return []    # cut, status request, empty feed: nothing on paper

    def _text(self, line: TextLine) -> Image.Image:
        """Monospaced like the printer's font A: 12 dots a half-width cell, 24 a full one."""
        scale = 2 if line.double else 1
        font = self._font(LINE_HEIGHT * scale)
        stroke = scale if line.bold else 0
        cells = clusters(line.text)
        cell = HALF_WIDTH_DOTS * scale
        width = sum(cluster_width(c) for c in cells) * cell + 2 * stroke + 1
        pitch = LINE_HEIGHT * scale + LINE_PITCH - LINE_HEIGHT
        image = Image.new("L", (min(width, self.width), pitch), 255)
        draw = ImageDraw.Draw(image)
        x = stroke
        for glyph in cells:
            span = cluster_width(glyph) * cell
            draw.text((x + span / 2, image.height // 2), glyph, font=font, fill=0, anchor="mm",
                      stroke_width=stroke, stroke_fill=0)
            x += span
        return image

    def _font(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._fonts:
            self._fonts[size] = ImageFont.truetype(str(self.font_path), size)
        return self._fonts[size]

    def _fit(self, image: Image.Image) -> Image.Image:
        if image.width <= self.width:
            return image
        height = max(1, image.height * self.width // image.width)
        return image.resize((self.width, height), Image.Resampling.NEAREST)

    def _x(self, width: int, align: str) -> int:
        spare = max(0, self.width - width)
        return {"center": spare // 2, "right": spare}.get(align, 0)


def _qr_image(payload: str) -> Image.Image:
    code = qrcode.QRCode(box_size=_QR_MODULE, border=4)
    code.add_data(payload)
    code.make(fit=True)
    image: Image.Image = code.make_image().get_image()
    return image.convert("L")


def _code128_image(data: str) -> Image.Image:
    writer = ImageWriter(mode="L", dpi=_PRINTER_DPI)
    image: Image.Image = Code128(data, writer=writer).render(dict(_BARCODE_OPTIONS))
    return image.convert("L")


def _raster_image(raster: RasterImage) -> Image.Image:
    # ESC/POS sets a bit for a black dot; Pillow's "1" mode reads 1 as white, hence "1;I".
    image = Image.frombytes("1", (raster.width, raster.height), raster.bits, "raw", "1;I")
    return image.convert("L")

"""Draw laid-out pages as PNG (preview, thermal raster) or PDF (package, archive)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image, ImageDraw, ImageFont

from kiosk.documents.layout import PT_MM, ImageOp, LineOp, Page, TextOp
from kiosk.documents.pdffont import Producer, add_document_font, forget_document_text

BOLD_STROKE_MM = 0.12


@lru_cache(maxsize=64)
def _pil_font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px)


def to_png(pages: list[Page], font: Path, dpi: int = 150) -> bytes:
    """All pages, one under the other, as one greyscale PNG."""
    images = [_draw_page(page, font, dpi) for page in pages]
    gap = 12 if len(images) > 1 else 0
    height = sum(i.height for i in images) + gap * (len(images) - 1)
    sheet = Image.new("L", (images[0].width, height), 200)
    y = 0
    for image in images:
        sheet.paste(image, (0, y))
        y += image.height + gap
    out = io.BytesIO()
    sheet.save(out, format="PNG", compress_level=6)   # optimize=True: 10x slower, 3% smaller
    return out.getvalue()


def _draw_page(page: Page, font: Path, dpi: int) -> Image.Image:
    k = dpi / 25.4
    image = Image.new("L", (round(page.width * k), round(page.height * k)), 255)
    draw = ImageDraw.Draw(image)
    for op in page.ops:
        if isinstance(op, TextOp):
            face = _pil_font(str(font), max(1, round(op.size * PT_MM * k)))
            # why the offset: the layout's y is the top of a LINE-high box; centre the glyphs
            y = (op.y + op.size * PT_MM * 0.2) * k
            stroke = max(1, round(BOLD_STROKE_MM * k)) if op.bold else 0
            draw.text((op.x * k, y), op.text, font=face, fill=0, stroke_width=stroke,
                      stroke_fill=0)
        elif isinstance(op, LineOp):
            draw.line([(op.x1 * k, op.y1 * k), (op.x2 * k, op.y2 * k)], fill=0,
                      width=max(1, round(0.25 * k)))
        elif isinstance(op, ImageOp):
            picture = Image.open(io.BytesIO(op.png)).convert("L")
            picture = picture.resize((round(op.w * k), round(op.h * k)), Image.Resampling.NEAREST)
            image.paste(picture, (round(op.x * k), round(op.y * k)))
    return image


def to_pdf(pages: list[Page], font: Path, title: str = "") -> bytes:
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_creator("tongban-kiosk")
    if title:
        pdf.set_title(title)
    add_document_font(pdf, "sc", font)     # parsed once per process, cut per document
    pdf.set_line_width(0.25)
    try:
        for page in pages:
            pdf.add_page(format=(page.width, page.height))
            for op in page.ops:
                _pdf_op(pdf, op)
        return bytes(pdf.output(output_producer_class=Producer))
    finally:
        forget_document_text()             # the citizen's characters, not kept in a cache


def _pdf_op(pdf: FPDF, op: TextOp | LineOp | ImageOp) -> None:
    if isinstance(op, TextOp):
        pdf.set_font("sc", size=op.size)
        pdf.text_mode = TextMode.FILL_STROKE if op.bold else TextMode.FILL
        if op.bold:
            pdf.set_line_width(BOLD_STROKE_MM)
        # baseline: the font's ascent (~0.88 em for Noto Sans CJK) below the glyph top
        pdf.text(op.x, op.y + op.size * PT_MM * (0.2 + 0.88), op.text)
        pdf.text_mode = TextMode.FILL
        pdf.set_line_width(0.25)
    elif isinstance(op, LineOp):
        pdf.line(op.x1, op.y1, op.x2, op.y2)
    else:
        pdf.image(io.BytesIO(op.png), x=op.x, y=op.y, w=op.w, h=op.h)


def images_to_pdf(pages: list[tuple[bytes, int, int, int]], title: str = "") -> bytes:
    """One PDF page per JPEG (bytes, width px, height px, dpi), embedded without re-encoding."""
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_creator("tongban-kiosk")
    if title:
        pdf.set_title(title)
    for jpeg, width, height, dpi in pages:
        w, h = width * 25.4 / dpi, height * 25.4 / dpi
        pdf.add_page(format=(w, h))
        pdf.image(io.BytesIO(jpeg), x=0, y=0, w=w, h=h)
    return bytes(pdf.output())

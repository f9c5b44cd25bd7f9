"""Place blocks on pages as drawing operations in millimetres.

One layout feeds every renderer (PNG preview, PDF, a thermal printer's raster), so what
the citizen sees on screen is what the region receives. Text is measured with the shipped
Simplified-Chinese font; Chinese wraps between any two characters, Latin words stay whole.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import barcode
import qrcode
from barcode.writer import ImageWriter
from PIL import Image, ImageFont

from kiosk.documents.blocks import Block, Cell, Codes, Grid, Meta, Paragraph, Spacer, Title

PT_MM = 25.4 / 72
MEASURE_DPI = 300
LINE = 1.45                      # line height / font size (older readers: ≥ 1.3)
PAD = 1.6                        # cell padding, mm
TEXT_TO_TABLE = 1.5              # mm between a paragraph and a table right under it
NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)")   # 禁则: these never begin a line


@dataclass(frozen=True)
class PageSpec:
    width: float = 210.0
    height: float | None = 297.0  # None: one endless page (thermal paper)
    margin: float = 15.0
    size: float = 11.0            # body text, points


A4 = PageSpec()


@dataclass(frozen=True)
class TextOp:
    x: float
    y: float                     # top of the line box
    text: str
    size: float
    bold: bool = False


@dataclass(frozen=True)
class LineOp:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class ImageOp:
    x: float
    y: float
    w: float
    h: float
    png: bytes


Op = TextOp | LineOp | ImageOp


@dataclass
class Page:
    width: float
    height: float
    ops: list[Op] = field(default_factory=list)


class Fonts:
    def __init__(self, path: Path) -> None:
        self.path = path

    @lru_cache(maxsize=32)  # noqa: B019 - a handful of sizes, one Fonts per process
    def _font(self, size: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.path), round(size * MEASURE_DPI / 72))

    def width(self, text: str, size: float) -> float:
        # sum of cached per-character advances: wrapping measures many prefixes, and CJK
        # text has no kerning worth the cost of measuring each prefix whole
        return sum(self._advance(ch, size) for ch in text)

    @lru_cache(maxsize=8192)  # noqa: B019 - bounded; one Fonts per process
    def _advance(self, ch: str, size: float) -> float:
        return self._font(size).getlength(ch) * 25.4 / MEASURE_DPI

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        lines: list[str] = []
        for para in text.split("\n"):
            lines.extend(self._wrap_one(para, size, width) or [""])
        return lines

    def _wrap_one(self, text: str, size: float, width: float) -> list[str]:
        out: list[str] = []
        line = ""
        for token in _tokens(text):
            if token in NO_LINE_START and line:   # hang it in the margin instead
                line += token
            elif self.width(line + token, size) <= width or not line:
                line += token
                while self.width(line, size) > width and len(line) > 1:
                    cut = self._fit(line, size, width)
                    out.append(line[:cut])
                    line = line[cut:]
            else:
                out.append(line.rstrip())
                line = token.lstrip()
        if line:
            out.append(line)
        return _no_orphan(out)

    def _fit(self, text: str, size: float, width: float) -> int:
        n = 1
        while n < len(text) and self.width(text[: n + 1], size) <= width:
            n += 1
        return n


def _no_orphan(lines: list[str]) -> list[str]:
    """A paragraph does not end in one lone character (也不能代 / 收): the character before it
    (with any punctuation that must not start a line) moves down to keep it company."""
    if len(lines) < 2:
        return lines
    words = [t for t in _tokens(lines[-1].strip()) if t not in NO_LINE_START]
    if len(words) != 1 or len(words[0].strip()) != 1:
        return lines                   # "心。" is as lonely as "心"
    above = _tokens(lines[-2].rstrip())
    cut = len(above) - 1
    while cut > 0 and above[cut][0] in NO_LINE_START:
        cut -= 1
    if cut < 1:
        return lines
    return [*lines[:-2], "".join(above[:cut]), "".join(above[cut:]) + lines[-1].strip()]


def _tokens(text: str) -> list[str]:
    """Latin words (with their trailing space) stay whole; every other character stands alone."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if ch == " " and tokens:
            tokens[-1] += ch
        else:
            tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens


class Layout:
    def __init__(self, fonts: Fonts, spec: PageSpec = A4) -> None:
        self.fonts, self.spec = fonts, spec
        self.pages: list[Page] = []
        self.y = 0.0
        self._after_text = False     # a table under a line of text keeps off its descenders
        self._new_page()

    @property
    def inner(self) -> float:
        return self.spec.width - 2 * self.spec.margin

    def _new_page(self) -> None:
        self.pages.append(Page(self.spec.width, self.spec.height or 0.0))
        self.y = self.spec.margin

    def _room(self, height: float) -> None:
        limit = self.spec.height
        if limit is not None and self.y + height > limit - self.spec.margin and self.y > 40:
            self._new_page()

    def _emit(self, op: Op) -> None:
        self.pages[-1].ops.append(op)

    def place(self, blocks: list[Block]) -> list[Page]:
        for block in blocks:
            if isinstance(block, Grid) and self._after_text:
                self.y += TEXT_TO_TABLE
            self._after_text = isinstance(block, (Title, Meta, Paragraph))
            if isinstance(block, Title):
                self._title(block)
            elif isinstance(block, Meta):
                self._meta(block)
            elif isinstance(block, Paragraph):
                self._paragraph(block)
            elif isinstance(block, Grid):
                self._grid(block)
            elif isinstance(block, Codes):
                self._codes(block)
            elif isinstance(block, Spacer):
                self.y += block.mm
        if self.spec.height is None:
            self.pages[-1].height = self.y + self.spec.margin
        return self.pages

    def _centered(self, text: str, size: float, bold: bool) -> None:
        for line in self.fonts.wrap(text, size, self.inner):
            self._room(size * PT_MM * LINE)
            x = self.spec.margin + (self.inner - self.fonts.width(line, size)) / 2
            self._emit(TextOp(x, self.y, line, size, bold))
            self.y += size * PT_MM * LINE

    def _title(self, block: Title) -> None:
        self._centered(block.text, block.size, True)
        if block.subtitle:
            self._centered(block.subtitle, self.spec.size, False)
        self.y += 2

    def _meta(self, block: Meta) -> None:
        size = self.spec.size
        self._room(size * PT_MM * LINE)
        self._emit(TextOp(self.spec.margin, self.y, block.left, size))
        if block.right:
            x = self.spec.margin + self.inner - self.fonts.width(block.right, size)
            if x < self.spec.margin + self.fonts.width(block.left, size) + 4:
                self.y += size * PT_MM * LINE   # too narrow (thermal paper): own line
                x = self.spec.margin
            self._emit(TextOp(x, self.y, block.right, size))
        self.y += size * PT_MM * LINE + 1

    def _paragraph(self, block: Paragraph) -> None:
        size = block.size or self.spec.size
        indent = "\u3000\u3000" if block.indent else ""
        for line in self.fonts.wrap(indent + block.text, size, self.inner):
            self._room(size * PT_MM * LINE)
            x = self.spec.margin
            if block.align != "left":
                slack = self.inner - self.fonts.width(line, size)
                x += slack if block.align == "right" else slack / 2
            self._emit(TextOp(x, self.y, line, size, block.bold))
            self.y += size * PT_MM * LINE

    def _grid(self, grid: Grid) -> None:
        unit = self.inner / sum(grid.columns)
        edges = [self.spec.margin]
        for w in grid.columns:
            edges.append(edges[-1] + w * unit)
        size = self.spec.size
        line_h = size * PT_MM * LINE
        top_of_table = True
        for row in grid.rows:
            cells = self._row_cells(row, edges)
            height = max(len(lines) for _, _, lines, _ in cells) * line_h + 2 * PAD
            before, bottom = len(self.pages), self.y
            self._room(height)
            if len(self.pages) != before and not top_of_table:   # close the table on its page
                self.pages[-2].ops.append(LineOp(edges[0], bottom, edges[-1], bottom))
            new_page = top_of_table or len(self.pages) != before
            top_of_table = False
            for x0, x1, lines, cell in cells:
                if new_page or not cell.continued:
                    self._emit(LineOp(x0, self.y, x1, self.y))
                self._cell_text(x0, x1, lines, cell, height, line_h, size)
                self._emit(LineOp(x0, self.y, x0, self.y + height))
            self._emit(LineOp(edges[-1], self.y, edges[-1], self.y + height))
            self.y += height
        self._emit(LineOp(edges[0], self.y, edges[-1], self.y))
        self.y += grid.gap_after

    def _row_cells(self, row: tuple[Cell, ...],
                   edges: list[float]) -> list[tuple[float, float, list[str], Cell]]:
        out = []
        col = 0
        for cell in row:
            x0, x1 = edges[col], edges[min(col + cell.span, len(edges) - 1)]
            lines = self.fonts.wrap(cell.text, self.spec.size, x1 - x0 - 2 * PAD)
            out.append((x0, x1, lines, cell))
            col += cell.span
        if col != len(edges) - 1:
            raise ValueError(f"grid row spans {col} columns, table has {len(edges) - 1}")
        return out

    def _cell_text(self, x0: float, x1: float, lines: list[str], cell: Cell, height: float,
                   line_h: float, size: float) -> None:
        y = self.y + (height - len(lines) * line_h) / 2   # vertically centred, like the forms
        for line in lines:
            x = x0 + PAD
            if cell.label:
                x = x0 + (x1 - x0 - self.fonts.width(line, size)) / 2
            self._emit(TextOp(x, y, line, size, cell.label))
            y += line_h

    def _codes(self, block: Codes) -> None:
        qr_mm = 22.0
        bar_w = min(70.0, self.inner - qr_mm - 6)
        bar_h = 12.0
        cap = self.spec.size * PT_MM * LINE
        self._room(max(qr_mm, bar_h + 2 * cap))
        x = self.spec.margin
        self._emit(ImageOp(x, self.y, qr_mm, qr_mm, qr_png(block.qr)))
        bx = x + qr_mm + 6
        by = self.y + (qr_mm - bar_h - cap) / 2
        self._emit(ImageOp(bx, by, bar_w, bar_h, code128_png(block.code128)))
        caption = block.caption or block.code128
        self._emit(TextOp(bx, by + bar_h + 0.5, caption, self.spec.size))
        self.y += qr_mm + 2


def qr_png(payload: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=8)
    qr.add_data(payload.encode("utf-8"))
    qr.make(fit=True)
    return _png(qr.make_image(fill_color="black", back_color="white").get_image())


def code128_png(text: str) -> bytes:
    writer = ImageWriter()
    out = io.BytesIO()
    barcode.get("code128", text, writer=writer).write(
        out, {"write_text": False, "module_height": 10.0, "quiet_zone": 2.0, "dpi": 300})
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)
    return out.getvalue()


def layout(blocks: list[Block], fonts: Fonts, spec: PageSpec = A4) -> list[Page]:
    return Layout(fonts, spec).place(blocks)

"""Documents: models (what they say), forms (blocks), layout and renderers (how they look)."""

from __future__ import annotations

from pathlib import Path

from kiosk.documents.blocks import Block
from kiosk.documents.layout import A4, Fonts, PageSpec, layout
from kiosk.documents.render import to_pdf, to_png


class Renderer:
    """Renders form blocks with the kiosk's Simplified-Chinese font."""

    def __init__(self, font: Path) -> None:
        self.font = font
        self._fonts = Fonts(font)

    def png(self, blocks: list[Block], spec: PageSpec = A4, dpi: int = 150) -> bytes:
        return to_png(layout(blocks, self._fonts, spec), self.font, dpi)

    def pdf(self, blocks: list[Block], title: str = "", spec: PageSpec = A4) -> bytes:
        return to_pdf(layout(blocks, self._fonts, spec), self.font, title)

    def thermal_png(self, blocks: list[Block], dots_per_line: int) -> bytes:
        """The form laid out as one picture at a thermal printer's width (203 dpi), as a
        kiosk that sends receipts as pictures would. The kiosk prints text instead (see
        ``thermal.to_program``); ``PrintService.job`` draws what that prints."""
        width_mm = dots_per_line / 8.0          # 8 dots per mm at 203 dpi
        spec = PageSpec(width=width_mm, height=None, margin=1.5,
                        size=8.0 if dots_per_line <= 384 else 9.0)
        return to_png(layout(blocks, self._fonts, spec), self.font, dpi=203)

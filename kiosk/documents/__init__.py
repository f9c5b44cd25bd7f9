"""Documents: models (what they say), forms (blocks), layout and renderers (how they look)."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.documents.blocks import Block
from kiosk.documents.layout import A4, Fonts, PageSpec, layout
from kiosk.documents.pdffont import font_source
from kiosk.documents.render import to_pdf, to_png

log = logging.getLogger(__name__)


class Renderer:
    """Renders form blocks with the kiosk's Simplified-Chinese font."""

    def __init__(self, font: Path) -> None:
        self.font = font
        self._fonts = Fonts(font)

    def warm(self) -> None:
        """Parse the PDF font now (1–2 s, once per process), so the first citizen's receipt
        does not wait for it. Start-up calls this on a background thread; a font that
        fails here fails again, with its typed error, at the first PDF."""
        try:
            font_source(self.font)
        except Exception:                 # a warm-up, not the render: never stop start-up
            log.warning("PDF font warm-up failed; the first PDF will parse it", exc_info=True)

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

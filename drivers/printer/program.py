"""A print program: what a thermal receipt says, line by line, before it becomes bytes.

The core builds programs from its documents; ``escpos_encode`` turns a program into the
ESC/POS bytes a printer of a given profile understands. Keeping this neutral lets the core
stay free of ESC/POS and lets the virtual printer's transcript be compared with the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """One paragraph; the encoder wraps it to the paper width (CJK counts two columns)."""

    text: str
    bold: bool = False
    double: bool = False          # double width and height (headings)
    align: Align = "left"
    indent: int = 0               # half-width columns before every line (a list item's detail)
    hanging: int = 0              # more before every line after the first (under "1. " …)


@dataclass(frozen=True)
class Columns:
    """A table row: cells share the line by ``weights``; long cells wrap inside their column."""

    cells: tuple[str, ...]
    weights: tuple[int, ...]
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class QRCode:
    payload: str
    module_size: int = 6


@dataclass(frozen=True)
class Code128:
    data: str                     # ASCII only


@dataclass(frozen=True)
class Raster:
    png: bytes                    # a logo or a pre-drawn picture, at most the paper width


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    pass


Op = Text | Columns | Rule | QRCode | Code128 | Raster | Feed | Cut


@dataclass(frozen=True)
class PrinterProfile:
    """What a model of printer can do. Values for common Chinese 58/80 mm printers."""

    dots_per_line: int = 576      # 576 for 80 mm paper, 384 for 58 mm
    charset: Literal["gbk", "gb18030"] = "gbk"   # its built-in double-byte font
    native_qr: bool = True        # GS ( k; otherwise the QR is sent as a raster image
    cutter: bool = True           # otherwise feed to the tear bar

    @property
    def columns(self) -> int:
        """Half-width characters per line with font A (12 × 24 dots)."""
        return self.dots_per_line // 12

"""The building blocks a form is made of. Forms build them; ``layout`` places them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Title:
    text: str
    size: float = 18.0          # points
    subtitle: str = ""


@dataclass(frozen=True)
class Meta:
    """One line with text at the left and at the right (编号 … 申请日期 …)."""

    left: str
    right: str = ""


@dataclass(frozen=True)
class Paragraph:
    text: str
    indent: bool = False        # first-line indent of two characters (公文 style)
    size: float | None = None
    bold: bool = False
    align: Literal["left", "center", "right"] = "left"


@dataclass(frozen=True)
class Cell:
    text: str
    span: int = 1
    label: bool = False         # a label cell: bold and centred, like the printed form
    continued: bool = False     # continues the cell above (a row-spanning group label)
    group: bool = False         # labels the rows it spans (申请信息 …), not just its row
    short: str | None = None    # on narrow paper, where the column's label is not printed:
                                # the text that says what it is ("1份", "共2页"); "" drops it


@dataclass(frozen=True)
class Grid:
    """A bordered table; ``columns`` are relative widths, each row's spans must add up."""

    columns: tuple[float, ...]
    rows: tuple[tuple[Cell, ...], ...]
    gap_after: float = 3.0      # 0 joins the next grid on as one table


@dataclass(frozen=True)
class Codes:
    """A QR code of ``qr`` and a CODE128 barcode of ``code128`` with the text under it."""

    qr: str
    code128: str
    caption: str = ""


@dataclass(frozen=True)
class Spacer:
    mm: float


Block = Title | Meta | Paragraph | Grid | Codes | Spacer

"""Forms → a thermal print program. The same blocks as the A4 forms, re-flowed for a
48- or 32-column receipt: one source of wording for preview, archive and printout.

Grids become "标签：值" lines, section headers for row groups (申请信息, 受理(代收)信息 …) and,
for tables whose first row is all labels (the materials table), one block per row: "1. 名称"
with the name's later lines under the name, then an indented line of the other cells in their
``short`` wording ("原件和复印件，1份，共2页"). Columns side by side do not fit 58 mm paper
(32 half-width columns): they split 序号, 份数 and every name.
"""

from __future__ import annotations

import re

from drivers.printer.program import Code128, Cut, Feed, Op, QRCode, Text
from drivers.printer.textwidth import text_width
from kiosk.documents.blocks import Block, Cell, Codes, Grid, Meta, Paragraph, Spacer, Title

SHORT_TITLE = 12   # characters that still fit a double-size line on 58 mm paper
ITEM_INDENT = 3    # half-width columns before an unnumbered item's details
NUMBERED = re.compile(r"^[一二三四五六七八九十]+、")
PAIR_HANGING = 2   # half-width columns before a "标签：值" entry's later lines


def to_program(blocks: list[Block]) -> list[Op]:
    ops: list[Op] = []
    for block in blocks:
        if isinstance(block, Title):
            ops.append(Text(block.text, bold=True, double=len(block.text) <= SHORT_TITLE,
                            align="center"))
            if block.subtitle:
                ops.append(Text(block.subtitle, align="center"))
        elif isinstance(block, Meta):
            ops += [Text(t) for t in (block.left, block.right) if t]
        elif isinstance(block, Paragraph):
            ops.append(Text(block.text, bold=block.bold, align=block.align,
                            hanging=_numbered(block.text)))
        elif isinstance(block, Grid):
            ops += _grid(block)
        elif isinstance(block, Codes):
            ops += [QRCode(block.qr), Code128(block.code128), Text(block.caption, align="center")]
        elif isinstance(block, Spacer):
            ops.append(Feed(1))
    return [*ops, Feed(2), Cut()]


def _numbered(text: str) -> int:
    """Columns under a list item's text ("一、…", "十二、…"), so its number stands out."""
    mark = NUMBERED.match(text)
    return text_width(mark.group()) if mark else 0


def _grid(grid: Grid) -> list[Op]:
    ops: list[Op] = []
    header: tuple[Cell, ...] | None = None
    for row in grid.rows:
        cells, group = _split_group(row)
        if group is not None and group.text and not group.continued:
            ops.append(Text(f"【{group.text}】", bold=True))
        if cells and all(c.label for c in cells) and len(cells) > 2:
            header = cells              # the item lines say what each value is
        elif header is not None and len(cells) == len(header):
            ops += _item(cells)
        else:
            ops += _pairs(cells)
    return ops


def _item(cells: tuple[Cell, ...]) -> list[Op]:
    """One table row as a list item: "1. 名称", then its details indented under the name.
    A row without a number (an either/or option, "①居民户口簿") sits under the item above."""
    number, name, *rest = cells
    if number.text:
        mark = f"{number.text}. "
        head = Text(mark + name.text, hanging=text_width(mark))
        under = text_width(mark)
    else:
        head = Text(name.text, indent=ITEM_INDENT, hanging=2)
        under = ITEM_INDENT + 2     # under the text after a mark such as ①
    details = [d for d in (c.text if c.short is None else c.short for c in rest) if d]
    return [head, Text("，".join(details), indent=under)] if details else [head]


def _split_group(row: tuple[Cell, ...]) -> tuple[tuple[Cell, ...], Cell | None]:
    """A row-group label (申请信息 …) in the first cell, or its continuation."""
    if len(row) > 1 and (row[0].group or row[0].continued):
        return row[1:], row[0]
    return row, None


def _pairs(cells: tuple[Cell, ...]) -> list[Op]:
    ops: list[Op] = []
    i = 0
    while i < len(cells):
        cell = cells[i]
        if cell.label and i + 1 < len(cells) and not cells[i + 1].label:
            # the value's later lines sit in by one character: each label starts an entry
            ops.append(Text(f"{cell.text}：{cells[i + 1].text}", hanging=PAIR_HANGING))
            i += 2
        else:
            ops.append(Text(cell.text, bold=cell.label))
            i += 1
    return ops

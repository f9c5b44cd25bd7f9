"""Forms → a thermal print program. The same blocks as the A4 forms, re-flowed for a
48- or 32-column receipt: one source of wording for preview, archive and printout.

Grids become "标签：值" lines, section headers for row groups (申请信息, 受理(代收)信息 …) and
real columns for tables whose first row is all labels (the materials table).
"""

from __future__ import annotations

from drivers.printer.program import Code128, Columns, Cut, Feed, Op, QRCode, Text
from kiosk.documents.blocks import Block, Cell, Codes, Grid, Meta, Paragraph, Spacer, Title

SHORT_TITLE = 12   # characters that still fit a double-size line on 58 mm paper


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
            ops.append(Text(block.text, bold=block.bold, align=block.align))
        elif isinstance(block, Grid):
            ops += _grid(block)
        elif isinstance(block, Codes):
            ops += [QRCode(block.qr), Code128(block.code128), Text(block.caption, align="center")]
        elif isinstance(block, Spacer):
            ops.append(Feed(1))
    return [*ops, Feed(2), Cut()]


def _grid(grid: Grid) -> list[Op]:
    ops: list[Op] = []
    header: tuple[Cell, ...] | None = None
    weights: tuple[int, ...] = ()
    for row in grid.rows:
        cells, group = _split_group(row)
        if group is not None and group.text and not group.continued:
            ops.append(Text(f"【{group.text}】", bold=True))
        if cells and all(c.label for c in cells) and len(cells) > 2:
            header, weights = cells, _header_weights(_weights(grid, row, cells), cells)
            ops.append(Columns(tuple(c.text for c in cells), weights, True))
        elif header is not None and len(cells) == len(header):
            ops.append(Columns(tuple(c.text for c in cells), weights))
        else:
            ops += _pairs(cells)
    return ops


def _split_group(row: tuple[Cell, ...]) -> tuple[tuple[Cell, ...], Cell | None]:
    """A row-group label: a continued first cell, or a first label before another label."""
    if len(row) > 1 and (row[0].continued or (len(row) > 2 and row[0].label and row[1].label)):
        return row[1:], row[0]
    return row, None


def _weights(grid: Grid, row: tuple[Cell, ...], cells: tuple[Cell, ...]) -> tuple[int, ...]:
    start = sum(c.span for c in row[: len(row) - len(cells)])
    weights = []
    for cell in cells:
        weights.append(max(1, round(10 * sum(grid.columns[start:start + cell.span]))))
        start += cell.span
    return tuple(weights)


def _header_weights(weights: tuple[int, ...], header: tuple[Cell, ...]) -> tuple[int, ...]:
    """Widen narrow columns so a header such as 份数 is not split over two lines on paper
    (the A4 grid can afford narrow columns; 48 characters cannot)."""
    return tuple(max(w, 10 * len(c.text)) for w, c in zip(weights, header, strict=True))


def _pairs(cells: tuple[Cell, ...]) -> list[Op]:
    ops: list[Op] = []
    i = 0
    while i < len(cells):
        cell = cells[i]
        if cell.label and i + 1 < len(cells) and not cells[i + 1].label:
            ops.append(Text(f"{cell.text}：{cells[i + 1].text}"))
            i += 2
        else:
            ops.append(Text(cell.text, bold=cell.label))
            i += 1
    return ops

"""The 台账 export (issue 21 §7): the ledger's rows in a date range, in the seeds' exact
column orders, as CSV or XLSX.

Layouts (header strings copied from the seeds, byte for byte):
- ``appendix-c``: seed 003 表 C.1 事项办理台账;
- ``guangyuan``: seed 004 附件3 广元市政务服务"跨域通办"工作登记台账.
Neither table has a case number column; it goes first in 备注 (``受理编号 …``) so a row can be
traced to its case, and the row's own note follows.

Masked, always: the kiosk's ledger keeps the applicant's name and phone masked when the row
is written (kiosk/submission.py), and the export masks again (张*华, 138****1234) so a row
that reached the ledger unmasked cannot leave it so. An unmasked export is refused here with
its reason: the full name and phone are only in the package, encrypted to the handling
region, which this kiosk cannot read back. The permission (``supervisor`` only) is in
kiosk/staff/roles.py for the day a hall keeps them.

CSV: UTF-8 with a BOM (Excel on a Chinese Windows reads a CSV without one as GBK and shows
mojibake; the BOM is how Excel recognises UTF-8), CRLF lines (RFC 4180), and a cell that a
spreadsheet would take as a formula (starting with = + - @, tab or CR) is prefixed with ``'``.
XLSX: every text cell is written as a string cell, which a spreadsheet never evaluates, and
characters XML cannot hold are dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from drivers.fileio import check_writable, write_file
from kiosk.documents.model import LedgerRow
from kiosk.ledger import Ledger
from kiosk.privacy import mask_name, mask_phone
from kiosk.staff.errors import StaffError

MAX_ROWS = 200_000            # ~20 days of a full kiosk; the file is built in memory
MAX_DAYS = 366
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Layout(StrEnum):
    APPENDIX_C = "appendix-c"
    GUANGYUAN = "guangyuan"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


HEADERS: dict[Layout, tuple[str, ...]] = {
    Layout.APPENDIX_C: ("办理时间", "业务科室", "办理事项", "数量", "办件类型 (即办件/承诺件)",
                        "申请人", "联系电话", "办理窗口", "办理人员", "办理状态", "备注"),
    Layout.GUANGYUAN: ("日期", "申请人", "联系电话", "通办类型", "通办具体地区", "事项名称",
                       "经办人", "备注"),
}
SHEET_TITLES = {Layout.APPENDIX_C: "事项办理台账", Layout.GUANGYUAN: "工作登记台账"}
Cell = str | int


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    layout: Layout
    format: Format


def _note(row: LedgerRow) -> str:
    return f"受理编号 {row.case_number}" + (f"；{row.note}" if row.note else "")


def _appendix_c(row: LedgerRow) -> tuple[Cell, ...]:
    return (row.time.strftime("%Y-%m-%d %H:%M"), row.department, row.matter_name, row.count,
            row.case_type, mask_name(row.applicant_masked), mask_phone(row.phone_masked),
            row.window, row.staff, row.state, _note(row))


def _guangyuan(row: LedgerRow) -> tuple[Cell, ...]:
    return (row.time.strftime("%Y-%m-%d"), mask_name(row.applicant_masked),
            mask_phone(row.phone_masked), row.scope, row.regions, row.matter_name, row.staff,
            _note(row))


CELLS: dict[Layout, Callable[[LedgerRow], tuple[Cell, ...]]] = {
    Layout.APPENDIX_C: _appendix_c, Layout.GUANGYUAN: _guangyuan}


def check_range(first: date, last: date) -> None:
    if last < first:
        raise StaffError(f"结束日期 {last} 早于开始日期 {first}",
                         f"--to {last} is before --from {first}", code="bad_dates")
    if (last - first).days >= MAX_DAYS:
        raise StaffError(f"一次最多导出 {MAX_DAYS} 天", f"at most {MAX_DAYS} days per export",
                         code="bad_dates")


def export_ledger(ledger: Ledger, layout: Layout, fmt: Format, first: date, last: date,
                  out: Path, *, unmasked: bool = False) -> Exported:
    """Write the export to ``out`` (a path the operator chose; nothing from the ledger
    becomes a path). Raises StaffError (bad_dates, not_held, too_many) or FileRefused."""
    if unmasked:
        raise StaffError("本终端台账只保存脱敏后的姓名和电话，无法导出未脱敏台账（完整信息仅在"
                         "办理地）", "this kiosk's ledger holds masked names and phones only; "
                         "an unmasked ledger exists only at the handling region",
                         code="not_held")
    check_range(first, last)
    check_writable(out)
    rows = _bounded(ledger.between(first, last))
    table = [CELLS[layout](row) for row in rows]
    data = (to_csv(HEADERS[layout], table) if fmt is Format.CSV
            else to_xlsx(HEADERS[layout], table, SHEET_TITLES[layout]))
    write_file(out, data)
    return Exported(out, len(table), layout, fmt)


def _bounded(rows: Iterable[LedgerRow]) -> Iterator[LedgerRow]:
    for count, row in enumerate(rows, 1):
        if count > MAX_ROWS:
            raise StaffError(f"行数超过 {MAX_ROWS}，请缩小日期范围",
                             f"more than {MAX_ROWS} rows: export a shorter range",
                             code="too_many")
        yield row


def neutralise(cell: Cell) -> Cell:
    """A text cell a spreadsheet would run as a formula, made plain text (OWASP's advice)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def to_csv(header: tuple[str, ...], table: list[tuple[Cell, ...]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(c) for c in row] for row in table)
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(header: tuple[str, ...], table: list[tuple[Cell, ...]], title: str) -> bytes:
    from openpyxl import Workbook  # here: only an export needs it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)

    def cell(value: Cell) -> Cell | WriteOnlyCell:
        if isinstance(value, int):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not text.startswith("="):
            return text                 # a plain value is half the work of a cell object
        typed = WriteOnlyCell(sheet, text)
        typed.data_type = "s"           # openpyxl would write "=…" as a formula: text
        return typed

    sheet.append([cell(h) for h in header])
    for row in table:
        sheet.append([cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

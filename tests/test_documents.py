"""Documents render in Chinese, and the case number on them scans back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from drivers.barcode.pyzbar_backend import PyzbarDecoder
from kiosk.documents import Renderer, forms
from kiosk.documents.blocks import Cell, Grid, Paragraph
from kiosk.documents.layout import Fonts, PageSpec, TextOp, layout
from kiosk.documents.samples import sample_receipt

FONT = Path(__file__).resolve().parent.parent / "assets" / "fonts" / "NotoSansSC-Regular.otf"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(FONT)


def test_receipt_codes_scan_back_to_the_case_number(renderer: Renderer) -> None:
    receipt = sample_receipt()
    png = renderer.png(forms.receipt_blocks(receipt), dpi=200)
    found = {(c.format, c.text) for c in PyzbarDecoder().decode(png)}
    assert ("QRCODE", receipt.case_number) in found
    assert ("CODE128", receipt.case_number.replace("-", "")) in found


def test_thermal_receipt_scans_too(renderer: Renderer) -> None:
    receipt = sample_receipt()
    png = renderer.thermal_png(forms.receipt_blocks(receipt), dots_per_line=576)
    texts = {c.text for c in PyzbarDecoder().decode(png)}
    assert receipt.case_number in texts


def test_every_field_of_the_receipt_is_drawn() -> None:
    receipt = sample_receipt()
    pages = layout(forms.receipt_blocks(receipt), Fonts(FONT))
    text = "".join(op.text for page in pages for op in page.ops if isinstance(op, TextOp))
    for expected in (receipt.case_number, receipt.applicant.name, receipt.applicant.phone,
                     receipt.office.department, "法定时限", "承诺办理总时限", "15 个工作日",
                     "不收费", "12345", "12333", "邮寄", receipt.transfer_numbers[0],
                     "纸质件交申请人收执", "5个工作日内"):
        assert expected.replace(" ", "") in text.replace(" ", ""), expected
    for line in receipt.materials:
        assert line.name in text


def test_correction_notice_lists_every_item_with_numerals(renderer: Renderer) -> None:
    from kiosk.documents.model import CorrectionNotice
    receipt = sample_receipt()
    items = tuple(f"材料{n}：未提交" for n in range(1, 13))
    notice = CorrectionNotice("510802-0001-261121-0002-3", receipt.received_at.date(),
                              receipt.matter_name, "张明华", (), items, receipt.office,
                              receipt.received_at.date())
    pages = layout(forms.notice_blocks(notice), Fonts(FONT))
    text = "".join(op.text for page in pages for op in page.ops if isinstance(op, TextOp))
    for numeral in ("一、材料1", "十、材料10", "十一、材料11", "十二、材料12"):
        assert numeral in text
    assert renderer.pdf(forms.notice_blocks(notice)).startswith(b"%PDF")


def test_long_tables_break_across_pages_without_losing_rows() -> None:
    rows = tuple((Cell(str(n)), Cell("很长的材料名称" * 3)) for n in range(80))
    pages = layout([Grid((1, 6), rows)], Fonts(FONT))
    assert len(pages) > 1
    numbers = [op.text for p in pages for op in p.ops
               if isinstance(op, TextOp) and op.text.isdigit()]
    assert numbers == [str(n) for n in range(80)]


def test_wrapping_keeps_latin_words_and_never_starts_a_line_with_a_comma() -> None:
    fonts = Fonts(FONT)
    lines = fonts.wrap("申请人Zhang Minghua，请携带原件到窗口核验，谢谢。" * 3, 11, 40)
    assert all(not line.startswith(("，", "。")) for line in lines)
    assert all("Minghu" not in line or "Minghua" in line for line in lines)


def test_thermal_layout_is_one_continuous_page() -> None:
    spec = PageSpec(width=72, height=None, margin=1.5, size=9)
    pages = layout([Paragraph("测试" * 400)], Fonts(FONT), spec)
    assert len(pages) == 1 and pages[0].height > 100


def test_unicode_outside_bmp_is_measured(renderer: Renderer) -> None:
    # rare characters must not crash the layout (the printer issue handles its own font)
    base = sample_receipt()
    receipt = replace(base, applicant=replace(base.applicant, name="吉𠮷䶮"))
    assert renderer.png(forms.receipt_blocks(receipt)).startswith(b"\x89PNG")

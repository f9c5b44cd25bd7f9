"""The receipt PDF's font: parsed once per process, cut per document, and the pages, text and
embedded subset as fpdf2 makes them itself (read back with poppler's tools and fontTools)."""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from fontTools import ttLib
from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from fpdf import FPDF
from fpdf.fonts import SubsetMap
from PIL import Image, ImageChops

from kiosk.documents import Renderer, forms, render
from kiosk.documents.cff import CffSource
from kiosk.documents.charstrings import Calls, Unexpected
from kiosk.documents.layout import ImageOp, Page, TextOp, layout
from kiosk.documents.pdffont import font_source
from kiosk.documents.samples import sample_receipt

FONT = Path(__file__).resolve().parent.parent / "assets" / "fonts" / "NotoSansSC-Regular.otf"
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdffonts")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (scripts/setup.sh)")


def _receipt_pages() -> list[Page]:
    return layout(forms.receipt_blocks(sample_receipt()), Renderer(FONT)._fonts)


def _fpdf2_alone(pages: list[Page]) -> bytes:
    """The receipt as fpdf2 embeds the font by itself (add_font, its own subsetter)."""
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_creator("tongban-kiosk")
    pdf.add_font("sc", "", str(FONT))
    pdf.set_line_width(0.25)
    for page in pages:
        pdf.add_page(format=(page.width, page.height))
        for op in page.ops:
            render._pdf_op(pdf, op)
    return bytes(pdf.output())


def _embedded_cff(pdf: bytes) -> CFFFontSet:
    ref = re.search(rb"/FontFile3 (\d+) 0 R", pdf)
    assert ref, "no CFF font embedded"
    obj = re.search(rb"\n%s 0 obj\n<<(.*?)>>\nstream\n" % ref.group(1), pdf, re.S)
    assert obj and b"/Subtype /CIDFontType0C" in obj.group(1)
    length = int(re.search(rb"/Length (\d+)", obj.group(1)).group(1))  # type: ignore[union-attr]
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(zlib.decompress(pdf[obj.end():obj.end() + length])), None)
    return cff


def _pages_png(pdf: bytes, tmp_path: Path, name: str) -> list[Image.Image]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-gray", str(path), str(tmp_path / name)],
                   check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob(f"{name}-*.pgm"))]


@needs_poppler
def test_receipt_pages_look_as_fpdf2_alone_draws_them(tmp_path: Path) -> None:
    pages = _receipt_pages()
    ours = _pages_png(render.to_pdf(pages, FONT), tmp_path, "ours")
    theirs = _pages_png(_fpdf2_alone(pages), tmp_path, "theirs")
    assert len(ours) == len(theirs) == len(pages) == 2
    for a, b in zip(ours, theirs, strict=True):
        diff = ImageChops.difference(a, b)
        changed = sum(diff.point(lambda v: 255 if v > 64 else 0).histogram()[255:])
        # the same glyphs at the same places: at most anti-aliasing at a few edges differs
        assert changed <= a.width * a.height // 1000, changed


@needs_poppler
def test_receipt_text_can_be_searched_and_the_font_is_an_embedded_subset(tmp_path: Path) -> None:
    receipt = sample_receipt()
    path = tmp_path / "receipt.pdf"
    path.write_bytes(Renderer(FONT).pdf(forms.receipt_blocks(receipt)))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert receipt.case_number in text and "申请材料接收通知书" in text
    assert receipt.applicant.name in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert len(fonts) == 1
    assert fonts[0].split()[-5:-2] == ["yes", "yes", "yes"]    # embedded, subset, ToUnicode


def test_the_embedded_font_holds_exactly_the_glyphs_used_and_draws_them_alike() -> None:
    text = "受理通知书：张三丰，ABC-123；龘。"
    page = Page(210, 297, [TextOp(10, 10, text, 11, False)])
    cff = _embedded_cff(render.to_pdf([page], FONT))
    top = cff.topDictIndex[0]
    full = ttLib.TTFont(FONT, lazy=True)
    cmap = full.getBestCmap()
    wanted = {cmap[ord(ch)] for ch in text if ord(ch) in cmap} | {cmap[0x20], ".notdef"}
    assert set(top.charset) == wanted
    full_glyphs = full["CFF "].cff.topDictIndex[0].CharStrings
    for name in wanted:            # outlines equal: every subroutine a glyph calls is kept
        ours, original = RecordingPen(), RecordingPen()
        top.CharStrings[name].draw(ours)
        full_glyphs[name].draw(original)
        assert ours.value == original.value, name


def test_the_font_file_is_parsed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    font_source.cache_clear()
    opened: list[object] = []
    real_init = ttLib.TTFont.__init__

    def counting_init(self: ttLib.TTFont, file: object = None, *args: object,
                      **kwargs: object) -> None:
        if file is not None and str(file).endswith(FONT.name):
            opened.append(file)
        real_init(self, file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ttLib.TTFont, "__init__", counting_init)
    renderer = Renderer(FONT)
    for name in ("张三", "李四", "王五"):
        receipt = replace(sample_receipt(), applicant=replace(sample_receipt().applicant,
                                                              name=name))
        assert renderer.pdf(forms.receipt_blocks(receipt)).startswith(b"%PDF")
    assert len(opened) == 1


def test_the_start_up_warm_up_is_the_parse_the_first_receipt_then_uses() -> None:
    font_source.cache_clear()
    renderer = Renderer(FONT)
    renderer.warm()
    assert font_source.cache_info().misses == 1
    assert renderer.pdf(forms.receipt_blocks(sample_receipt())).startswith(b"%PDF")
    assert font_source.cache_info().misses == 1          # not parsed a second time


def test_a_font_that_fails_the_warm_up_is_left_to_the_first_pdf(tmp_path: Path) -> None:
    font_source.cache_clear()
    bad = tmp_path / "bad.otf"
    bad.write_bytes(b"not a font")
    Renderer(bad).warm()                                 # logged, not raised: start-up goes on
    assert font_source.cache_info().currsize == 0


def test_nothing_of_a_document_stays_in_the_shared_font() -> None:
    renderer = Renderer(FONT)
    renderer.pdf(forms.receipt_blocks(sample_receipt()))
    template = font_source(FONT).template
    widths, glyphs = len(template.cw), len(template.subset)
    # a name with a character the font lacks: fpdf2 records it on the font it writes with
    page = Page(210, 297, [TextOp(10, 10, "申请人：欧阳\U000f0001", 11, False)])
    render.to_pdf([page], FONT)
    assert (len(template.cw), len(template.subset)) == (widths, glyphs)
    assert template.missing_glyphs == []
    assert type(template.subset).pick.cache_info().currsize == 0   # type: ignore[attr-defined]


def test_a_document_that_fails_half_way_leaves_no_text_behind_either() -> None:
    broken = ImageOp(10, 30, 20, 20, b"not a picture")
    page = Page(210, 297, [TextOp(10, 10, "申请人：柯梦澄", 11, False), broken])
    with pytest.raises(Exception):      # noqa: B017 - whatever the image library raises
        render.to_pdf([page], FONT)
    assert SubsetMap.pick.cache_info().currsize == 0      # type: ignore[attr-defined]
    assert SubsetMap.get_glyph.cache_info().currsize == 0  # type: ignore[attr-defined]


def test_the_cut_keeps_cids_font_dicts_and_only_called_subroutines() -> None:
    full = ttLib.TTFont(FONT, lazy=True)
    source = CffSource.from_font(full)
    gids = [full.getGlyphID(full.getBestCmap()[ord(ch)]) for ch in "通办A1"]
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(source.cut(gids)), None)
    top = cff.topDictIndex[0]
    original = full["CFF "].cff.topDictIndex[0]
    assert top.ROS == original.ROS
    assert top.charset == [".notdef", *(full.getGlyphOrder()[g] for g in sorted(gids))]
    for new_gid, gid in enumerate([0, *sorted(gids)]):
        new_fd = top.FDArray[top.FDSelect[new_gid]]
        old_fd = original.FDArray[original.FDSelect[gid]]
        assert new_fd.FontName == old_fd.FontName
    kept = sum(1 for fd in top.FDArray if hasattr(fd.Private, "Subrs")
               for subr in fd.Private.Subrs if subr.bytecode)
    assert 0 < kept < 200          # of the font's ~45,000 local subroutines


def test_a_charstring_the_walk_cannot_follow_keeps_every_subroutine() -> None:
    with pytest.raises(Unexpected):
        Calls([], []).glyph(bytes([139, 140, 12, 10, 14]))     # 0 1 add endchar
    source = CffSource.from_font(ttLib.TTFont(FONT, lazy=True))
    odd = CffSource(source.head, source.top, source.strings, source.gsubrs,
                    [*source.charstrings[:1], bytes([139, 140, 12, 10, 14]),
                     *source.charstrings[2:]],
                    source.cids, source.fd_of_glyph, source.font_dicts)
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(odd.cut([1])), None)
    assert len(cff.GlobalSubrs) == len(source.gsubrs)
    assert all(cff.GlobalSubrs[i].bytecode for i in range(0, len(source.gsubrs), 97))


def test_a_cut_of_glyphs_from_across_the_font_draws_each_like_the_full_font() -> None:
    full = ttLib.TTFont(FONT, lazy=True)
    order = full.getGlyphOrder()
    gids = random.Random(25).sample(range(1, len(order)), 400)
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(CffSource.from_font(full).cut(gids)), None)
    ours, theirs = cff.topDictIndex[0].CharStrings, full["CFF "].cff.topDictIndex[0].CharStrings
    for gid in gids:
        a, b = RecordingPen(), RecordingPen()
        ours[order[gid]].draw(a)
        theirs[order[gid]].draw(b)
        assert a.value == b.value, order[gid]

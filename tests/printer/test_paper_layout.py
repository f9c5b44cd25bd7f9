"""The paper a citizen takes away, read line by line as the virtual printer printed it (58 and
80 mm): materials as readable blocks, no word split, no lone character, no line opening with
closing punctuation, a margin; and the guide slip's 一次性告知 lists everything to bring."""

from __future__ import annotations

import itertools
import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from drivers.printer.escpos_render import paper_edge
from drivers.printer.textwidth import NO_LINE_START, text_width, wrap
from drivers.printer.virtual import VirtualPrinter
from kiosk.catalogue import load_catalogue
from kiosk.catalogue.model import AlternativeGroup
from kiosk.cli import main
from kiosk.cli.printing import receipt_bytes
from kiosk.documents import forms
from kiosk.documents.layout import Fonts, TextOp, layout
from kiosk.documents.model import MaterialLine
from kiosk.documents.samples import sample_receipt

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"
CATALOGUE = load_catalogue(ROOT / "config" / "catalogue.yaml")
WIDTHS = {58: 384, 80: 576}
# words a reader takes in whole: a break inside one makes them two words
WORDS = ("序号", "份数", "页数", "材料名称", "原件或复印件", "原件和复印件", "复印件", "8号",
         "邮寄")
MATERIALS = (MaterialLine("居民身份证", 1, 2, "原件和复印件"),
             MaterialLine("基本养老保险关系转移接续申请表", 1, 1, "原件"),
             MaterialLine("基本养老保险参保缴费凭证", 1, 0, "原件", "容缺，承诺后补"))


def _print(data: bytes, width: int, out: Path) -> tuple[list[str], Image.Image]:
    """Send the bytes to a virtual printer of that width; its job-0001.txt and .png."""
    with VirtualPrinter(out_dir=out, font_path=FONT, dots_per_line=WIDTHS[width]) as printer:
        with socket.create_connection(("127.0.0.1", printer.port)) as conn:
            conn.sendall(data)
        printer.wait_for_jobs(1)
    lines = (out / "job-0001.txt").read_text(encoding="utf-8").splitlines()
    with Image.open(out / "job-0001.png") as image:
        return lines, image.convert("L")


def _text(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("[")]


def _split_words(lines: list[str], words: tuple[str, ...]) -> list[str]:
    """Words broken over two lines ("序" at a line's end, "号" at the next one's start)."""
    split = []
    for above, below in itertools.pairwise(lines):
        for word in words:
            for k in range(1, len(word)):
                if above.rstrip().endswith(word[:k]) and below.strip().startswith(word[k:]):
                    split.append(f"{above.strip()} / {below.strip()}")
    return split


def _lone(line: str) -> bool:
    """One character alone, or with its closing punctuation ("号", "心。")."""
    return len([ch for ch in line.strip() if ch not in NO_LINE_START]) == 1


def _paper_faults(lines: list[str], columns: int) -> list[str]:
    text = _text(lines)
    faults = [f"too wide: {line}" for line in text if text_width(line) > columns]
    faults += [f"opens with {line.strip()[0]}: {line}" for line in text
               if line.strip() and line.strip()[0] in NO_LINE_START]
    faults += [f"lone character: {line!r}" for line in text if _lone(line)]
    return faults + _split_words(text, WORDS)


@pytest.mark.parametrize("width", [58, 80])
def test_receipt_reads_cleanly_on_both_paper_widths(width: int, tmp_path: Path) -> None:
    receipt = replace(sample_receipt(3), materials=MATERIALS)
    lines, _ = _print(receipt_bytes(receipt, width), width, tmp_path)
    columns = WIDTHS[width] // 12
    assert _paper_faults(lines, columns) == []
    text = _text(lines)
    for n, m in enumerate(receipt.materials, start=1):   # "1. 名称", then its details under it
        at = next(i for i, line in enumerate(text) if line.startswith(f"{n}. "))
        block = "".join(line.strip() for line in text[at:at + 3])
        assert m.name in block and f"{m.copies}份" in block and m.original_or_copy in block
        if text_width(f"{n}. {m.name}") <= columns:
            assert text[at] == f"{n}. {m.name}"
    assert any(line.strip().startswith("1份，共2页，原件和复印件") for line in text)
    assert "通讯地址：北京市东城区示例胡同8号" in text or "8号" in [t.strip() for t in text]


@pytest.mark.parametrize("width", [58, 80])
def test_thermal_print_has_a_margin_either_side(width: int, tmp_path: Path) -> None:
    _, image = _print(receipt_bytes(sample_receipt(1), width), width, tmp_path)
    edge = paper_edge(WIDTHS[width])
    assert edge >= 24                                  # 3 mm at 8 dots a millimetre
    assert image.width == WIDTHS[width] + 2 * edge
    ink_columns = [x for x in range(image.width)
                   if image.crop((x, 0, x + 1, image.height)).getextrema()[0] < 128]
    assert ink_columns and min(ink_columns) >= edge and max(ink_columns) < image.width - edge


def test_receipt_says_which_copy_the_citizen_holds(tmp_path: Path) -> None:
    lines, _ = _print(receipt_bytes(sample_receipt(1), 80), 80, tmp_path)
    text = "".join(line.strip() for line in lines)
    assert "一式三份" not in text                   # the kiosk prints one copy, not three
    assert "纸质件交申请人收执" in text and "电子件随申请材料转送属地办理部门" in text


def _demo(capsys: pytest.CaptureFixture[str], out: Path, matter: str) -> dict[str, object]:
    assert main(["demo", "--headless", "--out", str(out), "--matter", matter]) == 0
    summary: dict[str, object] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return summary


def test_guide_slip_lists_every_material_to_bring(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    matter = CATALOGUE.matter("GA-SFZ-005")       # two situations, one either/or group
    assert _demo(capsys, tmp_path, matter.code)["outcome"] == "not_at_kiosk"
    lines = (tmp_path / "paper" / "job-0001.txt").read_text(encoding="utf-8").splitlines()
    assert _paper_faults(lines, 48) == []
    printed = "".join(line.strip() for line in lines)
    assert "一次性告知" in printed and "需要准备的材料" in printed
    for situation in matter.situations:
        assert situation.name in printed
        for req in situation.materials:
            options = req.options if isinstance(req, AlternativeGroup) else (req,)
            for m in options:
                assert m.name in printed, m.name
                if m.form.value == "纸质":
                    pages = (f"{m.pages.min}页" if m.pages.min == m.pages.max
                             else f"{m.pages.min}–{m.pages.max}页")
                    assert f"{m.name}{m.count}份，{pages}，{m.original.value}" in printed
            if isinstance(req, AlternativeGroup):
                assert f"{req.label}（以下任选其一）" in printed
    assert "交回原证" in printed and "由公安机关受理点现场采集" in printed   # notes too


def test_guide_slip_form_lists_the_materials_too(tmp_path: Path) -> None:
    from kiosk.referral import referral_slip
    matter = CATALOGUE.matter("MZ-HYDJ-006")
    slip = referral_slip(matter, sample_receipt(1).office, sample_receipt(1).received_at.date())
    pages = layout(forms.referral_slip_blocks(slip), Fonts(FONT))
    cells = [op.text for page in pages for op in page.ops if isinstance(op, TextOp)]
    for situation in matter.situations:
        assert any(situation.name in text for text in cells)
        for req in situation.materials:
            assert req.name in cells                     # one cell each, not wrapped
    assert {"序号", "材料名称", "份数", "页数", "原件或复印件", "备注"} <= set(cells)


def test_region_is_named_once_on_the_receipt(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    summary = _demo(capsys, tmp_path, "YB-YDJY-011")   # 参保地: the applicant's (issue 23)
    assert summary["outcome"] == "accepted"
    [party] = summary["parties"]
    lines = (tmp_path / "paper" / "job-0001.txt").read_text(encoding="utf-8").splitlines()
    printed = "".join(line.strip() for line in lines)
    assert party["department"] in printed
    assert party["region_name"] * 2 not in printed and "东城区东城区" not in printed
    assert _paper_faults(lines, 48) == []


def test_correction_notice_items_read_whole(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--headless", "--out", str(tmp_path), "--matter", "YB-YDJY-011",
                 "--scenario", "missing"]) == 0
    lines = (tmp_path / "paper" / "job-0001.txt").read_text(encoding="utf-8").splitlines()
    assert _paper_faults(lines, 48) == []
    items = [i for i, line in enumerate(lines) if line[:2] in ("一、", "二、", "三、")]
    assert len(items) == 3
    for i in items:                  # an item's later lines sit under its text, not its number
        more = itertools.takewhile(lambda line: line.startswith(" "), lines[i + 1:])
        assert all(line.startswith("    ") and line[4] != " " for line in more)


def test_a4_receipt_keeps_its_headings_whole() -> None:
    pages = layout(forms.receipt_blocks(sample_receipt(6)), Fonts(FONT))
    cells = [op.text for page in pages for op in page.ops if isinstance(op, TextOp)]
    for heading in ("申请信息", "受理(代收)信息", "通办信息", "接收材料", "取件信息",
                    "受理(代收)部门", "承诺办理总时限", "原件或复印件", "广元市利州区政务服务中心"):
        assert heading in cells, heading


def test_a4_paragraphs_end_without_a_lone_character() -> None:
    fonts = Fonts(FONT)
    text = "须由公安机关现场采集人像和指纹信息，自助终端不能采集，也不能代收。"
    for width in range(20, 140):
        lines = fonts.wrap(text, 11, width)
        assert len(lines) == 1 or not _lone(lines[-1]), (width, lines)
        assert all(line[:1] not in NO_LINE_START for line in lines), (width, lines)


PIECES = st.lists(st.tuples(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                            st.sampled_from(["", "", "，", "。", "：", "）", " "])),
                  min_size=2, max_size=50)


@given(pieces=PIECES, columns=st.sampled_from([16, 32, 48]), hanging=st.sampled_from([0, 2, 3]))
def test_wrapped_paragraphs_leave_no_lone_last_character(pieces: list[tuple[str, str]],
                                                         columns: int, hanging: int) -> None:
    text = "".join(a + b for a, b in pieces).strip()
    lines = wrap(text, columns, hanging)
    assert all(text_width(line) <= (columns if i == 0 else columns - hanging)
               for i, line in enumerate(lines))
    assert len(lines) == 1 or not _lone(lines[-1]), lines
    assert all(line[:1] not in NO_LINE_START for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_the_kiosk_picture_of_a_print_job_is_the_printed_paper(tmp_path: Path) -> None:
    """An emulated printer saves ``raster_png``: it must show the lines the printer prints,
    not a second layout of the form (which split 序号 and 份数 in narrow grid columns)."""
    from concurrent.futures import Future

    from drivers.printer.loopback import LoopbackPrinter
    from drivers.printer.program import PrinterProfile
    from kiosk.documents import Renderer
    from kiosk.printing import PrintService

    def run(call):  # type: ignore[no-untyped-def]
        future: Future[None] = Future()
        call()
        future.set_result(None)
        return future

    printer = LoopbackPrinter(tmp_path / "printer", FONT)
    printer.open()
    try:
        service = PrintService(printer, run, PrinterProfile(), Renderer(FONT))
        receipt = replace(sample_receipt(3), materials=MATERIALS)
        job = service.job("r1", "receipt", forms.receipt_blocks(receipt))
        assert service.print(job)
        printed = printer.virtual.wait_for_jobs(1)[0]
    finally:
        printer.close()
    assert job.raster_png == printed.png


def test_guide_slip_is_not_promised_when_the_paper_is_out(tmp_path: Path) -> None:
    """Out of paper, the slip is refused there and then (the screen would otherwise say
    请取走办事指引 over an empty tray), and not held to come out for the next person."""
    from datetime import datetime

    from drivers.status import PaperLevel
    from kiosk.bootstrap import build_kiosk
    from kiosk.errors import SessionError
    from kiosk.service import KioskService
    from kiosk.settings import load_settings

    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(datetime.now())
        service = KioskService(kiosk)
        matter = service.matter("GA-SFZ-005")
        kiosk.printer.set_paper(PaperLevel.OUT)
        with pytest.raises(SessionError) as refused:
            service.referral_slip(matter)
        assert refused.value.code == "slip_not_printed" and "打印纸" in refused.value.zh
        assert kiosk.printing.pending == []
        kiosk.printer.set_paper(PaperLevel.FULL)
        assert service.referral_slip(matter).startswith(b"\x89PNG")
        (job,) = kiosk.printer.virtual.wait_for_jobs(1)
        assert job.complete and any("需要准备的材料" in line for line in job.transcript)
    finally:
        kiosk.close()


@given(words=st.lists(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),
                              min_size=1, max_size=8), min_size=1, max_size=12),
       columns=st.sampled_from([16, 32, 48]), hanging=st.sampled_from([0, 2, 4, 12]))
def test_phrases_break_at_their_spaces_and_every_line_fits(words: list[str], columns: int,
                                                           hanging: int) -> None:
    text = " ".join(words)
    lines = wrap(text, columns, hanging)
    rest = max(1, columns - hanging)
    assert all(text_width(line) <= (columns if i == 0 else rest)
               for i, line in enumerate(lines))
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")

"""Receipts end to end: our bytes, the virtual printer on loopback, the real network backend."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.barcode.pyzbar_backend import PyzbarDecoder
from drivers.printer.escpos_parse import parse, transcript
from drivers.printer.loopback import LoopbackPrinter
from drivers.status import PaperLevel
from kiosk.cli import main
from kiosk.cli.printing import dump_case, receipt_bytes
from kiosk.documents import Renderer, forms
from kiosk.documents.samples import sample_receipt
from kiosk.printing import PrintService

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"
GOLDEN = Path(__file__).parent / "golden"


def _rare_receipt():  # type: ignore[no-untyped-def]
    base = sample_receipt(3)
    return replace(base, applicant=replace(base.applicant, name="吉𠮷䶮",
                                          address="四川省广元市利州区东坝街道（示例）1号，A座"),
                   fees="工本费 ￥20（不含邮费）", consultation_phone="12333 ext.2")


def test_fixed_receipt_is_byte_exact() -> None:
    for width in (58, 80):
        data = receipt_bytes(sample_receipt(3), width)
        # regenerate deliberately (and review the transcript diff) when the form changes
        assert data == (GOLDEN / f"receipt-{width}.bin").read_bytes(), width


def test_transcript_recovers_every_chinese_line_on_a_gb18030_printer() -> None:
    receipt = _rare_receipt()
    data = receipt_bytes(receipt, 80, "gb18030")
    assert b"?" not in data.replace(b"(?", b"")
    text = "".join(line.strip() for line in transcript(parse(data)))   # lines hang indented
    for expected in ("吉𠮷䶮", "工本费 ￥20（不含邮费）", "12333 ext.2", "（示例）1号，A座",
                     receipt.case_number, "受理(代收)部门：广元市利州区政务服务中心"):
        assert expected in text, expected
    assert "[RASTER" not in text     # the printer's GB18030 font has every character


def test_rare_characters_on_a_gbk_printer_become_pictures_never_question_marks() -> None:
    data = receipt_bytes(_rare_receipt(), 80, "gbk")
    lines = transcript(parse(data))
    assert any(line.startswith("[RASTER") for line in lines)
    assert not any("?" in line for line in lines)
    assert "姓名：吉𠮷䶮" not in lines          # drawn, not sent as text
    assert any("工本费 ￥20" in line for line in lines)   # ￥ is in GBK


@pytest.fixture()
def loopback(tmp_path: Path):  # type: ignore[no-untyped-def]
    printer = LoopbackPrinter(tmp_path / "printer", FONT)
    printer.open()
    yield printer
    printer.close()


def _service(printer: LoopbackPrinter) -> PrintService:
    from concurrent.futures import Future

    def run(call):  # type: ignore[no-untyped-def]
        future: Future[None] = Future()
        try:
            call()
            future.set_result(None)
        except BaseException as exc:   # handed to the caller through the future
            future.set_exception(exc)
        return future

    from drivers.printer.program import PrinterProfile
    return PrintService(printer, run, PrinterProfile(), Renderer(FONT))


def test_codes_on_the_printed_receipt_scan(loopback: LoopbackPrinter) -> None:
    service = _service(loopback)
    receipt = sample_receipt(3)
    assert service.print(service.job("r1", "receipt", forms.receipt_blocks(receipt)))
    job = loopback.virtual.wait_for_jobs(1)[0]
    found = {(c.format, c.text) for c in PyzbarDecoder().decode(job.png)}
    assert ("QRCODE", receipt.case_number) in found
    assert ("CODE128", receipt.case_number.replace("-", "")) in found


def test_paper_out_mid_receipt_loses_nothing_and_prints_once(loopback: LoopbackPrinter) -> None:
    service = _service(loopback)
    job = service.job("r1", "receipt", forms.receipt_blocks(sample_receipt(3)))
    loopback.run_out_after(10)
    assert service.print(job) is False
    assert [j.job_id for j in service.pending] == ["r1"]
    assert not loopback.status().usable
    loopback.refill()
    assert service.retry_pending() == ["r1"] and service.pending == []
    assert service.retry_pending() == []          # nothing twice
    jobs = loopback.virtual.wait_for_jobs(2)
    complete = [j for j in jobs if j.complete]
    assert len(complete) == 1 and not jobs[0].complete
    assert complete[0].transcript == transcript(parse(job.escpos or b""))


def test_guide_reprints_the_last_receipts(loopback: LoopbackPrinter) -> None:
    service = _service(loopback)
    for n in (1, 2, 3):
        service.print(service.job(f"r{n}", "receipt", forms.receipt_blocks(sample_receipt(1))))
    assert service.reprint_last(2) == ["r3", "r2"]
    assert len(loopback.virtual.wait_for_jobs(5)) == 5


def test_print_cli(tmp_path: Path, loopback: LoopbackPrinter,
                   capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_bytes(dump_case(sample_receipt(2)))
    out = tmp_path / "r.bin"
    assert main(["print", "receipt", "--case-file", str(case), "--out", str(out),
                 "--width", "58"]) == 0
    assert out.read_bytes() == receipt_bytes(sample_receipt(2), 58)
    url = f"tcp://127.0.0.1:{loopback.virtual.port}"
    capsys.readouterr()
    assert main(["print", "status", "--printer", url]) == 0
    assert json.loads(capsys.readouterr().out)["paper"] == "full"
    assert main(["print", "test-page", "--printer", url]) == 0
    assert loopback.virtual.wait_for_jobs(1)[0].complete
    loopback.set_paper(PaperLevel.OUT)
    capsys.readouterr()
    assert main(["print", "status", "--printer", url]) == 1
    assert json.loads(capsys.readouterr().out)["paper"] == "out"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["print", "receipt", "--case-file", str(bad), "--out", str(out)]) == 2


def test_printer_urls_reach_the_same_printer_over_tcp_and_serial(
        loopback: LoopbackPrinter, capsys: pytest.CaptureFixture[str]) -> None:
    port = loopback.virtual.port
    for url in (f"tcp://127.0.0.1:{port}", f"serial:socket://127.0.0.1:{port}"):
        assert main(["print", "status", "--printer", url]) == 0, url
        assert json.loads(capsys.readouterr().out)["state"] == "online"
    assert main(["print", "status", "--printer", "lpt://1"]) == 2
    assert main(["print", "status", "--printer", "usb://0416:5011"]) == 1   # no such device


def test_configured_logo_prints_above_the_receipt(loopback: LoopbackPrinter) -> None:
    import io

    from PIL import Image
    picture = io.BytesIO()
    Image.new("L", (200, 40), 0).save(picture, format="PNG")
    service = _service(loopback)
    service.logo = picture.getvalue()
    service.print(service.job("r1", "receipt", forms.receipt_blocks(sample_receipt(1))))
    lines = loopback.virtual.wait_for_jobs(1)[0].transcript
    assert lines[0].startswith("[RASTER") and "受理(代收)通知书" in lines[1]

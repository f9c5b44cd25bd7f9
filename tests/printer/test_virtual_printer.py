"""The ESC/POS parser and the virtual network printer (real TCP on 127.0.0.1)."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode

from drivers.errors import DeviceError
from drivers.printer.escpos_parse import (
    QR,
    Barcode,
    Cut,
    Element,
    EscPosError,
    Feed,
    RasterImage,
    StatusRequest,
    StreamParser,
    TextLine,
    parse,
    transcript,
)
from drivers.printer.escpos_render import paper_edge
from drivers.printer.virtual import VirtualPrinter

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"
ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
PAYLOAD = "https://tongban.example.gov.cn/q/TB20240001"
PUNCTUATION = "，。：；！？（）【】《》“”‘’、—…￥·"


def gbk(text: str) -> bytes:
    return text.encode("gbk")


def qr(payload: bytes) -> bytes:
    store = b"1P0" + payload
    return (GS + b"(k\x04\x001A2\x00"     # fn 41: model 2
            + GS + b"(k\x03\x001C\x06"      # fn 43: module size 6
            + GS + b"(k\x03\x001E1"         # fn 45: error correction M
            + GS + b"(k" + len(store).to_bytes(2, "little") + store
            + GS + b"(k\x03\x001Q0")        # fn 51: print


RECEIPT = (
    ESC + b"@" + FS + b"&"
    + ESC + b"a\x01" + GS + b"!\x11" + ESC + b"E\x01" + gbk("跨域通办受理回执") + LF
    + GS + b"!\x00" + ESC + b"E\x00" + ESC + b"a\x00"
    + gbk("受理编号：TB20240001") + LF
    + gbk("申请人：张三（代办）") + LF
    + ESC + b"a\x02" + gbk(PUNCTUATION) + LF
    + ESC + b"a\x01" + qr(PAYLOAD.encode())
    + GS + b"h\x50" + GS + b"w\x02" + GS + b"H\x02" + GS + b"kI\x0c{BTB20240001"
    + ESC + b"d\x03" + GS + b"VB\x00"
)
RECEIPT_ELEMENTS: list[Element] = [
    TextLine("跨域通办受理回执", bold=True, double=True, align="center"),
    TextLine("受理编号：TB20240001"),
    TextLine("申请人：张三（代办）"),
    TextLine(PUNCTUATION, align="right"),
    QR(PAYLOAD),
    Barcode("CODE128", "TB20240001"),
    Feed(3),
    Cut(),
]
RECEIPT_TRANSCRIPT = ["跨域通办受理回执", "受理编号：TB20240001", "申请人：张三（代办）",
                      PUNCTUATION, f"[QR] {PAYLOAD}", "[CODE128] TB20240001", "[CUT]"]


# --- parser ---------------------------------------------------------------------------------
def test_parse_round_trip_of_a_hand_written_receipt() -> None:
    assert parse(RECEIPT) == RECEIPT_ELEMENTS
    assert transcript(parse(RECEIPT)) == RECEIPT_TRANSCRIPT


def test_four_byte_gb18030_characters() -> None:
    # 95 32 82 36 is the first four-byte code, U+20000; 𠮷 (U+20BB7) is 95 34 B2 35.
    data = FS + b"&" + bytes.fromhex("95328236") + bytes.fromhex("9534b235") + b"!" + LF
    assert parse(data) == [TextLine("\U00020000𠮷!")]
    assert "𠮷".encode("gb18030") == bytes.fromhex("9534b235")


def test_full_width_punctuation_in_gbk_and_gb18030() -> None:
    for encoding in ("gbk", "gb18030"):
        assert parse(FS + b"&" + PUNCTUATION.encode(encoding) + LF) == [TextLine(PUNCTUATION)]


def test_other_commands_and_forms() -> None:
    raster = bytes([0b1000_0001, 0xFF]) * 3
    data = (b"\x10\x04\x01" + b"ab" + b"\x10\x04\x04" + b"c" + ESC + b"d\x00"
            + GS + b"v0\x00\x02\x00\x03\x00" + raster
            + GS + b"kI\x04{C" + bytes([12, 7]) + GS + b"V\x00" + GS + b"V1" + LF)
    assert parse(data) == [StatusRequest(1), StatusRequest(4), TextLine("abc"), Feed(0),
                           RasterImage(16, 3, raster), Barcode("CODE128", "1207"), Cut(), Cut(),
                           TextLine("")]
    assert transcript(parse(data))[1:3] == ["[RASTER 16×3]", "[CODE128] 1207"]


def test_init_resets_style_and_double_byte_mode() -> None:
    data = FS + b"&" + ESC + b"E\x01" + ESC + b"a1x" + ESC + b"@" + b"y" + LF
    assert parse(data) == [TextLine("y")]     # ESC @ clears the unprinted "x" too
    with pytest.raises(EscPosError):
        parse(ESC + b"@" + FS + b"&" + ESC + b"@" + gbk("中"))


@pytest.mark.parametrize(("data", "offset", "words"), [
    (b"ok" + ESC + b"Z\x00", 2, "unknown command 0x1B 0x5A"),
    (b"abc\x07", 3, "unknown control byte 0x07"),
    (b"A" + gbk("中"), 1, "outside double-byte mode"),
    (FS + b"&" + b"\x81\x0a", 2, "invalid GB18030"),
    (b"xy" + GS + b"v0\x00\x01\x00\x05\x00\xff", 2, "truncated"),
    (b"x" + GS + b"(k\x03\x001Q0", 1, "QR print without stored data"),
    (GS + b"kI\x03ABC", 0, "CODE128"),
    (GS + b"V\x07", 0, "cut mode"),
    (b"\x10\x04\x09", 0, "status request"),
    (ESC, 0, "truncated"),
])
def test_errors_name_the_byte_offset(data: bytes, offset: int, words: str) -> None:
    with pytest.raises(EscPosError) as caught:
        parse(data)
    err = caught.value
    assert isinstance(err, DeviceError)
    assert err.offset == offset
    assert words in err.en and f"byte {offset}" in err.en
    assert f"第 {offset} 字节" in err.zh


def _outcome(chunks: list[bytes]) -> tuple[str, object]:
    parser = StreamParser()
    elements: list[Element] = []
    try:
        for chunk in chunks:
            elements += parser.feed(chunk)
        elements += parser.close()
    except EscPosError as err:
        return "error", err.offset
    return "ok", elements


FRAGMENTS = [ESC + b"@", FS + b"&", FS + b".", LF, b"A", gbk("中，"), bytes.fromhex("9534b235"),
             ESC + b"E", ESC + b"a", ESC + b"d", GS + b"!", GS + b"(k", GS + b"kI", GS + b"v0",
             GS + b"V", b"\x10\x04", qr(b"x"), GS + b"kI\x03{Bx", RECEIPT[:40]]


def _parses_or_names_an_offset(data: bytes) -> None:
    try:
        elements = parse(data)
    except EscPosError as err:        # any other exception fails the test
        assert 0 <= err.offset < len(data)
    else:
        assert all(isinstance(element, Element) for element in elements)


@given(st.binary(max_size=300))
def test_fuzz_random_bytes_only_raise_escpos_error(data: bytes) -> None:
    _parses_or_names_an_offset(data)


@given(st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=4), max_size=30))
def test_fuzz_command_fragments_only_raise_escpos_error(parts: list[bytes]) -> None:
    _parses_or_names_an_offset(b"".join(parts))


@given(st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=4), max_size=20),
       st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_feeding_in_pieces_gives_the_same_result(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    points = sorted({min(cut, len(data)) for cut in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _outcome(chunks) == _outcome([data])


# --- the virtual printer over TCP -----------------------------------------------------------
def _connect(printer: VirtualPrinter) -> socket.socket:
    return socket.create_connection(("127.0.0.1", printer.port), timeout=5.0)


def _ask(conn: socket.socket, n: int) -> int:
    conn.sendall(bytes([0x10, 0x04, n]))
    reply = conn.recv(1)
    assert len(reply) == 1
    return reply[0]


@pytest.mark.parametrize(("state", "replies"), [
    ({}, [0x16, 0x12, 0x12, 0x12]),
    ({"paper": "near_end"}, [0x16, 0x12, 0x12, 0x1E]),
    ({"paper": "out"}, [0x1E, 0x32, 0x12, 0x72]),
    ({"cover_open": True}, [0x1E, 0x16, 0x12, 0x12]),
    ({"offline": True}, [0x1E, 0x12, 0x12, 0x12]),
])
def test_status_replies_use_real_bit_layouts(virtual: VirtualPrinter, state: dict[str, object],
                                             replies: list[int]) -> None:
    virtual.set_state(**state)  # type: ignore[arg-type]
    with _connect(virtual) as conn:
        assert [_ask(conn, n) for n in (1, 2, 3, 4)] == replies


def test_silent_printer_never_answers(virtual: VirtualPrinter) -> None:
    virtual.set_state(silent=True)
    with _connect(virtual) as conn:
        conn.sendall(b"\x10\x04\x01")
        conn.settimeout(0.5)               # bounded wait: nothing is expected
        with pytest.raises(TimeoutError):
            conn.recv(1)


def test_a_job_becomes_png_and_transcript(virtual: VirtualPrinter, tmp_path: Path) -> None:
    with _connect(virtual) as conn:
        conn.sendall(RECEIPT)
    (job,) = virtual.wait_for_jobs(1)
    assert job.complete and job.elements == RECEIPT_ELEMENTS
    out = tmp_path / "prints"
    assert sorted(p.name for p in out.iterdir()) == ["job-0001.png", "job-0001.txt"]
    assert (out / "job-0001.txt").read_text(encoding="utf-8").splitlines() == RECEIPT_TRANSCRIPT
    with Image.open(out / "job-0001.png") as image:
        assert image.width == 576 + 2 * paper_edge(576)   # the paper, the head centred on it
        found = {(symbol.type, symbol.data.decode()) for symbol in decode(image)}
    assert found == {("QRCODE", PAYLOAD), ("CODE128", "TB20240001")}
    assert (out / "job-0001.png").read_bytes() == job.png


def test_raster_is_drawn_black_where_bits_are_set(virtual: VirtualPrinter) -> None:
    with _connect(virtual) as conn:
        conn.sendall(GS + b"v0\x00\x01\x00\x02\x00" + b"\x80\x01" + GS + b"V\x00")
    (job,) = virtual.wait_for_jobs(1)
    with Image.open(io.BytesIO(job.png)) as image:
        edge = paper_edge(576)
        assert [image.getpixel((edge + x, y)) for x, y in [(0, 0), (1, 0), (7, 1), (6, 1)]] == [
            0, 255, 0, 255]


def test_closing_the_connection_ends_a_pending_job(virtual: VirtualPrinter) -> None:
    with _connect(virtual) as conn:
        conn.sendall(b"one" + LF + b"\x10\x04\x01")
        assert conn.recv(1) == b"\x16"
        conn.sendall(GS + b"V\x00" + GS + b"V\x00" + b"two" + LF)   # a cut with nothing: no job
    jobs = virtual.wait_for_jobs(2)
    assert [(job.transcript, job.complete) for job in jobs] == [
        (["one", "[CUT]"], True), (["two"], True)]


def test_paper_running_out_keeps_the_printed_part(virtual: VirtualPrinter,
                                                  tmp_path: Path) -> None:
    virtual.run_out_after(2)
    with _connect(virtual) as conn:
        conn.sendall(RECEIPT)
        assert _ask(conn, 4) == 0x72          # the sensor now reports paper out
    (job,) = virtual.wait_for_jobs(1)
    assert not job.complete
    assert job.transcript == RECEIPT_TRANSCRIPT[:2]
    assert (tmp_path / "prints" / "job-0001-incomplete.png").exists()


def test_bad_bytes_drop_the_connection_and_are_recorded(virtual: VirtualPrinter) -> None:
    with _connect(virtual) as conn:
        conn.sendall(b"fine" + LF + ESC + b"Z")
        assert conn.recv(16) == b""           # the printer hung up
    (job,) = virtual.wait_for_jobs(1)
    assert job.transcript == ["fine"]
    assert [err.offset for err in virtual.errors] == [5]

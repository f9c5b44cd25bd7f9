"""escpos_encode: byte-exact ESC/POS for print programs, Chinese included, nothing as '?'."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.printer.escpos_encode import column_widths, encode, table_lines
from drivers.printer.program import (
    Code128,
    Columns,
    Cut,
    Feed,
    PrinterProfile,
    QRCode,
    Raster,
    Rule,
    Text,
)
from drivers.printer.textwidth import NO_LINE_START, normalize, text_width, wrap

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"
MM80 = PrinterProfile(dots_per_line=576)
MM58 = PrinterProfile(dots_per_line=384)
PROFILES = [MM80, MM58]


# --- a minimal reader of what we send (the real parser lives in escpos_parse) ---------------

@dataclass
class Readback:
    lines: list[str | tuple[int, int]] = field(default_factory=list)   # text, or raster w×h
    rasters: list[Image.Image] = field(default_factory=list)
    commands: list[bytes] = field(default_factory=list)

    @property
    def text(self) -> list[str]:
        return [line for line in self.lines if isinstance(line, str)]


def read_back(data: bytes, charset: str = "gbk") -> Readback:
    out, i, pending, double_byte = Readback(), 0, bytearray(), False
    fixed = {b"\x1b@": 0, b"\x1bE": 1, b"\x1ba": 1, b"\x1bd": 1, b"\x1d!": 1, b"\x1dh": 1,
             b"\x1dw": 1, b"\x1dH": 1, b"\x1dV": 2, b"\x1c&": 0, b"\x1c.": 0}
    while i < len(data):
        head = data[i:i + 2]
        if head in fixed:
            out.commands.append(data[i:i + 2 + fixed[head]])
            double_byte = {b"\x1c&": True, b"\x1c.": False}.get(head, double_byte)
            i += 2 + fixed[head]
        elif data[i:i + 3] == b"\x1dv0":
            w, h = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
            bits = data[i + 8:i + 8 + w * h]
            out.rasters.append(Image.frombytes("1", (w * 8, h), bits))
            out.lines.append((w * 8, h))
            out.commands.append(data[i:i + 4])
            i += 8 + w * h
        elif head == b"\x1d(":
            size = data[i + 3] + 256 * data[i + 4]
            out.commands.append(data[i:i + 5 + size])
            i += 5 + size
        elif head == b"\x1dk":
            out.commands.append(data[i:i + 4 + data[i + 3]])
            i += 4 + data[i + 3]
        elif data[i] == 0x0A:
            out.lines.append(pending.decode(charset))
            pending.clear()
            i += 1
        else:
            assert data[i] >= 0x20, f"stray control byte {data[i]:#x} at {i}"
            step = 2 if double_byte else 1
            assert double_byte or data[i] < 0x80, "high byte outside double-byte mode"
            pending += data[i:i + step]
            i += step
    assert not pending and not double_byte, "output must end on a whole line"
    return out


# --- golden ------------------------------------------------------------------------------

def test_golden_receipt_fragment_58mm() -> None:
    program = [
        Text("受理编号 No.42", bold=True),
        Text("合计：¥12.00", align="right"),         # ¥ is not in GBK: printed as ￥
        Text("王·小明 — 测－试"),
        Columns(("材料名称", "份数"), (3, 1)),
        Rule("-"),
        Text("标题", double=True, align="center"),
        Feed(2),
        Cut(),
    ]
    expected = bytes.fromhex(
        "1b 40"
        "1b 45 01"
        " 1c 26 ca dc c0 ed b1 e0 ba c5 1c 2e 20 4e 6f 2e 34 32 0a"       # 受理编号 No.42
        "1b 45 00"
        "1b 61 02"
        " 1c 26 ba cf bc c6 a3 ba a3 a4 1c 2e 31 32 2e 30 30 0a"          # 合计：￥12.00
        "1b 61 00"
        "1c 26 cd f5 a1 a4 d0 a1 c3 f7 1c 2e 20"                          # 王·小明
        " 1c 26 a1 aa 1c 2e 20 1c 26 b2 e2 a3 ad ca d4 1c 2e 0a"          # — 测－试
        "1c 26 b2 c4 c1 cf c3 fb b3 c6 1c 2e" + " 20" * 16 +              # 材料名称, 24 cols
        " 1c 26 b7 dd ca fd 1c 2e 0a"                                     # 份数
        + " 2d" * 32 + " 0a"                                              # the rule
        "1b 61 01 1d 21 11"
        " 1c 26 b1 ea cc e2 1c 2e 0a"                                     # 标题
        "1d 21 00 1b 61 00"
        "1b 64 02"
        "1d 56 42 00"
    )
    assert encode(program, MM58, FONT) == expected


def test_without_cutter_feeds_to_the_tear_bar() -> None:
    profile = PrinterProfile(dots_per_line=384, cutter=False)
    assert encode([Cut()], profile, FONT) == b"\x1b@\x1bd\x04"
    assert encode([Feed(3)], profile, FONT) == b"\x1b@\x1bd\x03"


def test_control_characters_cannot_smuggle_commands() -> None:
    assert encode([Text("a\x1b@b\tc\x00")], MM80, FONT) == b"\x1b@" b"a @b c\n"


# --- characters outside the printer's font ------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("rare", ["𠮷", "䶮"])
def test_rare_character_draws_the_whole_line(profile: PrinterProfile, rare: str) -> None:
    data = encode([Text("普通一行"), Text(f"姓名：吉{rare}祥"), Text("下一行")], profile, FONT)
    back = read_back(data)
    assert back.lines == ["普通一行", (profile.dots_per_line, 30), "下一行"]
    assert b"?" not in data.replace(back_raster_bytes(data), b"")
    assert ink(back.rasters[0]) > 50                    # something was actually drawn


def test_combining_mark_draws_the_line() -> None:
    back = read_back(encode([Text("cafe\u0301 café")], MM80, FONT))
    assert back.lines == [(576, 30)]


def test_gb18030_printer_prints_rarities_natively() -> None:
    profile = PrinterProfile(dots_per_line=576, charset="gb18030")
    back = read_back(encode([Text("䶮€"), Text("𠮷")], profile, FONT), "gb18030")
    assert back.lines == ["䶮€", "𠮷"]       # a GB18030 font has the 4-byte range too


def test_drawn_line_keeps_style_and_alignment() -> None:
    double = read_back(encode([Text("𠮷", double=True, align="center")], MM58, FONT))
    assert double.lines == [(384, 48)]
    left, right = (read_back(encode([Text("𠮷", align=a)], MM58, FONT)).rasters[0]
                   for a in ("left", "right"))
    assert left.getbbox()[0] < 24 and right.getbbox()[2] > 384 - 24


CJK = st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
                st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
                st.characters(min_codepoint=0x3000, max_codepoint=0x303F),
                st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
                st.sampled_from("—·－￥¥…“”‘’ \n\u0301é\u200b"))
MIXED = st.text(st.one_of(CJK, st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
                max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MIXED, profile=st.sampled_from(PROFILES), double=st.booleans())
def test_no_question_marks_and_text_lines_come_back(text: str, profile: PrinterProfile,
                                                   double: bool) -> None:
    back = read_back(encode([Text(text, double=double)], profile, FONT))
    expected = wrap(normalize(text), profile.columns // (2 if double else 1))
    assert len(back.lines) == len(expected)
    for got, want in zip(back.lines, expected, strict=True):
        if isinstance(got, str):
            assert got == want
        else:                                       # drawn: only if the font lacks a glyph
            assert any(_outside_gbk(ch) for ch in want)
    if "?" not in text:
        assert not any("?" in line for line in back.text)


GBK_TEXT = st.text(st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                            st.sampled_from("，。、；：？！（）《》「」—·－￥¥…“” ab1?")),
                  max_size=80)


@settings(max_examples=60, deadline=None)
@given(text=GBK_TEXT, profile=st.sampled_from(PROFILES))
def test_gbk_text_is_always_printed_as_text(text: str, profile: PrinterProfile) -> None:
    back = read_back(encode([Text(text)], profile, FONT))
    assert back.lines == wrap(normalize(text), profile.columns)


def _outside_gbk(ch: str) -> bool:
    try:
        return len(ch.encode("gbk")) != 2 and ch >= "\x80"
    except UnicodeEncodeError:
        return True


def back_raster_bytes(data: bytes) -> bytes:
    start = data.index(b"\x1dv0")
    w, h = data[start + 4] + 256 * data[start + 5], data[start + 6] + 256 * data[start + 7]
    return data[start:start + 8 + w * h]


def ink(image: Image.Image) -> int:
    return image.histogram()[255]                  # mode "1": 255 is a set bit, black


# --- wrapping ----------------------------------------------------------------------------

@settings(max_examples=200)
@given(text=MIXED, columns=st.sampled_from([16, 24, 32, 48]))
def test_wrapped_lines_fit_and_lose_nothing(text: str, columns: int) -> None:
    lines = wrap(normalize(text), columns)
    assert all(text_width(line) <= columns for line in lines)
    assert "".join(lines).replace(" ", "") == normalize(text).replace(" ", "").replace("\n", "")


@pytest.mark.parametrize("profile", PROFILES)
def test_printed_lines_fit_the_paper(profile: PrinterProfile) -> None:
    text = "申请人王小明于2025年3月1日在成都市武侯区政务服务中心提交了跨域通办申请，" * 3
    for double in (False, True):
        back = read_back(encode([Text(text, double=double)], profile, FONT))
        width = profile.columns // (2 if double else 1)
        assert all(text_width(line) <= width for line in back.text)
        assert max(text_width(line) for line in back.text) >= width - 1


WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789.-"), min_size=1,
               max_size=12)
HAN = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1,
              max_size=5)


@given(parts=st.lists(st.one_of(WORD, HAN), min_size=1, max_size=20),
       columns=st.sampled_from([16, 32, 48]))
def test_latin_words_are_never_split(parts: list[str], columns: int) -> None:
    lines = wrap(" ".join(parts), columns)
    for word in (p for p in parts if p.isascii()):
        assert any(word in line.split(" ") for line in lines)


@given(pieces=st.lists(st.tuples(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                                 st.sampled_from(["", *"，。、；：？！）》」"])),
                       min_size=1, max_size=60),
       columns=st.sampled_from([16, 32, 48]))
def test_no_line_starts_with_closing_punctuation(pieces: list[tuple[str, str]],
                                                 columns: int) -> None:
    lines = wrap("".join(a + b for a, b in pieces), columns)
    assert all(line[:1] not in NO_LINE_START for line in lines)


def test_punctuation_takes_the_character_before_it_down() -> None:
    assert wrap("一二三四五六七。", 12) == ["一二三四五", "六七。"]   # and no lone 七。
    assert wrap("Hello world, 欢迎", 11) == ["Hello", "world, 欢迎"]


# --- tables ------------------------------------------------------------------------------

def test_column_widths_share_the_line_exactly() -> None:
    assert column_widths((3, 1), 32) == [24, 8]
    assert column_widths((1, 1, 1), 48) == [16, 16, 16]
    assert sum(column_widths((5, 2, 3), 47)) == 47
    with pytest.raises(ValueError):
        column_widths((1, 0), 48)


@pytest.mark.parametrize("profile", PROFILES)
def test_table_cells_wrap_inside_their_columns(profile: PrinterProfile) -> None:
    cells = ("居民身份证复印件（正反面）", "1份", "原件核验后退还申请人本人")
    lines = table_lines(cells, (4, 1, 4), profile.columns)
    widths = column_widths((4, 1, 4), profile.columns)
    assert len(lines) > 1 and all(text_width(line) <= profile.columns for line in lines)
    for i, cell in enumerate(cells):                 # each column holds its own cell only
        start = sum(widths[:i])
        column = [_slice(line, start, widths[i]) for line in lines]
        assert all(text_width(c.rstrip()) <= widths[i] - 1 for c in column)
        assert "".join(column).replace(" ", "") == cell
    back = read_back(encode([Columns(cells, (4, 1, 4), bold=True)], profile, FONT))
    assert back.text == lines
    assert back.commands[1] == b"\x1bE\x01" and back.commands[-1] == b"\x1bE\x00"


def _slice(line: str, start: int, width: int) -> str:
    """The characters of ``line`` within half-width columns [start, start + width)."""
    out, col = [], 0
    for ch in line:
        if start <= col < start + width:
            out.append(ch)
        col += text_width(ch)
    return "".join(out)


def test_table_with_wrong_number_of_weights_is_refused() -> None:
    with pytest.raises(ValueError):
        table_lines(("a", "b"), (1,), 48)


def test_rule_spans_the_paper() -> None:
    assert read_back(encode([Rule("=")], MM80, FONT)).text == ["=" * 48]
    assert read_back(encode([Rule("═")], MM58, FONT)).text == ["═" * 16]


# --- codes and pictures ------------------------------------------------------------------

def test_native_qr_is_gs_paren_k() -> None:
    payload = "https://x.cn/1"
    data = payload.encode()
    store = bytes((len(data) + 3, 0))
    expected = (b"\x1b@" b"\x1ba\x01"
                b"\x1d(k\x04\x00\x31\x41\x32\x00"
                b"\x1d(k\x03\x00\x31\x43\x06"
                b"\x1d(k\x03\x00\x31\x45\x31"
                b"\x1d(k" + store + b"\x31\x50\x30" + data +
                b"\x1d(k\x03\x00\x31\x51\x30"
                b"\x1ba\x00")
    assert encode([QRCode(payload, module_size=6)], MM58, FONT) == expected


@pytest.mark.parametrize("profile", PROFILES)
def test_qr_without_native_support_is_a_readable_picture(profile: PrinterProfile) -> None:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    payload = "https://gov.example.cn/case/510802-0001-261121-0042-6 受理"
    plain = PrinterProfile(dots_per_line=profile.dots_per_line, native_qr=False)
    data = encode([QRCode(payload, module_size=6)], plain, FONT)
    assert b"\x1d(k" not in data
    back = read_back(data)
    assert all(w == profile.dots_per_line for w, _ in back.lines)  # type: ignore[misc]
    page = Image.new("L", (profile.dots_per_line, sum(r.height for r in back.rasters)), 255)
    top = 0
    for band in back.rasters:
        page.paste(band.point(lambda v: 0 if v else 255).convert("L"), (0, top))
        top += band.height
    decoded = pyzbar.decode(page)
    assert [d.data.decode("utf-8") for d in decoded] == [payload]


def test_code128_function_b() -> None:
    assert encode([Code128("AB{1")], MM80, FONT) == (
        b"\x1b@\x1ba\x01\x1dh\x50\x1dw\x02\x1dH\x02\x1dk\x49\x07{BAB{{1\x1ba\x00")


def test_long_code128_narrows_its_bars_to_fit() -> None:
    case_number = "510802-0001-261121-0042-6"
    for profile in PROFILES:
        assert b"\x1dw\x01" in encode([Code128(case_number)], profile, FONT)
    with pytest.raises(ValueError):
        encode([Code128("受理")], MM80, FONT)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_raster_bits_msb_first_black_is_one() -> None:
    picture = Image.new("L", (16, 2), 255)
    picture.paste(0, (0, 0, 8, 2))
    data = encode([Raster(_png(picture))], PrinterProfile(dots_per_line=16), FONT)
    assert data == b"\x1b@" b"\x1dv0\x00\x02\x00\x02\x00" b"\xff\x00\xff\x00"


def test_raster_is_centred_and_padded_to_whole_bytes() -> None:
    picture = Image.new("RGBA", (13, 1), (0, 0, 0, 255))
    data = encode([Raster(_png(picture))], PrinterProfile(dots_per_line=36), FONT)
    # 36 dots → 32 usable (whole bytes); 13 black dots start at (32 - 13) // 2 = 9
    assert data == b"\x1b@" b"\x1dv0\x00\x04\x00\x01\x00" + bytes((0x00, 0x7F, 0xFC, 0x00))


def test_wide_raster_is_scaled_to_the_paper() -> None:
    wide = Image.new("L", (1000, 100), 0)
    back = read_back(encode([Raster(_png(wide))], MM58, FONT))
    assert back.lines == [(384, 38)]

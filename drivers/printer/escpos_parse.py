"""Parse the ESC/POS subset the kiosk sends into printable elements.

The virtual printer uses this to "print" what a real thermal printer would, and tests use it to
read back the bytes the encoder wrote. It is strict on purpose: an unknown command, a byte
≥ 0x80 outside double-byte mode or a cut-off command is an :class:`EscPosError` naming the
byte offset, because a real printer would print garbage there and we want to hear of it.

:class:`StreamParser` takes bytes as they arrive from a socket; a command split across reads
waits for its remaining bytes, so feeding in pieces gives the same result as :func:`parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from drivers.barcode import decode_payload
from drivers.errors import DeviceError

Align = Literal["left", "center", "right"]

LF, DLE, EOT, ESC, FS, GS = 0x0A, 0x10, 0x04, 0x1B, 0x1C, 0x1D
_ALIGNS: tuple[Align, Align, Align] = ("left", "center", "right")
_QR_SYMBOL = 0x31            # cn of GS ( k for QR Code (0x30 would be PDF417)
_CODE128 = 73                # m of GS k, format B
_CUT_SIMPLE = frozenset({0, 1, 48, 49})
_CUT_WITH_FEED = frozenset({65, 66, 97, 98, 103, 104})


@dataclass(frozen=True)
class TextLine:
    text: str
    bold: bool = False
    double: bool = False     # double width and height
    align: Align = "left"


@dataclass(frozen=True)
class QR:
    payload: str


@dataclass(frozen=True)
class Barcode:
    kind: str                # "CODE128"
    data: str                # without the {A / {B / {C code-set prefix


@dataclass(frozen=True)
class RasterImage:
    width: int               # dots; always a multiple of 8
    height: int
    bits: bytes = field(repr=False)   # 1 bpp, MSB first, 1 = black dot, rows of width // 8


@dataclass(frozen=True)
class Feed:
    n: int


@dataclass(frozen=True)
class Cut:
    pass


@dataclass(frozen=True)
class StatusRequest:
    """DLE EOT n: a real-time query; it prints nothing and does not end the current line."""

    n: int


Element = TextLine | QR | Barcode | RasterImage | Feed | Cut | StatusRequest


class EscPosError(DeviceError):
    """The byte stream is not valid ESC/POS of the subset we speak."""

    code = "escpos_error"

    def __init__(self, offset: int, zh: str, en: str) -> None:
        super().__init__(f"打印数据有误（第 {offset} 字节）：{zh}",
                         f"Bad ESC/POS data at byte {offset}: {en}")
        self.offset = offset


class _NeedMore(Exception):
    """The command at the cursor is not complete yet (internal to StreamParser)."""


@dataclass
class _Style:
    bold: bool = False
    double: bool = False
    align: Align = "left"
    double_byte: bool = False
    qr_data: bytes | None = None


class StreamParser:
    """Incremental parser: ``feed`` returns the elements completed so far; ``close`` ends input.

    Attributes of a line: ``align`` is the one in force at its first character (ESC a only
    acts at the start of a line on real printers); ``bold``/``double`` are set if any of its
    characters was printed so.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0                    # absolute offset of _buf[0]
        self._style = _Style()
        self._line: TextLine | None = None   # the line being received, not yet printed

    def feed(self, data: bytes, out: list[Element] | None = None) -> list[Element]:
        """Parse what is complete; elements go to ``out`` as they come (kept if this raises)."""
        self._buf += data
        out = [] if out is None else out
        pos = 0
        while pos < len(self._buf):
            try:
                pos = self._step(pos, out)
            except _NeedMore:
                break
        del self._buf[:pos]
        self._base += pos
        return out

    def close(self) -> list[Element]:
        """End of input: a command still waiting for bytes is an error; the open line prints."""
        if self._buf:
            raise EscPosError(self._base, "数据不完整，命令被截断", "truncated command")
        out: list[Element] = []
        self._flush(out)
        return out

    def _step(self, pos: int, out: list[Element]) -> int:
        b = self._buf[pos]
        if b == LF:
            self._flush(out, keep_empty=True)
            return pos + 1
        if 0x20 <= b < 0x7F:
            self._add_text(chr(b))
            return pos + 1
        if b >= 0x80:
            return self._double_byte_char(pos)
        if b in (ESC, GS, FS, DLE):
            handler = _COMMANDS.get((b, self._need(pos + 1)))
            if handler is not None:
                return handler(self, pos, out)
            name = f"0x{b:02X} 0x{self._buf[pos + 1]:02X}"
            raise self._error(pos, f"未知命令 {name}", f"unknown command {name}")
        raise self._error(pos, f"未知控制字节 0x{b:02X}", f"unknown control byte 0x{b:02X}")

    def _need(self, pos: int) -> int:
        if pos >= len(self._buf):
            raise _NeedMore
        return self._buf[pos]

    def _take(self, pos: int, n: int) -> bytes:
        if pos + n > len(self._buf):
            raise _NeedMore
        return bytes(self._buf[pos:pos + n])

    def _error(self, pos: int, zh: str, en: str) -> EscPosError:
        return EscPosError(self._base + pos, zh, en)

    # --- text -----------------------------------------------------------------------------
    def _add_text(self, text: str) -> None:
        style, line = self._style, self._line
        if line is None:
            self._line = TextLine(text, style.bold, style.double, style.align)
        else:
            self._line = replace(line, text=line.text + text, bold=line.bold or style.bold,
                                 double=line.double or style.double)

    def _flush(self, out: list[Element], keep_empty: bool = False) -> None:
        if self._line is not None:
            out.append(self._line)
        elif keep_empty:
            out.append(TextLine("", align=self._style.align))
        self._line = None

    def _double_byte_char(self, pos: int) -> int:
        lead = self._buf[pos]
        if not self._style.double_byte:
            raise self._error(pos, f"非双字节模式下出现字节 0x{lead:02X}",
                              f"byte 0x{lead:02X} outside double-byte mode (FS &)")
        second = self._need(pos + 1)
        size = 4 if 0x30 <= second <= 0x39 else 2
        raw = self._take(pos, size)
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            text = ""
        if len(text) != 1 or lead in (0x80, 0xFF):
            raise self._error(pos, f"无效的 GB18030 字符 {raw.hex(' ')}",
                              f"invalid GB18030 character {raw.hex(' ')}")
        self._add_text(text)
        return pos + size

    # --- ESC / FS / DLE -------------------------------------------------------------------
    def _init(self, pos: int, out: list[Element]) -> int:
        # ESC @ clears the print buffer on a real printer: unprinted text is lost.
        self._style, self._line = _Style(), None
        return pos + 2

    def _setting(self, pos: int, out: list[Element]) -> int:
        """ESC E n (bold), GS ! n (size); GS h / w / H (barcode height, width, HRI) are unused."""
        command, n = self._buf[pos + 1], self._need(pos + 2)
        if command == ord("E"):
            self._style.bold = bool(n & 1)
        elif command == ord("!"):
            self._style.double = bool(n & 0x77)   # any width or height magnification
        return pos + 3

    def _align(self, pos: int, out: list[Element]) -> int:
        n = self._need(pos + 2)
        if n not in (0, 1, 2, 48, 49, 50):
            raise self._error(pos, f"无效的对齐方式 {n}", f"invalid alignment {n}")
        self._style.align = _ALIGNS[n % 48]
        return pos + 3

    def _feed(self, pos: int, out: list[Element]) -> int:
        n = self._need(pos + 2)
        self._flush(out)
        out.append(Feed(n))
        return pos + 3

    def _double_byte(self, pos: int, out: list[Element]) -> int:
        self._style.double_byte = self._buf[pos + 1] == ord("&")   # FS & on, FS . off
        return pos + 2

    def _status_request(self, pos: int, out: list[Element]) -> int:
        n = self._need(pos + 2)
        if not 1 <= n <= 4:
            raise self._error(pos, f"无效的状态查询 DLE EOT {n}", f"invalid status request {n}")
        out.append(StatusRequest(n))
        return pos + 3

    # --- GS -------------------------------------------------------------------------------
    def _qr(self, pos: int, out: list[Element]) -> int:
        if self._need(pos + 2) != ord("k"):
            raise self._error(pos, "不支持的 GS ( 命令", "unsupported GS ( command")
        size = int.from_bytes(self._take(pos + 3, 2), "little")
        body = self._take(pos + 5, size)
        if size < 2 or body[0] != _QR_SYMBOL:
            raise self._error(pos, "不支持的二维码类型", "unsupported 2D symbol (QR only)")
        fn = body[1]
        if fn == 0x50:                       # store data (after the m byte)
            if size < 3:
                raise self._error(pos, "二维码数据无效", "invalid QR store command")
            self._style.qr_data = body[3:]
        elif fn == 0x51:                     # print the stored symbol
            if self._style.qr_data is None:
                raise self._error(pos, "打印二维码前未存入数据", "QR print without stored data")
            self._flush(out)
            out.append(QR(decode_payload(self._style.qr_data)))
        elif fn not in (0x41, 0x43, 0x45):   # model, module size, error correction
            raise self._error(pos, f"不支持的二维码功能 0x{fn:02X}",
                              f"unsupported QR function 0x{fn:02X}")
        return pos + 5 + size

    def _barcode(self, pos: int, out: list[Element]) -> int:
        m = self._need(pos + 2)
        if m != _CODE128:
            raise self._error(pos, f"不支持的条码类型 {m}", f"unsupported barcode type {m}")
        n = self._need(pos + 3)
        raw = self._take(pos + 4, n)
        data = self._code128_data(pos, raw)
        self._flush(out)
        out.append(Barcode("CODE128", data))
        return pos + 4 + n

    def _code128_data(self, pos: int, raw: bytes) -> str:
        prefix, rest = raw[:2], raw[2:]
        if prefix in (b"{A", b"{B") and all(b < 0x80 for b in rest):
            return rest.decode("ascii")
        if prefix == b"{C" and all(b < 100 for b in rest):
            return "".join(f"{b:02d}" for b in rest)
        raise self._error(pos, "CODE128 数据无效（缺少 {A/{B/{C 字符集）",
                          "invalid CODE128 data (needs a {A, {B or {C code set)")

    def _raster(self, pos: int, out: list[Element]) -> int:
        head = self._take(pos + 2, 6)
        if head[0] != 0x30 or head[1] not in (0, 1, 2, 3, 48, 49, 50, 51):
            raise self._error(pos, "不支持的光栅图命令", "unsupported GS v command")
        row_bytes = head[2] + head[3] * 256
        height = head[4] + head[5] * 256
        if row_bytes == 0 or height == 0:
            raise self._error(pos, "光栅图尺寸为零", "empty raster image")
        bits = self._take(pos + 8, row_bytes * height)
        self._flush(out)
        out.append(RasterImage(row_bytes * 8, height, bits))
        return pos + 8 + len(bits)

    def _cut(self, pos: int, out: list[Element]) -> int:
        m = self._need(pos + 2)          # GS V m, or GS V m n (feed n, then cut)
        if m not in _CUT_SIMPLE | _CUT_WITH_FEED:
            raise self._error(pos, f"无效的切纸方式 {m}", f"invalid cut mode {m}")
        end = pos + (4 if m in _CUT_WITH_FEED else 3)
        self._need(end - 1)
        self._flush(out)
        out.append(Cut())
        return end


_Handler = Callable[[StreamParser, int, list[Element]], int]
_COMMANDS: dict[tuple[int, int], _Handler] = {
    (ESC, ord("@")): StreamParser._init,
    (ESC, ord("E")): StreamParser._setting,
    (ESC, ord("a")): StreamParser._align,
    (ESC, ord("d")): StreamParser._feed,
    (FS, ord("&")): StreamParser._double_byte,
    (FS, ord(".")): StreamParser._double_byte,
    (DLE, EOT): StreamParser._status_request,
    (GS, ord("!")): StreamParser._setting,
    (GS, ord("h")): StreamParser._setting,
    (GS, ord("w")): StreamParser._setting,
    (GS, ord("H")): StreamParser._setting,
    (GS, ord("(")): StreamParser._qr,
    (GS, ord("k")): StreamParser._barcode,
    (GS, ord("v")): StreamParser._raster,
    (GS, ord("V")): StreamParser._cut,
}


def parse(data: bytes) -> list[Element]:
    """Parse a complete byte stream; raise EscPosError on unknown or truncated commands."""
    parser = StreamParser()
    return parser.feed(data) + parser.close()


def transcript(elements: Sequence[Element]) -> list[str]:
    """What came out, one string per printed thing (feeds and status requests leave none)."""
    lines: list[str] = []
    for element in elements:
        match element:
            case TextLine(text=text):
                lines.append(text)
            case QR(payload=payload):
                lines.append(f"[QR] {payload}")
            case Barcode(kind=kind, data=data):
                lines.append(f"[{kind}] {data}")
            case RasterImage(width=width, height=height):
                lines.append(f"[RASTER {width}×{height}]")
            case Cut():
                lines.append("[CUT]")
    return lines

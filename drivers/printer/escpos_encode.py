"""A print program → the ESC/POS bytes for one printer profile.

We encode text ourselves: python-escpos's encoder has no Chinese code page (DOMAIN.md §6).
ASCII goes out as is; everything else goes out in double-byte mode as GBK (or GB18030)
bytes. The rule for the mode is deliberately simple and stateless per line:

* ``FS &`` right before the first non-ASCII character of a run,
* ``FS .`` right before the next ASCII character (a space too) and before the line's LF.

So every line starts and ends in single-byte mode, and a reader can take any line alone.

A line holding a character the printer's font lacks (not in GBK; for GB18030 printers, any
4-byte sequence) is drawn with the TTF font and sent as a raster image — the whole line, so
it stays one line on the paper. No character is ever replaced by '?'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from drivers.printer import bitmap
from drivers.printer.program import (
    Code128,
    Columns,
    Cut,
    Feed,
    Op,
    PrinterProfile,
    QRCode,
    Raster,
    Rule,
    Text,
)
from drivers.printer.textwidth import clusters, normalize, pad, text_width, wrap

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
DOUBLE_BYTE_ON, DOUBLE_BYTE_OFF = FS + b"&", FS + b"."
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
DOUBLE_ON, DOUBLE_OFF = GS + b"!\x11", GS + b"!\x00"
ALIGN = {"left": ESC + b"a\x00", "center": ESC + b"a\x01", "right": ESC + b"a\x02"}
CUT = GS + b"V\x42\x00"                      # feed to the cutter, then a partial cut
TEAR_FEED = ESC + b"d\x04"                   # no cutter: bring the print past the tear bar
COLUMN_GAP = 1                               # blank half-width column between table cells
_BARCODE_HEIGHT = 80
_BARCODE_MODULE = 2                          # dots per narrow bar; 1 if the code is too wide


def encode(program: Sequence[Op], profile: PrinterProfile, font_path: Path) -> bytes:
    """The whole job: ``ESC @``, then each operation. ``font_path`` is only read when a
    line or a QR symbol must be drawn."""
    out = bytearray(INIT)
    for op in program:
        out += _ENCODERS[type(op)](op, profile, font_path)
    return bytes(out)


# --- text -----------------------------------------------------------------------------------

def _text(op: Text, profile: PrinterProfile, font_path: Path) -> bytes:
    scale = 2 if op.double else 1
    columns = profile.columns // scale
    indent = min(max(0, op.indent), columns // 2)          # a line keeps room for its text
    hanging = min(max(0, op.hanging), columns // 2 - indent)
    lines = wrap(normalize(op.text), columns - indent, hanging)
    body = b"".join(_line(" " * (indent + (hanging if i else 0)) + line, profile, font_path,
                          scale=scale, align=op.align, bold=op.bold)
                    for i, line in enumerate(lines))
    return _styled(body, bold=op.bold, double=op.double, align=op.align)


def _columns(op: Columns, profile: PrinterProfile, font_path: Path) -> bytes:
    body = b"".join(_line(line, profile, font_path, bold=op.bold)
                    for line in table_lines(op.cells, op.weights, profile.columns))
    return _styled(body, bold=op.bold)


def _rule(op: Rule, profile: PrinterProfile, font_path: Path) -> bytes:
    char = normalize(op.char).replace("\n", "") or "-"
    return _line(char * (profile.columns // text_width(char)), profile, font_path)


def _styled(body: bytes, *, bold: bool = False, double: bool = False,
            align: str = "left") -> bytes:
    """Only the styles that differ from the defaults, each switched back afterwards."""
    on = (ALIGN[align] if align != "left" else b"") + (BOLD_ON if bold else b"") + (
        DOUBLE_ON if double else b"")
    off = (DOUBLE_OFF if double else b"") + (BOLD_OFF if bold else b"") + (
        ALIGN["left"] if align != "left" else b"")
    return on + body + off


def table_lines(cells: Sequence[str], weights: Sequence[int], columns: int) -> list[str]:
    """A table row as printed lines: each cell wrapped in its share of the width, padded
    with spaces, cells side by side with a one-column gap."""
    widths = column_widths(weights, columns)
    if len(cells) != len(widths):
        raise ValueError(f"{len(cells)} cells but {len(widths)} weights")
    wrapped = [wrap(normalize(cell).replace("\n", " "), width - COLUMN_GAP)
               for cell, width in zip(cells, widths, strict=True)]
    rows = max(len(lines) for lines in wrapped)
    return ["".join(pad(lines[i] if i < len(lines) else "", width)
                    for lines, width in zip(wrapped, widths, strict=True)).rstrip(" ")
            for i in range(rows)]


def column_widths(weights: Sequence[int], columns: int) -> list[int]:
    """Split ``columns`` by ``weights`` (largest remainder, so the widths add up exactly).
    The last column's gap is the right margin."""
    if not weights or min(weights) <= 0:
        raise ValueError(f"weights must be positive: {weights!r}")
    total = sum(weights)
    widths = [columns * w // total for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: -(columns * weights[i] % total))
    for i in by_remainder[: columns - sum(widths)]:
        widths[i] += 1
    if min(widths) < 2 + COLUMN_GAP:
        raise ValueError(f"{len(weights)} columns do not fit {columns} characters")
    return widths


def _line(line: str, profile: PrinterProfile, font_path: Path, *, scale: int = 1,
          align: str = "left", bold: bool = False) -> bytes:
    """One wrapped line: text bytes and LF, or the drawn line if the font lacks a glyph."""
    encoded = encode_line(line, profile.charset)
    if encoded is not None:
        return encoded + LF
    picture = bitmap.draw_line(line, profile.dots_per_line, font_path, scale=scale,
                               align=align, bold=bold)
    return bitmap.raster(picture)


def encode_line(line: str, charset: str) -> bytes | None:
    """The bytes of one line with double-byte mode switched around non-ASCII runs, or
    None if any character is outside the printer's built-in font."""
    out = bytearray()
    double_byte = False
    for cluster in clusters(line):
        if len(cluster) == 1 and cluster < "\x80":
            if double_byte:
                out += DOUBLE_BYTE_OFF
                double_byte = False
            out += cluster.encode("ascii")
            continue
        code = glyph_bytes(cluster, charset)
        if code is None:
            return None
        if not double_byte:
            out += DOUBLE_BYTE_ON
            double_byte = True
        out += code
    if double_byte:
        out += DOUBLE_BYTE_OFF
    return bytes(out)


def glyph_bytes(cluster: str, charset: str) -> bytes | None:
    """A character's bytes in the printer's built-in font, if it has one. A GBK font has
    only two-byte codes; a GB18030 font (certified printers) also has the four-byte range.
    Combining sequences and private-use characters have none."""
    if len(cluster) != 1 or "\ue000" <= cluster <= "\uf8ff":
        return None
    try:
        code = cluster.encode(charset)
    except UnicodeEncodeError:
        return None
    return code if len(code) == 2 or (charset == "gb18030" and len(code) == 4) else None


# --- codes and pictures -------------------------------------------------------------------

def _qr(op: QRCode, profile: PrinterProfile, font_path: Path) -> bytes:
    if not profile.native_qr:
        picture = bitmap.qr_picture(op.payload, op.module_size, profile.dots_per_line)
        return bitmap.raster(bitmap.centred(picture, profile.dots_per_line))
    data = op.payload.encode("utf-8")
    modules = len(bitmap.qr_matrix(op.payload))
    size = max(1, min(op.module_size, 16, profile.dots_per_line // modules))
    return (ALIGN["center"]
            + _qr_command(b"\x41", b"\x32\x00")                # model 2
            + _qr_command(b"\x43", bytes([size]))              # module size in dots
            + _qr_command(b"\x45", b"\x31")                    # error correction M
            + _qr_command(b"\x50", b"\x30" + data)             # store the data
            + _qr_command(b"\x51", b"\x30")                    # print the symbol
            + ALIGN["left"])


def _qr_command(function: bytes, params: bytes) -> bytes:
    """``GS ( k pL pH cn fn params`` for the QR symbol (cn = 49)."""
    size = len(params) + 2
    if size > 0xFFFF:
        raise ValueError("QR payload too long")
    return GS + b"(k" + bytes((size & 0xFF, size >> 8)) + b"\x31" + function + params


def _code128(op: Code128, profile: PrinterProfile, font_path: Path) -> bytes:
    if not op.data or not all(" " <= ch <= "~" for ch in op.data):
        raise ValueError(f"Code128 takes printable ASCII: {op.data!r}")
    data = b"{B" + op.data.replace("{", "{{").encode("ascii")
    if len(data) > 255:
        raise ValueError("Code128 data too long")
    # start + characters + check (11 modules each), stop (13), 10 modules of quiet zone
    modules = 11 * (len(op.data) + 2) + 13 + 20
    module = _BARCODE_MODULE if modules * _BARCODE_MODULE <= profile.dots_per_line else 1
    if modules > profile.dots_per_line:
        raise ValueError(f"Code128 of {len(op.data)} characters is wider than the paper")
    return (ALIGN["center"]
            + GS + b"h" + bytes([_BARCODE_HEIGHT])
            + GS + b"w" + bytes([module])
            + GS + b"H\x02"                                   # human-readable text below
            + GS + b"k\x49" + bytes([len(data)]) + data
            + ALIGN["left"])


def _raster(op: Raster, profile: PrinterProfile, font_path: Path) -> bytes:
    picture = bitmap.open_picture(op.png)
    return bitmap.raster(bitmap.centred(picture, profile.dots_per_line))


def _feed(op: Feed, profile: PrinterProfile, font_path: Path) -> bytes:
    return ESC + b"d" + bytes([max(0, min(255, op.lines))])


def _cut(op: Cut, profile: PrinterProfile, font_path: Path) -> bytes:
    return CUT if profile.cutter else TEAR_FEED


_ENCODERS: dict[type, Callable[..., bytes]] = {
    Text: _text, Columns: _columns, Rule: _rule, QRCode: _qr, Code128: _code128,
    Raster: _raster, Feed: _feed, Cut: _cut,
}

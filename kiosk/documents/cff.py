"""Cut a CID-keyed CFF font down to a few glyphs without parsing the font again.

Why: the kiosk's Simplified-Chinese font is a 16 MB CID-keyed CFF (65k glyphs). fpdf2 parses
all of it and subsets it for every document, about 1 s per receipt. Here the font's byte
layout is read once per process (``CffSource``); a document then gets a small CFF holding only
its glyphs (``CffSource.cut``), with the original CIDs, font dicts and subroutines, which
fontTools subsets (drops unused subroutines) in milliseconds instead of a second.
Only the font is cached: the glyph set of a document lives as long as the document.

The format is Adobe's Technical Note #5176 (The Compact Font Format Specification).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from fontTools.ttLib import TTFont

from kiosk.documents.charstrings import Calls, Unexpected

# Top DICT / Font DICT / Private DICT operators whose operands are offsets (TN #5176 §9, §10).
CHARSET, CHARSTRINGS, PRIVATE, SUBRS = b"\x0f", b"\x11", b"\x12", b"\x13"
FDSELECT, FDARRAY = b"\x0c\x25", b"\x0c\x24"

Token = tuple[bytes, list[bytes]]          # (operator, operands as encoded)


class CffError(ValueError):
    """The font is not the CID-keyed CFF this cutter handles (a programming or asset error)."""


def read_index(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """The items of the INDEX at ``pos`` and the offset just past it."""
    count = int.from_bytes(data[pos:pos + 2], "big")
    if count == 0:
        return [], pos + 2
    size = data[pos + 2]
    starts = pos + 3
    offsets = [int.from_bytes(data[starts + i * size:starts + (i + 1) * size], "big")
               for i in range(count + 1)]
    base = starts + (count + 1) * size - 1
    return [data[base + a:base + b] for a, b in pairwise(offsets)], base + offsets[-1]


def write_index(items: Sequence[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    offsets = list(accumulate((len(item) for item in items), initial=1))
    # 4-byte offsets where 3 would do: one struct call instead of a loop, and the font
    # stream is compressed in the PDF anyway
    code = "B" if offsets[-1] < 1 << 8 else "H" if offsets[-1] < 1 << 16 else "I"
    return (struct.pack(f">HB{len(offsets)}{code}", len(items), struct.calcsize(code), *offsets)
            + b"".join(items))


def _operand_length(data: bytes, pos: int) -> int:
    b0 = data[pos]
    if b0 == 28:
        return 3
    if b0 == 29:
        return 5
    if b0 == 30:                    # a real: nibbles up to the end nibble 0xf
        end = pos + 1
        while data[end] & 0x0F != 0x0F and data[end] >> 4 != 0x0F:
            end += 1
        return end + 1 - pos
    if 32 <= b0 <= 246:
        return 1
    if 247 <= b0 <= 254:
        return 2
    raise CffError(f"CFF DICT 中有无法识别的字节 {b0} / unknown CFF DICT byte {b0}")


def read_dict(data: bytes) -> list[Token]:
    tokens: list[Token] = []
    operands: list[bytes] = []
    pos = 0
    while pos < len(data):
        if data[pos] <= 21:
            width = 2 if data[pos] == 12 else 1
            tokens.append((data[pos:pos + width], operands))
            operands, pos = [], pos + width
        else:
            width = _operand_length(data, pos)
            operands.append(data[pos:pos + width])
            pos += width
    return tokens


def write_dict(tokens: Iterable[Token]) -> bytes:
    return b"".join(b"".join(operands) + op for op, operands in tokens)


def decode_int(operand: bytes) -> int:
    b0 = operand[0]
    if b0 == 28:
        return int(struct.unpack(">h", operand[1:3])[0])
    if b0 == 29:
        return int(struct.unpack(">i", operand[1:5])[0])
    if 32 <= b0 <= 246:
        return b0 - 139
    if 247 <= b0 <= 250:
        return (b0 - 247) * 256 + operand[1] + 108
    if 251 <= b0 <= 254:
        return -(b0 - 251) * 256 - operand[1] - 108
    raise CffError("CFF DICT 中应为整数 / an integer was expected in a CFF DICT")


def fixed_int(value: int) -> bytes:
    """Five bytes whatever the value, so a DICT's length is known before its offsets are."""
    return b"\x1d" + struct.pack(">i", value)


def _replace(tokens: list[Token], values: dict[bytes, list[int]]) -> list[Token]:
    return [(op, [fixed_int(v) for v in values[op]] if op in values else operands)
            for op, operands in tokens]


@dataclass(frozen=True)
class _FontDict:
    tokens: list[Token]            # the Font DICT (FontName, Private, ...)
    private: list[Token]           # its Private DICT
    subrs: list[bytes]             # its local subroutines


@dataclass(frozen=True)
class CffSource:
    """The parts of one CID-keyed CFF table that every cut reuses: font data only."""

    head: bytes                    # header + Name INDEX
    top: list[Token]
    strings: bytes                 # the String INDEX, as stored
    gsubrs: list[bytes]
    charstrings: list[bytes]       # by glyph id
    cids: Sequence[int]            # by glyph id
    fd_of_glyph: Sequence[int]     # by glyph id
    font_dicts: list[_FontDict]

    @classmethod
    def from_font(cls, font: TTFont) -> CffSource:
        data = font.reader["CFF "]
        top_dict = font["CFF "].cff.topDictIndex[0]
        if not hasattr(top_dict, "ROS"):
            raise CffError("字体不是 CID 字体 / the font is not CID-keyed")
        names_end = read_index(data, data[2])[1]
        tops, strings_at = read_index(data, names_end)
        top = read_dict(tops[0])
        globals_at = read_index(data, strings_at)[1]
        offsets = {op: operands for op, operands in top}
        charstrings = read_index(data, decode_int(offsets[CHARSTRINGS][0]))[0]
        fd_items = read_index(data, decode_int(offsets[FDARRAY][0]))[0]
        order = font.getGlyphOrder()
        return cls(head=data[:names_end], top=top,
                   strings=data[strings_at:globals_at], gsubrs=read_index(data, globals_at)[0],
                   charstrings=charstrings,
                   cids=[0] + [int(name[3:]) for name in order[1:]],
                   fd_of_glyph=list(top_dict.FDSelect.gidArray),
                   font_dicts=[_read_font_dict(data, item) for item in fd_items])

    def cut(self, gids: Iterable[int]) -> bytes:
        """A CFF table with glyph 0 and ``gids`` (original glyph ids, in that order) and
        the subroutines they call (the others left empty, so the numbers stay)."""
        glyphs = [0, *sorted(set(gids) - {0})]
        used = sorted({self.fd_of_glyph[g] for g in glyphs})
        gsubrs, lsubrs = self._subroutines(glyphs, used)
        new_fd = {fd: i for i, fd in enumerate(used)}
        charset = b"\x00" + b"".join(struct.pack(">H", self.cids[g]) for g in glyphs[1:])
        fdselect = b"\x00" + bytes(new_fd[self.fd_of_glyph[g]] for g in glyphs)
        charstrings = write_index([self.charstrings[g] for g in glyphs])
        top_length = len(write_index([write_dict(_replace(self.top, _zero_offsets()))]))
        globals_index = write_index(gsubrs)
        at = len(self.head) + top_length + len(self.strings) + len(globals_index)
        body, offsets = [charset, fdselect, charstrings], {CHARSET: [at]}
        offsets[FDSELECT] = [at + len(charset)]
        offsets[CHARSTRINGS] = [offsets[FDSELECT][0] + len(fdselect)]
        fd_array_at = offsets[CHARSTRINGS][0] + len(charstrings)
        offsets[FDARRAY] = [fd_array_at]
        body.append(self._font_dicts([self.font_dicts[fd] for fd in used], lsubrs, fd_array_at))
        top = write_index([write_dict(_replace(self.top, offsets))])
        return self.head + top + self.strings + globals_index + b"".join(body)

    def _subroutines(self, glyphs: list[int],
                     fds: list[int]) -> tuple[list[bytes], list[list[bytes]]]:
        """The global and (per font dict in ``fds``) local subroutines, unused ones empty."""
        calls = {fd: Calls(self.gsubrs, self.font_dicts[fd].subrs) for fd in fds}
        try:
            for g in glyphs:
                calls[self.fd_of_glyph[g]].glyph(self.charstrings[g])
        except Unexpected:      # a charstring this walk cannot follow: keep everything
            return self.gsubrs, [self.font_dicts[fd].subrs for fd in fds]
        global_used = set().union(*(c.global_used for c in calls.values()))
        return (_keep(self.gsubrs, global_used),
                [_keep(self.font_dicts[fd].subrs, calls[fd].local_used) for fd in fds])

    @staticmethod
    def _font_dicts(dicts: list[_FontDict], lsubrs: list[list[bytes]], at: int) -> bytes:
        """The FDArray INDEX at ``at``, then each Private DICT followed by its Subrs."""
        sizes = [len(write_dict(_replace(d.tokens, {PRIVATE: [0, 0]}))) for d in dicts]
        index_length = len(write_index([b"\x00" * size for size in sizes]))
        privates, fonts = [], []
        private_at = at + index_length
        for entry, subrs in zip(dicts, lsubrs, strict=True):
            has_subrs = any(op == SUBRS for op, _ in entry.private)
            length = len(write_dict(_replace(entry.private, {SUBRS: [0]})))
            private = write_dict(_replace(entry.private, {SUBRS: [length]})) \
                if has_subrs else write_dict(entry.private)
            fonts.append(write_dict(_replace(entry.tokens,
                                             {PRIVATE: [len(private), private_at]})))
            subrs_index = write_index(subrs) if has_subrs else b""
            privates.append(private + subrs_index)
            private_at += len(private) + len(subrs_index)
        return write_index(fonts) + b"".join(privates)


def _keep(subrs: list[bytes], used: set[int]) -> list[bytes]:
    """``subrs`` with the unused ones emptied, and cut after the last used one as far as
    the count keeps its bias (the callers' numbers are relative to it, TN #5177 §4.7)."""
    count = len(subrs)
    floor = 0 if count < 1240 else 1240 if count < 33900 else 33900
    length = min(count, max(floor, max(used, default=-1) + 1))
    return [subrs[i] if i in used else b"" for i in range(length)]


def _zero_offsets() -> dict[bytes, list[int]]:
    return {CHARSET: [0], FDSELECT: [0], CHARSTRINGS: [0], FDARRAY: [0]}


def _read_font_dict(data: bytes, raw: bytes) -> _FontDict:
    tokens = read_dict(raw)
    size, at = (decode_int(v) for v in dict(tokens)[PRIVATE])
    private = read_dict(data[at:at + size])
    subrs: list[bytes] = []
    for op, operands in private:
        if op == SUBRS:
            subrs = read_index(data, at + decode_int(operands[0]))[0]
    return _FontDict(tokens, private, subrs)

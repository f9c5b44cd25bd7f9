"""Zips written byte by byte, for tests of readers of untrusted archives: duplicate names,
lying sizes, odd names and zip bombs, which ``zipfile``'s writer will not make."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes                  # as stored in the zip (compressed when method is 8)
    method: int = 0
    crc: int = -1                # -1: the crc of data
    size: int = -1               # the uncompressed size it declares; -1: len(data)

    @classmethod
    def stored(cls, name: str, data: bytes) -> Member:
        return cls(name, data)


def raw_zip(members: list[Member], *, comment: bytes = b"") -> bytes:
    """A zip written byte by byte: duplicate names, lying sizes and odd names all allowed."""
    out, central = io.BytesIO(), io.BytesIO()
    for m in members:
        name = m.name.encode("utf-8", "surrogatepass")
        crc = zlib.crc32(m.data) if m.crc < 0 else m.crc
        size = len(m.data) if m.size < 0 else m.size
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, m.method, 0, 0x21, crc,
                              len(m.data), size, len(name), 0) + name + m.data)
        central.write(struct.pack("<4s6H3L5HLL", b"PK\x01\x02", 20, 20, 0x800, m.method, 0,
                                  0x21, crc, len(m.data), size, len(name), 0, 0, 0, 0, 0,
                                  offset) + name)
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                          len(directory), start, len(comment)) + comment)
    return out.getvalue()


@cache
def _zero_block() -> bytes:
    """1 MiB of zeros as one raw-deflate block that starts afresh (a full flush)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)


@cache
def _zeros_crc(mib: int) -> int:
    crc, block = 0, bytes(1 << 20)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return crc


def bomb(name: str, mib: int, *, declared_mib: int | None = None) -> Member:
    """``mib`` MiB of zeros in about a thousandth of that: the deflate block repeated."""
    stream = _zero_block() * mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return Member(name, stream, 8, _zeros_crc(mib), (declared_mib or mib) << 20)

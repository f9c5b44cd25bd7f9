"""BER-TLV as ISO 7816-4 and ICAO 9303 use it: multi-byte tags, definite lengths up to four
bytes. Parsing raises only :class:`BadCardReply`."""

from __future__ import annotations

from collections.abc import Iterator

from drivers.identity.emrtd.errors import BadCardReply


def read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """The (tag, value, next offset) of the TLV object starting at ``offset``."""
    tag, pos = _tag(data, offset)
    length, pos = read_length(data, pos)
    end = pos + length
    if end > len(data):
        raise BadCardReply(f"TLV {tag:X} runs {end - len(data)} bytes past its data")
    return tag, data[pos:end], end


def header_size(data: bytes) -> tuple[int, int]:
    """(header bytes, value length) of the object at the start of ``data``: how much of a
    file there is, from its first few bytes."""
    _, pos = _tag(data, 0)
    length, pos = read_length(data, pos)
    return pos, length


def items(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Every top-level (tag, value) in ``data``, in order."""
    offset = 0
    while offset < len(data):
        tag, value, offset = read(data, offset)
        yield tag, value


def find(data: bytes, *path: int) -> bytes:
    """The value at ``path`` (one tag per level), or BadCardReply naming the missing tag."""
    for tag in path:
        for found, value in items(data):
            if found == tag:
                data = value
                break
        else:
            raise BadCardReply(f"TLV {tag:X} missing")
    return data


def encode(tag: int, value: bytes) -> bytes:
    return tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big") + encode_length(len(value)) + value


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise BadCardReply("TLV tag missing")
    start, tag = pos, data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:                       # the tag number continues
        while True:
            if pos >= len(data) or pos - start >= 4:
                raise BadCardReply("TLV tag truncated")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not tag & 0x80:
                break
    return tag, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise BadCardReply("TLV length missing")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4 or pos + count > len(data):
        raise BadCardReply("TLV length malformed")
    return int.from_bytes(data[pos:pos + count], "big"), pos + count

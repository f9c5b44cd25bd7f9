"""The DER (ASN.1) pieces EF.SOD and master lists are made of, on top of :mod:`tlv`: object
identifiers, integers, and elements with their whole encoding (a signature covers the bytes
as they were sent, never a re-encoding). Parsing raises only :class:`BadCardReply`."""

from __future__ import annotations

from drivers.identity.emrtd import tlv
from drivers.identity.emrtd.errors import BadCardReply

SEQUENCE, SET, INTEGER, OCTET_STRING, OID, NULL = 0x30, 0x31, 0x02, 0x04, 0x06, 0x05


def elements(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """Every top-level (tag, value, whole encoding) in ``data``, in order."""
    out, offset = [], 0
    while offset < len(data):
        tag, value, end = tlv.read(data, offset)
        out.append((tag, value, data[offset:end]))
        offset = end
    return out


def expect(data: bytes, tag: int, what: str) -> bytes:
    """The value of ``data``, a single element tagged ``tag``."""
    found = elements(data)
    if len(found) != 1 or found[0][0] != tag:
        raise BadCardReply(f"{what} is not tagged {tag:X}")
    return found[0][1]


def oid(value: bytes) -> str:
    """An OBJECT IDENTIFIER's content octets in dotted form."""
    if not value or value[-1] & 0x80:
        raise BadCardReply("OID empty or truncated")
    first = value[0]
    top = min(first // 40, 2) if first < 0x80 else 2
    arcs: list[int] = []
    current = 0
    for byte in value:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    arcs[0:1] = [top, arcs[0] - 40 * top]
    return ".".join(map(str, arcs))


def integer_value(value: bytes) -> int:
    if not value:
        raise BadCardReply("INTEGER without content")
    return int.from_bytes(value, "big", signed=True)


# --- encoding -----------------------------------------------------------------------------
def encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = b""
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv.encode(OID, out)


def integer(value: int) -> bytes:
    return tlv.encode(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big",
                                              signed=True))


def sequence(*parts: bytes) -> bytes:
    return tlv.encode(SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """A DER SET OF: its elements in the order of their encodings."""
    return tlv.encode(SET, b"".join(sorted(parts)))


def octets(value: bytes) -> bytes:
    return tlv.encode(OCTET_STRING, value)


def tagged(number: int, inner: bytes) -> bytes:
    """A constructed context-specific [number] (EXPLICIT around, or IMPLICIT as, ``inner``)."""
    return tlv.encode(0xA0 | number, inner)

"""What an eMRTD's Answer To Reset says about APDU lengths (ISO/IEC 7816-3 §8.2 and 7816-4
§12.1.1): the historical bytes' card capabilities tell whether it takes extended Lc/Le."""

from __future__ import annotations

_CAPABILITIES = 0x7                 # compact-TLV tag "card capabilities"
EXTENDED_LENGTH = 0x40              # third software function table: extended Lc and Le
LENGTH_INFO_IN_EF = 0x20            # ... and their limits are in EF.ATR/INFO


def historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of ``atr``; empty when the ATR is too short to say."""
    if len(atr) < 2:
        return b""
    count, y, pos = atr[1] & 0x0F, atr[1] >> 4, 2
    while True:
        pos += bin(y & 0x7).count("1")            # TA, TB, TC of this round
        if not y & 0x8:                           # no TD: interface bytes end here
            break
        if pos >= len(atr):
            return b""
        y = atr[pos] >> 4
        pos += 1
    return bytes(atr[pos:pos + count])


def capabilities(atr: bytes) -> int:
    """The card capabilities' third byte (0 when absent)."""
    hist = historical_bytes(atr)
    if not hist or hist[0] not in (0x00, 0x80):   # only the compact-TLV categories
        return 0
    pos = 1
    while pos < len(hist):
        tag, length = hist[pos] >> 4, hist[pos] & 0x0F
        value = hist[pos + 1:pos + 1 + length]
        if tag == _CAPABILITIES and len(value) >= 3:
            return value[2]
        pos += 1 + length
    return 0


def build(capability: int) -> bytes:
    """An ATR for T=1 whose historical bytes state ``capability`` (the emulator's)."""
    hist = bytes([0x80, 0x73, 0x00, 0x00, capability])
    body = bytes([0x80 | len(hist), 0x80, 0x01]) + hist    # T0, TD1 (T=0, TD2), TD2 (T=1)
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes([tck])

"""Secure messaging (ICAO 9303 part 11 §9.8) with the BAC session keys: DO87 carries the
encrypted data, DO97 the expected length, DO99 the status, DO8E the MAC over the send
sequence counter and all of them. Both sides increment the counter once per command and
once per response; a MAC that fails ends the channel on either side."""

from __future__ import annotations

import hmac

from drivers.identity.emrtd import crypto, tlv
from drivers.identity.emrtd.apdu import SHORT_MAX, Command
from drivers.identity.emrtd.bac import SessionKeys
from drivers.identity.emrtd.errors import BadCardReply

_SM_CLA = 0x0C
_MAC_LEN = 8


class SecureChannel:
    """One BAC session's keys and counter. ``protect``/``unprotect`` are the terminal's side,
    ``open_command``/``seal_response`` the card's."""

    def __init__(self, keys: SessionKeys) -> None:
        self.keys = keys
        self.ssc = keys.ssc

    def _next(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << 64)
        return self.ssc.to_bytes(8, "big")

    def _mac(self, ssc: bytes, data: bytes) -> bytes:
        return crypto.mac(self.keys.mac, ssc + data)

    # --- terminal -------------------------------------------------------------------------
    def protect(self, command: Command) -> bytes:
        """The protected APDU for ``command``: extended when what it asks for would not fit
        a short response once wrapped."""
        header = bytes([command.cla | _SM_CLA, command.ins, command.p1, command.p2])
        body = b""
        if command.data:
            body += tlv.encode(0x87, b"\x01" + crypto.encrypt(self.keys.enc,
                                                              crypto.pad(command.data)))
        if command.le is not None:
            le = command.le % 65536 if command.le > SHORT_MAX else command.le % 256
            body += tlv.encode(0x97, le.to_bytes(2 if command.le > SHORT_MAX else 1, "big"))
        ssc = self._next()
        body += tlv.encode(0x8E, self._mac(ssc, crypto.pad(header) + body))
        extended = len(body) > 255 or (command.le is not None and
                                       command.le + wrap_overhead(command.le) > SHORT_MAX)
        return Command(header[0], header[1], header[2], header[3], body,
                       le=65536 if extended else 256).to_bytes(extended)

    def unprotect(self, data: bytes, sw: int) -> tuple[bytes, int]:
        """Check and open a protected response: (plain data, the card's status word)."""
        ssc = self._next()
        found: dict[int, bytes] = {}
        macced = b""
        for tag, value in tlv.items(data):
            if tag in (0x87, 0x99):
                macced += tlv.encode(tag, value)
            found[tag] = value
        if 0x8E not in found or 0x99 not in found:
            raise BadCardReply(f"protected response without MAC or status (SW {sw:04X})")
        if not hmac.compare_digest(self._mac(ssc, macced)[:_MAC_LEN], found[0x8E]):
            raise BadCardReply("protected response MAC fails")
        status = found[0x99]
        if len(status) != 2:
            raise BadCardReply("protected status is not two bytes")
        plain = b""
        if 0x87 in found:
            encrypted = found[0x87]
            if encrypted[:1] != b"\x01":
                raise BadCardReply("protected data without padding indicator")
            plain = crypto.unpad(crypto.decrypt(self.keys.enc, encrypted[1:]))
        return plain, int.from_bytes(status, "big")

    # --- card -----------------------------------------------------------------------------
    def open_command(self, command: Command) -> Command:
        """The plain command inside a protected one; BadCardReply when its MAC fails."""
        ssc = self._next()
        objects = list(tlv.items(command.data))
        found = dict(objects)
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        macced = b"".join(tlv.encode(t, v) for t, v in objects if t != 0x8E)
        if 0x8E not in found or not hmac.compare_digest(
                self._mac(ssc, crypto.pad(header) + macced)[:_MAC_LEN], found[0x8E]):
            raise BadCardReply("protected command MAC fails")
        data = b""
        if 0x87 in found:
            data = crypto.unpad(crypto.decrypt(self.keys.enc, found[0x87][1:]))
        le = None
        if 0x97 in found:
            le = int.from_bytes(found[0x97], "big") or (65536 if len(found[0x97]) == 2 else 256)
        return Command(command.cla & ~_SM_CLA, command.ins, command.p1, command.p2, data, le)

    def seal_response(self, data: bytes, sw: int) -> bytes:
        ssc = self._next()
        body = b""
        if data:
            body += tlv.encode(0x87, b"\x01" + crypto.encrypt(self.keys.enc, crypto.pad(data)))
        body += tlv.encode(0x99, sw.to_bytes(2, "big"))
        return body + tlv.encode(0x8E, self._mac(ssc, body)) + b"\x90\x00"


def wrap_overhead(plain: int) -> int:
    """How many bytes a protected response of ``plain`` data bytes takes (without SW)."""
    tail = 4 + 2 + _MAC_LEN                       # DO99 and DO8E
    if not plain:
        return tail
    inner = 1 + (plain // 8 + 1) * 8
    return len(tlv.encode(0x87, bytes(inner))) + tail - plain


def largest_read(max_response: int) -> int:
    """The most plain bytes one protected READ BINARY can carry in ``max_response`` bytes."""
    n = max_response - wrap_overhead(max_response) + 8     # a few steps above the answer
    while n > 0 and n + wrap_overhead(n) > max_response:
        n -= 1
    return n

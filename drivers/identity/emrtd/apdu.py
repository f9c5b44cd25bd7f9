"""ISO 7816-4 command and response APDUs, short and extended, both ways: the reader builds
commands and splits responses; the emulator parses commands. Parsing raises only
:class:`BadCardReply`."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.identity.emrtd.errors import BadCardReply

SHORT_MAX = 256                 # Le 00 asks for up to 256 bytes in a short APDU
EXTENDED_MAX = 65536            # Le 0000 in an extended APDU

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282         # fewer bytes than asked for: the file ends there
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_NO_CURRENT_EF = 0x6986
SW_SM_DATA_MISSING = 0x6987
SW_SM_DATA_WRONG = 0x6988
SW_NOT_FOUND = 0x6A82
SW_WRONG_PARAMS = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None        # expected response bytes; None: none expected

    @property
    def extended(self) -> bool:
        return len(self.data) > 255 or (self.le is not None and self.le > SHORT_MAX)

    def to_bytes(self, extended: bool | None = None) -> bytes:
        """Encode; ``extended`` forces the long form (a protected APDU must ask with Le 0000
        when the plain read it carries wants more than 256 bytes)."""
        long_form = self.extended if extended is None else extended
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if long_form:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = 0 if self.le >= EXTENDED_MAX else self.le
                out += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
            return out
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([0 if self.le >= SHORT_MAX else self.le])
        return out


def parse_command(raw: bytes) -> Command:
    """The four ISO 7816-3 cases, short or extended."""
    if len(raw) < 4:
        raise BadCardReply("command APDU shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:                                               # case 1
        return Command(cla, ins, p1, p2)
    if len(body) == 1:                                         # case 2 short
        return Command(cla, ins, p1, p2, le=body[0] or SHORT_MAX)
    if body[0] != 0:                                           # cases 3 and 4 short
        lc = body[0]
        if len(body) == 1 + lc:
            return Command(cla, ins, p1, p2, body[1:])
        if len(body) == 2 + lc:
            return Command(cla, ins, p1, p2, body[1:-1], body[-1] or SHORT_MAX)
        raise BadCardReply("short command APDU length does not add up")
    if len(body) == 3:                                         # case 2 extended
        return Command(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or EXTENDED_MAX)
    lc = int.from_bytes(body[1:3], "big")
    if lc and len(body) == 3 + lc:                             # case 3 extended
        return Command(cla, ins, p1, p2, body[3:])
    if lc and len(body) == 5 + lc:                             # case 4 extended
        le = int.from_bytes(body[-2:], "big") or EXTENDED_MAX
        return Command(cla, ins, p1, p2, body[3:-2], le)
    raise BadCardReply("extended command APDU length does not add up")


def is_extended(raw: bytes) -> bool:
    """Whether a command APDU is in the extended form: after the header, a zero byte leads
    an extended Lc or Le (a short Lc is never zero, and a short Le alone is the last byte)."""
    return len(raw) > 5 and raw[4] == 0


def split_response(raw: bytes) -> tuple[bytes, int]:
    """(data, SW1SW2) of a response APDU."""
    if len(raw) < 2:
        raise BadCardReply("response APDU shorter than its status word")
    return bytes(raw[:-2]), int.from_bytes(raw[-2:], "big")


def response(data: bytes, sw: int) -> bytes:
    return data + sw.to_bytes(2, "big")

"""GA/T 467 framing: ``AA AA AA 96 69 | LEN | body | CHK``.

LEN is two bytes, big-endian, and counts the body and the checksum. A command's body is
``CMD PARA DATA``; a response's is ``SW1 SW2 SW3 DATA``. CHK is the XOR of LEN, the body
(every byte after the preamble but itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from drivers.errors import DeviceError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MAX_LEN = 4096            # longest body + checksum a module sends (text+photo+fingerprints)


class Command(Enum):
    """(CMD, PARA) of the commands we send."""

    RESET = (0x10, 0xFF)
    STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND = (0x20, 0x01)
    SELECT = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_ADDRESS = (0x30, 0x03)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)


class FrameError(DeviceError):
    """Bytes on the line that are not a well-formed frame (noise, a cut cable, a bad module)."""

    code = "ga467_bad_frame"

    def __init__(self, detail: str) -> None:
        super().__init__("读卡模块返回的数据有误",
                         f"The card module sent a malformed frame: {detail}")
        self.detail = detail


class FrameTimeout(DeviceError):
    """The module did not answer in time."""

    code = "ga467_timeout"

    def __init__(self) -> None:
        super().__init__("读卡模块无响应，请联系现场工作人员",
                         "The card module does not answer: please call staff")


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes


def checksum(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([checksum(length + body)])


def encode_command(command: Command, data: bytes = b"") -> bytes:
    cmd, para = command.value
    return _frame(bytes([cmd, para]) + data)


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1, sw2, sw3]) + data)


def split_frame(frame: bytes) -> bytes:
    """The body of one complete frame, checked; raises FrameError."""
    if not frame.startswith(PREAMBLE):
        raise FrameError("no preamble")
    if len(frame) < len(PREAMBLE) + 3:
        raise FrameError("too short")
    length = int.from_bytes(frame[5:7], "big")
    if length < 1 or length > MAX_LEN:
        raise FrameError(f"length {length} out of range")
    if len(frame) != 7 + length:
        raise FrameError(f"length says {length} bytes, got {len(frame) - 7}")
    if checksum(frame[5:-1]) != frame[-1]:
        raise FrameError("checksum mismatch")
    return frame[7:-1]


def decode_response(frame: bytes) -> Response:
    body = split_frame(frame)
    if len(body) < 3:
        raise FrameError("response without status words")
    return Response(body[0], body[1], body[2], body[3:])


def decode_command(frame: bytes) -> tuple[Command | None, int, int, bytes]:
    """(command or None if unknown, CMD, PARA, DATA) — for the emulator."""
    body = split_frame(frame)
    if len(body) < 2:
        raise FrameError("command without CMD and PARA")
    known = {c.value: c for c in Command}
    return known.get((body[0], body[1])), body[0], body[1], body[2:]


def read_frame(read: Callable[[int], bytes], timeout: float,
               clock: Callable[[], float] = time.monotonic) -> bytes:
    """Read one frame from a byte stream (``read(n)`` returns up to n bytes, b"" on a
    timeout of its own). Bytes before the preamble are line noise and skipped. Raises
    FrameTimeout when no complete frame arrives within ``timeout`` seconds."""
    deadline = clock() + timeout
    buf = b""

    def need(n: int) -> bytes:
        nonlocal buf
        while len(buf) < n:
            if clock() >= deadline:
                raise FrameTimeout()
            buf += read(n - len(buf))
        chunk, buf = buf[:n], buf[n:]
        return chunk

    window = b""
    while window != PREAMBLE:               # slide over noise until the preamble
        window = (window + need(1))[-len(PREAMBLE):]
    length_bytes = need(2)
    length = int.from_bytes(length_bytes, "big")
    if length < 1 or length > MAX_LEN:
        raise FrameError(f"length {length} out of range")
    return PREAMBLE + length_bytes + need(length)

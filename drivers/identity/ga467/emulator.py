"""A GA/T 467 ID-card module, emulated: it answers the real protocol on a pty or a TCP port,
so the real reader backend (pyserial) is tested through a real transport.

Cards are Identities (from the emulated reader's TOML file); a script places and pulls them
and injects faults. Like a real module, it halts a card once read: finding it again needs it
lifted and put back. Responses are paced at the line's baud rate, as the wire would.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from drivers.faults import Faults, names_of
from drivers.identity import Identity
from drivers.identity.ga467 import frame, status
from drivers.identity.ga467.frame import Command, FrameError, FrameTimeout
from drivers.identity.ga467.photo import WLT_LEN
from drivers.identity.ga467.text import build_text

Ga467Fault = Literal["checksum_error", "no_card", "card_removed_mid_read", "sam_failure",
                     "silence"]
SAM_ID = bytes.fromhex("0500010046b532016d130c0001000000")
IDLE_S = 0.05


@dataclass
class EmulatedCard:
    identity: Identity
    wlt: bytes = b""                                  # 1024 bytes; a pattern when empty
    fingerprints: bytes = b""
    extra_addresses: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)   # text fields Identity lacks

    def photo(self) -> bytes:
        if self.wlt:
            return self.wlt.ljust(WLT_LEN, b"\0")[:WLT_LEN]
        return b"WLf" + bytes(i % 251 for i in range(WLT_LEN - 3))


class Ga467Module:
    """The module's behaviour: one command frame in, one response frame out (or silence)."""

    def __init__(self, baudrate: int = 115200, pace: bool = True) -> None:
        self.baudrate, self.pace = baudrate, pace
        self._lock = threading.Lock()
        self._card: EmulatedCard | None = None
        self._halted = False                  # read once: not found until lifted
        self._faults = Faults("ga467 module", names_of(Ga467Fault))
        self.commands: list[Command | None] = []    # what it was asked, for tests
        self.bytes_in = self.bytes_out = 0          # on the wire, for benchmarks

    # --- scripting ------------------------------------------------------------------------
    def present(self, card: EmulatedCard | Identity) -> None:
        with self._lock:
            self._card = card if isinstance(card, EmulatedCard) else EmulatedCard(card)
            self._halted = False

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._halted = False

    def inject(self, fault: Ga467Fault) -> None:
        self._faults.inject(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    # --- protocol -------------------------------------------------------------------------
    def respond(self, request: bytes) -> bytes | None:
        with self._lock:
            if "silence" in self._faults:
                return None
            try:
                command, _cmd, _para, _data = frame.decode_command(request)
            except FrameError:
                return frame.encode_response(status.CHECKSUM_ERROR)
            self.commands.append(command)
            reply = self._answer(command)
            if self._faults.consume("checksum_error"):          # one garbled frame
                reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
            return reply

    def _answer(self, command: Command | None) -> bytes:
        sam_ok = "sam_failure" not in self._faults
        if command is None:
            return frame.encode_response(0x21)
        if command in (Command.RESET, Command.STATUS):
            return frame.encode_response(status.OK if sam_ok else status.SAM_SELF_TEST_FAILED)
        if not sam_ok:
            return frame.encode_response(status.SAM_SELF_TEST_FAILED)
        if command is Command.SAM_ID:
            return frame.encode_response(status.OK, SAM_ID)
        card = self._card
        # a card read once stays selected for the appended address, but no new find sees it
        halted = self._halted and command in (Command.FIND, Command.SELECT)
        if card is None or halted or "no_card" in self._faults:
            return frame.encode_response(status.NOT_FOUND if command is Command.FIND
                                         else status.SELECT_FAILED if command is Command.SELECT
                                         else status.READ_FAILED)
        if command is Command.FIND:
            return frame.encode_response(status.FOUND, bytes(4))
        if command is Command.SELECT:
            return frame.encode_response(status.OK, bytes(8))
        if command is Command.READ_ADDRESS:
            if not card.extra_addresses:
                return frame.encode_response(status.NO_CONTENT)
            data = b"".join(a.ljust(35).encode("utf-16-le") for a in card.extra_addresses[:4])
            return frame.encode_response(status.OK, data)
        if self._faults.consume("card_removed_mid_read"):      # lifted while being read
            self._card = None
            return frame.encode_response(status.READ_FAILED)
        text, photo = build_text(card.identity, card.extra), card.photo()
        self._halted = True
        data = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
        if command is Command.READ_TEXT_PHOTO_FINGERPRINT:
            data += len(card.fingerprints).to_bytes(2, "big")
            return frame.encode_response(status.OK, data + text + photo + card.fingerprints)
        return frame.encode_response(status.OK, data + text + photo)

    # --- serving --------------------------------------------------------------------------
    def serve(self, read: Callable[[int], bytes], write: Callable[[bytes], object],
              stop: threading.Event) -> None:
        """Answer frames from ``read`` until ``stop`` is set or the line closes (EOFError)."""
        while not stop.is_set():
            try:
                request = frame.read_frame(read, timeout=IDLE_S * 4)
            except (FrameTimeout, FrameError):   # quiet line, or noise: wait for a preamble
                continue
            reply = self.respond(request)
            if reply is None:
                continue
            self.bytes_in += len(request)
            self.bytes_out += len(reply)
            if self.pace:   # both frames' time on an 8N1 line (ten bits a byte): a pty has none
                time.sleep((len(request) + len(reply)) * 10 / self.baudrate)
            write(reply)


class PtyModule:
    """The module on a pseudo-terminal: open ``port`` (the slave's path) with pyserial."""

    def __init__(self, module: Ga467Module) -> None:
        self.module = module
        self._master, slave = os.openpty()
        tty.setraw(slave)                       # no line discipline: bytes pass untouched
        self.port = os.ttyname(slave)
        self._slave = slave                     # kept open so the pty lives between opens
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ga467-pty", daemon=True)
        self._thread.start()

    def _read(self, n: int) -> bytes:
        ready, _, _ = select.select([self._master], [], [], IDLE_S)
        if not ready:
            return b""
        try:
            return os.read(self._master, n)
        except OSError:                          # the client side closed: wait for the next
            time.sleep(IDLE_S)
            return b""

    def _run(self) -> None:
        self.module.serve(self._read, lambda data: os.write(self._master, data), self._stop)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class TcpModule:
    """The module behind a serial-over-TCP server: ``socket://127.0.0.1:<port>``."""

    def __init__(self, module: Ga467Module, host: str = "127.0.0.1", port: int = 0) -> None:
        self.module = module
        self._server = socket.create_server((host, port))
        self._server.settimeout(IDLE_S * 4)
        self.port = self._server.getsockname()[1]
        self.url = f"socket://{host}:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ga467-tcp", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(IDLE_S)

                def read(n: int, conn: socket.socket = conn) -> bytes:
                    try:
                        data = conn.recv(n)
                    except TimeoutError:
                        return b""
                    if not data:
                        raise EOFError
                    return data

                with contextlib.suppress(OSError, EOFError):
                    self.module.serve(read, conn.sendall, self._stop)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)

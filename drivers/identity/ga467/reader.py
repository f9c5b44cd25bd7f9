"""The resident ID-card reader: a GA/T 467 security module on a serial line (pyserial).

The port is opened with ``serial_for_url``, so the same code runs on ``/dev/ttyUSB0``, a pty,
``socket://host:port`` or ``spy://...``. A poll thread looks for cards between reads (one
find every ``poll_s``, never a busy loop) and reports ``card_inserted`` / ``card_removed``;
``read`` takes the line for the whole find → select → read exchange.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import replace
from typing import Any

import serial

from drivers.errors import DeviceError, DeviceFault
from drivers.identity import (
    CardDataInvalid,
    CardNotFound,
    CardReadFailed,
    CardRemoved,
    Identity,
    MrzKey,
)
from drivers.identity.ga467 import frame, status
from drivers.identity.ga467.frame import Command, FrameError, FrameTimeout, Response
from drivers.identity.ga467.photo import PhotoDecodeFailed, PhotoDecoder
from drivers.identity.ga467.text import TEXT_LEN, BadTextBlock, parse_text
from drivers.identity.validate import first_problem
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

log = logging.getLogger(__name__)
_LINE_TROUBLE = ("no answer", "line lost")


class Ga467Reader:
    """An IdentityReader for GA/T 467 modules. ``retries`` bounds resending a command whose
    frame was garbled on the line (either way); ``fingerprint`` reads with 3010."""

    def __init__(self, url: str, baudrate: int = 115200, response_timeout: float = 1.5,
                 retries: int = 2, poll_s: float = 0.25, fingerprint: bool = False,
                 photo_decoder: PhotoDecoder | None = None,
                 name: str = "identity.ga467") -> None:
        self.name, self.url, self.baudrate = name, url, baudrate
        self.response_timeout, self.retries, self.poll_s = response_timeout, retries, poll_s
        self.fingerprint, self.photo_decoder = fingerprint, photo_decoder
        self._line = threading.RLock()          # one exchange at a time on the wire
        self._port: Any = None
        self._reporter = StatusReporter(name)
        self._present = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.sam_id = ""

    # --- IdentityReader -------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        self._reporter.set_sink(sink)
        with self._line:
            self._connect()
            self._check_module()
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name=f"{self.name}-poll",
                                        daemon=True)
        self._poller.start()

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=self.response_timeout * 2)
            self._poller = None
        with self._line:
            self._disconnect()
        self._reporter.update(DeviceState.OFFLINE, detail="closed")

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def read(self, timeout: float, mrz: MrzKey | None = None) -> Identity:
        """Find, select and read a card within ``timeout`` seconds (``mrz`` is for eMRTDs)."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            with self._line:
                if self._find_and_select():
                    return self._read_card()
            if time.monotonic() >= deadline or self._stop.wait(self.poll_s):
                raise CardNotFound()

    # --- the exchange ---------------------------------------------------------------------
    def _find_and_select(self) -> bool:
        found = self._command(Command.FIND).sw3
        if found == status.NOT_FOUND:
            return False
        if found != status.FOUND:
            raise status.error_for(found)
        self._set_present(True)
        selected = self._command(Command.SELECT).sw3
        if selected not in (status.OK, status.SELECT_FAILED):
            raise status.error_for(selected)
        # a failed select is a card at the edge of the field: look again on the next round
        return selected == status.OK

    def _read_card(self) -> Identity:
        command = (Command.READ_TEXT_PHOTO_FINGERPRINT if self.fingerprint
                   else Command.READ_TEXT_PHOTO)
        reply = self._command(command)
        if reply.sw3 == status.READ_FAILED:
            # moved away, or a bad read of a card still there: a find tells which
            if self._command(Command.FIND).sw3 == status.FOUND:
                raise CardReadFailed("(read failed)")
            self._set_present(False)
            raise CardRemoved()
        if reply.sw3 != status.OK:
            raise status.error_for(reply.sw3)
        text, wlt = self._split_read(reply.data, fingerprints=self.fingerprint)
        addresses = self._extra_addresses()
        identity = parse_text(text, addresses)
        problem = first_problem(identity)
        if problem is not None:
            raise CardDataInvalid(*problem)
        photo = self._decode_photo(wlt)
        return replace(identity, raw_wlt=wlt, photo=photo,
                       photo_format="png" if photo else None)

    def _decode_photo(self, wlt: bytes) -> bytes | None:
        """The face as PNG, or None: a photo the library cannot decode must not stop the
        citizen being identified (the raw WLT is kept)."""
        if self.photo_decoder is None:
            return None
        try:
            return self.photo_decoder.decode(wlt)
        except PhotoDecodeFailed as err:
            log.warning("%s: %s", self.name, err.en)
            return None

    def _extra_addresses(self) -> list[str]:
        reply = self._command(Command.READ_ADDRESS)
        if reply.sw3 != status.OK:          # 0x91: no appended address (most cards)
            return []
        data = reply.data
        entries = [data[i:i + 70] for i in range(0, len(data) - len(data) % 70, 70)]
        try:
            return [e.decode("utf-16-le").strip() for e in entries if e.strip(b" \0")]
        except UnicodeDecodeError:
            raise BadTextBlock("appended address is not UCS-2 text") from None

    @staticmethod
    def _split_read(data: bytes, fingerprints: bool) -> tuple[bytes, bytes]:
        heads = 6 if fingerprints else 4
        if len(data) < heads:
            raise FrameError("read reply shorter than its length fields")
        text_len = int.from_bytes(data[0:2], "big")
        photo_len = int.from_bytes(data[2:4], "big")
        finger_len = int.from_bytes(data[4:6], "big") if fingerprints else 0
        if text_len != TEXT_LEN or heads + text_len + photo_len + finger_len != len(data):
            raise FrameError(f"read reply lengths {text_len}/{photo_len}/{finger_len} "
                             f"do not add up to {len(data)}")
        text = data[heads:heads + text_len]
        return text, data[heads + text_len:heads + text_len + photo_len]

    def _command(self, command: Command) -> Response:
        """Send one command, return its response. A garbled frame either way is resent up
        to ``retries`` times; silence is a module fault."""
        for attempt in range(self.retries + 1):
            try:
                reply = self._exchange(command)
            except FrameError:
                if attempt == self.retries:
                    raise
                continue
            if reply.sw3 in (status.CHECKSUM_ERROR, status.LENGTH_ERROR) and \
                    attempt < self.retries:
                continue
            if reply.sw3 in (status.CHECKSUM_ERROR, status.LENGTH_ERROR):
                raise status.error_for(reply.sw3)
            return reply
        raise AssertionError("unreachable")

    def _exchange(self, command: Command) -> Response:
        port = self._port
        if port is None:
            raise DeviceFault("读卡器未就绪", "The card reader is not open")
        try:
            port.reset_input_buffer()          # a late answer to a timed-out command
            port.write(frame.encode_command(command))
            raw = frame.read_frame(lambda n: port.read(n), self.response_timeout)
        except FrameTimeout:
            self._reporter.update(DeviceState.HARDWARE_ERROR, detail="no answer")
            raise
        except (OSError, serial.SerialException) as err:
            self._reporter.update(DeviceState.HARDWARE_ERROR, detail="line lost")
            self._disconnect()
            raise DeviceFault("读卡器连接中断，请联系现场工作人员",
                              f"Lost the card reader's line: {err}") from err
        reply = frame.decode_response(raw)
        if self._reporter.status.detail in _LINE_TROUBLE:   # it answers again
            self._reporter.update(DeviceState.ONLINE)
        return reply

    # --- line and module ------------------------------------------------------------------
    def _connect(self) -> None:
        if self._port is not None:
            return
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                               timeout=0.05, write_timeout=self.response_timeout)
        except (OSError, ValueError) as err:
            self._reporter.update(DeviceState.NO_DEVICE, detail="cannot open")
            raise DeviceFault("无法连接读卡器，请联系现场工作人员",
                              f"Cannot open the card reader at {self.url}: {err}") from err

    def _disconnect(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError):
                port.close()

    def _check_module(self) -> None:
        reply = self._command(Command.STATUS)
        if reply.sw3 != status.OK:
            self._reporter.update(DeviceState.HARDWARE_ERROR, detail=f"SW3 {reply.sw3:02X}")
            raise status.error_for(reply.sw3)
        sam = self._command(Command.SAM_ID)
        self.sam_id = format_sam_id(sam.data) if sam.sw3 == status.OK else ""
        self._reporter.update(DeviceState.ONLINE)

    def _poll(self) -> None:
        last_problem = ""
        while not self._stop.wait(self.poll_s):
            if not self._line.acquire(blocking=False):
                continue                         # a read has the line: it reports itself
            try:
                if self._port is None:
                    self._connect()
                    self._check_module()
                found = self._command(Command.FIND).sw3 == status.FOUND
                self._set_present(found)
                if self._reporter.status.state is not DeviceState.ONLINE:
                    self._check_module()         # it answers again: back online
            except DeviceError as err:
                if err.en != last_problem:          # once per problem, not every poll
                    log.warning("%s: %s", self.name, err.en)
                last_problem = err.en
            else:
                last_problem = ""
            finally:
                self._line.release()

    def _set_present(self, present: bool) -> None:
        if present != self._present:
            self._present = present
            self._reporter.emit("card_inserted" if present else "card_removed")


def format_sam_id(data: bytes) -> str:
    """The SAM id as vendors print it: ``05.01-20100422-0000791405-0000000001``."""
    if len(data) != 16:
        return data.hex()
    a, b = int.from_bytes(data[0:2], "little"), int.from_bytes(data[2:4], "little")
    c, d, e = (int.from_bytes(data[i:i + 4], "little") for i in (4, 8, 12))
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"

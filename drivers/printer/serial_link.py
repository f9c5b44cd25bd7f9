"""Receipt printer on a serial link through pyserial's ``serial_for_url``.

The same code drives ``/dev/ttyUSB0`` or ``COM3``, a pty, ``socket://host:port`` (a serial
server, or the virtual printer in tests) and ``spy://...`` (logs the traffic). Status and
readiness checks are :class:`~drivers.printer.link.StatusPrinter`'s; reads are bounded by the
time it gives, never by python-escpos's ``query_status``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import serial

from drivers.printer.link import StatusPrinter


class SerialPrinter(StatusPrinter):
    """A ReceiptPrinter for an ESC/POS printer on a serial port or pyserial URL.

    ``timeout`` bounds opening and each stall while sending: a job is written in pieces that
    take at most half of it at ``baudrate``, so a long raster at 9600 baud is not cut short.
    """

    def __init__(self, url: str, baudrate: int = 9600, timeout: float = 3.0,
                 dots_per_line: int = 576, name: str = "printer.serial") -> None:
        super().__init__(name, timeout, dots_per_line)
        self.url = url
        self.baudrate = baudrate
        self._chunk = max(64, int(baudrate / 10 * timeout / 2))   # 10 bits a byte on the wire
        self._port: Any = None               # serial.SerialBase while open

    # --- the link (called with the lock held) ---------------------------------------------
    def _connect(self) -> bool:
        if self._port is not None:
            return True
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                               timeout=self.timeout,
                                               write_timeout=self.timeout)
        except (OSError, ValueError) as err:     # SerialException is an OSError
            self._unreachable(f"cannot open {self.url}: {err}")
            return False
        return True

    def _write(self, data: bytes) -> None:
        for start in range(0, len(data), self._chunk):
            self._port.write(data[start:start + self._chunk])   # SerialTimeoutException: OSError

    def _read(self, max_wait: float) -> bytes:
        self._port.timeout = max_wait
        data: bytes = self._port.read(max(1, self._port.in_waiting))
        return data

    def _discard_stale(self) -> None:
        self._port.reset_input_buffer()

    def _disconnect(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError):   # a vanished adapter: nothing left to close
                port.close()

"""Receipt printer on USB through python-escpos's ``Usb`` (pyusb, libusb).

python-escpos finds the device, detaches the kernel's usblp driver and sends with ``_raw``.
Status replies are read here from the IN endpoint with a timeout we give: python-escpos's
``_read`` uses pyusb's default wait and ``query_status`` waits for replies that may never come.
Endpoints differ between models: many Chinese printers use IN 0x81 with OUT 0x02 or 0x03
(``lsusb -v`` shows them). A device that is absent, or a machine without libusb, is a
``no_device`` status, never an exception at ``open``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import usb.core
from escpos.exceptions import Error as EscposError
from escpos.printer import Usb

from drivers.printer.link import StatusPrinter

_CHUNK = 4096               # bytes a USB write; ``timeout`` bounds each, not the whole job
_STALE_READS = 16           # at most this many leftover packets dropped before a query


class UsbPrinter(StatusPrinter):
    """A ReceiptPrinter for an ESC/POS printer on USB ``vendor_id:product_id``."""

    def __init__(self, vendor_id: int, product_id: int, in_ep: int = 0x81, out_ep: int = 0x03,
                 timeout: float = 3.0, dots_per_line: int = 576,
                 name: str = "printer.usb") -> None:
        super().__init__(name, timeout, dots_per_line)
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.in_ep = in_ep
        self.out_ep = out_ep
        self._conn: Any = None               # escpos.printer.Usb while open

    @property
    def _where(self) -> str:
        return f"USB {self.vendor_id:04x}:{self.product_id:04x}"

    # --- the link (called with the lock held) ---------------------------------------------
    def _connect(self) -> bool:
        if self._conn is not None:
            return True
        conn = Usb(self.vendor_id, self.product_id, timeout=_ms(self.timeout),
                   in_ep=self.in_ep, out_ep=self.out_ep)
        try:
            conn.open(raise_not_found=True)
        # Not found: DeviceNotFoundError; no libusb: pyusb's NoBackendError (a ValueError);
        # no permission or a busy interface: USBError (an OSError).
        except (EscposError, ValueError, OSError) as err:
            self._unreachable(f"cannot open {self._where}: {err}".replace("\n", " "))
            with contextlib.suppress(Exception):
                conn.close()
            return False
        self._conn = conn
        return True

    def _write(self, data: bytes) -> None:
        for start in range(0, len(data), _CHUNK):
            self._conn._raw(data[start:start + _CHUNK])          # USBError is an OSError

    def _read(self, max_wait: float) -> bytes:
        try:
            data = self._conn.device.read(self.in_ep, 64, _ms(max_wait))
        except usb.core.USBTimeoutError:
            return b""
        return bytes(data)

    def _discard_stale(self) -> None:
        for _ in range(_STALE_READS):
            try:
                if not self._conn.device.read(self.in_ep, 64, 1):
                    return
            except usb.core.USBTimeoutError:
                return

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):   # a device pulled out: nothing to release
                conn.close()


def _ms(seconds: float) -> int:
    """pyusb timeouts are whole milliseconds, and 0 would mean "wait forever"."""
    return max(1, round(seconds * 1000))

"""An ESC/POS receipt printer over any byte link: status, readiness checks and printing.

The link (TCP, serial, USB) is a subclass's business, behind five calls made with the lock held:
``_connect`` (→ bool; an unreachable printer is reported with :meth:`StatusPrinter._unreachable`,
never raised), ``_write``, ``_read(max_wait)`` (→ ``b""`` when nothing came in time),
``_discard_stale`` and ``_disconnect``. A failing link raises ``OSError`` (pyserial's and
pyusb's errors are ``OSError`` too); the connection is then dropped and re-opened by the next call.

Status is never read with python-escpos's ``query_status``: that waits the link's whole timeout
for a reply many printers never send. We write DLE EOT 1, 2 and 4 together and wait at most a
second for the three bytes; no reply, or bytes without the fixed status bits, means "unknown" —
never "paper OK", because a receipt sent to a printer without paper is lost without a trace.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from drivers.errors import DeviceError, DeviceFault
from drivers.printer import CoverOpen, PaperOut, PrintJob
from drivers.status import DeviceState, DeviceStatus, EventSink, PaperLevel, StatusReporter

STATUS_QUERY = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"   # printer, offline cause, paper sensor
REPLY_WAIT = 1.0            # seconds for all three status bytes; a printer answers in ms
NO_REPLY = "no status reply"

_FIXED_MASK, _FIXED_BITS = 0x93, 0x12    # bits 0, 1, 4, 7 of every DLE EOT reply: 0, 1, 1, 0
_OFFLINE, _COVER_OPEN, _PAPER_STOP = 0x08, 0x04, 0x20
_NEAR_END, _PAPER_END = 0x0C, 0x60


def decode_status(reply: bytes) -> tuple[DeviceState, PaperLevel, str]:
    """Map replies to DLE EOT 1, 2, 4 onto the status vocabulary: (state, paper, detail)."""
    if len(reply) != 3 or any(b & _FIXED_MASK != _FIXED_BITS for b in reply):
        return DeviceState.OFFLINE, PaperLevel.UNKNOWN, NO_REPLY
    printer, cause, sensor = reply
    if sensor & _PAPER_END or cause & _PAPER_STOP:
        paper = PaperLevel.OUT
    else:
        paper = PaperLevel.LOW if sensor & _NEAR_END else PaperLevel.FULL
    # The offline bit is also set for a cover open or paper end, so the causes go first.
    if cause & _COVER_OPEN:
        return DeviceState.USER_ERROR, paper, "cover_open"
    if paper is PaperLevel.OUT:
        return DeviceState.ONLINE, paper, "paper_out"
    if printer & _OFFLINE:
        return DeviceState.OFFLINE, paper, "offline"
    return DeviceState.ONLINE, paper, ""


class StatusPrinter(ABC):
    """A ReceiptPrinter that asks the printer its status before and after every job.

    Calls block (up to ``timeout`` to connect or send, about a second for status); run them on
    the printer's worker thread. A lost connection is re-opened by the next call.
    """

    def __init__(self, name: str, timeout: float, dots_per_line: int) -> None:
        self.name = name
        self.dots_per_line = dots_per_line
        self.timeout = timeout
        self._reporter = StatusReporter(name)
        self._lock = threading.RLock()       # reentrant: a sink may call status() back
        self._opened = False

    # --- the link -------------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> bool:
        """Connect unless connected; on failure call :meth:`_unreachable` and return False."""

    @abstractmethod
    def _write(self, data: bytes) -> None:
        """Send all of ``data`` (bounded by ``timeout``) or raise ``OSError``."""

    @abstractmethod
    def _read(self, max_wait: float) -> bytes:
        """Bytes that arrive within ``max_wait`` seconds; ``b""`` if none did."""

    @abstractmethod
    def _discard_stale(self) -> None:
        """Drop bytes already received (late replies to an earlier query), without waiting."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the link if open; never raises."""

    # --- ReceiptPrinter -------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        """Connect and read the status; an unreachable printer is reported, not raised."""
        self._reporter.set_sink(sink)
        with self._lock:
            self._opened = True
            self._refresh()

    def close(self) -> None:
        with self._lock:
            self._opened = False
            self._disconnect()
            self._reporter.update(DeviceState.OFFLINE, detail="closed")

    def status(self) -> DeviceStatus:
        """Ask the printer now (bounded wait) and return what it said."""
        with self._lock:
            if self._opened:
                self._refresh()
            return self._reporter.status

    def print_job(self, job: PrintJob) -> None:
        """Send the job's bytes; raise if it cannot print or the paper ran out while printing.

        On PaperOut or CoverOpen the caller keeps the job and sends it again in full later.
        """
        if not job.escpos:
            raise DeviceError("打印任务缺少打印数据",
                              f"Print job {job.job_id} has no ESC/POS bytes", code="no_escpos")
        with self._lock:
            if not self._opened:
                raise DeviceFault("打印机未就绪", "The printer is not open")
            _raise_unless_ready(self._refresh())
            try:
                self._write(job.escpos)
            except OSError as err:
                self._lost(err)
                raise DeviceFault("打印机连接中断，请联系现场工作人员",
                                  "Lost the connection to the printer: please call staff") from err
            # Why: a real printer answers DLE EOT before it has finished printing, so this
            # catches a roll that ended while the job was being received, not every late end.
            _raise_unless_ready(self._refresh())
            self._reporter.emit("job_printed", job_id=job.job_id, job_kind=job.kind)

    # --- internals (call with the lock held) ----------------------------------------------
    def _refresh(self) -> DeviceStatus:
        if not self._connect():
            return self._reporter.status
        try:
            reply = self._ask_status()
        except OSError as err:
            self._lost(err)
        else:
            self._reporter.update(*decode_status(reply))
        return self._reporter.status

    def _ask_status(self) -> bytes:
        self._discard_stale()
        self._write(STATUS_QUERY)
        reply = b""
        deadline = time.monotonic() + min(REPLY_WAIT, self.timeout)
        while len(reply) < 3 and (left := deadline - time.monotonic()) > 0:
            reply += self._read(left)     # a silent printer: whatever came is judged by decode
        return reply

    def _unreachable(self, detail: str) -> None:
        self._reporter.update(DeviceState.NO_DEVICE, detail=detail)

    def _lost(self, err: OSError) -> None:
        self._disconnect()
        self._reporter.update(DeviceState.NO_DEVICE, detail=f"connection lost: {err}")


def _raise_unless_ready(status: DeviceStatus) -> None:
    if status.state is DeviceState.USER_ERROR:
        raise CoverOpen()
    if status.paper is PaperLevel.OUT:
        raise PaperOut()
    if status.state is DeviceState.NO_DEVICE:
        raise DeviceFault("无法连接打印机，请联系现场工作人员",
                          f"Cannot reach the printer ({status.detail}): please call staff")
    if status.detail == NO_REPLY:
        raise DeviceFault("打印机无状态应答，请联系现场工作人员",
                          "The printer does not report its status: please call staff")
    if not status.usable:
        raise DeviceFault("打印机离线，请联系现场工作人员",
                          "The printer is offline: please call staff")

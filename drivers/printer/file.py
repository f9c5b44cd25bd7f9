"""A printer reached through a device file (``/dev/usb/lp0``) or a plain file.

Nothing can be read back through such a file, so paper is always reported as UNKNOWN —
never as "paper ok" — and a kiosk configured this way cannot tell paper-out beforehand.
"""

from __future__ import annotations

import os
from pathlib import Path

from drivers.errors import DeviceFault
from drivers.printer import PrintJob
from drivers.status import DeviceState, DeviceStatus, EventSink, PaperLevel, StatusReporter


class FilePrinter:
    def __init__(self, path: Path, dots_per_line: int = 576,
                 name: str = "printer.file") -> None:
        self.name, self.path, self.dots_per_line = name, path, dots_per_line
        self._status = StatusReporter(name)

    def open(self, sink: EventSink | None = None) -> None:
        self._status.set_sink(sink)
        self._refresh()

    def close(self) -> None:
        self._status.update(DeviceState.OFFLINE)

    def status(self) -> DeviceStatus:
        self._refresh()
        return self._status.status

    def print_job(self, job: PrintJob) -> None:
        if job.escpos is None:
            raise DeviceFault("打印数据为空", f"Job {job.job_id} has no ESC/POS bytes",
                              code="no_escpos")
        try:
            # O_APPEND: a plain file collects jobs; a device file just takes the bytes
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, job.escpos)
            finally:
                os.close(fd)
        except OSError as exc:
            self._status.update(DeviceState.NO_DEVICE, PaperLevel.UNKNOWN, type(exc).__name__)
            raise DeviceFault("打印机无法连接", f"Cannot write to {self.path}: {exc}") from None

    def _refresh(self) -> None:
        parent_ok = self.path.parent.is_dir()
        state = DeviceState.ONLINE if parent_ok else DeviceState.NO_DEVICE
        self._status.update(state, PaperLevel.UNKNOWN, "no status channel")

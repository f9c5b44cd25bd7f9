"""Receipt printer: the interface every backend fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drivers.errors import DeviceError
from drivers.status import DeviceStatus, EventSink, PaperLevel


@dataclass(frozen=True, repr=False)
class PrintJob:
    """One document to print. ``raster_png`` is the page drawn at the printer's width;
    ``escpos`` (when given) is the exact byte stream a real printer should receive."""

    job_id: str
    kind: str                   # "receipt", "notice", "referral_slip", "test"
    raster_png: bytes
    escpos: bytes | None = None

    def __repr__(self) -> str:
        return f"PrintJob({self.job_id}, {self.kind})"


class PaperOut(DeviceError):
    code = "paper_out"

    def __init__(self) -> None:
        super().__init__("打印机缺纸，请联系现场工作人员",
                         "The printer is out of paper: please call staff")


class CoverOpen(DeviceError):
    """The paper cover is open (DLE EOT 2 reports it): staff must close it; nothing printed."""

    code = "cover_open"

    def __init__(self) -> None:
        super().__init__("打印机舱盖未关好，请联系现场工作人员",
                         "The printer cover is open: please call staff")


class ReceiptPrinter(Protocol):
    name: str
    dots_per_line: int          # 384 for 58 mm paper, 576 for 80 mm

    def open(self, sink: EventSink | None = None) -> None: ...

    def close(self) -> None: ...

    def status(self) -> DeviceStatus: ...

    def print_job(self, job: PrintJob) -> None:
        """Print the whole job or raise; a job cut short by paper-out is kept for a reprint."""
        ...


@runtime_checkable
class PaperTray(Protocol):
    """What a hand does to an emulated printer: set what its paper sensor reads."""

    def set_paper(self, level: PaperLevel) -> None: ...

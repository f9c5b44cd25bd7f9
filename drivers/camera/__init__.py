"""Document camera (高拍仪): the interface every backend fulfils."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from drivers.barcode import Barcode
from drivers.errors import DeviceError
from drivers.status import DeviceStatus, EventSink


@dataclass(frozen=True)
class PageQuality:
    """Quality verdict of one captured page; ``reasons`` is empty when it is usable."""

    page_found: bool = True
    sharpness: float = 1.0     # 0..1, higher is sharper
    glare: float = 0.0         # share of the page blown out
    coverage: float = 1.0      # share of the page inside the frame
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.page_found and not self.reasons


@dataclass(frozen=True, repr=False)
class CapturedPage:
    """A rectified page image (JPEG) with its quality record and any codes read on it."""

    jpeg: bytes
    width: int
    height: int
    dpi: int
    quality: PageQuality = field(default_factory=PageQuality)
    barcodes: tuple[Barcode, ...] = ()

    def __repr__(self) -> str:  # the image is personal data: never dump it into a log
        return f"CapturedPage({self.width}x{self.height}@{self.dpi}dpi, ok={self.quality.ok})"


class NoPageFound(DeviceError):
    code = "no_page"

    def __init__(self) -> None:
        super().__init__("没有检测到材料，请把材料平放在拍摄区内",
                         "No page found: lay the page flat inside the capture area")


class DocumentCamera(Protocol):
    name: str

    def open(self, sink: EventSink | None = None) -> None: ...

    def close(self) -> None: ...

    def status(self) -> DeviceStatus: ...

    def capture(self, timeout: float) -> CapturedPage:
        """Take one still of the page on the plate, or raise a DeviceError."""
        ...

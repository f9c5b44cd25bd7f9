"""Document camera (高拍仪): the interface every backend fulfils."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from drivers.barcode import Barcode
from drivers.errors import DeviceError
from drivers.status import DeviceStatus, EventSink


class Flaw(StrEnum):
    """Why a page is not good enough: the quality gates' reasons (the checker words them)."""

    NO_PAGE = "no_page"        # no page found in the picture
    OUTSIDE = "outside"        # part of the page is off the frame (cut off)
    TOO_SMALL = "too_small"    # the page covers too little of the frame to reach the dpi
    BLURRED = "blurred"        # out of focus or moved during the shot
    GLARE = "glare"            # a reflection blows out part of the page
    TOO_DARK = "too_dark"      # underexposed: the paper is grey, not white
    SKEWED = "skewed"          # seen at too steep an angle to straighten faithfully


@dataclass(frozen=True)
class PageQuality:
    """Quality verdict of one captured page; ``reasons`` is empty when it is usable."""

    page_found: bool = True
    sharpness: float = 1.0     # 0..1, higher is sharper (0.5 at the blur limit)
    glare: float = 0.0         # share of the page blown out
    coverage: float = 1.0      # share of the page inside the frame
    reasons: tuple[str, ...] = ()
    brightness: float = 1.0    # the paper's level, 0..1 (white paper well lit: about 0.8–1)
    skew: float = 0.0          # degrees the worst corner is off a right angle
    area: float = 0.0          # share of the frame the page covers (0: not measured)
    blur: float = 0.0          # width of the page's edge (10–90 %) as a share of its width

    @property
    def ok(self) -> bool:
        return self.page_found and not self.reasons

    def as_dict(self) -> dict[str, object]:
        """For JSON (CLI, diagnostics): the measures rounded, the verdict spelled out."""
        return {"ok": self.ok, "page_found": self.page_found, "reasons": list(self.reasons),
                "sharpness": round(self.sharpness, 3), "blur": round(self.blur, 4),
                "glare": round(self.glare, 4), "brightness": round(self.brightness, 3),
                "skew": round(self.skew, 1), "area": round(self.area, 4),
                "coverage": round(self.coverage, 3)}


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


@dataclass(frozen=True, repr=False)
class PreviewFrame:
    """One frame of the live preview (what the citizen sees while placing a page)."""

    image: npt.NDArray[np.uint8]   # H×W×3, RGB
    seq: int                       # increases by one per frame grabbed
    timestamp: float               # time.monotonic() when grabbed

    def __repr__(self) -> str:  # the image may show personal data: never dump it
        h, w = self.image.shape[:2]
        return f"PreviewFrame(#{self.seq}, {w}x{h})"


class Hint(StrEnum):
    """What page detection tells the citizen to do next."""

    NO_PAGE = "no_page"        # nothing on the plate
    OUTSIDE = "outside"        # part of the page is off the frame
    TOO_SMALL = "too_small"    # too far away, or a small slip: move it closer / centre it
    GLARE = "glare"            # a light is reflecting off the page
    OK = "ok"


@dataclass(frozen=True, repr=False)
class Detection:
    """Where the page is in a preview frame and what is wrong with it, if anything."""

    quad: npt.NDArray[np.float32] | None   # 4×2, TL, TR, BR, BL, in input pixels
    hint: Hint
    area_ratio: float = 0.0                # page area / frame area
    glare: float = 0.0                     # share of the page blown out by a reflection
    fingerprint: int | None = None         # 64-bit perceptual hash of the page (duplicates)
    paper: float = 0.0                     # the paper's level, 0..1 (too dark below ~0.4)

    def __repr__(self) -> str:
        return f"Detection({self.hint.value}, area={self.area_ratio:.2f}, glare={self.glare:.3f})"


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

    def start_preview(self) -> None:
        """Start grabbing preview frames on the device's own thread, at its frame rate."""
        ...

    def stop_preview(self) -> None: ...

    def latest_frame(self) -> PreviewFrame | None:
        """The newest preview frame only (never a backlog); None before the first one or
        while the camera is gone."""
        ...


@runtime_checkable
class DocumentPlate(Protocol):
    """What a hand does to an emulated document camera: lay page ``page`` of the material
    named ``label`` on the plate, and clear the plate."""

    def place(self, label: str, page: int = 1) -> None: ...

    def remove(self) -> None: ...

"""Barcode and QR decoding: a pure function of an image, several backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from drivers.errors import DeviceError

if TYPE_CHECKING:     # numpy only for the annotation: importing the protocol stays cheap
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Barcode:
    format: str        # ZBar's names in every backend: "QRCODE", "CODE128", "EAN13", ...
    text: str          # payload decoded as UTF-8, falling back to GB18030
    raw: bytes


def decode_payload(raw: bytes) -> str:
    """UTF-8 first; GBK/GB18030 payloads are common on Chinese forms."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


class UnreadableImage(DeviceError):
    """The bytes handed to a decoder are not an image it can open (corrupt, truncated, empty)."""

    code = "unreadable_image"

    def __init__(self, detail: str = "", zh_detail: str = "") -> None:
        en = "Unreadable image: please capture again" + (f" ({detail})" if detail else "")
        zh = "无法读取图像" + (f"（{zh_detail}）" if zh_detail else "") + "，请重新拍摄"
        super().__init__(zh, en)


class BarcodeDecoder(Protocol):
    """Implementations are stateless: one instance is shared by every thread."""

    name: str

    def decode(self, image: bytes) -> list[Barcode]:
        """Every symbol found in an encoded image (JPEG/PNG bytes); [] when none.
        Loads with :func:`drivers.barcode.image.load_grey`, then :meth:`decode_grey`."""
        ...

    def decode_grey(self, grey: NDArray[np.uint8]) -> list[Barcode]:
        """The same for a picture already in memory (H×W uint8), so a page the kiosk holds
        decoded is not JPEG-decoded a second time."""
        ...

"""The ID-card photo: 1024 bytes of "WLT" that only a vendor's licensed library decodes.

A decoder is a plug-in: ``[devices.identity] photo_library`` names the vendor's shared
library, loaded with ctypes; it must export ``int unpack(char *wlt, char *out, int mode)``
that writes 102×126 pixels, BGR, top row first, and returns 1 on success (the common
signature of the Ministry's libwlt builds; ``mode`` is the vendor's magic number). With no
library configured the identity carries the raw WLT and ``photo=None``.
"""

from __future__ import annotations

import ctypes
import io
import threading
from typing import Protocol

from PIL import Image

from drivers.errors import DeviceError

WIDTH, HEIGHT = 102, 126
WLT_LEN = 1024


class PhotoDecodeFailed(DeviceError):
    code = "photo_decode_failed"

    def __init__(self, detail: str) -> None:
        super().__init__("证件照片解码失败", f"Could not decode the card photo: {detail}")


class PhotoDecoder(Protocol):
    def decode(self, wlt: bytes) -> bytes:
        """PNG bytes of the face, or raise PhotoDecodeFailed."""
        ...


class VendorWltLibrary:
    """A vendor's WLT decoder loaded from ``path`` (see the module docstring)."""

    def __init__(self, path: str, symbol: str = "unpack", mode: int = 0) -> None:
        try:
            library = ctypes.CDLL(path)
            self._unpack = getattr(library, symbol)
        except (OSError, AttributeError) as err:
            raise PhotoDecodeFailed(f"cannot load {symbol} from {path}: {err}") from err
        self._unpack.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
        self._unpack.restype = ctypes.c_int
        self._mode = mode
        self._lock = threading.Lock()       # vendor libraries are rarely re-entrant

    def decode(self, wlt: bytes) -> bytes:
        if len(wlt) != WLT_LEN:
            raise PhotoDecodeFailed(f"{len(wlt)} bytes of WLT, not {WLT_LEN}")
        # room to spare: some builds write a whole BMP past the raw pixels
        out = ctypes.create_string_buffer(WIDTH * HEIGHT * 3 + 4096)
        with self._lock:
            result = self._unpack(wlt, out, self._mode)
        if result != 1:
            raise PhotoDecodeFailed(f"the library returned {result}")
        pixels = out.raw[:WIDTH * HEIGHT * 3]
        image = Image.frombytes("RGB", (WIDTH, HEIGHT), pixels, "raw", "BGR")
        png = io.BytesIO()
        image.save(png, format="PNG")
        return png.getvalue()

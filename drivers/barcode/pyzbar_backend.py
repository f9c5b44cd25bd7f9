"""Barcode/QR decoding with ZBar through pyzbar's ctypes wrapper.

Why not ``pyzbar.pyzbar.decode``: it gives no way to set ZBar's ``ZBAR_CFG_BINARY``, and without
it ZBar guesses the text encoding of QR byte-mode data and re-encodes it to UTF-8. On our forms
the guess is wrong: a GB18030 payload comes out as mojibake, and even plain UTF-8 Chinese is
taken for Shift-JIS. In binary mode ZBar hands back the symbol's raw bytes, and
:func:`drivers.barcode.decode_payload` picks the encoding (UTF-8, then GB18030).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from ctypes import c_void_p, string_at
from typing import Any

from pyzbar import wrapper as zbar

from drivers.barcode import Barcode, UnreadableImage, decode_payload
from drivers.barcode.image import Grey, check_grey, load_grey

log = logging.getLogger(__name__)

_FOURCC_Y800 = 808466521     # ZBar's code for 8-bit greyscale ("Y800")
_CFG_BINARY = 4              # ZBAR_CFG_BINARY (zbar >= 0.23); pyzbar's enum lacks it


class PyzbarDecoder:
    """BarcodeDecoder backed by ZBar (libzbar0). Stateless, so safe to share across threads."""

    name = "barcode.pyzbar"

    def decode(self, image: bytes) -> list[Barcode]:
        return self.decode_grey(load_grey(image))

    def decode_grey(self, grey: Grey) -> list[Barcode]:
        return [Barcode(kind, decode_payload(raw), raw) for kind, raw in _scan(check_grey(grey))]


@contextmanager
def _scanner() -> Iterator[Any]:
    scanner = zbar.zbar_image_scanner_create()
    if not scanner:
        raise MemoryError("zbar_image_scanner_create failed")
    try:
        if zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.QRCODE, _CFG_BINARY, 1):
            # An older libzbar: QR text arrives re-encoded by its guess, which may be wrong.
            log.warning("libzbar has no binary mode; QR payloads may be mis-decoded")
        yield scanner
    finally:
        zbar.zbar_image_scanner_destroy(scanner)


def _scan(grey: Grey) -> list[tuple[str, bytes]]:
    """(format name, raw payload) of every symbol ZBar finds in a C-contiguous grey array."""
    height, width = grey.shape
    pixels = c_void_p(grey.ctypes.data)    # no copy; ZBar does not copy either, and ``grey``
                                           # stays referenced until the scan is done
    found: list[tuple[str, bytes]] = []
    with _scanner() as scanner:
        image = zbar.zbar_image_create()
        if not image:
            raise MemoryError("zbar_image_create failed")
        try:
            zbar.zbar_image_set_format(image, _FOURCC_Y800)
            zbar.zbar_image_set_size(image, width, height)
            zbar.zbar_image_set_data(image, pixels, grey.nbytes, None)
            if zbar.zbar_scan_image(scanner, image) < 0:
                raise UnreadableImage("zbar rejected the image")
            symbol = zbar.zbar_image_first_symbol(image)
            while symbol:
                raw = string_at(zbar.zbar_symbol_get_data(symbol),
                                zbar.zbar_symbol_get_data_length(symbol))
                found.append((_format_name(symbol.contents.type), raw))
                symbol = zbar.zbar_symbol_next(symbol)
        finally:
            zbar.zbar_image_destroy(image)
    return found


def _format_name(code: int) -> str:
    try:
        return str(zbar.ZBarSymbol(code).name)  # "QRCODE", "CODE128", "EAN13", ...
    except ValueError:                          # a symbology newer than pyzbar's enum
        return f"ZBAR_{code}"

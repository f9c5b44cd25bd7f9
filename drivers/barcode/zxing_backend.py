"""Barcode/QR decoding with zxing-cpp (PyPI ``zxing-cpp``, module ``zxingcpp``; Apache-2.0).

Why a second backend: on the zxing-cpp sample set it reads more QR codes than ZBar, faster,
and it reads Micro QR, which ZBar cannot (benchmarks/barcodes.py measures both).

Text comes from the symbol's raw bytes (``Barcode.bytes``), never from ``Barcode.text``:
zxing-cpp's own text conversion guesses the character set of byte-mode data, and a GB18030
payload comes out as ISO-8859-1 mojibake. Like the ZBar backend, we hand the raw bytes to
:func:`drivers.barcode.decode_payload` (UTF-8, then GB18030). As with ZBar's binary mode, an
ECI designator is not honoured: a symbol declaring, say, Shift-JIS is read as UTF-8/GB18030.
"""

from __future__ import annotations

import zxingcpp

from drivers.barcode import Barcode, decode_payload
from drivers.barcode.image import Grey, check_grey, load_grey

# zxing-cpp's format names → ZBar's (pyzbar's ZBarSymbol), so both backends report the same
# names; formats ZBar lacks get the same spelling style. Both 2.x and 3.x names are listed.
_FORMAT_NAMES = {
    "QRCode": "QRCODE", "QRCodeModel1": "QRCODE", "QRCodeModel2": "QRCODE",
    "MicroQRCode": "MICROQRCODE", "RMQRCode": "RMQRCODE",
    "Code128": "CODE128", "Code93": "CODE93", "Codabar": "CODABAR",
    "Code39": "CODE39", "Code39Std": "CODE39", "Code39Ext": "CODE39",
    "EAN13": "EAN13", "EAN8": "EAN8", "UPCA": "UPCA", "UPCE": "UPCE",
    "EAN2": "EAN2", "EAN5": "EAN5", "ISBN": "ISBN13",
    "ITF": "I25", "ITF14": "I25",
    "DataBar": "DATABAR", "DataBarOmni": "DATABAR", "DataBarStk": "DATABAR",
    "DataBarStkOmni": "DATABAR", "DataBarExpanded": "DATABAR_EXP", "DataBarExp": "DATABAR_EXP",
    "DataBarExpStk": "DATABAR_EXP", "DataBarLimited": "DATABAR_LTD", "DataBarLtd": "DATABAR_LTD",
    "PDF417": "PDF417", "CompactPDF417": "PDF417", "MicroPDF417": "MICROPDF417",
    "DataMatrix": "DATAMATRIX", "Aztec": "AZTEC", "AztecCode": "AZTEC", "AztecRune": "AZTEC",
    "MaxiCode": "MAXICODE",
}


class ZxingDecoder:
    """BarcodeDecoder backed by zxing-cpp. Stateless (one library call a picture), so safe to
    share across threads."""

    name = "barcode.zxing"

    def decode(self, image: bytes) -> list[Barcode]:
        return self.decode_grey(load_grey(image))

    def decode_grey(self, grey: Grey) -> list[Barcode]:
        # Library defaults otherwise: every readable format, rotated, downscaled and inverted
        # symbols tried. The text mode is irrelevant: only the raw bytes are used.
        found = zxingcpp.read_barcodes(check_grey(grey))
        return [Barcode(format_name(r.format.name), decode_payload(r.bytes), r.bytes)
                for r in found if r.valid]


def format_name(zxing_name: str) -> str:
    """ZBar's name for a zxing-cpp BarcodeFormat name ("QRCode" → "QRCODE")."""
    return _FORMAT_NAMES.get(zxing_name, zxing_name.upper())

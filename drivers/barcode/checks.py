"""When a read from the decoding cascade may be believed: a misread is worse than no read.

Three tiers, by what the symbology itself guarantees:

- ``STRONG``: Reed-Solomon error correction over every codeword (QR, Micro QR, rMQR, Data
  Matrix, Aztec, PDF417, MaxiCode). A pass that decodes one has corrected and checked the whole
  symbol: garbage passing it is vanishingly rare, so one pass is enough.
- ``CHECKED``: one check character (EAN/UPC's mod 10, which we recompute; Code 128's mod 103,
  Code 93's two, DataBar's, which the decoders check). One wrong digit in ten passes such a
  check, and the cascade shows the decoders many variants of one picture, so a read must be
  seen by two distinct passes — by both decoders for the ``SHORT`` ones (UPC-E, EAN-8), which
  a decoder can find in half of an EAN-13 and then find again in the next variant.
- everything else (Code 39, Interleaved 2 of 5, Codabar, add-ons): no check at all, and ZBar
  is known to find short ones in text. Two passes must agree AND they must be the two
  different decoders: one decoder can repeat its own mistake on variants of one picture.

A caller that knows what a code must contain (a case number's pattern) may pass a content
check: a weak read that satisfies it is accepted from one pass.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.barcode import Barcode

STRONG = frozenset({"QRCODE", "MICROQRCODE", "RMQRCODE", "DATAMATRIX", "AZTEC", "PDF417",
                    "MICROPDF417", "MAXICODE"})
CHECKED = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ISBN13", "ISBN10", "CODE128", "CODE93",
                     "DATABAR", "DATABAR_EXP", "DATABAR_LTD"})
# Short symbols a decoder finds in part of a longer one (zxing-cpp read a UPC-E, check digit
# right, in a shadowed EAN-13, on two variants of it): only both decoders agreeing will do.
SHORT = frozenset({"UPCE", "EAN8"})
_GTIN = frozenset({"EAN13", "UPCA", "UPCE", "ISBN13"})      # GTIN-13 after key_of

ContentCheck = Callable[[Barcode], bool]
Key = tuple[str, bytes]      # (format, raw payload) after normalisation: what "the same read" is


def key_of(code: Barcode) -> Key:
    """The identity of a read across decoders, as the GTIN-13 where there is one: ZBar reports
    a UPC-A or UPC-E as an EAN-13 with a leading 0, zxing-cpp 3 says UPC-E with the same 13
    digits (2.x: the 8 printed digits) and UPC-A with 12."""
    if code.format in _GTIN and len(code.raw) == 12:
        return "EAN13", b"0" + code.raw
    if code.format == "UPCE" and len(code.raw) == 8:
        return "EAN13", b"0" + _upce_expanded(code.raw)
    if code.format in _GTIN:
        return "EAN13", code.raw
    return code.format, code.raw


def well_formed(code: Barcode) -> bool:
    """False for a read no number of agreeing passes can rescue: empty, or a wrong check
    digit where we can recompute it (a decoder that skipped its own check)."""
    if not code.raw:
        return False
    if code.format in _GTIN or code.format == "EAN8":
        return _mod10_ok(key_of(code)[1])
    return True


def accepted(code: Barcode, passes: set[tuple[str, str]],
             content_check: ContentCheck | None = None) -> bool:
    """Whether ``code``, read by ``passes`` (each ``(decoder, variant)``), is believed."""
    if not well_formed(code):
        return False
    if code.format in STRONG:
        return True
    if content_check is not None and content_check(code):
        return True
    if code.format in CHECKED and code.format not in SHORT:
        return len(passes) >= 2
    return len({decoder for decoder, _ in passes}) >= 2


def _mod10_ok(digits: bytes) -> bool:
    """GS1's mod-10 check over an EAN-8/EAN-13/UPC-A number (check digit last)."""
    if not digits.isdigit() or len(digits) not in (8, 12, 13):
        return False
    body = [d - 48 for d in digits[:-1]]
    weights = [3 if i % 2 == 0 else 1 for i in range(len(body))]    # from the right
    total = sum(d * w for d, w in zip(reversed(body), weights, strict=True))
    return (10 - total % 10) % 10 == digits[-1] - 48


def _upce_expanded(digits: bytes) -> bytes:
    """The UPC-A (12 digits) a UPC-E (number system, six digits, check) stands for; b"" when
    the digits cannot be a UPC-E."""
    if not digits.isdigit() or len(digits) != 8 or digits[:1] not in (b"0", b"1"):
        return b""
    ns, d, check = digits[:1], digits[1:7], digits[7:]
    last = d[5:6]
    if last in (b"0", b"1", b"2"):
        body = d[:2] + last + b"0000" + d[2:5]
    elif last == b"3":
        body = d[:3] + b"00000" + d[3:5]
    elif last == b"4":
        body = d[:4] + b"00000" + d[4:5]
    else:
        body = d[:5] + b"0000" + last
    return ns + body + check

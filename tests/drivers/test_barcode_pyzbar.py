"""PyzbarDecoder against real libzbar: formats, Chinese payload encodings, unreadable input."""

from __future__ import annotations

import io

import pytest
import qrcode
from barcode import Code128
from barcode.writer import ImageWriter
from PIL import Image

from drivers.barcode import UnreadableImage
from drivers.barcode.pyzbar_backend import PyzbarDecoder
from drivers.errors import DeviceError


@pytest.fixture(scope="module")
def decoder() -> PyzbarDecoder:
    return PyzbarDecoder()


def _qr_png(payload: bytes) -> Image.Image:
    qr = qrcode.QRCode(box_size=6, border=4)
    qr.add_data(payload)
    return qr.make_image().get_image().convert("L")


def _encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_ascii_qr_decodes(decoder: PyzbarDecoder) -> None:
    codes = decoder.decode(_encode(_qr_png(b"TBFORM:application_form:v1")))
    assert [(c.format, c.text, c.raw) for c in codes] == [
        ("QRCODE", "TBFORM:application_form:v1", b"TBFORM:application_form:v1")]


def test_gbk_qr_payload_decodes_to_chinese(decoder: PyzbarDecoder) -> None:
    raw = "申请表".encode("gb18030")
    [code] = decoder.decode(_encode(_qr_png(raw)))
    assert code.raw == raw        # ZBar's own charset guess would have re-encoded these bytes
    assert code.text == "申请表"


def test_utf8_chinese_qr_is_not_taken_for_shift_jis(decoder: PyzbarDecoder) -> None:
    [code] = decoder.decode(_encode(_qr_png("TBFORM:申请表".encode())))
    assert code.text == "TBFORM:申请表"


def test_qr_survives_jpeg(decoder: PyzbarDecoder) -> None:
    [code] = decoder.decode(_encode(_qr_png(b"KYTB-2024-000123"), "JPEG"))
    assert code.text == "KYTB-2024-000123"


def test_code128_and_qr_on_one_image(decoder: PyzbarDecoder) -> None:
    bar = Code128("510802000120240520", writer=ImageWriter()).render(
        {"write_text": False, "module_height": 12.0}).convert("L")
    qr = _qr_png(b"case:510802-0001-000042")
    sheet = Image.new("L", (max(bar.width, qr.width) + 80, bar.height + qr.height + 120), 255)
    sheet.paste(bar, (40, 40))
    sheet.paste(qr, (40, bar.height + 80))
    found = {(c.format, c.text) for c in decoder.decode(_encode(sheet))}
    assert found == {("CODE128", "510802000120240520"), ("QRCODE", "case:510802-0001-000042")}


def test_blank_page_has_no_codes(decoder: PyzbarDecoder) -> None:
    assert decoder.decode(_encode(Image.new("L", (400, 300), 255))) == []


@pytest.mark.parametrize("data", [
    b"",
    b"definitely not an image",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,                 # a PNG signature and nothing valid
])
def test_garbage_is_unreadable(decoder: PyzbarDecoder, data: bytes) -> None:
    with pytest.raises(UnreadableImage) as info:
        decoder.decode(data)
    assert isinstance(info.value, DeviceError)
    assert info.value.code == "unreadable_image"
    assert info.value.zh and info.value.en


def test_truncated_jpeg_is_unreadable(decoder: PyzbarDecoder) -> None:
    jpeg = _encode(_qr_png(b"cut short"), "JPEG")
    with pytest.raises(UnreadableImage):
        decoder.decode(jpeg[: len(jpeg) // 2])

"""Benchmarks: one command, JSON out, each result a ratio against a baseline measured in the
same run (absolute times on this shared machine are noise).

    .venv/bin/python benchmarks/run.py [--repeat N]

- receipt_render: our layout + PNG (and PDF) of a receipt vs the floor cost of drawing the
  same strings with Pillow in one column (no measuring, wrapping or table). The PDF reuses
  the font parsed by the first receipt of the process; ``pdf_first_in_process_ms`` is that
  first receipt (font parsing included).
- escpos_receipt: our ESC/POS receipt (text in the printer's font) vs the same receipt as
  one raster picture: bytes and time; native QR vs a QR picture: bytes.
- case_number: allocating a case number (write-locked SQLite counter, fsync) vs a bare
  autocommitted INSERT into the same database.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import median_ms  # noqa: E402
from drivers.printer import bitmap  # noqa: E402
from drivers.printer.escpos_encode import encode  # noqa: E402
from drivers.printer.program import PrinterProfile, QRCode  # noqa: E402
from kiosk.documents import Renderer, forms  # noqa: E402
from kiosk.documents.pdffont import font_source  # noqa: E402
from kiosk.documents.samples import sample_receipt  # noqa: E402
from kiosk.documents.thermal import to_program  # noqa: E402
from kiosk.ledger import Ledger, connect  # noqa: E402

FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()   # warm caches (font loading) so both sides are measured alike
    return median_ms(fn, repeat)


def _strings(blocks: list[object]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        for name in ("text", "left", "right", "subtitle"):
            value = getattr(block, name, "")
            if value:
                out.append(value)
        for row in getattr(block, "rows", ()):
            out.extend(cell.text for cell in row if cell.text)
    return out


def bench_receipt(repeat: int) -> dict[str, float]:
    renderer = Renderer(FONT)
    blocks = forms.receipt_blocks(sample_receipt())
    strings = _strings(list(blocks))
    font = ImageFont.truetype(str(FONT), 23)

    def baseline() -> None:
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for i, text in enumerate(strings):
            draw.text((90, 40 + i * 18), text[:60], font=font, fill=0)
        image.save(io.BytesIO(), format="PNG")

    base = _median_ms(baseline, repeat)
    png = _median_ms(lambda: renderer.png(blocks), repeat)
    pdf = _median_ms(lambda: renderer.pdf(blocks), repeat)
    font_source.cache_clear()       # the first receipt of a process also parses the font
    first = median_ms(lambda: renderer.pdf(blocks), 1)
    return {"baseline_ms": round(base, 2), "png_ms": round(png, 2), "pdf_ms": round(pdf, 2),
            "png_ratio": round(png / base, 2), "pdf_ratio": round(pdf / base, 2),
            "pdf_first_in_process_ms": round(first, 2)}


def bench_case_number(repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        conn = connect(Path(tmp) / "ledger.sqlite")
        conn.execute("CREATE TABLE IF NOT EXISTS bare (v INTEGER)")
        base = _median_ms(lambda: conn.execute("INSERT INTO bare VALUES (1)"), repeat)
        ours = _median_ms(lambda: ledger.allocate("510802-0001", date(2026, 11, 21),
                                                  ("500103",)), repeat)
        ledger.close()
        conn.close()
    return {"baseline_insert_ms": round(base, 3), "allocate_ms": round(ours, 3),
            "ratio": round(ours / base, 2)}


def bench_escpos(repeat: int) -> dict[str, object]:
    """Our ESC/POS text receipt vs the same receipt sent as one raster picture (what many
    kiosks do), and the printer's own QR (GS ( k) vs a QR picture."""
    renderer = Renderer(FONT)
    blocks = forms.receipt_blocks(sample_receipt())
    profile = PrinterProfile(dots_per_line=576)
    program = to_program(blocks)

    def as_picture() -> bytes:
        png = renderer.thermal_png(blocks, 576)
        return bitmap.raster(Image.open(io.BytesIO(png)))

    ours_bytes, picture_bytes = len(encode(program, profile, FONT)), len(as_picture())
    ours_ms = _median_ms(lambda: encode(program, profile, FONT), repeat)
    picture_ms = _median_ms(as_picture, repeat)
    qr = [QRCode(sample_receipt().case_number)]
    image_profile = PrinterProfile(dots_per_line=576, native_qr=False)
    native_qr, image_qr = len(encode(qr, profile, FONT)), len(encode(qr, image_profile, FONT))
    return {
        "receipt_bytes": ours_bytes, "raster_receipt_bytes": picture_bytes,
        "bytes_ratio": round(ours_bytes / picture_bytes, 3),
        "encode_ms": round(ours_ms, 2), "raster_ms": round(picture_ms, 2),
        "time_ratio": round(ours_ms / picture_ms, 3),
        "qr_native_bytes": native_qr, "qr_image_bytes": image_qr,
        "qr_bytes_ratio": round(native_qr / image_qr, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    result = {"receipt_render": bench_receipt(args.repeat),
              "case_number": bench_case_number(args.repeat * 10),
              "escpos_receipt": bench_escpos(args.repeat)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

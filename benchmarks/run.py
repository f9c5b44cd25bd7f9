"""Benchmarks: one command, JSON out, each result a ratio against a baseline measured in the
same run (absolute times on this shared machine are noise).

    .venv/bin/python benchmarks/run.py [--repeat N]

- receipt_render: our layout + PNG (and PDF) of a receipt vs the floor cost of drawing the
  same strings with Pillow in one column (no measuring, wrapping or table).
- case_number: allocating a case number (write-locked SQLite counter, fsync) vs a bare
  autocommitted INSERT into the same database.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.documents import Renderer, forms  # noqa: E402
from kiosk.documents.samples import sample_receipt  # noqa: E402
from kiosk.ledger import Ledger, connect  # noqa: E402

FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()   # warm caches (font loading) so both sides are measured alike
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


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
    return {"baseline_ms": round(base, 2), "png_ms": round(png, 2), "pdf_ms": round(pdf, 2),
            "png_ratio": round(png / base, 2), "pdf_ratio": round(pdf / base, 2)}


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    result = {"receipt_render": bench_receipt(args.repeat),
              "case_number": bench_case_number(args.repeat * 10)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

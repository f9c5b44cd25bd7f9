"""Regenerate docs/receipt-58mm.png and docs/receipt-80mm.png: a fictional receipt sent as
ESC/POS bytes to the virtual printer (on loopback) at each paper width; the pictures are what
it printed.

    PYTHONPATH=. .venv/bin/python scripts/receipt_images.py [--out docs]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from dataclasses import replace
from pathlib import Path

from drivers.printer.virtual import VirtualPrinter
from kiosk.cli.printing import receipt_bytes
from kiosk.documents.model import MaterialLine
from kiosk.documents.samples import sample_receipt
from kiosk.paths import ASSETS, FONT

ROOT = Path(__file__).resolve().parent.parent
DOTS = {58: 384, 80: 576}
MATERIALS = (MaterialLine("居民身份证", 1, 2, "原件和复印件"),
             MaterialLine("基本养老保险关系转移接续申请表", 1, 1, "原件"),
             MaterialLine("基本养老保险参保缴费凭证", 1, 0, "原件", "容缺，承诺后补"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    out = parser.parse_args().out
    base = sample_receipt(3)
    receipt = replace(base, materials=MATERIALS, deferred=("基本养老保险参保缴费凭证",))
    for width, dots in DOTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            with VirtualPrinter(out_dir=Path(tmp), font_path=ASSETS / FONT,
                                dots_per_line=dots) as printer:
                with socket.create_connection(("127.0.0.1", printer.port)) as conn:
                    conn.sendall(receipt_bytes(receipt, width))
                printer.wait_for_jobs(1)
            target = out / f"receipt-{width}mm.png"
            target.write_bytes((Path(tmp) / "job-0001.png").read_bytes())
            print(target)


if __name__ == "__main__":
    main()

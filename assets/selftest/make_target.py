"""Draw the 日检 self-test target for the document camera (deterministic).

Run from anywhere: ``python assets/selftest/make_target.py``. Writes ``target.png`` (A4 at
150 dpi) and ``target.pdf`` (the same picture, for the hall to print at 100 %) beside this
file, and a copy of the PNG into ``assets/demo/pages/`` so the emulated camera shows it when
the label 日检测试卡 is placed. What is on it, and why:
- a thick black border on white: the page detector finds the sheet (page found, coverage);
- a QR code with ``TBSELFTEST:target:v1``: the check knows it is the target, not a letter;
- fine line pairs and a star of wedges: sharpness (blur merges them);
- a grey step wedge and a large white field: brightness and glare.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"
CODE = "TBSELFTEST:target:v1"          # kiosk/staff/selftest.py TARGET_CODE
A4_PX, DPI = (1240, 1754), 150


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def draw_target() -> Image.Image:
    img = Image.new("RGB", A4_PX, "white")
    d = ImageDraw.Draw(img)
    d.rectangle((40, 40, A4_PX[0] - 41, A4_PX[1] - 41), outline="black", width=14)
    d.text((A4_PX[0] // 2, 140), "日检测试卡", font=_font(72), fill="black", anchor="mm",
           stroke_width=1, stroke_fill="black")
    d.text((A4_PX[0] // 2, 230), "Self-test target · 高拍仪日检专用，请按 100% 比例打印",
           font=_font(30), fill=(60, 60, 60), anchor="mm")
    qr = qrcode.QRCode(box_size=12, border=2)
    qr.add_data(CODE)
    img.paste(qr.make_image(fill_color="black", back_color="white").convert("RGB"), (130, 320))
    _star(d, (880, 540), 230)
    _line_pairs(d, 130, 860)
    _wedge(d, 130, 1180)
    d.text((A4_PX[0] // 2, 1560), "把本卡平放在拍摄区中央，点“开始检查”",
           font=_font(34), fill="black", anchor="mm")
    d.text((A4_PX[0] // 2, 1620), "Lay this card flat in the middle of the plate, then tap Start",
           font=_font(26), fill=(60, 60, 60), anchor="mm")
    return img


def _star(d: ImageDraw.ImageDraw, c: tuple[int, int], r: int, spokes: int = 36) -> None:
    """A Siemens star: the blur radius shows as the grey disc in its middle."""
    for i in range(spokes):
        a0, a1 = 2 * math.pi * i / spokes, 2 * math.pi * (i + 0.5) / spokes
        d.polygon([c, (c[0] + r * math.cos(a0), c[1] + r * math.sin(a0)),
                   (c[0] + r * math.cos(a1), c[1] + r * math.sin(a1))], fill="black")


def _line_pairs(d: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Groups of bars 8, 6, 4, 3 and 2 px wide (150 dpi: about 0.3 to 1.9 line pairs/mm)."""
    for width in (8, 6, 4, 3, 2):
        for n in range(6):
            left = x + 2 * n * width
            d.rectangle((left, y, left + width - 1, y + 220), fill="black")
        x += 12 * width + 60


def _wedge(d: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Eleven grey steps, black to white: the paper's level reads against them."""
    for i in range(11):
        level = round(255 * i / 10)
        d.rectangle((x + i * 88, y, x + i * 88 + 87, y + 160), fill=(level,) * 3,
                    outline="black", width=2)


def main() -> int:
    img = draw_target()
    img.save(HERE / "target.png", optimize=True)
    img.save(HERE / "target.pdf", resolution=DPI)
    img.save(ROOT / "assets" / "demo" / "pages" / "selftest_target.png", optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

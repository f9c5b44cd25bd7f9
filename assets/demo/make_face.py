"""Draw the face the emulated passport chip carries in DG2 (deterministic).

Run from anywhere: ``python assets/demo/make_face.py``. Writes ``assets/demo/face.jpg`` and
``assets/demo/face.jp2``: a drawn, fictional head-and-shoulders portrait at ICAO proportions
(480×600), with sensor-like grain so its size is that of a real chip's face (~15–20 KB JPEG).
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent
SIZE = (480, 600)


def draw() -> Image.Image:
    img = Image.new("RGB", SIZE, (232, 236, 240))
    d = ImageDraw.Draw(img)
    d.ellipse((60, 440, 420, 760), fill=(48, 62, 92))                 # shoulders
    d.rectangle((205, 380, 275, 470), fill=(226, 186, 160))           # neck
    d.ellipse((140, 130, 340, 400), fill=(234, 196, 170))             # face
    d.chord((130, 90, 350, 300), 180, 360, fill=(40, 32, 30))         # hair
    for x in (195, 285):
        d.ellipse((x - 14, 240, x + 14, 256), fill=(255, 255, 255))
        d.ellipse((x - 7, 241, x + 7, 255), fill=(50, 38, 30))
        d.line((x - 22, 222, x + 22, 218), fill=(50, 40, 36), width=5)
    d.line((240, 260, 232, 310), fill=(196, 150, 128), width=4)
    d.arc((205, 318, 275, 352), 20, 160, fill=(170, 90, 90), width=5)
    img = img.filter(ImageFilter.GaussianBlur(2))
    rng = random.Random(9303)
    grain = Image.frombytes("L", SIZE, bytes(rng.randrange(100, 156)
                                             for _ in range(SIZE[0] * SIZE[1])))
    return Image.blend(img, Image.merge("RGB", (grain, grain, grain)), 0.15)


def main() -> None:
    face = draw()
    face.save(OUT / "face.jpg", "JPEG", quality=82)
    face.save(OUT / "face.jp2", "JPEG2000", quality_mode="rates", quality_layers=[40])


if __name__ == "__main__":
    main()

"""Draw the sample pages that the emulated document camera shows (deterministic).

Run from anywhere: ``python assets/demo/make_pages.py``. Writes A4 pages at 150 dpi into
``assets/demo/pages/``. Every person, number and address on them is fictional (the same
applicant as ``assets/demo/identities.toml``); the ID number only carries a valid check digit.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # why: run as a plain script, not from an installed package
    sys.path.insert(0, str(ROOT))

from drivers.camera.emulated import A4_PX, draw_seal, load_font, wrap  # noqa: E402
from drivers.identity.idnumber import with_check  # noqa: E402

FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf"
OUT = Path(__file__).resolve().parent / "pages"
INK, GREY, LABEL_BG, PEN = (20, 20, 20), (110, 110, 110), (236, 236, 236), (28, 44, 110)
ID_NUMBER = with_check("11010119580312123")
FORM_QR = "TBFORM:application_form:v1"
FICTION = "演示样张 · 所载人员信息均为虚构"
Box = tuple[int, int, int, int]


class Sheet:
    """One A4 page with the few drawing moves the forms need."""

    def __init__(self) -> None:
        self.img = Image.new("RGB", A4_PX, "white")
        self.draw = ImageDraw.Draw(self.img)

    def text(self, xy: tuple[float, float], s: str, size: int, *, bold: bool = False,
             fill: tuple[int, int, int] = INK, anchor: str = "la") -> None:
        # One regular face only: bold is a stroke in the ink colour.
        self.draw.text(xy, s, font=load_font(FONT, size), fill=fill, anchor=anchor,
                       stroke_width=1 if bold else 0, stroke_fill=fill)

    def cell(self, box: Box, s: str, *, label: bool = False, left: bool = False) -> None:
        """A bordered table cell; the text shrinks and wraps until it fits, never clips."""
        x0, y0, x1, y1 = box
        if label:
            self.draw.rectangle(box, fill=LABEL_BG)
        self.draw.rectangle(box, outline=INK, width=2)
        size, lines = 26, [s]
        for size in range(26, 15, -2):
            lines = wrap(self.draw, s, load_font(FONT, size), x1 - x0 - 20)
            if len(lines) * size * 1.3 <= y1 - y0 - 8:
                break
        step = size * 1.3
        top = (y0 + y1) / 2 - step * len(lines) / 2
        for i, line in enumerate(lines):
            x, anchor = (x0 + 14, "lm") if left else ((x0 + x1) / 2, "mm")
            self.text((x, top + step * (i + 0.5)), line, size, bold=label, anchor=anchor)

    def row(self, y: int, h: int, cells: list[tuple[str, int]], x: int = 90) -> int:
        """Cells left to right; a width of 0 takes the rest. Odd cells are labels."""
        right = A4_PX[0] - x
        for i, (s, width) in enumerate(cells):
            x1 = right if width == 0 else x + width
            self.cell((x, y, x1, y + h), s, label=i % 2 == 0, left=i % 2 == 1)
            x = x1
        return y + h

    def options(self, x: int, y: int, choices: list[tuple[str, bool]]) -> None:
        """Tick boxes drawn as lines, since a font's ☑ may be missing or the wrong size."""
        for text, ticked in choices:
            self.draw.rectangle((x, y - 12, x + 24, y + 12), outline=INK, width=2)
            if ticked:
                self.draw.line((x + 4, y, x + 10, y + 8, x + 22, y - 12), fill=INK, width=4)
            self.text((x + 34, y), text, 24, anchor="lm")
            x += 34 + int(self.draw.textlength(text, font=load_font(FONT, 24))) + 36

    def hand(self, xy: tuple[int, int], s: str, size: int, seed: int, tilt: float = -2.0) -> None:
        """Pen writing: each character a little off size, line and angle, the line tilted."""
        rng = random.Random(seed)
        width = int(size * 1.1 * len(s)) + size
        layer = Image.new("RGBA", (width, size * 3), (0, 0, 0, 0))
        x = size // 2
        for char in s:
            sz = int(size * rng.uniform(0.9, 1.08))
            font = load_font(FONT, sz)
            advance = self.draw.textlength(char, font=font)
            glyph = Image.new("RGBA", (sz * 2, sz * 2), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((sz, sz), char, font=font, fill=(*PEN, 235), anchor="mm")
            glyph = glyph.rotate(rng.uniform(-7, 7), resample=Image.Resampling.BICUBIC)
            y = int(size * 1.5 - sz + rng.uniform(-4, 4))
            layer.alpha_composite(glyph, (int(x + advance / 2 - sz), y))
            x += int(advance * rng.uniform(0.88, 1.0))
        layer = layer.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True)
        self.img.paste(layer, xy, layer)

    def footer(self, text: str) -> None:
        self.text((A4_PX[0] / 2, A4_PX[1] - 50), FICTION, 18, fill=(170, 170, 170), anchor="mm")
        if text:
            self.text((A4_PX[0] / 2, A4_PX[1] - 95), text, 22, fill=GREY, anchor="mm")


def application_form() -> Image.Image:
    s = Sheet()
    qr = qrcode.QRCode(box_size=6, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(FORM_QR.encode("utf-8"))
    code = qr.make_image().get_image().convert("RGB")
    s.img.paste(code, (A4_PX[0] - 60 - code.width, 30))
    s.text((A4_PX[0] - 60 - code.width / 2, 40 + code.height), "扫码识别表单", 18, fill=GREY,
           anchor="mt")
    s.text((90, 60), "表单编号：KYTB-SQ-01", 20, fill=GREY)
    s.text((90, 92), "（一式两份）", 20, fill=GREY)
    s.text((A4_PX[0] / 2 - 40, 165), "跨域通办事项申请表", 46, bold=True, anchor="mm")
    y = 262
    s.text((90, y - 12), "填表日期：2024年5月20日", 22, anchor="lb")
    y = s.row(y, 50, [("一、申请人基本信息", 0)])
    y = s.row(y, 56, [("姓名", 150), ("张明华", 230), ("性别", 150), ("男", 90),
                      ("出生日期", 150), ("1958年03月12日", 0)])
    y = s.row(y, 56, [("证件类型", 150), ("居民身份证", 230), ("证件号码", 150), (ID_NUMBER, 0)])
    y = s.row(y, 56, [("联系电话", 150), ("13800138000", 230), ("民族", 150), ("汉", 90),
                      ("邮政编码", 150), ("100010", 0)])
    y = s.row(y, 56, [("住址", 150), ("北京市东城区示例胡同8号", 0)])
    y = s.row(y, 50, [("二、申请事项", 0)])
    y = s.row(y, 56, [("事项名称", 150), ("户籍类证明开具", 0)])
    y = s.row(y, 56, [("受理地", 150), ("四川省广元市利州区政务服务中心", 420),
                      ("办理地", 150), ("北京市东城区", 0)])
    for label, choices in (("办理方式", [("跨域通办（异地代收代办）", True), ("多地联办", False),
                                        ("全程网办", False)]),
                           ("结果领取", [("邮寄送达", True), ("窗口领取", False),
                                        ("电子证照", False)])):
        s.row(y, 56, [(label, 150), ("", 0)])
        s.options(90 + 150 + 20, y + 28, choices)
        y += 56
    y = s.row(y, 56, [("收件地址", 150), ("四川省广元市利州区示例路21号 张明华 收", 0)])
    y = s.row(y, 100, [("申请事由", 150), ("本人户籍在北京市东城区，现随子女居住在四川省广元市，"
                                          "因办理养老待遇相关手续，申请开具本人户籍证明。", 0)])
    y = s.row(y, 50, [("三、提交材料", 0)])
    for n, (name, kind) in enumerate((("居民身份证", "复印件 1 份"),
                                      ("居民户口簿（常住人口登记卡）", "复印件 1 份"),
                                      ("本申请表", "原件 1 份")), 1):
        y = s.row(y, 50, [(str(n), 150), (name, 610), ("", 0)])
        s.text((A4_PX[0] - 90 - 150, y - 25), kind, 24, anchor="mm")
    y = s.row(y, 50, [("四、申请人承诺", 0)])
    promise = ("\u3000\u3000本人郑重承诺：所填写的信息及提交的材料真实、准确、有效，如有虚假，"
               "愿意承担相应的法律责任。")
    s.draw.rectangle((90, y, A4_PX[0] - 90, y + 180), outline=INK, width=2)
    for i, line in enumerate(wrap(s.draw, promise, load_font(FONT, 26), A4_PX[0] - 270)):
        s.text((120, y + 22 + i * 40), line, 26)
    s.text((620, y + 110), "申请人（签字）：", 24, anchor="lm")
    s.hand((810, y + 110 - 66), "张明华", 44, seed=7)
    s.text((A4_PX[0] - 120, y + 152), "2024年5月20日", 24, anchor="rm")
    y = s.row(y + 180, 50, [("五、受理信息（由受理窗口填写）", 0)])
    s.row(y, 60, [("受理人", 150), ("", 230), ("受理日期", 150), ("", 0)])
    s.footer("第 1 页  共 1 页")
    return s.img


def _card(s: Sheet, box: Box, seed: int) -> None:
    """A photocopied card: grey fill, dark edge, the faint guilloche the copier picked up."""
    s.draw.rounded_rectangle(box, radius=28, fill=(228, 228, 228), outline=(90, 90, 90), width=3)
    x0, y0, x1, _ = box
    rng = random.Random(seed)
    for k in range(6):
        phase, amp = rng.uniform(0, 6.28), rng.uniform(8, 18)
        pts = [(x, y0 + 60 + k * 60 + amp * math.sin(x / 40 + phase))
               for x in range(x0 + 20, x1 - 20, 6)]
        s.draw.line(pts, fill=(212, 212, 212), width=2)


def id_card_copy() -> Image.Image:
    s = Sheet()
    w, h, x0 = 708, 446, (A4_PX[0] - 708) // 2
    fy, by = 170, 760
    _card(s, (x0, fy, x0 + w, fy + h), seed=1)
    px0, py0 = x0 + 470, fy + 60                       # portrait placeholder
    s.draw.rectangle((px0, py0, px0 + 190, py0 + 240), fill=(214, 214, 214))
    s.draw.ellipse((px0 + 55, py0 + 35, px0 + 135, py0 + 135), fill=(150, 150, 150))
    s.draw.chord((px0 + 20, py0 + 140, px0 + 170, py0 + 320), 180, 360, fill=(150, 150, 150))
    for label, value, ly in (("姓名", "张明华", 70), ("性别", "男", 135),
                             ("出生", "1958  年  3  月 12 日", 200), ("住址", "", 265)):
        s.text((x0 + 50, fy + ly), label, 24, fill=GREY, anchor="lm")
        s.text((x0 + 130, fy + ly), value, 30 if label == "姓名" else 26, anchor="lm")
    s.text((x0 + 230, fy + 135), "民族", 24, fill=GREY, anchor="lm")
    s.text((x0 + 310, fy + 135), "汉", 26, anchor="lm")
    for i, line in enumerate(wrap(s.draw, "北京市东城区示例胡同8号", load_font(FONT, 26), 330)):
        s.text((x0 + 130, fy + 265 + i * 38), line, 26, anchor="lm")
    s.text((x0 + 50, fy + 380), "公民身份号码", 24, fill=GREY, anchor="lm")
    s.text((x0 + 230, fy + 380), " ".join(ID_NUMBER).replace(" ", "\u2009"), 32, anchor="lm")

    _card(s, (x0, by, x0 + w, by + h), seed=2)
    ex, ey = x0 + 110, by + 110                        # national emblem placeholder
    s.draw.ellipse((ex - 70, ey - 70, ex + 70, ey + 70), outline=(80, 80, 80), width=4)
    s.draw.ellipse((ex - 52, ey - 52, ex + 52, ey + 52), outline=(120, 120, 120), width=2)
    s.text((ex, ey), "★", 54, fill=(80, 80, 80), anchor="mm")
    s.text((x0 + 230, by + 75), "中 华 人 民 共 和 国", 34, bold=True, anchor="lm")
    s.text((x0 + 215, by + 165), "居民身份证", 64, bold=True, anchor="lm")
    for label, value, ly in (("签发机关", "北京市公安局东城分局", 320),
                             ("有效期限", "2016.05.20-长期", 380)):
        s.text((x0 + 130, by + ly), label, 24, fill=GREY, anchor="lm")
        s.text((x0 + 260, by + ly), value, 26, anchor="lm")

    s.hand((x0 + 10, 1300), "此复印件仅供跨域通办使用", 48, seed=11, tilt=3.0)
    s.hand((x0 + 380, 1420), "张明华  2024.5.20", 40, seed=12, tilt=2.0)
    rng = random.Random(3)                             # toner specks of a real photocopy
    for _ in range(400):
        x, y = rng.randrange(A4_PX[0]), rng.randrange(A4_PX[1])
        s.draw.point((x, y), fill=(rng.randrange(120, 200),) * 3)
    s.footer("")
    return s.img


def hukou_page() -> Image.Image:
    s = Sheet()
    left, top, right, bottom = 90, 110, A4_PX[0] - 90, 1560
    s.draw.rectangle((left - 14, top - 14, right + 14, bottom + 14), outline=INK, width=4)
    s.draw.rectangle((left - 6, top - 6, right + 6, bottom + 6), outline=INK, width=1)
    s.text((A4_PX[0] / 2, top + 70), "常住人口登记卡", 50, bold=True, anchor="mm")
    rows: list[list[tuple[str, int]]] = [
        [("姓名", 190), ("张明华", 340), ("户主或与户主关系", 190), ("户主", 0)],
        [("曾用名", 190), ("", 340), ("性别", 190), ("男", 0)],
        [("出生地", 190), ("河北省保定市清苑县", 340), ("民族", 190), ("汉", 0)],
        [("籍贯", 190), ("河北省保定市", 340), ("出生日期", 190), ("1958年03月12日", 0)],
        [("本市(县)其他住址", 190), ("", 340), ("宗教信仰", 190), ("", 0)],
        [("公民身份证件编号", 190), (ID_NUMBER, 340), ("身高", 90), ("172厘米", 120),
         ("血型", 90), ("A型", 0)],
        [("文化程度", 190), ("大学本科", 340), ("婚姻状况", 90), ("已婚", 120),
         ("兵役状况", 90), ("未服兵役", 0)],
        [("服务处所", 190), ("北京示例机械厂", 340), ("职业", 190), ("工程技术人员", 0)],
        [("何时由何地迁来本市(县)", 190), ("1976年09月  河北省保定市清苑县", 0)],
        [("何时由何地迁来本址", 190), ("1992年03月  北京市东城区示例胡同12号", 0)],
        [("承办人签章", 190), ("", 340), ("登记日期", 190), ("1992年03月15日", 0)],
    ]
    y = top + 150
    for cells in rows:
        y = s.row(y, 116, cells, x=left)
    sx, sy = left + 190 + 170, y - 58                  # the clerk's square name seal
    red = (205, 30, 35)
    s.draw.rectangle((sx - 40, sy - 40, sx + 40, sy + 40), outline=red, width=4)
    s.text((sx, sy - 17), "王", 30, bold=True, fill=red, anchor="mm")
    s.text((sx, sy + 17), "伟", 30, bold=True, fill=red, anchor="mm")
    draw_seal(s.img, FONT, (right - 140, y - 165), 122, "北京市公安局东城分局", "户口专用章")
    s.footer("")
    return s.img


INDEX = '''# Sample materials for the emulated document camera (drivers/camera/emulated.py).
# A placed label uses an entry's file when the label contains one of its keywords (longest
# keyword wins); any other label gets a generic page drawn with the label as its title.
# Generated by make_pages.py: fictional person, 150 dpi A4.

[[material]]
file = "application_form.png"
title = "跨域通办事项申请表"
keywords = ["申请表", "登记表", "申请书"]
qr = "TBFORM:application_form:v1"

[[material]]
file = "id_card_copy.png"
title = "居民身份证复印件"
keywords = ["身份证"]

[[material]]
file = "hukou_page.png"
title = "户口簿 常住人口登记卡"
keywords = ["户口簿", "户口本", "常住人口登记卡"]
'''


def save(img: Image.Image, path: Path) -> None:
    """Grey pages as 8-bit grey; pages with a seal or pen ink as a small palette PNG."""
    grey = img.convert("L")
    if grey.convert("RGB").tobytes() == img.tobytes():
        grey.save(path, optimize=True)
    else:
        img.quantize(64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in (("application_form", application_form), ("id_card_copy", id_card_copy),
                       ("hukou_page", hukou_page)):
        path = OUT / f"{name}.png"
        save(make(), path)
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    (OUT / "index.toml").write_text(INDEX, encoding="utf-8")


if __name__ == "__main__":
    main()

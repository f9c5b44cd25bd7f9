"""Emulated document camera (高拍仪) for the demo, UI tests and CI.

A script lays a material on the plate with ``place(label, page)``; ``capture`` returns a JPEG of
it: a sample page when the label matches ``index.toml``, else a plain page titled with the label.
The live preview shows the plate and the page sliding into place (drivers/camera/scene.py).
Faults are injected by name (cable pulled, lamp glare, ...) and show in captures and preview."""

from __future__ import annotations

import io
import math
import threading
import tomllib
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from drivers.camera import CapturedPage, NoPageFound, PageQuality, PreviewFrame
from drivers.camera.preview import PreviewLoop
from drivers.camera.scene import DeskScene
from drivers.errors import DeviceError, DeviceFault
from drivers.faults import Faults
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

FAULTS = ("unplugged", "blurred", "glare", "no_page")
SAMPLE_DPI = 150                      # the sample pages and generic pages are drawn at 150 dpi
A4_PX = (1240, 1754)                  # 210 x 297 mm at 150 dpi
INK = (20, 20, 20)
SEAL_RED = (205, 30, 35)
# Labels for documents that a real office stamps; the generic page gets a seal for these.
_SEALED_WORDS = ("证", "函", "通知书", "决定书", "判决", "合同", "协议")
_BODY = (
    "经核实，申请人所述情况属实，特此说明，请接收单位予以办理相关手续。",
    "双方经平等协商，就下列事项达成一致，自签署之日起生效，双方共同遵守。",
    "本件所载个人信息仅用于跨域通办事项的受理与审核，不得用于其他用途。",
    "如对本文件内容有疑问，请与出具单位联系核实，联系电话：010-12345678。",
    "接收单位应在收到本件之日起十个工作日内办结，并将办理结果告知申请人。",
    "未尽事宜由有关各方另行协商解决，协商不成的，依照有关法律法规处理。",
)
_DIGITS = "〇一二三四五六七八九"
_NO_LINE_START = "，。、；：？！）》」』”’%"


@lru_cache(maxsize=32)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
         width: float) -> list[str]:
    """Break Chinese text at any character (no spaces to break on), never past ``width``."""
    lines, line = [], ""
    for char in text:
        # Closing punctuation may not start a line (避头): let it hang in the margin instead.
        if (line and char not in _NO_LINE_START
                and draw.textlength(line + char, font=font) > width):
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def draw_seal(page: Image.Image, font_path: Path, center: tuple[int, int], radius: int,
              ring_text: str, bottom_text: str = "") -> None:
    """Stamp a round red seal (公章): ring, star, text round the top, a line under the star.
    Drawn on a translucent layer because seal ink lets the print underneath show through."""
    layer = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx, cy = center
    ink = (*SEAL_RED, 210)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=ink,
                 width=max(3, radius // 16))
    star = [_polar(center, radius * (0.3 if i % 2 == 0 else 0.12), -90 + 36 * i)
            for i in range(10)]
    draw.polygon(star, fill=ink)
    size = max(12, int(radius * 0.24))
    font = load_font(font_path, size)
    r = radius - size * 0.9
    # Each glyph gets a little more arc than its width, up to 3/4 of the ring.
    span = min(270.0, math.degrees(size * 1.15 / r) * len(ring_text))
    for i, char in enumerate(ring_text):
        angle = -90 - span / 2 + span * (i + 0.5) / len(ring_text)
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size, size), char, font=font, fill=ink, anchor="mm",
                                   stroke_width=1, stroke_fill=ink)
        glyph = glyph.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        gx, gy = _polar(center, r, angle)
        layer.alpha_composite(glyph, (int(gx - size), int(gy - size)))
    if bottom_text:
        small = load_font(font_path, int(size * 0.8))
        draw.text((cx, cy + radius * 0.55), bottom_text, font=small, fill=ink, anchor="mm")
    page.paste(layer, (0, 0), layer)


def _numeral(n: int) -> str:
    """Chinese clause numbers: 一 … 十, 十一 … 九十九."""
    if n < 10:
        return _DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[units] if units else "")


def _polar(center: tuple[int, int], r: float, degrees: float) -> tuple[float, float]:
    rad = math.radians(degrees)
    return center[0] + r * math.cos(rad), center[1] + r * math.sin(rad)


def render_generic_page(label: str, page: int, font_path: Path) -> Image.Image:
    """A plain A4 document page for a material without a sample: title, clauses, page number."""
    title = label.strip().strip("《》〈〉<> ") or "材料"
    img = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(img)
    seed = zlib.crc32(f"{title}/{page}".encode())   # stable across runs, unlike hash()
    left, right, y = 150, A4_PX[0] - 150, 170
    if page > 1:   # running header, so a loose page still says what it belongs to
        draw.text((right, 110), title, font=load_font(font_path, 24), fill=(90, 90, 90),
                  anchor="rb")
        draw.line((left, 118, right, 118), fill=(120, 120, 120), width=2)
    else:
        tfont = load_font(font_path, 52 if len(title) <= 12 else 40)
        for line in wrap(draw, title, tfont, right - left):
            draw.text((A4_PX[0] // 2, y), line, font=tfont, fill=INK, anchor="mt",
                      stroke_width=1, stroke_fill=INK)
            y += 80
        draw.text((right, y + 10), f"示例字〔2024〕第{seed % 900 + 100}号",
                  font=load_font(font_path, 26), fill=(90, 90, 90), anchor="rt")
        y += 90
    body = load_font(font_path, 30)
    first = 0 if page == 1 else 5 + (page - 2) * 7     # clause numbers run on across pages
    for n in range(5 if page == 1 else 7):
        clause = f"{_numeral(first + n + 1)}、{_BODY[(seed + n) % len(_BODY)]}"
        for i, line in enumerate(wrap(draw, clause, body, right - left - 60)):
            draw.text((left + (60 if i == 0 else 0), y), line, font=body, fill=INK)
            y += 54
        y += 22
    if page == 1:
        _sign_off(img, draw, font_path, title, y + 80)
    draw.text((A4_PX[0] // 2, A4_PX[1] - 110), f"第 {page} 页", font=load_font(font_path, 26),
              fill=(60, 60, 60), anchor="mm")
    return img


def _sign_off(img: Image.Image, draw: ImageDraw.ImageDraw, font_path: Path, title: str,
              y: int) -> None:
    x, font = A4_PX[0] - 200, load_font(font_path, 30)
    draw.text((x, y), "出具单位（盖章）", font=font, fill=INK, anchor="rt")
    draw.text((x, y + 70), "2024年5月20日", font=font, fill=INK, anchor="rt")
    if any(word in title for word in _SEALED_WORDS):
        draw_seal(img, font_path, (x - 130, y + 40), 110, "示例市示例单位专用章")


class EmulatedCamera:
    """DocumentCamera backend with no hardware. Thread-safe: one lock guards all state."""

    def __init__(self, pages_dir: Path, font_path: Path, dpi: int = 150,
                 name: str = "camera.emulated", preview_fps: float = 15,
                 preview_size: tuple[int, int] = (1280, 720), slide_s: float = 0.6) -> None:
        self.name = name
        self._pages_dir, self._font_path, self._dpi = Path(pages_dir), Path(font_path), dpi
        # Reentrant: the sink runs under the lock and may call status() back.
        self._cond = threading.Condition(threading.RLock())
        self._reporter = StatusReporter(name)
        self._opened = False
        self._placed: tuple[str, int] | None = None
        self._faults = Faults(name, FAULTS, self._reporter)
        self._cache: dict[tuple[str, int], Image.Image] = {}
        self._render_lock = threading.Lock()   # captures and the preview share the cache
        self._samples: list[tuple[str, str]] | None = None   # (keyword, file), lazily read
        # The preview thread alone touches the scene; others leave it changes to pick up.
        self._scene = DeskScene(preview_size, slide_s)
        self._preview = PreviewLoop(self._grab, preview_fps, f"{name}.preview")
        self._placements = 0                     # bumped by place() and remove()
        self._fault_changes = 0                  # bumped by inject() and clear_faults()
        self._shown = 0                          # the placement the scene shows
        self._shifts: list[tuple[float, float]] = []

    def open(self, sink: EventSink | None = None) -> None:
        with self._cond:
            self._reporter.set_sink(sink)
            self._opened = True
            self._refresh_status()

    def close(self) -> None:
        self._preview.stop()
        with self._cond:
            self._opened = False
            self._refresh_status()
            self._cond.notify_all()

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def capture(self, timeout: float) -> CapturedPage:
        """Return the page on the plate, waiting up to ``timeout`` s for one to be placed."""
        with self._cond:   # wait_for returns at once when closed, unplugged or no_page
            self._cond.wait_for(self._page_or_fault, timeout)
            self._check_ready()
            if self._placed is None or "no_page" in self._faults:
                raise NoPageFound()
            self._reporter.update(DeviceState.BUSY)
            try:
                return self._shoot(*self._placed)
            finally:
                self._refresh_status()

    def place(self, label: str, page: int = 1) -> None:
        """Lay page ``page`` of the material called ``label`` on the plate."""
        if page < 1:
            raise ValueError("page numbers start at 1")
        with self._cond:
            self._placed = (label, page)
            self._placements += 1
            self._reporter.emit("page_placed", label=label, page=page)
            self._cond.notify_all()

    def remove(self) -> None:
        with self._cond:
            if self._placed is not None:
                self._placed = None
                self._placements += 1
                self._reporter.emit("page_removed")

    def shift_page(self, dx: float, dy: float) -> None:
        """Push the page on the plate by (dx, dy) shares of the preview frame, as a citizen
        straightening it would (the preview shows it moving; captures are unaffected)."""
        with self._cond:
            self._shifts.append((dx, dy))

    # --- live preview ----------------------------------------------------------------------
    def start_preview(self) -> None:
        with self._cond:
            if not self._opened:
                raise DeviceError("高拍仪尚未启动", "The document camera is not open",
                                  code="not_open")
        self._preview.start()

    def stop_preview(self) -> None:
        self._preview.stop()

    def latest_frame(self) -> PreviewFrame | None:
        latest = self._latest()
        return latest[0] if latest else None

    def page_quad(self) -> npt.NDArray[np.float64] | None:
        """Ground truth for tests: the page's corners (TL, TR, BR, BL) in the latest frame."""
        latest = self._latest()
        return latest[1].quad if latest else None

    def wait_still(self, timeout: float) -> tuple[PreviewFrame, npt.NDArray[np.float64] | None]:
        """The first frame grabbed after the page (as last placed, removed or pushed) came to
        rest and after the last fault injected or cleared, with its ground-truth quad; raises
        TimeoutError after ``timeout`` s."""
        with self._cond:
            wanted, faults = self._placements, self._fault_changes

        def still(frame: PreviewFrame, notes: _FrameNotes) -> bool:
            return (notes.placement >= wanted and notes.fault_change >= faults
                    and not notes.moving and not self._shifts)
        found = self._preview.wait_for(still, timeout)
        if found is None:
            raise TimeoutError("the emulated preview did not settle")
        frame, notes = found
        return frame, notes.quad

    def _latest(self) -> tuple[PreviewFrame, _FrameNotes] | None:
        with self._cond:
            if not self._opened or "unplugged" in self._faults:
                return None   # a gone camera shows nothing, not its last picture
        latest: tuple[PreviewFrame, _FrameNotes] | None = self._preview.latest()
        return latest

    def _grab(self, now: float) -> tuple[npt.NDArray[np.uint8], _FrameNotes] | None:
        with self._cond:
            if not self._opened or "unplugged" in self._faults:
                return None
            placed, placement, faults = self._placed, self._placements, self._faults.active
            fault_change = self._fault_changes
            shifts, self._shifts = self._shifts, []
        if placement != self._shown:   # rendering a page is slow: done here, not in place()
            self._shown = placement
            if placed is None:
                self._scene.clear()
            else:
                seed = zlib.crc32(f"{placed[0]}/{placed[1]}/{placement}".encode())
                self._scene.lay(self._page_image(*placed), seed, now)
        for dx, dy in shifts:
            self._scene.shift(dx, dy, now)
        image, quad, moving = self._scene.compose(now, faults)
        return image, _FrameNotes(quad, moving, placement, fault_change)

    def inject(self, fault: str) -> None:
        with self._cond:
            self._faults.inject(fault)
            self._fault_changes += 1
            self._refresh_status()
            self._cond.notify_all()

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._fault_changes += 1
            self._refresh_status()

    @property
    def faults(self) -> frozenset[str]:
        return self._faults.active

    def _refresh_status(self) -> None:
        if not self._opened:
            self._reporter.update(DeviceState.OFFLINE)
        elif "unplugged" in self._faults:
            self._reporter.update(DeviceState.NO_DEVICE, detail="unplugged")
        else:
            self._reporter.update(DeviceState.ONLINE)

    def _page_or_fault(self) -> bool:
        return (self._placed is not None or not self._opened
                or bool(self._faults.active & {"unplugged", "no_page"}))

    def _check_ready(self) -> None:
        if not self._opened:
            raise DeviceError("高拍仪尚未启动", "The document camera is not open", code="not_open")
        if "unplugged" in self._faults:
            raise DeviceFault("高拍仪未连接，请联系现场工作人员",
                              "The document camera is disconnected: please call staff")

    def _shoot(self, label: str, page: int) -> CapturedPage:
        image, glare = self._page_image(label, page), 0.0
        reasons = tuple(f for f in ("blurred", "glare") if f in self._faults)
        if "blurred" in reasons:   # a real blur, so a downstream sharpness check sees it too
            image = image.filter(ImageFilter.GaussianBlur(radius=4 * self._dpi / SAMPLE_DPI))
        if "glare" in reasons:
            image, glare = _add_glare(image)
        quality = PageQuality(sharpness=0.12 if "blurred" in reasons else 1.0, glare=glare,
                              reasons=reasons)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=85, dpi=(self._dpi, self._dpi))
        return CapturedPage(buf.getvalue(), image.width, image.height, self._dpi, quality)

    def _page_image(self, label: str, page: int) -> Image.Image:
        with self._render_lock:
            return self._render(label, page)

    def _render(self, label: str, page: int) -> Image.Image:
        key = (label, page)
        if key not in self._cache:
            sample = self._sample_for(label) if page == 1 else None
            if sample is not None:
                with Image.open(sample) as src:
                    image = src.convert("RGB")
            else:
                image = render_generic_page(label, page, self._font_path)
            if self._dpi != SAMPLE_DPI:
                w, h = (round(side * self._dpi / SAMPLE_DPI) for side in image.size)
                image = image.resize((w, h), Image.Resampling.LANCZOS)
            self._cache[key] = image
        return self._cache[key]

    def _sample_for(self, label: str) -> Path | None:
        if self._samples is None:
            self._samples = _read_index(self._pages_dir / "index.toml")
        return next((self._pages_dir / file for kw, file in self._samples if kw in label), None)


@dataclass(frozen=True)
class _FrameNotes:
    quad: npt.NDArray[np.float64] | None   # ground truth: where the page is in the frame
    moving: bool
    placement: int
    fault_change: int = 0            # the faults as they were after this many changes


def _read_index(path: Path) -> list[tuple[str, str]]:
    """(keyword, file) pairs, longest keyword first so 户口簿首页 beats a shorter match."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    pairs = [(kw, entry["file"]) for entry in data.get("material", [])
             for kw in entry.get("keywords", [])]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _add_glare(image: Image.Image) -> tuple[Image.Image, float]:
    """Blow out an oval near the top as a desk lamp on a glossy page would; return its share."""
    w, h = image.size
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((w * 0.35, h * 0.12, w * 0.85, h * 0.42), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(radius=w / 60))
    out = Image.composite(Image.new("RGB", image.size, "white"), image, mask)
    return out, round(sum(mask.histogram()[250:]) / (w * h), 3)   # share fully blown out

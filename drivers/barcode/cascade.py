"""A bounded cascade of decoding passes: reads codes a single decoder misses, never guesses.

One pass = one decoder (zxing-cpp or ZBar) on one variant of the picture (drivers.barcode.
variants: scaled, sharpened, stretched, binarised three ways, turned, cropped around a
code-like region). The passes run cheapest and likeliest first and the cascade stops at the
first pass after which some read is believed (drivers.barcode.checks: Reed-Solomon codes at
once, check-digit codes when two passes agree, codes without a check when both decoders
agree). A read that is never believed is dropped: a misread is worse than no read.

Bounded: at most ``max_passes`` passes, and no pass starts once ``budget_ms`` has gone by, so
the overrun is one pass. A pass cannot be interrupted (zxing-cpp and ZBar are C++/C calls), so
each one's picture is bounded instead: the first pass sees the picture as given up to
``FULL_SIDE`` (a camera still as it is: the cascade then reads at least what the zxing backend
reads, and as fast when that is enough), every later pass a copy at most ``WORK_SIDE`` long or
a crop at most ``variants.MAX_CROP_SIDE``. What one pass costs still depends on the content:
zxing-cpp spends seconds on a camera-sized picture of pure noise (measured here: 29 s on a
36 MP one, 1.8 s on its 1600-pixel copy, on a shared 2-core machine), as the zxing backend
alone does today; a hard wall-clock cap would need a pass in a process that can be killed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Literal

from drivers.barcode import Barcode, BarcodeDecoder
from drivers.barcode import variants as v
from drivers.barcode.checks import ContentCheck, Key, accepted, key_of
from drivers.barcode.image import Grey, check_grey, load_grey
from drivers.barcode.pyzbar_backend import PyzbarDecoder
from drivers.barcode.zxing_backend import ZxingDecoder

FULL_SIDE = 4096            # the first pass's picture, at most (a 12 MP still is left as it is)
WORK_SIDE = 1600            # the long side every pass after the first sees, at most
SMALL_SIDE = 1200           # a picture up to this long is also tried enlarged twice
MAX_REGIONS = 3             # code-like regions cropped and tried on their own
SKEW_DEGREES = 8.0          # a region turned more than this is also tried straightened
TURNS = (45.0, -45.0, 20.0, -20.0)   # a 1D code skewed past the decoders' scan lines
FAINT_SPAN = 160            # a picture whose grey levels span less is also tried stretched

DecoderName = Literal["zxing", "zbar"]
Stop = Literal["read", "budget", "passes", "exhausted"]


@dataclass(frozen=True)
class Outcome:
    """What one picture yielded: the believed codes, the passes run in order (each
    ``"decoder/variant"``) and why the cascade stopped."""

    codes: tuple[Barcode, ...]
    passes: tuple[str, ...]
    stopped: Stop


@dataclass(frozen=True)
class _Pass:
    decoder: DecoderName
    variant: str
    image: Callable[[], Grey | None]    # None: the variant does not apply to this picture


class _Variants:
    """The variants of one picture, each made once however many passes use it."""

    def __init__(self, grey: Grey) -> None:
        self.full = grey
        self._made: dict[str, Grey | None] = {}

    def get(self, name: str, make: Callable[[], Grey | None]) -> Callable[[], Grey | None]:
        def made() -> Grey | None:
            if name not in self._made:
                self._made[name] = make()
            return self._made[name]
        return made

    def work(self) -> Grey:
        image = self.get("work", lambda: v.fit(self.full, WORK_SIDE))()
        assert image is not None
        return image


class CascadeDecoder:
    """BarcodeDecoder running both backends over variants of the picture, within a budget.

    ``content_check``: what a code must look like where the caller knows it (a read that
    passes it is believed from one pass). ``clock``: monotonic seconds (tests inject one).
    Stateless between pictures, so one instance is shared by every thread.
    """

    name = "barcode.cascade"

    def __init__(self, budget_ms: float = 1000.0, max_passes: int = 24,
                 content_check: ContentCheck | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if budget_ms <= 0 or max_passes < 1:
            raise ValueError("budget_ms must be > 0 and max_passes >= 1")
        self.budget_ms = budget_ms
        self.max_passes = max_passes
        self.content_check = content_check
        self.clock = clock
        self._decoders: dict[DecoderName, BarcodeDecoder] = {
            "zxing": ZxingDecoder(), "zbar": PyzbarDecoder()}

    def decode(self, image: bytes) -> list[Barcode]:
        return self.decode_grey(load_grey(image))

    def decode_grey(self, grey: Grey) -> list[Barcode]:
        return list(self.read(grey).codes)

    def read(self, grey: Grey) -> Outcome:
        """Run passes until a read is believed, the passes or the time run out."""
        grey = check_grey(grey)
        start, ran = self.clock(), list[str]()
        seen: dict[Key, tuple[Barcode, set[tuple[str, str]]]] = {}
        for step in plan(_Variants(grey)):
            if len(ran) >= self.max_passes:
                return Outcome((), tuple(ran), "passes")
            if ran and (self.clock() - start) * 1000 >= self.budget_ms:
                return Outcome((), tuple(ran), "budget")
            image = step.image()
            if image is None:
                continue
            ran.append(f"{step.decoder}/{step.variant}")
            for code in self._decoders[step.decoder].decode_grey(image):
                _, passes = seen.setdefault(key_of(code), (code, set()))
                passes.add((step.decoder, step.variant))
            believed = tuple(code for code, passes in seen.values()
                             if accepted(code, passes, self.content_check))
            if believed:
                return Outcome(believed, tuple(ran), "read")
        return Outcome((), tuple(ran), "exhausted")


def plan(pics: _Variants) -> Iterator[_Pass]:
    """Every pass in the order tried. After both decoders on the picture as it is: on a small
    picture (a code filling it) the whole picture under cheap, likely variants first; on a
    large one (a small code on a page) crops of code-like regions first, since a crop costs a
    fraction of a pass over the page. Then the rest, and the costlier turns last."""
    yield _Pass("zxing", "full", pics.get("full", partial(v.fit, pics.full, FULL_SIDE)))
    yield _Pass("zbar", "work", pics.work)
    regions = _Lazy(lambda: v.proposals(pics.full, MAX_REGIONS))
    if max(pics.full.shape) <= SMALL_SIDE:
        yield from _whole(pics)
        yield from _crops(pics, regions, plain=True)
    else:
        yield from _crops(pics, regions, plain=True)
        yield from _whole(pics)
    yield from _crops(pics, regions, plain=False)
    for degrees in TURNS:
        turned = pics.get(f"turn{degrees:+.0f}", partial(_turned_work, pics, degrees))
        yield _Pass("zbar", f"turn{degrees:+.0f}", turned)
        yield _Pass("zxing", f"turn{degrees:+.0f}", turned)


class _Lazy:
    """The code-like regions, searched only when a pass first needs them."""

    def __init__(self, find: Callable[[], list[v.Region]]) -> None:
        self._find = find
        self._found: list[v.Region] | None = None

    def __call__(self) -> list[v.Region]:
        if self._found is None:
            self._found = self._find()
        return self._found


def _whole(pics: _Variants) -> Iterator[_Pass]:
    sharp = pics.get("sharpen", lambda: v.sharpen(pics.work()))
    flat = pics.get("stretch", lambda: _if_faint(pics.work()))
    resized = pics.get("resize", lambda: _resized(pics.work()))
    sauvola = pics.get("sauvola", lambda: v.sauvola(pics.work()))
    otsu = pics.get("otsu", lambda: v.otsu(pics.work()))
    adaptive = pics.get("adaptive", lambda: v.adaptive(pics.work()))
    yield _Pass("zxing", "sharpen", sharp)
    yield _Pass("zxing", "stretch", flat)
    yield _Pass("zxing", "resize", resized)
    yield _Pass("zxing", "sauvola", sauvola)
    yield _Pass("zbar", "sharpen", sharp)
    yield _Pass("zbar", "resize", resized)
    yield _Pass("zxing", "otsu", otsu)
    yield _Pass("zbar", "sauvola", sauvola)
    yield _Pass("zxing", "adaptive", adaptive)
    yield _Pass("zbar", "otsu", otsu)


def _crops(pics: _Variants, regions: _Lazy, plain: bool) -> Iterator[_Pass]:
    """Both decoders on each region as cropped (``plain``), or on its sharpened and
    straightened versions."""
    for i, region in enumerate(regions()):
        part = pics.get(f"crop{i}", partial(v.crop, pics.full, region))
        if plain:
            yield _Pass("zxing", f"crop{i}", part)
            yield _Pass("zbar", f"crop{i}", part)
            continue
        sharp = pics.get(f"crop{i}-sharpen", partial(_sharpened, part))
        yield _Pass("zxing", f"crop{i}-sharpen", sharp)
        yield _Pass("zbar", f"crop{i}-sharpen", sharp)
        angle = ((region.angle + 90) % 180) - 90
        if SKEW_DEGREES < abs(angle) < 90 - SKEW_DEGREES:
            straight = pics.get(f"crop{i}-straight", partial(_turned, part, angle))
            yield _Pass("zbar", f"crop{i}-straight", straight)
            yield _Pass("zxing", f"crop{i}-straight", straight)


def _turned_work(pics: _Variants, degrees: float) -> Grey:
    """The whole picture turned, at half the working size (a turn's canvas is larger)."""
    return v.rotate(v.fit(pics.work(), WORK_SIDE // 2), degrees)


def _sharpened(image: Callable[[], Grey | None]) -> Grey | None:
    grey = image()
    return None if grey is None else v.sharpen(grey)


def _turned(image: Callable[[], Grey | None], degrees: float) -> Grey | None:
    grey = image()
    return None if grey is None else v.rotate(grey, degrees)


def _if_faint(grey: Grey) -> Grey | None:
    """The stretched picture, or None when it already spans most of the range."""
    return v.stretch(grey) if v.span(grey) < FAINT_SPAN else None


def _resized(grey: Grey) -> Grey:
    """Twice the size for a small picture (tiny modules), half for a large one (noise and
    blur average out, and a code too big for the decoder's module search shrinks)."""
    return v.scale(grey, 2.0 if max(grey.shape) <= SMALL_SIDE else 0.5)

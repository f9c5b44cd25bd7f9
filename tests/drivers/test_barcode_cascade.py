"""The decoding cascade (drivers/barcode/cascade.py): reads what one zxing-cpp pass misses on
pictures spoiled the ways a document camera spoils them, believes no misread, finds nothing on
pictures without a code, and stops within its pass and time budget on hostile input.

Budgets are asserted by pass counts under an injected clock, never by wall time. Pictures
come from zxing-cpp's samples (benchmarks/data, Apache-2.0) and rigs/code_pictures.py.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import qrcode
import zxingcpp
from PIL import Image

from drivers.barcode import Barcode
from drivers.barcode.cascade import FULL_SIDE, WORK_SIDE, CascadeDecoder
from drivers.barcode.checks import accepted, well_formed
from drivers.barcode.image import Grey, load_grey
from drivers.barcode.variants import MAX_CROP_SIDE
from drivers.barcode.zxing_backend import ZxingDecoder
from kiosk.bootstrap import device_context
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.errors import ConfigError
from kiosk.settings import load_settings
from rigs.code_pictures import DEGRADATIONS, degrade, negatives

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "benchmarks" / "data" / "zxing-cpp-samples"
SMARTDOC = ROOT / "benchmarks" / "data" / "smartdoc15_ch1_sample"
# Two pictures of each kind of code (the first two of each folder that a single zxing-cpp pass
# reads as they are): what gets spoiled.
SPOILED_FOLDERS = ("qrcode-1", "qrcode-3", "qrcode-5", "ean13-1", "ean13-3", "code128-2")


def frozen() -> float:
    """A clock that never moves: only the pass limit can stop the cascade."""
    return 0.0


def _samples(folder: str, count: int) -> list[tuple[Grey, bytes]]:
    out = []
    for text in sorted((SAMPLES / folder).glob("*.txt")):
        images = [p for p in text.parent.glob(text.stem + ".*") if p.suffix in {".png", ".webp"}]
        if not images or text.name.endswith(".result.txt"):
            continue
        grey = load_grey(images[0].read_bytes())
        expected = text.read_bytes()
        if any(code.raw == expected for code in ZxingDecoder().decode_grey(grey)):
            out.append((grey, expected))
        if len(out) == count:
            break
    return out


@pytest.fixture(scope="module")
def cascade() -> CascadeDecoder:
    return CascadeDecoder(clock=frozen)


# -- what is believed ------------------------------------------------------------------------
def test_check_digits_are_recomputed() -> None:
    assert well_formed(Barcode("EAN13", "4006381333931", b"4006381333931"))
    assert not well_formed(Barcode("EAN13", "4006381333932", b"4006381333932"))
    assert well_formed(Barcode("EAN8", "96385074", b"96385074"))
    assert well_formed(Barcode("UPCA", "036000291452", b"036000291452"))
    assert well_formed(Barcode("UPCE", "04252614", b"04252614"))            # as printed
    assert well_formed(Barcode("UPCE", "0042100005264", b"0042100005264"))  # zxing-cpp 3
    assert not well_formed(Barcode("UPCE", "04252615", b"04252615"))
    assert not well_formed(Barcode("CODE128", "", b""))


def test_each_tier_needs_its_own_evidence() -> None:
    one, two_zxing = {("zxing", "full")}, {("zxing", "full"), ("zxing", "otsu")}
    both = {("zxing", "full"), ("zbar", "work")}
    qr, ean = Barcode("QRCODE", "x", b"x"), Barcode("EAN13", "4006381333931", b"4006381333931")
    i25 = Barcode("I25", "123456", b"123456")
    assert accepted(qr, one)                                # Reed-Solomon: one pass
    assert not accepted(ean, one) and accepted(ean, two_zxing)   # check digit: two passes
    assert not accepted(i25, two_zxing) and accepted(i25, both)  # no check: both decoders
    upce = Barcode("UPCE", "0042100005264", b"0042100005264")
    assert not accepted(upce, two_zxing) and accepted(upce, both)    # short: both decoders
    bad = Barcode("EAN13", "4006381333932", b"4006381333932")
    assert not accepted(bad, both)                          # a wrong check digit: never
    assert accepted(i25, one, content_check=lambda code: code.text.isdigit())


# -- reads more ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sharp_samples() -> list[tuple[Grey, bytes]]:
    return [s for folder in SPOILED_FOLDERS for s in _samples(folder, 2)]


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_reads_spoiled_codes_a_single_pass_misses(
        cascade: CascadeDecoder, sharp_samples: list[tuple[Grey, bytes]], kind: str) -> None:
    assert len(sharp_samples) == 2 * len(SPOILED_FOLDERS)
    single = ours = 0
    for grey, expected in sharp_samples:
        spoiled = degrade(grey, kind)
        codes = cascade.decode_grey(spoiled)
        assert all(code.raw == expected for code in codes), (kind, codes)   # no misread
        ours += bool(codes)
        single += any(c.raw == expected for c in ZxingDecoder().decode_grey(spoiled))
    assert ours > single, (kind, ours, single)


def test_a_short_code_found_inside_a_long_one_is_not_believed(cascade: CascadeDecoder) -> None:
    """An EAN-13 (ean13-4/06) with light falling off across it: one zxing-cpp pass reads a
    UPC-E whose check digit holds, and reads it again on the sharpened copy. Only ZBar
    agreeing would make it believed; the cascade goes on to the EAN-13 itself."""
    grey = degrade(load_grey((SAMPLES / "ean13-4" / "06.webp").read_bytes()), "shadow")
    [wrong] = ZxingDecoder().decode_grey(grey)
    assert wrong.format == "UPCE" and wrong.raw != b"9780441014989"
    assert [c.raw for c in cascade.decode_grey(grey)] == [b"9780441014989"]


def test_a_upc_e_read_by_both_decoders_is_believed(cascade: CascadeDecoder) -> None:
    """zxing-cpp says UPC-E, ZBar says EAN-13, with the same 13 digits: one read."""
    symbol = zxingcpp.create_barcode("04252614", zxingcpp.BarcodeFormat.UPCE)
    code = np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=3), dtype=np.uint8)
    page = np.full((code.shape[0] * 3, code.shape[1] + 80), 255, np.uint8)
    page[code.shape[0]:2 * code.shape[0], 40:40 + code.shape[1]] = code
    [read] = cascade.decode_grey(page)
    assert read.raw == b"0042100005264"


def test_reads_more_of_a_real_photo_set_than_zxing_alone(cascade: CascadeDecoder) -> None:
    """ean13-2: photos of book covers (glare, blur) where zxing-cpp alone reads 6 of 16. Its
    23.webp is left out: the .txt there disagrees with the digits printed under the bars,
    which both decoders read."""
    single = ours = 0
    for text in sorted((SAMPLES / "ean13-2").glob("*.txt")):
        if text.stem == "23":
            continue
        grey, expected = load_grey(text.with_suffix(".webp").read_bytes()), text.read_bytes()
        codes = cascade.decode_grey(grey)
        assert all(code.raw == expected for code in codes), (text.name, codes)
        ours += bool(codes)
        single += any(c.raw == expected for c in ZxingDecoder().decode_grey(grey))
    assert ours >= single + 5, (ours, single)


def test_reads_a_small_soft_qr_on_a_large_page_through_a_crop() -> None:
    """A form's QR printed small (3-pixel modules) on an 8 MP page, faint and out of focus:
    one zxing-cpp pass over the page misses it; the crop of the code-like region reads it,
    third of the passes (both decoders on the page come first)."""
    code = qrcode.QRCode(border=4, box_size=3)
    code.add_data(b"510802-0001-20261121-0042")
    page = Image.new("L", (3264, 2448), 250)
    page.paste(code.make_image().get_image().convert("L"), (2800, 300))
    faint = 250 - (250 - np.asarray(page, dtype=np.float32)) * 0.4
    soft = cv2.GaussianBlur(faint, (0, 0), 1.6)
    noisy = soft + np.random.default_rng(0).normal(0, 4, soft.shape)
    grey = np.clip(noisy, 0, 255).astype(np.uint8)
    assert ZxingDecoder().decode_grey(grey) == []
    outcome = CascadeDecoder(clock=frozen).read(grey)
    assert [c.text for c in outcome.codes] == ["510802-0001-20261121-0042"]
    assert outcome.passes == ("zxing/full", "zbar/work", "zxing/crop0")


# -- never guesses ---------------------------------------------------------------------------
def _negative_files() -> list[Path]:
    return sorted([*SMARTDOC.glob("*.jpeg"), *SAMPLES.glob("falsepositives-*/*.*")])


@pytest.mark.parametrize("path", _negative_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_nothing_is_read_from_photos_without_a_code(cascade: CascadeDecoder,
                                                    path: Path) -> None:
    outcome = cascade.read(load_grey(path.read_bytes()))
    assert outcome.codes == ()
    assert outcome.stopped == "exhausted" or len(outcome.passes) == cascade.max_passes


@pytest.mark.parametrize("seed", range(2))
def test_nothing_is_read_from_pages_textures_and_noise(seed: int) -> None:
    """Every pass of the plan (the pass limit out of reach) on each kind of negative."""
    everything = CascadeDecoder(max_passes=64, clock=frozen)
    for name, grey in negatives(seed, size=(480, 600)):
        outcome = everything.read(grey)
        assert outcome.codes == (), (name, outcome.codes, outcome.passes[-1])
        assert outcome.stopped == "exhausted", name


# -- bounded ---------------------------------------------------------------------------------
class _Recording:
    """A real decoder, remembering the size of every picture it was handed."""

    def __init__(self, inner: object, sides: list[int]) -> None:
        self.inner, self.sides = inner, sides

    def decode_grey(self, grey: Grey) -> list[Barcode]:
        self.sides.append(max(grey.shape))
        return self.inner.decode_grey(grey)     # type: ignore[attr-defined,no-any-return]


def _recording(cascade: CascadeDecoder) -> list[int]:
    sides: list[int] = []
    cascade._decoders = {name: _Recording(d, sides) for name, d in cascade._decoders.items()}
    return sides


def test_a_huge_picture_costs_the_pass_limit_of_bounded_passes() -> None:
    """48 MP (a hostile upload; the zxing backend alone spends seconds on one pass of it):
    the first pass sees at most FULL_SIDE, every later one a bounded copy or crop."""
    rng = np.random.default_rng(0)
    grey = np.full((6000, 8000), 235, np.uint8)
    for y in rng.integers(0, 6000, 300):             # thin lines, as of print
        grey[y:y + 3, 500:7500] = 30
    cascade = CascadeDecoder(max_passes=8, clock=frozen)
    sides = _recording(cascade)
    outcome = cascade.read(grey)
    assert outcome.codes == () and outcome.stopped == "passes"
    assert len(outcome.passes) == len(sides) == 8
    assert sides[0] == FULL_SIDE and max(sides[1:]) <= max(WORK_SIDE, MAX_CROP_SIDE)


def test_a_pathological_pattern_costs_the_pass_limit() -> None:
    """Stripes of random widths fill a page: code-like everywhere, a code nowhere."""
    stripes = next(g for name, g in negatives(1, size=(2400, 1800)) if name == "stripes")
    cascade = CascadeDecoder(max_passes=5, clock=frozen)
    outcome = cascade.read(stripes)
    assert outcome.codes == () and len(outcome.passes) == 5 and outcome.stopped == "passes"


def test_the_time_budget_stops_it_between_passes() -> None:
    """A clock that moves 300 ms a pass, budget 1000 ms: passes start at 0, 300, 600, 900."""
    grey = next(g for name, g in negatives(0) if name == "noise")
    cascade = CascadeDecoder(budget_ms=1000)
    sides = _recording(cascade)
    cascade.clock = lambda: 0.3 * len(sides)
    outcome = cascade.read(grey)
    assert outcome.stopped == "budget" and len(outcome.passes) == 4


def test_the_first_pass_always_runs_and_a_read_stops_it() -> None:
    ticks = itertools.count(0.0, 100.0)     # every reading is past the budget
    grey, expected = _samples("qrcode-3", 1)[0]
    outcome = CascadeDecoder(budget_ms=1, clock=lambda: next(ticks)).read(grey)
    assert outcome.passes == ("zxing/full",) and outcome.stopped == "read"
    assert [c.raw for c in outcome.codes] == [expected]


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        CascadeDecoder(budget_ms=0)
    with pytest.raises(ValueError):
        CascadeDecoder(max_passes=0)


# -- wiring ----------------------------------------------------------------------------------
def test_the_cascade_is_the_default_decoder_and_its_options_are_checked(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config" / "default.toml").with_data_dir(tmp_path)
    conf = settings.devices.get("barcode_decoder")
    assert conf is not None and conf.backend == "cascade"
    ctx = device_context(settings)
    decoder = BUILTIN.make(DeviceKind.BARCODE_DECODER, "cascade",
                           {"budget_ms": 500, "max_passes": 8}, ctx)
    assert (decoder.budget_ms, decoder.max_passes) == (500, 8)
    buf = io.BytesIO()
    qrcode.make("跨省通办".encode()).get_image().save(buf, "PNG")
    assert [c.text for c in decoder.decode(buf.getvalue())] == ["跨省通办"]
    for bad in ({"budget_ms": 0}, {"max_passes": 1000}, {"budget": 5}):
        with pytest.raises(ConfigError):
            BUILTIN.make(DeviceKind.BARCODE_DECODER, "cascade", bad, ctx)

"""The still pipeline on public frames with ground truth (SmartDoc 2015) and on made-up pages:
corners, quality verdicts, rectified size and dpi, enhancement, JPEG and PDF output."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from drivers.camera import Flaw
from drivers.camera.detect import detect_page
from drivers.camera.files import load_rgb
from drivers.camera.pipeline import analyse, still_to_page
from drivers.camera.rectify import Mode, enhance, page_size
from drivers.camera.scoring import jaccard_index, smartdoc_frames
from kiosk.documents.render import images_to_pdf

ROOT = Path(__file__).resolve().parents[2]
SMARTDOC = ROOT / "benchmarks" / "data" / "smartdoc15_ch1_sample"
FRAMES = list(smartdoc_frames(SMARTDOC))


def test_the_sample_has_its_twelve_frames() -> None:
    assert len(FRAMES) == 12 and all(f.path.exists() for f in FRAMES)


@pytest.mark.parametrize("frame", FRAMES, ids=[f.path.stem for f in FRAMES])
def test_every_smartdoc_frame_is_found_within_the_goal(frame) -> None:
    """Goal of the issue: every frame at JI ≥ 0.9 and a mean ≥ 0.95; we hold each to 0.95."""
    quad = analyse(load_rgb(frame.path)).quad
    assert jaccard_index(frame.quad, quad, frame.reference) >= 0.95


def test_refinement_on_the_full_frame_does_not_lose_accuracy() -> None:
    detected, refined = [], []
    for frame in FRAMES:
        rgb = load_rgb(frame.path)
        detected.append(jaccard_index(frame.quad, detect_page(rgb).quad, frame.reference))
        refined.append(jaccard_index(frame.quad, analyse(rgb).quad, frame.reference))
    assert np.mean(refined) >= np.mean(detected) and min(refined) > 0.98


def test_jaccard_index_is_one_for_the_truth_and_drops_with_a_shifted_corner() -> None:
    truth = FRAMES[0].quad
    assert jaccard_index(truth, truth, FRAMES[0].reference) == pytest.approx(1.0)
    moved = truth.copy()
    moved[2] += (40, 40)
    assert 0.8 < jaccard_index(truth, moved, FRAMES[0].reference) < 0.99
    assert jaccard_index(truth, None, FRAMES[0].reference) == 0.0


def _page_on_plate(size=(1600, 1200), page_box=(400, 150, 1000, 999), blur=0.0):
    """A dark plate with a white page holding dark text bars; optionally blurred."""
    image = np.full((size[1], size[0], 3), (40, 60, 70), np.uint8)
    x0, y0, x1, y1 = page_box
    image[y0:y1, x0:x1] = 235
    for y in range(y0 + 80, y1 - 80, 40):
        image[y:y + 12, x0 + 60:x1 - 60] = 30
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    return image


def test_a_clean_page_passes_every_gate_and_comes_out_a4_at_200_dpi() -> None:
    page = still_to_page(_page_on_plate(), dpi=200)
    assert page.quality.ok, page.quality.reasons
    assert (page.width, page.height) == (1654, 2339)   # 210 × 297 mm at 200 dpi
    with Image.open(io.BytesIO(page.jpeg)) as img:
        assert img.size == (page.width, page.height)
        assert img.info["dpi"] == (200, 200)


def test_blur_is_judged_by_the_page_edge_even_on_a_blank_page() -> None:
    blank = np.full((1200, 1600, 3), (40, 60, 70), np.uint8)
    blank[150:999, 400:1000] = 235
    assert analyse(blank).quality.ok
    soft = cv2.GaussianBlur(blank, (0, 0), 12)
    verdict = analyse(soft).quality
    assert Flaw.BLURRED in verdict.reasons and verdict.sharpness < 0.5


def test_a_dark_shot_and_an_empty_plate_are_named() -> None:
    dark = (_page_on_plate().astype(np.float32) * 0.2).astype(np.uint8)
    assert Flaw.TOO_DARK in analyse(dark).quality.reasons
    empty = np.full((1200, 1600, 3), (40, 60, 70), np.uint8)
    page = still_to_page(empty)
    assert not page.quality.page_found and page.quality.reasons == (Flaw.NO_PAGE,)
    assert page.jpeg[:2] == b"\xff\xd8"   # the shot is kept for the guide to look at


def test_a_page_running_off_the_frame_is_outside() -> None:
    image = _page_on_plate(page_box=(900, 150, 1600, 999))
    quality = analyse(image).quality
    assert Flaw.OUTSIDE in quality.reasons and quality.coverage <= 1.0


def test_page_size_snaps_to_a_series_and_uses_calibration_when_given() -> None:
    quad = np.array([[0, 0], [700, 0], [700, 1000], [0, 1000]], np.float32)  # 1.43 ≈ √2
    assert page_size(quad, 200) == (1654, 2339)
    assert page_size(quad, 200, mm_per_px=0.1) == (556, 787)    # 100 mm long, √2 aspect
    wide = np.array([[0, 0], [1000, 0], [1000, 500], [0, 500]], np.float32)
    assert page_size(wide, 100) == (1169, 584)                    # landscape 2:1


def test_enhancement_evens_out_the_light_and_keeps_the_print() -> None:
    x = np.linspace(0.55, 1.0, 800, dtype=np.float32)
    page = np.full((1000, 800, 3), 235, np.float32) * x[None, :, None]   # a lamp on the right
    page[400:420, 100:700] = 30
    page = page.astype(np.uint8)
    paper_before = page[100:300, :, 1].astype(float)
    out = enhance(page, Mode.COLOUR)
    paper_after = out[100:300, :, 1].astype(float)
    assert paper_after.std() < paper_before.std() / 4
    assert out[405:415, 200:600].mean() < 80           # the print stays dark
    grey, bw = enhance(page, Mode.GREY), enhance(page, Mode.BW)
    assert grey.ndim == 2 and bw.ndim == 2 and set(np.unique(bw)) <= {0, 255}


def test_the_material_pdf_embeds_each_jpeg_unchanged() -> None:
    pages = [still_to_page(_page_on_plate(page_box=(400 + d, 150, 1000 + d, 999)))
             for d in (0, 30)]
    pdf = images_to_pdf([(p.jpeg, p.width, p.height, p.dpi) for p in pages])
    assert all(p.jpeg in pdf for p in pages)
    assert len(pdf) < sum(len(p.jpeg) for p in pages) + 4000   # no second copy, no bitmap
    assert pdf.count(b"/DCTDecode") == 2


def test_jfif_density_is_written_as_dots_per_inch() -> None:
    jpeg = still_to_page(_page_on_plate(), dpi=300).jpeg
    units, x_density, y_density = struct.unpack(">BHH", jpeg[13:18])
    assert (units, x_density, y_density) == (1, 300, 300)

"""The synthetic 高拍仪 set: its ground truth is exact and each condition is what it claims."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from drivers.camera import Flaw
from rigs import frames as syn

SIZE = (1920, 1080)
SMALL = (480, 270)        # geometry does not depend on the resolution: checked on small frames
SEEDS = range(4)
FRAME_AREA = SIZE[0] * SIZE[1]


@cache
def _shot(condition: str, seed: int, plate: str | None = None) -> syn.Shot:
    return syn.shot(condition, seed, SIZE, plate=plate)


@cache
def _blank(condition: str, seed: int) -> syn.Shot:
    """The same shot with a blank page, whose every pixel is paper."""
    return syn.shot(condition, seed, SIZE, page=Image.new("RGB", (1240, 1754), "white"))


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _page_mask(shape: tuple[int, ...], quad: np.ndarray, erode: int = 0) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad * 16).astype(np.int32), 255, cv2.LINE_8, 4)
    if erode:
        mask = cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    return mask > 0


def _inward(quad: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Side i as (start, end, unit normal pointing into the page)."""
    a, b = quad[i].astype(np.float64), quad[(i + 1) % 4].astype(np.float64)
    d = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-d[1], d[0]])
    if (quad.mean(axis=0) - a) @ normal < 0:
        normal = -normal
    return a, b, normal


def _profile(grey: np.ndarray, quad: np.ndarray, i: int, reach: float,
             step: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Mean brightness across side i (offsets < 0 outside, > 0 inside), averaged over 40
    points on the middle 60 % of the side, sampled bilinearly."""
    a, b, normal = _inward(quad, i)
    offsets = np.arange(-reach, reach + step / 2, step)
    points = a + np.linspace(0.2, 0.8, 40)[:, None] * (b - a)
    xy = points[:, None, :] + offsets[None, :, None] * normal
    values = cv2.remap(grey, xy[..., 0].astype(np.float32), xy[..., 1].astype(np.float32),
                       cv2.INTER_LINEAR)
    return offsets, values.mean(axis=0)


def _rise(offsets: np.ndarray, profile: np.ndarray, level: float) -> float:
    """Where the profile, normalised from its outer to its inner end, first reaches level."""
    k = max(3, len(profile) // 12)
    outer, inner = profile[:k].mean(), profile[-k:].mean()
    norm = np.maximum.accumulate((profile - outer) / (inner - outer))
    return float(np.interp(level, norm, offsets))


def _edge_width(shot: syn.Shot) -> float:
    """The widest side's 10–90 % rise, as a share of the page width."""
    assert shot.quad is not None
    grey, width = _grey(shot.image), syn.page_width(shot.quad)
    rises = []
    for i in range(4):
        offsets, profile = _profile(grey, shot.quad, i, max(6.0, 0.04 * width))
        rises.append(_rise(offsets, profile, 0.9) - _rise(offsets, profile, 0.1))
    return max(rises) / width


def _paper_tiles(shot: syn.Shot, grid: int = 8) -> np.ndarray:
    """Paper brightness over a blank page: the mean grey of each tile of the rectified page
    (its rim left out)."""
    assert shot.quad is not None
    w, h = 400, 560
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    flat = cv2.warpPerspective(_grey(shot.image),
                               cv2.getPerspectiveTransform(shot.quad, target), (w, h))
    inset = flat[h // 30:-h // 30, w // 30:-w // 30]
    th, tw = inset.shape[0] // grid, inset.shape[1] // grid
    return np.array([[inset[r * th:(r + 1) * th, c * tw:(c + 1) * tw].mean()
                      for c in range(grid)] for r in range(grid)])


def _blown_share(shot: syn.Shot, level: int) -> float:
    assert shot.quad is not None
    inside = _page_mask(shot.image.shape, shot.quad)
    return float((shot.image.min(axis=2)[inside] >= level).sum()) / syn.quad_area(shot.quad)


# --- the set as a whole -------------------------------------------------------------------
def test_deterministic_for_a_seed() -> None:
    for condition in ("clean", "hand", "glare", "no_page"):
        first, again = syn.shot(condition, 7, (640, 360)), syn.shot(condition, 7, (640, 360))
        assert np.array_equal(first.image, again.image)
        assert first.plate == again.plate
        if first.quad is None:
            assert again.quad is None
        else:
            assert np.array_equal(first.quad, again.quad)
    assert not np.array_equal(syn.shot("clean", 7, (640, 360)).image,
                              syn.shot("clean", 8, (640, 360)).image)


@pytest.mark.parametrize("condition", syn.CONDITIONS)
def test_shape_and_verdict(condition: str) -> None:
    shot = _shot(condition, 0)
    assert shot.image.shape == (SIZE[1], SIZE[0], 3) and shot.image.dtype == np.uint8
    assert shot.condition == condition and shot.plate in syn.PLATES
    assert shot.expected == syn.EXPECTED[condition]
    assert all(isinstance(flaw, Flaw) for flaw in shot.expected)
    if condition == "no_page":
        assert shot.quad is None and shot.expected == {Flaw.NO_PAGE}
        return
    quad = shot.quad
    assert quad is not None and quad.shape == (4, 2) and quad.dtype == np.float32
    # TL, TR, BR, BL: clockwise on screen (y down), starting nearest the top-left.
    x, y = quad[:, 0].astype(float), quad[:, 1].astype(float)
    assert (x @ np.roll(y, -1) - y @ np.roll(x, -1)) > 0
    assert int(np.argmin(quad.sum(axis=1))) == 0


def test_clean_verdicts_are_empty_and_faults_single() -> None:
    assert {c for c, flaws in syn.EXPECTED.items() if not flaws} == {"clean", "shadow", "hand"}
    assert all(len(flaws) == 1 for c, flaws in syn.EXPECTED.items()
               if c not in ("clean", "shadow", "hand"))


def test_unknown_condition_or_plate() -> None:
    with pytest.raises(ValueError):
        syn.shot("upside_down", 0)
    with pytest.raises(ValueError):
        syn.shot("clean", 0, plate="marble")


def test_set_cycles_plates_and_conditions() -> None:
    shots = syn.test_set(seed=3, per_condition=2, size=(320, 180))
    conditions = [s.condition for s in shots]
    assert conditions.count("clean") == 2 * syn.CLEAN_WEIGHT
    assert all(conditions.count(c) == 2 for c in syn.CONDITIONS if c != "clean")
    clean_plates = [s.plate for s in shots if s.condition == "clean"]
    assert len(set(clean_plates)) == len(clean_plates)
    again = syn.shot("clean", syn.item_seed(3, 1), (320, 180), plate=clean_plates[1])
    assert np.array_equal(again.image, shots[1].image)


def test_a_given_page_is_laid() -> None:
    page = Image.new("RGB", (420, 594), (255, 255, 255))
    shot = syn.shot("clean", 1, (640, 360), page=page, plate="black")
    assert shot.quad is not None
    inside = _page_mask(shot.image.shape, shot.quad, erode=3)
    assert np.percentile(shot.image.min(axis=2)[inside], 5) > 150   # blank paper all over


# --- the quad is exactly the page's outline -------------------------------------------------
@pytest.mark.parametrize("plate", syn.PLATES)
def test_quad_lies_on_the_page_edge(plate: str) -> None:
    for seed in range(3):
        shot = _shot("clean", seed, plate)
        assert shot.quad is not None
        grey = _grey(shot.image)
        for i in range(4):
            a, b, normal = _inward(shot.quad, i)
            middle = (a + b) / 2
            near_in = grey[tuple(np.round(middle + 4 * normal)[::-1].astype(int))]
            near_out = grey[tuple(np.round(middle - 4 * normal)[::-1].astype(int))]
            assert near_in >= 170, (plate, seed, i)      # paper just inside
            assert near_in - near_out >= 15, (plate, seed, i)   # plate just outside
            # Half-way between plate and paper is on the side, to a fraction of a pixel.
            offsets, profile = _profile(grey, shot.quad, i, 6.0)
            assert abs(_rise(offsets, profile, 0.5)) <= 0.35, (plate, seed, i)


def test_clean_geometry_within_bounds() -> None:
    width, height = SMALL
    for seed in range(12):
        for condition in ("clean", "shadow", "hand", "glare", "motion_blur", "defocus", "dark"):
            quad = syn.shot(condition, seed, SMALL).quad
            assert quad is not None
            area = syn.quad_area(quad) / (width * height)
            assert syn.CLEAN_AREA[0] <= area <= syn.CLEAN_AREA[1]
            assert np.abs(syn.corner_angles(quad) - 90).max() <= syn.CLEAN_ANGLE_TOL_DEG
            assert syn.side_ratio(quad) >= syn.CLEAN_SIDE_RATIO_MIN
            mx, my = syn.CLEAN_MARGIN * width, syn.CLEAN_MARGIN * height
            assert quad[:, 0].min() >= mx - 0.5 and quad[:, 0].max() <= width - 0.5 - mx
            assert quad[:, 1].min() >= my - 0.5 and quad[:, 1].max() <= height - 0.5 - my


def test_clean_paper_bright_and_unblown_and_sharp() -> None:
    for seed in SEEDS:
        assert _paper_tiles(_blank("clean", seed)).min() >= syn.PAPER_MIN - 8
        assert _blown_share(_shot("clean", seed), 250) < 0.001
    for plate in ("black", "dark_grey"):
        assert _edge_width(_shot("clean", 0, plate)) < 0.006


# --- each condition's measurable property ---------------------------------------------------
def test_shadow_keeps_paper_readable() -> None:
    for seed in SEEDS:
        tiles = _paper_tiles(_blank("shadow", seed))
        assert tiles.min() >= syn.SHADOW_PAPER_MIN - 4
        assert tiles.max() - tiles.min() >= 20           # but the shadow is there


def _skin(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    x, y = np.round(points).astype(int).T
    rgb = image[y, x].astype(int)
    return (rgb[:, 0] - rgb[:, 2] > 35) & (rgb[:, 0] > 90)


def test_thumb_covers_a_little_of_one_side() -> None:
    for seed in SEEDS:
        shot = _shot("hand", seed)
        assert shot.quad is not None
        covered = []
        for i in range(4):
            a, b, normal = _inward(shot.quad, i)
            points = a + np.linspace(0.02, 0.98, 300)[:, None] * (b - a) + 3 * normal
            covered.append(float(_skin(shot.image, points).mean()))
        touched = [c for c in covered if c > 0]
        assert len(touched) == 1, covered
        assert 0.03 <= touched[0] <= syn.HAND_SIDE_MAX, covered
        # The corners stay paper: the truth there is untouched.
        for corner in shot.quad:
            inward = (shot.quad.mean(axis=0) - corner)
            point = corner + 6 * inward / np.linalg.norm(inward)
            assert not _skin(shot.image, point[None])[0]


def test_glare_spot_share() -> None:
    for seed in SEEDS:
        shot = _shot("glare", seed)
        low, high = syn.GLARE_SHARE
        assert low <= _blown_share(shot, 255) <= _blown_share(shot, 250) <= high


@pytest.mark.parametrize("condition", ["motion_blur", "defocus"])
def test_blur_widens_the_edge(condition: str) -> None:
    for plate in ("black", "dark_grey", "blue_felt"):
        assert _edge_width(_shot(condition, 1, plate)) >= 0.015


def test_dark_paper() -> None:
    for seed in SEEDS:
        shot = _shot("dark", seed)
        assert shot.quad is not None
        inside = _page_mask(shot.image.shape, shot.quad, erode=3)
        assert np.percentile(_grey(shot.image)[inside], 95) <= syn.DARK_PAPER_MAX
        assert _paper_tiles(_blank("dark", seed)).max() <= syn.DARK_PAPER_MAX


def test_outside_share() -> None:
    width, height = SMALL
    for seed in range(12):
        quad = syn.shot("outside", seed, SMALL).quad
        assert quad is not None
        off = 1 - syn.inside_share(quad, SMALL)
        assert syn.OUTSIDE_SHARE[0] <= off <= syn.OUTSIDE_SHARE[1]
        beyond = ((quad[:, 0] < -0.5) | (quad[:, 0] > width - 0.5)
                  | (quad[:, 1] < -0.5) | (quad[:, 1] > height - 0.5))
        assert beyond.any()


def test_too_small_area() -> None:
    for seed in range(12):
        quad = syn.shot("too_small", seed, SMALL).quad
        assert quad is not None
        assert syn.quad_area(quad) / (SMALL[0] * SMALL[1]) <= syn.SMALL_AREA_MAX
        assert syn.inside_share(quad, SMALL) == pytest.approx(1.0)


def test_skewed_geometry() -> None:
    for seed in range(12):
        quad = syn.shot("skewed", seed, SMALL).quad
        assert quad is not None
        steep = syn.side_ratio(quad) <= syn.SKEW_SIDE_RATIO_MAX
        oblique = np.abs(syn.corner_angles(quad) - 90).max() >= syn.SKEW_ANGLE_MIN_DEG
        assert steep or oblique
        assert syn.inside_share(quad, SMALL) == pytest.approx(1.0)


def test_no_page_has_no_paper() -> None:
    for seed in SEEDS:
        shot = _shot("no_page", seed)
        assert float((shot.image.min(axis=2) >= 225).mean()) < 0.002


# --- CLI ------------------------------------------------------------------------------------
def test_cli_writes_images_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "set"
    assert syn.main(["--out", str(out), "--seed", "4", "--per-condition", "1",
                     "--size", "480x270"]) == 0
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert len(truth) == len(syn.CONDITIONS) - 1 + syn.CLEAN_WEIGHT
    assert {"clean-0.jpg", "clean-1.jpg", "glare-0.jpg", "no_page-0.jpg"} <= {
        r["image"] for r in truth}
    for record in truth:
        with Image.open(out / record["image"]) as img:
            assert img.format == "JPEG" and img.size == (480, 270)
            pixels = np.asarray(img.convert("RGB"), np.float32)
        again = syn.shot(record["condition"], record["seed"], (480, 270), plate=record["plate"])
        assert record["expected"] == sorted(f.value for f in again.expected)
        assert record["size"] == [480, 270]
        if again.quad is None:
            assert record["quad"] is None
        else:
            assert np.allclose(np.array(record["quad"], np.float32), again.quad, atol=1e-4)
        assert np.abs(pixels - again.image).mean() < 4     # the same picture, JPEG'd

"""The emulated camera's live preview, and page detection on its frames.

Detection accuracy is checked on frames composed at chosen times (DeskScene, no threads);
the camera's preview thread is checked for what it promises: frames, faults, stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import Hint, PreviewFrame
from drivers.camera.detect import detect_page, page_hash
from drivers.camera.emulated import EmulatedCamera
from drivers.camera.scene import DeskScene
from drivers.errors import DeviceError
from drivers.status import DeviceState

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "assets" / "demo" / "pages"
FONT = REPO / "assets" / "fonts" / "NotoSansSC-Regular.otf"
WAIT_S = 30.0
SIZES = [(1280, 720), (1920, 1080)]
LABELS = ["居民身份证复印件", "户口簿首页", "申请表", "劳动合同"]   # samples and generic pages


@pytest.fixture(scope="module")
def pages() -> EmulatedCamera:
    """Renders page images (the cache is shared across tests)."""
    return EmulatedCamera(PAGES, FONT)


@pytest.fixture
def camera() -> Iterator[EmulatedCamera]:
    cam = EmulatedCamera(PAGES, FONT, preview_fps=30, preview_size=(960, 540))
    cam.open()
    yield cam
    cam.close()


def _scene(pages: EmulatedCamera, size: tuple[int, int], label: str, page: int = 1,
           seed: int = 1) -> DeskScene:
    scene = DeskScene(size)
    scene.lay(pages._page_image(label, page), seed, now=0.0)
    return scene


def _iou(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    masks = []
    for quad in (a, b):
        mask = np.zeros(shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(quad * 16).astype(np.int32)], 1, shift=4)
        masks.append(mask)
    return float((masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum())


# --- detection --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("label", LABELS)
def test_detects_the_page_where_it_lies(pages: EmulatedCamera, size: tuple[int, int],
                                        label: str) -> None:
    image, truth, moving = _scene(pages, size, label, seed=len(label)).compose(5.0)
    assert not moving and truth is not None
    found = detect_page(image)
    assert found.hint is Hint.OK and found.quad is not None
    assert found.quad.shape == (4, 2) and found.quad.dtype == np.float32
    assert _iou(found.quad, truth, image.shape) >= 0.95
    # corner by corner, in order TL, TR, BR, BL: within a few pixels
    assert np.abs(found.quad - truth).max() <= 0.004 * size[0]
    assert 0.15 < found.area_ratio < 0.35 and found.glare < 0.01


@pytest.mark.parametrize("size", SIZES)
def test_glare_is_measured_and_hinted(pages: EmulatedCamera, size: tuple[int, int]) -> None:
    image, truth, _ = _scene(pages, size, "申请表").compose(5.0, frozenset({"glare"}))
    found = detect_page(image)
    assert found.hint is Hint.GLARE
    assert 0.05 < found.glare < 0.2          # the oval is about a tenth of the page
    assert found.quad is not None and _iou(found.quad, truth, image.shape) >= 0.95


def test_a_blurred_page_is_still_found(pages: EmulatedCamera) -> None:
    image, truth, _ = _scene(pages, (1280, 720), "户口簿首页").compose(5.0,
                                                                    frozenset({"blurred"}))
    found = detect_page(image)
    assert found.hint is Hint.OK
    assert found.quad is not None and _iou(found.quad, truth, image.shape) >= 0.95


@pytest.mark.parametrize("faults", [frozenset(), frozenset({"no_page"})])
def test_empty_plate_is_no_page(pages: EmulatedCamera, faults: frozenset[str]) -> None:
    scene = DeskScene((1280, 720)) if not faults else _scene(pages, (1280, 720), "申请表")
    image, truth, _ = scene.compose(5.0, faults)
    found = detect_page(image)
    assert truth is None
    assert found.hint is Hint.NO_PAGE and found.quad is None and found.fingerprint is None


@pytest.mark.parametrize("dx, dy", [(0.45, 0.0), (0.0, -0.4), (-0.42, 0.1)])
def test_a_page_pushed_off_the_frame_is_outside(pages: EmulatedCamera, dx: float,
                                                dy: float) -> None:
    scene = _scene(pages, (1280, 720), "申请表")
    scene.shift(dx, dy, now=1.0)
    image, truth, moving = scene.compose(5.0)
    assert not moving and truth is not None
    assert detect_page(image).hint is Hint.OUTSIDE


def test_while_sliding_in_the_page_is_outside_then_moves(pages: EmulatedCamera) -> None:
    scene = _scene(pages, (1280, 720), "申请表")
    first, first_quad, first_moving = scene.compose(0.0)
    _, rest_quad, rest_moving = scene.compose(5.0)
    assert first_moving and not rest_moving
    assert first_quad is not None and rest_quad is not None
    assert np.abs(first_quad - rest_quad).max() > 100     # it came from the citizen's side
    assert detect_page(first).hint in (Hint.OUTSIDE, Hint.NO_PAGE)


def test_a_small_slip_is_too_small(pages: EmulatedCamera) -> None:
    image, _, _ = DeskScene((1280, 720)).compose(5.0)
    slip = np.array([[560, 300], [700, 305], [698, 400], [558, 396]], np.int32)
    cv2.fillPoly(image, [slip], (228, 228, 226))
    found = detect_page(image)
    assert found.hint is Hint.TOO_SMALL and found.area_ratio < 0.08
    assert found.quad is not None


def test_same_page_hashes_alike_and_other_pages_differ(pages: EmulatedCamera) -> None:
    def fingerprint(label: str, page: int, seed: int) -> int:
        image, _, _ = _scene(pages, (1280, 720), label, page, seed).compose(5.0)
        value = detect_page(image).fingerprint
        assert value is not None
        return value

    def distance(a: int, b: int) -> int:
        return (a ^ b).bit_count()

    for label in LABELS:
        a, b = fingerprint(label, 1, 11), fingerprint(label, 1, 12)   # placed twice
        assert distance(a, b) <= 6
        assert distance(a, fingerprint(label, 2, 13)) > 6              # the page turned
    samples = [fingerprint(label, 1, 5) for label in LABELS[:3]]
    assert all(distance(x, y) > 6 for i, x in enumerate(samples) for y in samples[i + 1:])


def test_page_hash_is_64_bits_of_structure() -> None:
    flat = np.full((90, 64), 200, np.uint8)
    assert page_hash(flat) == 0
    ramp = np.tile(np.arange(64, dtype=np.uint8) * 4, (90, 1))   # brighter to the right
    assert page_hash(ramp) == 2 ** 64 - 1


# --- the preview thread -----------------------------------------------------------------------
def _next_frame(camera: EmulatedCamera, after: int) -> PreviewFrame:
    frame, _ = camera.wait_still(WAIT_S)
    while frame.seq <= after:
        frame, _ = camera.wait_still(WAIT_S)
    return frame


def test_preview_needs_an_open_camera() -> None:
    cam = EmulatedCamera(PAGES, FONT)
    with pytest.raises(DeviceError):
        cam.start_preview()
    assert cam.latest_frame() is None


def test_preview_frames_are_rgb_numbered_and_newest_only(camera: EmulatedCamera) -> None:
    camera.start_preview()
    first = _next_frame(camera, 0)
    second = _next_frame(camera, first.seq)
    assert first.image.shape == (540, 960, 3) and first.image.dtype == np.uint8
    assert second.seq > first.seq and second.timestamp > first.timestamp
    latest = camera.latest_frame()
    assert latest is not None and latest.seq >= second.seq
    assert "960x540" in repr(latest)


def test_full_hd_preview_shows_the_placed_page(pages: EmulatedCamera) -> None:
    cam = EmulatedCamera(PAGES, FONT, preview_size=(1920, 1080))
    cam.open()
    try:
        cam.start_preview()
        cam.place("申请表")
        frame, truth = cam.wait_still(WAIT_S)
        assert frame.image.shape == (1080, 1920, 3) and truth is not None
        found = detect_page(frame.image)
        assert found.hint is Hint.OK and found.quad is not None
        assert _iou(found.quad, truth, frame.image.shape) >= 0.95
    finally:
        cam.close()


def test_page_quad_follows_the_page(camera: EmulatedCamera) -> None:
    camera.start_preview()
    assert camera.wait_still(WAIT_S)[1] is None            # nothing placed yet
    camera.place("户口簿首页")
    _, placed = camera.wait_still(WAIT_S)
    assert placed is not None
    camera.shift_page(0.1, 0.0)
    _, pushed = camera.wait_still(WAIT_S)
    assert pushed is not None
    assert np.allclose(pushed - placed, [[96, 0]] * 4)      # 0.1 × 960 px to the right
    camera.remove()
    assert camera.wait_still(WAIT_S)[1] is None
    quad = camera.page_quad()
    assert quad is None


def test_preview_faults(camera: EmulatedCamera) -> None:
    camera.start_preview()
    camera.place("申请表")
    camera.wait_still(WAIT_S)
    camera.inject("glare")
    frame, _ = camera.wait_still(WAIT_S)
    assert detect_page(frame.image).hint is Hint.GLARE
    camera.clear_faults()
    camera.inject("no_page")
    frame, truth = camera.wait_still(WAIT_S)
    assert truth is None and detect_page(frame.image).hint is Hint.NO_PAGE
    camera.clear_faults()
    camera.inject("unplugged")
    assert camera.status().state is DeviceState.NO_DEVICE
    assert camera.latest_frame() is None and camera.page_quad() is None
    camera.clear_faults()
    frame, truth = camera.wait_still(WAIT_S)                # back by itself when replugged
    assert truth is not None and detect_page(frame.image).hint is Hint.OK


def test_stop_and_close_end_the_preview(camera: EmulatedCamera) -> None:
    camera.start_preview()
    camera.wait_still(WAIT_S)
    camera.stop_preview()
    assert camera.latest_frame() is None
    camera.start_preview()
    assert camera.wait_still(WAIT_S)[0].seq > 0
    camera.close()
    assert camera.latest_frame() is None

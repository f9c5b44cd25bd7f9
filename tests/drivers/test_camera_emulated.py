"""EmulatedCamera: sample and generic pages, real QR decoding of captures, injected faults."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivers.barcode.pyzbar_backend import PyzbarDecoder
from drivers.camera import CapturedPage, NoPageFound
from drivers.camera.emulated import EmulatedCamera
from drivers.errors import DeviceError, DeviceFault
from drivers.status import DeviceEvent, DeviceState

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "assets" / "demo" / "pages"
FONT = REPO / "assets" / "fonts" / "NotoSansSC-Regular.otf"


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def camera(events: list[DeviceEvent]) -> Iterator[EmulatedCamera]:
    cam = EmulatedCamera(PAGES, FONT)
    cam.open(events.append)
    yield cam
    cam.close()


def _grey(page: CapturedPage) -> np.ndarray:
    with Image.open(io.BytesIO(page.jpeg)) as img:
        assert img.format == "JPEG"
        assert img.size == (page.width, page.height)
        return np.asarray(img.convert("L"), dtype=float)


def _edge_energy(grey: np.ndarray) -> float:
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_open_and_close_report_status(events: list[DeviceEvent]) -> None:
    cam = EmulatedCamera(PAGES, FONT, name="camera.test")
    assert cam.status().state is DeviceState.OFFLINE
    cam.open(events.append)
    assert cam.status().state is DeviceState.ONLINE and cam.status().usable
    cam.close()
    assert cam.status().state is DeviceState.OFFLINE
    states = [e.data["state"] for e in events if e.kind == "status"]
    assert states == ["online", "offline"]
    assert {e.device for e in events} == {"camera.test"}


def test_application_form_qr_decodes_through_the_camera(camera: EmulatedCamera) -> None:
    camera.place("《跨域通办事项申请表》")
    page = camera.capture(timeout=0)
    assert (page.width, page.height, page.dpi) == (1240, 1754, 150)
    assert page.quality.ok
    codes = PyzbarDecoder().decode(page.jpeg)
    assert [(c.format, c.text) for c in codes] == [("QRCODE", "TBFORM:application_form:v1")]


@pytest.mark.parametrize(("label", "sample"), [
    ("申请书", "application_form.png"),
    ("居民身份证（复印件）", "id_card_copy.png"),
    ("户口本", "hukou_page.png"),
    ("居民户口簿", "hukou_page.png"),
])
def test_keywords_pick_the_sample_page(camera: EmulatedCamera, label: str, sample: str) -> None:
    camera.place(label)
    shot = _grey(camera.capture(timeout=0))
    with Image.open(PAGES / sample) as ref:
        expected = np.asarray(ref.convert("L"), dtype=float)
    assert np.abs(shot - expected).mean() < 2.0     # the same page, give or take JPEG


def test_generic_page_renders_and_captures(camera: EmulatedCamera) -> None:
    camera.place("《联系函》", page=2)
    first = camera.capture(timeout=0)
    grey = _grey(first)
    assert (first.width, first.height) == (1240, 1754)
    assert 0.003 < (grey < 128).mean() < 0.2        # printed text, not a blank or black sheet
    assert camera.capture(timeout=0).jpeg == first.jpeg     # cached and deterministic
    camera.place("《联系函》", page=1)
    assert camera.capture(timeout=0).jpeg != first.jpeg
    assert PyzbarDecoder().decode(first.jpeg) == []


def test_dpi_scales_the_page() -> None:
    cam = EmulatedCamera(PAGES, FONT, dpi=200)
    cam.open()
    cam.place("结婚证")
    page = cam.capture(timeout=0)
    assert (page.width, page.height, page.dpi) == (1653, 2339, 200)


def test_empty_plate_raises_no_page(camera: EmulatedCamera) -> None:
    with pytest.raises(NoPageFound):
        camera.capture(timeout=0)
    camera.place("租赁合同")
    camera.remove()
    with pytest.raises(NoPageFound):
        camera.capture(timeout=0)


def test_capture_waits_for_a_page(camera: EmulatedCamera) -> None:
    threading.Timer(0.05, camera.place, args=("租赁合同",)).start()
    assert camera.capture(timeout=30).quality.ok


def test_capture_when_closed_is_refused() -> None:
    with pytest.raises(DeviceError) as info:
        EmulatedCamera(PAGES, FONT).capture(timeout=0)
    assert info.value.code == "not_open"


def test_unplugged_then_recovered(camera: EmulatedCamera, events: list[DeviceEvent]) -> None:
    camera.place("户口簿")
    camera.inject("unplugged")
    assert camera.status().state is DeviceState.NO_DEVICE and not camera.status().usable
    with pytest.raises(DeviceFault) as info:
        camera.capture(timeout=0)
    assert "高拍仪" in info.value.zh and "camera" in info.value.en
    camera.clear_faults()
    assert camera.status().state is DeviceState.ONLINE
    assert camera.capture(timeout=0).quality.ok
    faults = [(e.data["fault"], e.data["active"]) for e in events if e.kind == "fault"]
    assert faults == [("unplugged", True), ("unplugged", False)]
    assert "no_device" in [e.data["state"] for e in events if e.kind == "status"]


def test_blurred_capture(camera: EmulatedCamera) -> None:
    camera.place("申请表")
    sharp = camera.capture(timeout=0)
    camera.inject("blurred")
    blurred = camera.capture(timeout=0)
    assert blurred.quality.reasons == ("blurred",) and not blurred.quality.ok
    assert blurred.quality.sharpness < 0.5
    assert _edge_energy(_grey(blurred)) < _edge_energy(_grey(sharp)) / 2
    camera.clear_faults()
    assert camera.capture(timeout=0).quality.ok


def test_glare_capture(camera: EmulatedCamera) -> None:
    camera.place("身份证")
    camera.inject("glare")
    page = camera.capture(timeout=0)
    assert page.quality.reasons == ("glare",)
    assert 0.0 < page.quality.glare < 1.0
    camera.clear_faults()
    assert camera.capture(timeout=0).quality.ok


def test_no_page_fault_even_when_placed(camera: EmulatedCamera) -> None:
    camera.place("申请表")
    camera.inject("no_page")
    with pytest.raises(NoPageFound):
        camera.capture(timeout=0)
    camera.clear_faults()
    assert camera.capture(timeout=0).quality.ok


def test_unknown_fault_is_rejected(camera: EmulatedCamera) -> None:
    with pytest.raises(ValueError):
        camera.inject("on_fire")

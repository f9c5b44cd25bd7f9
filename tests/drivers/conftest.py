"""Shared fixtures for the device-layer tests: the real sample pages and font, no mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.barcode.pyzbar_backend import PyzbarDecoder
from drivers.camera.emulated import EmulatedCamera
from drivers.status import DeviceEvent

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


@pytest.fixture(scope="session")
def decoder() -> PyzbarDecoder:
    return PyzbarDecoder()

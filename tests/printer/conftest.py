"""Fixtures shared by the printer tests: the virtual printer on loopback and an event sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.printer.virtual import VirtualPrinter
from drivers.status import DeviceEvent

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(out_dir=tmp_path / "prints", font_path=FONT) as printer:
        yield printer


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []

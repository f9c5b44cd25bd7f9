"""Headless Kivy for the UI tests: SDL2's ``offscreen`` video driver on Mesa (no X server).

The environment must be set before Kivy is first imported, which is why it is done here at
import time. One Kivy window exists per process; each test builds a fresh kiosk and app on it.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_WINDOW", "sdl2")
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_LOG_MODE"] = "PYTHON"      # Kivy must not take over the root logger
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")

from collections.abc import Iterator
from pathlib import Path

import pytest
from staff_rig import StaffRig
from ui_harness import Harness, open_kiosk

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", Path(__file__).resolve().parents[2]
                                / "artifacts" / "screens"))


@pytest.fixture
def harness(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    marker = request.node.get_closest_marker("kiosk")
    options = dict(marker.kwargs) if marker else {}
    h = open_kiosk(tmp_path, ARTIFACTS / request.node.name, **options)
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def rig(tmp_path: Path) -> StaffRig:
    """Staff mode's roster, clock and audit log (tests/ui/staff_rig.py)."""
    return StaffRig(tmp_path)


@pytest.fixture
def staffed(tmp_path: Path, rig: StaffRig, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The kiosk with ``rig``'s staff authority: staff mode can be signed into."""
    h = open_kiosk(tmp_path, ARTIFACTS / request.node.name, staff=rig.authority)
    try:
        yield h
    finally:
        h.close()

"""Drives the real Kivy app headless with simulated touches (Kivy's ``UnitTestTouch``).

``tap(name)`` finds the widget called ``name`` on the current screen or dialog, checks it is
on screen and big enough to touch, and presses it where a finger would: its centre.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.config import Config

# The window is created when kivy.core.window is first imported: size it before that. The
# offscreen driver cannot resize its surface later, so a landscape test runs in a process of
# its own with UI_WINDOW=1920x1080.
WINDOW = os.environ.get("UI_WINDOW", "1080x1920")
Config.set("kivy", "exit_on_escape", "0")
Config.set("graphics", "width", WINDOW.split("x")[0])
Config.set("graphics", "height", WINDOW.split("x")[1])

from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402
from PIL import Image  # noqa: E402

from kiosk.bootstrap import Kiosk, build_kiosk  # noqa: E402
from kiosk.settings import Settings, load_settings  # noqa: E402
from screens.app import KioskApp, relayout, window_size  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.toml"
WAIT_S = 60.0        # a bound on waiting for an outcome; never an assertion about speed

EventLoop.ensure_window()


@dataclass
class FakeClock:
    """The journey's clock (touch guard): tests move it on, so taps are never 'double'."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    app: KioskApp
    kiosk: Kiosk
    clock: FakeClock
    artifacts: Path
    shots: list[Path] = field(default_factory=list)

    # --- the app -------------------------------------------------------------------------
    @property
    def ui(self) -> Any:
        return self.app.ui

    @property
    def journey(self) -> Any:
        return self.app.journey

    @property
    def nav(self) -> Any:
        return self.app.nav

    @property
    def screen(self) -> str:
        return str(self.nav.manager.current)

    def pump(self, frames: int = 1) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for: {what} (screen {self.screen})")
            self.pump()
            time.sleep(0.005)
        self.pump(2)

    def wait_screen(self, name: str) -> None:
        self.wait(lambda: self.screen == name, f"screen {name}")

    # --- finding and touching ------------------------------------------------------------
    def widgets(self) -> Iterator[Widget]:
        for top in Window.children:
            yield from top.walk(restrict=True)

    def find(self, name: str) -> Any:
        """The visible widget called ``name`` (a dialog's over the screen's)."""
        dialog = self.nav.dialog
        roots = [dialog] if dialog is not None else [self.nav.current]
        for root in roots:
            for widget in root.walk(restrict=True):
                if getattr(widget, "name", None) == name and widget is not root:
                    return widget
        raise AssertionError(f"no widget {name!r} on {self.screen}: "
                             f"{sorted(self.names())}")

    def names(self) -> set[str]:
        root = self.nav.dialog or self.nav.current
        return {str(w.name) for w in root.walk(restrict=True) if getattr(w, "name", "")}

    def has(self, name: str) -> bool:
        return name in self.names()

    def tap(self, name: str) -> None:
        self.pump(2)                     # let the layout settle: positions are laid out per frame
        widget = self.find(name)
        x, y = widget.to_window(*widget.center)
        assert 0 <= x < Window.width and 0 <= y < Window.height, f"{name} is off screen"
        self.clock.advance(1.0)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump()
        touch.touch_up()
        self.pump(2)

    def touch_at(self, x: float, y: float, advance: float = 1.0, hold: int = 1) -> None:
        """A finger down and up at window point (x, y), ``advance`` s after the last one."""
        self.clock.advance(advance)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(hold)
        touch.touch_up()
        self.pump(2)

    def type_keys(self, text: str) -> None:
        for char in text:
            key = {" ": "key_space", "'": "key_apostrophe"}.get(char, f"key_{char.lower()}")
            self.tap(key)

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            self.tap(f"digit_{digit}")

    def text_on_screen(self) -> str:
        return "\n".join(str(getattr(w, "text", "")) for w in self.widgets())

    # --- pictures ------------------------------------------------------------------------
    def screenshot(self, label: str) -> Path:
        self.pump(3)
        width, height = Window.size
        pixels = glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE)
        image = Image.frombytes("RGBA", (width, height), pixels).transpose(
            Image.Transpose.FLIP_TOP_BOTTOM).convert("RGB")
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{len(self.shots) + 1:02d}-{label}.png"
        image.save(path)
        self.shots.append(path)
        return path

    def close(self) -> None:
        self.app.on_stop()
        for child in list(Window.children):
            Window.remove_widget(child)
        self.kiosk.close()


def test_settings(tmp_path: Path, **session: Any) -> Settings:
    settings = load_settings(DEMO).with_data_dir(tmp_path / "data")
    if session:
        settings = settings.model_copy(
            update={"session": settings.session.model_copy(update=session)})
    return settings


def open_kiosk(tmp_path: Path, artifacts: Path, orientation: str = "portrait",
               elder: bool = False, language: str = "zh_CN",
               camera: dict[str, Any] | None = None, demo: bool = False,
               staff: Any = None, face: dict[str, Any] | None = None,
               **session: Any) -> Harness:
    """``staff``: a StaffAuthority for staff mode (tests/ui/staff_rig.py builds one);
    ``face``: [face] settings that turn 人证核验 on (None: off, so the walks through identify
    go straight on; tests/ui/test_face_step.py turns it on)."""
    settings = test_settings(tmp_path, **session)
    settings = settings.model_copy(update={"face": settings.face.model_copy(
        update={"enabled": face is not None, **(face or {})})})
    if camera:
        devices = settings.devices
        conf = devices.configured["document_camera"]
        conf = conf.model_copy(update={"options": {**conf.options, **camera}})
        settings = settings.model_copy(update={"devices": devices.model_copy(update={
            "document_camera": conf})})
    ui_settings = settings.ui.model_copy(update={"language": language, "voice": True})
    settings = settings.model_copy(update={"ui": ui_settings})
    assert Window.size == window_size(orientation), (
        f"{orientation} needs UI_WINDOW={'x'.join(map(str, window_size(orientation)))}")
    kiosk = build_kiosk(settings)
    kiosk.open(datetime.now())
    try:
        clock = FakeClock()
        app = KioskApp(kiosk, clock=clock, demo=demo, staff=staff)
        Window.add_widget(app.build())
        harness = Harness(app, kiosk, clock, artifacts)
        if elder:
            relayout(app, elder=True)
        harness.pump(3)
    except BaseException:
        kiosk.close()        # its printer threads would keep the test process alive
        raise
    return harness

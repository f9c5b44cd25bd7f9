"""Speed a citizen feels (issue 20), asserted by what the app does, never by how long it took:
start-up objects kept out of the cycle collector, a finished session's screens collected on
the way home (not during the next citizen's taps), and the program ending as soon as the app
has closed the kiosk (SIGTERM), not after the interpreter's teardown.
The figures themselves are benchmarks/ui.py's."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from ui_harness import ROOT, Harness

# the kiosk program, stopped a moment after its first frame (as SIGTERM stops it: App.stop)
STOPPED_PROGRAM = """
import atexit, sys
atexit.register(lambda: print("interpreter teardown", flush=True))
from kivy.app import App
from kivy.clock import Clock
Clock.schedule_once(lambda _dt: App.get_running_app().stop(), 1)
sys.argv = ["kiosk", "demo", "--settings", sys.argv[1]]
from screens.launch import main
sys.exit(main())
"""


def test_start_up_objects_are_kept_out_of_the_cycle_collector(harness: Harness) -> None:
    # a full collection walked the ~400,000 objects of Kivy, pypinyin and the IME every time
    assert gc.get_freeze_count() > 100_000


def test_a_finished_sessions_screens_are_collected_on_the_way_home(harness: Harness) -> None:
    harness.tap("start")
    harness.wait_screen("matters")
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info["collected"])
    gc.disable()                      # no automatic collection: only the app's own
    gc.callbacks.append(seen)
    try:
        harness.journey.cancel()
        harness.pump(2)
    finally:
        gc.callbacks.remove(seen)
        gc.enable()
    assert harness.screen == "attract"
    assert full and full[0] > 0       # the session's screens, collected at home


def _demo_settings(tmp: Path) -> Path:
    """demo.toml where its relative paths lead to the project's assets and a data folder
    of this test's own."""
    config = tmp / "config"
    config.mkdir()
    (tmp / "assets").symlink_to(ROOT / "assets")
    (config / "catalogue.yaml").symlink_to(ROOT / "config" / "catalogue.yaml")
    settings = config / "demo.toml"
    settings.write_bytes((ROOT / "config" / "demo.toml").read_bytes())
    return settings


def test_the_program_ends_when_the_app_has_closed_the_kiosk(tmp_path: Path) -> None:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
           "KIVY_HOME": str(tmp_path / "kivy"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", STOPPED_PROGRAM, str(_demo_settings(tmp_path))],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "interpreter teardown" not in done.stdout
    assert (tmp_path / "var" / "demo").is_dir()      # it ran on this test's data folder

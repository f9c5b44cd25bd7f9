"""The 暂停服务 page (screens/paused.py): its words come whatever state the settings are in,
and the page opens with Kivy alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from screens.paused import SETTINGS_CAP, TEXT_CAP, page_lines, window_size

GOOD = '[kiosk]\nname = "利州区政务服务中心 1号机"\nphone = "0839-3266123"\n'


@pytest.mark.parametrize(("content", "hall"), [
    (GOOD, ["利州区政务服务中心 1号机", "咨询电话 / Phone: 0839-3266123"]),
    (None, []),                                            # no settings file
    ("[kiosk\nname = ", []),                               # not TOML
    ("kiosk = 3\n", []),                                   # no table
    ('[kiosk]\nname = 7\nphone = ["x"]\n', []),            # not strings
    (b"\xff\xfe[kiosk]\n", []),                            # not UTF-8
])
def test_the_page_says_pause_and_what_it_can_of_the_hall(tmp_path: Path,
                                                         content: str | bytes | None,
                                                         hall: list[str]) -> None:
    settings = tmp_path / "settings.toml"
    if isinstance(content, str):
        settings.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        settings.write_bytes(content)
    lines = page_lines(settings)
    assert lines[:2] == ["暂停服务", "Out of service"]
    assert lines[4:] == hall


def test_the_window_is_the_apps_own_size(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[ui]\norientation = "landscape"\n', encoding="utf-8")
    assert window_size(settings) == (1920, 1080)
    assert window_size(tmp_path / "missing.toml") == (1080, 1920)


def test_outside_input_is_bounded(tmp_path: Path) -> None:
    long_name = tmp_path / "long.toml"
    long_name.write_text(f'[kiosk]\nname = "{"馆" * 5000}"\n', encoding="utf-8")
    assert len(page_lines(long_name)[4]) == TEXT_CAP
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"[kiosk]\n" + b"#" * SETTINGS_CAP + b"\n")
    assert page_lines(huge)[4:] == []
    assert page_lines(tmp_path)[4:] == []                  # a folder, not a file


def test_the_page_opens_with_kivy_alone(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(GOOD, encoding="utf-8")
    code = ("import sys; from screens.paused import build_page, page_lines; "
            "from pathlib import Path; "
            "page = build_page(page_lines(Path(sys.argv[1]))); "
            "print(len(page.children)); "
            "print(sorted(m for m in sys.modules if m == 'kiosk' or m.startswith('kiosk.')))")
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
           "KIVY_LOG_MODE": "PYTHON", "KIVY_HOME": str(tmp_path / "kivy")}
    done = subprocess.run([sys.executable, "-c", code, str(settings)], capture_output=True,
                          text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["6", "[]"]      # six lines, no kiosk core imported

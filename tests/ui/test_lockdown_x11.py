"""Issue 26: the real ``kiosk run`` on a real X server (Xvfb), keys sent with xdotool as a
USB keyboard would send them: the app is still there afterwards, still pinging systemd.
Skipped where Xvfb or xdotool is not installed (scripts/setup.sh installs both)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kiosk_process import ROOT, NotifyListener, run_settings, stop

# F1 last: Escape closes Kivy's settings panel, so a panel F1 opened earlier would be gone
KEYS = ["Escape", "alt+F4", "F12", "shift+F12", "F8", "F11", "shift+F11", "ctrl+c",
        "ctrl+q", "ctrl+w", "alt+Tab", "ctrl+e", "super+d", "ctrl+alt+BackSpace",
        "ctrl+alt+F1", "alt+F2", "ctrl+shift+Escape", "Tab", "a", "Return", "F1"]

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool")


@pytest.fixture
def display() -> Iterator[str]:
    """An Xvfb of its own (it picks a free display number and writes it to a pipe)."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                               "1080x1920x24", "-nolisten", "tcp"], pass_fds=(write,),
                              stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(30)


def test_keys_on_a_real_x_server_leave_the_app_running(tmp_path: Path, display: str) -> None:
    listener = NotifyListener(tmp_path / "notify")
    env = _x_env(tmp_path, display)
    app = _start(run_settings(tmp_path), env, tmp_path / "app.log")
    try:
        listener.wait_for("READY=1")
        window = subprocess.run(["xdotool", "search", "--sync", "--pid", str(app.pid)],
                                env=env, capture_output=True, text=True, timeout=60)
        assert window.returncode == 0, window.stderr
        wid = window.stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, timeout=60,
                       check=False)
        _pings(listener, 3)                         # the attract screen drawn and at rest
        before = _screen(display)
        for key in KEYS:
            subprocess.run(["xdotool", "key", "--clearmodifiers", key], env=env, timeout=60,
                           check=True)
        while listener.receive(0.05) is not None:  # pings queued while the keys went
            pass
        _pings(listener, 4)                         # the UI thread runs on
        assert app.poll() is None, (tmp_path / "app.log").read_text(errors="replace")
        assert "STOPPING=1" not in listener.states()
        assert _screen(display) == before          # no settings panel, inspector, rotation
        shots = list(Path(ROOT).glob("screenshot*.png")) + list(tmp_path.glob("**/screenshot*"))
        assert shots == [], shots                  # F12 took no screenshot
        app.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1")
        assert app.wait(120) == 0
    finally:
        stop(app)
        listener.close()


def _screen(display: str) -> bytes:
    """The whole screen's pixels (xwd), for what was there before the keys."""
    if not shutil.which("xwd"):
        return b""
    dump = subprocess.run(["xwd", "-display", display, "-root", "-silent"],
                          capture_output=True, timeout=60, check=True).stdout
    header_size = int.from_bytes(dump[0:4], "big")     # XWDFileHeader, then the colour map
    colours = int.from_bytes(dump[76:80], "big")
    return dump[header_size + 12 * colours:]


def _pings(listener: NotifyListener, count: int) -> None:
    start = len(listener.states())
    while listener.states()[start:].count("WATCHDOG=1") < count:
        assert listener.receive(60) is not None, listener.messages


def test_a_crash_during_a_session_is_reported_by_the_next_start(tmp_path: Path,
                                                                 display: str) -> None:
    """A citizen touches 开始办理, the app is killed (a native crash, the OOM killer); the
    next start comes back to a clean attract screen and says the run ended in a session."""
    settings = run_settings(tmp_path)
    env = _x_env(tmp_path, display)
    first = NotifyListener(tmp_path / "notify")
    app = _start(settings, env, tmp_path / "app.log")
    marker = tmp_path / "data" / "run-marker.json"
    try:
        first.wait_for("READY=1")
        _pings(first, 3)
        subprocess.run(["xdotool", "mousemove", "540", "1120", "click", "1"], env=env,
                       timeout=60, check=True)             # 开始办理 (进度查询 is below it)
        deadline = time.monotonic() + 60
        while '"session": true' not in marker.read_text():
            assert time.monotonic() < deadline, marker.read_text()
            time.sleep(0.1)
    finally:
        stop(app)                                          # SIGKILL mid-session
        first.close()
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify2")
    again = NotifyListener(tmp_path / "notify2")
    app = _start(settings, env, tmp_path / "app2.log")
    try:
        again.wait_for("READY=1")
        assert "STATUS=serving; previous run: crash during a session" in again.states()
        assert '"session": true' not in marker.read_text()  # this run is not in one
    finally:
        stop(app, signal.SIGTERM)
        again.close()


def _x_env(folder: Path, display: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY") and not k.startswith("WATCHDOG")}
    env.update(DISPLAY=display, NOTIFY_SOCKET=str(folder / "notify"),
               WATCHDOG_USEC="1000000", KIVY_NO_FILELOG="1", PYTHONPATH=str(ROOT),
               KIVY_HOME=str(folder / "kivy-home"))
    return env


def _start(settings: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "screens", "run", "--settings",
                                 str(settings)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)

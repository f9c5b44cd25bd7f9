"""The real ``kiosk run`` in a process of its own (headless: SDL's offscreen driver), with a
real NOTIFY_SOCKET listener: what systemd sees of the app."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0          # a bound on waiting, never an assertion about speed


def run_settings(folder: Path, extra: str = "") -> Path:
    """The demo settings with absolute paths and data under ``folder``; ``extra``: TOML
    lines put in place of the [hours] table's first line."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('"../assets', f'"{ROOT}/assets')
    text = text.replace('catalogue = "catalogue.yaml"',
                        f'catalogue = "{ROOT}/config/catalogue.yaml"')
    text = text.replace('data_dir = "../var/demo"', f'data_dir = "{folder}/data"')
    text = re.sub(r"(?m)^fullscreen = false$", "fullscreen = true", text)
    if extra:
        text = text.replace("[hours]\n", f"[hours]\n{extra}\n", 1)
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class NotifyListener:
    """An AF_UNIX datagram socket as systemd's notify socket."""

    path: Path
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def receive(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            message = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        self.messages.append(message)
        return message

    def wait_for(self, state: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while state not in self.states():
            left = deadline - time.monotonic()
            if left <= 0 or self.receive(left) is None:
                raise AssertionError(f"no {state} from the app; got {self.messages}")

    def states(self) -> list[str]:
        return [line for m in self.messages for line in m.splitlines()]

    def close(self) -> None:
        self.sock.close()


def start_app(settings: Path, notify: Path, watchdog_usec: int, log: Path,
              **env: str) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHDOG_", "NOTIFY_"))}
    environ.update(SDL_VIDEODRIVER="offscreen", KIVY_WINDOW="sdl2", KIVY_NO_FILELOG="1",
                   KIVY_HOME=str(notify.parent / "kivy-home"), NOTIFY_SOCKET=str(notify),
                   WATCHDOG_USEC=str(watchdog_usec), PYTHONPATH=str(ROOT), **env)
    environ.pop("DISPLAY", None)
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "screens", "run", "--settings",
                                 str(settings)], env=environ, stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(WAIT_S)

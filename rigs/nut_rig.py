"""A UPS for the tests, on loopback, two ways with one interface (``port``, ``ups``, ``set``):

- :class:`NutServer`: Debian's real Network UPS Tools — ``upsd`` serving the ``dummy-ups``
  driver, whose values come from a ``.dev`` file this rig rewrites (the driver re-reads it
  when it changes). Needs the ``nut-server`` package; :func:`nut_installed` says.
- :class:`FakeUpsd`: upsd's network protocol in Python (``LIST VAR``, ``GET VAR``, ``VER``,
  ``LOGOUT``; ``ERR UNKNOWN-UPS`` and friends), for machines without NUT, and for answers a
  real upsd never gives (an endless line, a silent server).
"""

from __future__ import annotations

import os
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

UPSD = Path("/lib/nut/upsd")
DUMMY = Path("/lib/nut/dummy-ups")


def nut_installed() -> bool:
    return UPSD.exists() and DUMMY.exists() and os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _values(status: str, runtime: float | None, charge: float | None) -> dict[str, str]:
    values = {"ups.status": status}
    if runtime is not None:
        values["battery.runtime"] = str(int(runtime))
    if charge is not None:
        values["battery.charge"] = str(int(charge))
    return values


class FakeUpsd:
    def __init__(self, ups: str = "kioskups") -> None:
        self.ups = ups
        self.values: dict[str, str] = _values("OL", 1800, 100)
        self.mode = "normal"            # "normal" | "garbage" (an endless line) | "silent"
        self.questions: list[str] = []
        rig = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace").strip()
                    rig.questions.append(line)
                    if line == "LOGOUT":
                        self.wfile.write(b"OK Goodbye\n")
                        return
                    self.wfile.write(rig.answer(line).encode())

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, line: str) -> str:
        if self.mode == "silent":
            time.sleep(30)
            return ""
        if self.mode == "garbage":
            return "VAR " + "x" * 100_000 + "\n"
        words = line.split()
        if words[:1] == ["VER"]:
            return "Network UPS Tools upsd (fake rig)\n"
        if words[:2] in (["LIST", "VAR"], ["GET", "VAR"]) and len(words) >= 3:
            if words[2] != self.ups:
                return "ERR UNKNOWN-UPS\n"
            if words[0] == "GET":
                value = self.values.get(words[3] if len(words) > 3 else "")
                return (f'VAR {self.ups} {words[3]} "{value}"\n' if value is not None
                        else "ERR VAR-NOT-SUPPORTED\n")
            rows = "".join(f'VAR {self.ups} {k} "{v}"\n' for k, v in sorted(self.values.items()))
            return f"BEGIN LIST VAR {self.ups}\n{rows}END LIST VAR {self.ups}\n"
        return "ERR UNKNOWN-COMMAND\n"

    def set(self, status: str, runtime: float | None = None,
            charge: float | None = None) -> None:
        self.values = _values(status, runtime, charge)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeUpsd:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


class NutServer:
    """Real upsd + dummy-ups in a folder of their own, stopped by PID on close."""

    def __init__(self, ups: str = "kioskups") -> None:
        self.ups = ups
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="nut-rig-"))
        conf, state = self.dir / "conf", self.dir / "state"
        conf.mkdir()
        state.mkdir(mode=0o700)
        (conf / "ups.conf").write_text(f"[{ups}]\n driver = dummy-ups\n port = {ups}.dev\n"
                                       " desc = \"tongban-kiosk test UPS\"\n")
        (conf / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {self.port}\n")
        (conf / "upsd.users").write_text("")
        (conf / "nut.conf").write_text("MODE=standalone\n")
        self._dev = conf / f"{ups}.dev"
        self._write(_values("OL", 1800, 100))
        for f in conf.iterdir():
            f.chmod(0o600)
        env = {**os.environ, "NUT_CONFPATH": str(conf), "NUT_STATEPATH": str(state)}
        self._procs = [subprocess.Popen([str(DUMMY), "-a", ups, "-u", "root", "-F"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        self._wait(lambda: any(state.iterdir()), "the dummy-ups driver's socket")
        self._procs.append(subprocess.Popen([str(UPSD), "-u", "root", "-F"], env=env,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        self._wait(lambda: self._status() == "OL", "upsd to serve the UPS")

    def _write(self, values: dict[str, str]) -> None:
        text = "".join(f"{k}: {v}\n" for k, v in values.items())
        tmp = self._dev.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self._dev)       # the driver never reads half a file

    def _status(self) -> str | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                s.sendall(f"GET VAR {self.ups} ups.status\n".encode())
                line = s.makefile("rb").readline(1024).decode().strip()
        except OSError:
            return None
        return line.split('"')[1] if line.startswith("VAR ") else None

    @staticmethod
    def _wait(condition: Any, what: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise RuntimeError(f"NUT rig: no {what} after {timeout} s")
            time.sleep(0.1)

    def set(self, status: str, runtime: float | None = None,
            charge: float | None = None) -> None:
        """Change the UPS's values; return once upsd serves the new status."""
        self._write(_values(status, runtime, charge))
        self._wait(lambda: self._status() == status, f"status {status} from upsd")

    def close(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> NutServer:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

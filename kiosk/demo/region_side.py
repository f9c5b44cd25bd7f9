"""The handling region in the tracked demo (and its end-to-end test): ``kiosk-region`` run as a
child process (``python -m intake``), exactly as a region runs it, on a folder of its own.

The kiosk never imports intake/ (lint-imports forbids it): this module only starts the
region's program and reads its printed lines, so both stay separate programs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError

STAFF_ID = "demo01"
STAFF_PIN = "246810"            # the demo's staff PIN, sent as one line of stdin
REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300.0


class RegionStepFailed(KioskError):
    code = "region_step_failed"


@dataclass(frozen=True)
class RegionSide:
    root: Path                  # the region's own folder: database, unpacked cases
    store: Path                 # the upload store intake reads (tus file store or delivered/)
    key: Path                   # the region's decryption key
    status_key: Path            # its status signing key (the directory lists its public half)
    kiosks: Path                # registered kiosks' public keys

    @property
    def db(self) -> Path:
        return self.root / "region.db"

    def run(self, *argv: str, stdin: str = "") -> str:
        """``kiosk-region ARGV``; its standard output, or the region's refusal raised."""
        done = subprocess.run([sys.executable, "-m", "intake", *argv], capture_output=True,
                              text=True, input=stdin, timeout=TIMEOUT_S, cwd=REPO)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["?"])[-1][:300]
            raise RegionStepFailed(f"办理地程序 {argv[0]} 失败：{why}",
                                   f"kiosk-region {argv[0]} failed: {why}")
        return done.stdout

    def intake(self) -> str:
        return self.run("intake", "--store", str(self.store), "--db", str(self.db),
                        "--key", str(self.key), "--kiosks", str(self.kiosks),
                        "--status-key", str(self.status_key), "--cases",
                        str(self.root / "cases"))

    def add_staff(self) -> None:
        self.run("staff", "add", "--db", str(self.db), "--id", STAFF_ID, "--name", "演示工作人员",
                 "--role", "admin",
                 stdin=STAFF_PIN + "\n")

    def move(self, ref: str, to: str, details: tuple[str, ...] = ()) -> None:
        """``case move`` signed in as the demo staff member (PIN on stdin)."""
        self.run("case", "move", ref, "--to", to, "--db", str(self.db), "--status-key",
                 str(self.status_key), "--staff", STAFF_ID, *details, stdin=STAFF_PIN + "\n")

    def publish(self, broker: str, fleet: str) -> str:
        return self.run("publish", "--db", str(self.db), "--broker", broker, "--fleet", fleet,
                        "--once", "--timeout", "60").strip()

    @contextmanager
    def feed(self) -> Iterator[str]:
        """``kiosk-region feed`` on a free loopback port; yields its base URL."""
        child = subprocess.Popen([sys.executable, "-m", "intake", "feed", "--db", str(self.db),
                                  "--listen", "127.0.0.1:0", "--kiosks", str(self.kiosks),
                                  "--no-client-auth"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 cwd=REPO)
        try:
            line = child.stdout.readline() if child.stdout else ""
            if not line.startswith("listening "):
                raise RegionStepFailed("办理地状态订阅源未能启动",
                                       "kiosk-region feed did not start")
            yield f"http://127.0.0.1:{int(line.split()[1])}"
        finally:
            child.terminate()
            child.wait(timeout=30)

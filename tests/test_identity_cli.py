"""``kiosk devices identity`` against the GA/T 467 emulator on a TCP port (real pyserial
``socket://`` transport; the CLI runs as its own process)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.identity.emulated import load_identities
from drivers.identity.ga467.emulator import Ga467Module, TcpModule

ROOT = Path(__file__).resolve().parent.parent
CARDS = load_identities(ROOT / "assets" / "demo" / "identities.toml")


@pytest.fixture
def line() -> Iterator[tuple[Ga467Module, str]]:
    module = Ga467Module()
    server = TcpModule(module)
    yield module, server.url
    server.close()


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_reads_a_card_as_json_and_saves_the_photo(line: tuple[Ga467Module, str],
                                                  tmp_path: Path) -> None:
    module, url = line
    module.present(CARDS["resident"])
    photo = tmp_path / "photo.wlt"
    done = kiosk("devices", "identity", "--backend", "ga467", "--port", url, "--json",
                 "--photo-out", str(photo))
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["card_type"] == "resident" and fields["id_number"] == "110101195803121237"
    assert fields["valid_to"] is None and fields["nation"] == "汉"
    assert len(photo.read_bytes()) == 1024           # no decoder configured: the raw WLT


def test_no_card_exits_non_zero_with_one_line(line: tuple[Ga467Module, str]) -> None:
    _, url = line
    done = kiosk("devices", "identity", "--backend", "ga467", "--port", url, "--timeout", "0.5")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("card_not_found:")


def test_emulator_by_hand() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "devices", "emulate", "ga467"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("GA/T 467 module on /dev/pts/")
    proc.stdout.readline()
    proc.stdin.write("present hmt\nfault nonsense\nquit\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "ok"
    assert proc.stdout.readline().startswith("!")
    assert proc.wait(timeout=30) == 0

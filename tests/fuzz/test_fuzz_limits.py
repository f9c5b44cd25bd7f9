"""The inputs that once exhausted memory or hung, each given to ``python -m kiosk`` in a child
with 2 GiB of address space and a timeout: ``/dev/zero`` (``scan codes`` grew to 20 GB), a
pipe with no writer, a 10 GiB sparse file, a PNG header claiming 65000×65000, "billion
laughs" YAML (MemoryError after 38 s). Each must be refused, bilingual, without a traceback.

The children run a few at a time (each starts in about a second) from one fixture; each case
is then its own test.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fuzz_inputs import (
    UNBOUNDED,
    Builder,
    billion_laughs,
    bomb,
    check_refusal,
    dev_zero,
    fifo,
    run_limited,
    settings_with_route_key,
    write_text,
)

Case = Callable[[Path], list[str]]
FACE = Path(__file__).resolve().parents[2] / "benchmarks/data/london_face_set/smiling/001.jpg"


def _files(tmp: Path) -> list[str]:
    return [str(build(tmp)) for build in (*UNBOUNDED.values(), bomb)]


def _validate(build: Builder) -> Case:
    return lambda tmp: ["catalogue", "validate", str(build(tmp))]


CASES: dict[str, Case] = {
    # one child per scan command, every dangerous file in it: each must give its error line
    "scan-detect": lambda tmp: ["scan", "detect", "--json", *_files(tmp)],
    "scan-codes": lambda tmp: ["scan", "codes", "--json", *_files(tmp)],
    "scan-codes-pyzbar": lambda tmp: ["scan", "codes", "--json", "--decoder", "pyzbar",
                                      *_files(tmp)],
    "scan-rectify-bomb": lambda tmp: ["scan", "rectify", str(bomb(tmp)),
                                      "--out", str(tmp / "o.jpg")],
    "catalogue-billion-laughs": lambda tmp: [
        "catalogue", "validate", str(write_text(tmp / "laughs.yaml", billion_laughs()))],
    **{f"catalogue-{name}": _validate(build) for name, build in UNBOUNDED.items()},
    "config-dev-zero": lambda tmp: ["config", "validate", "/dev/zero"],
    "route-key-dev-zero": lambda tmp: ["config", "validate",
                                       str(settings_with_route_key(tmp, dev_zero(tmp)))],
    "case-file-dev-zero": lambda tmp: ["print", "receipt", "--case-file", "/dev/zero",
                                       "--out", str(tmp / "r.bin")],
    "case-file-fifo": lambda tmp: ["print", "receipt", "--case-file", str(fifo(tmp)),
                                   "--out", str(tmp / "r.bin")],
    "identities-dev-zero": lambda tmp: ["devices", "emulate", "ga467", "--identities",
                                        "/dev/zero"],
    "face-dev-zero": lambda tmp: ["devices", "emulate", "emrtd", "--face", "/dev/zero",
                                  "--vpcd-port", "1"],
    # kiosk face verify: every dangerous file as the live side of a pair, and as the pairs file
    "face-verify-pairs": lambda tmp: ["face", "verify", "--json", "--pairs", str(write_text(
        tmp / "pairs.csv", "document,live\n" + "".join(f"{FACE},{f}\n" for f in _files(tmp))))],
    "face-verify-bomb": lambda tmp: ["face", "verify", "--document", str(bomb(tmp)),
                                     "--live", str(FACE)],
    "face-pairs-dev-zero": lambda tmp: ["face", "verify", "--pairs", "/dev/zero"],
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, subprocess.CompletedProcess[str] | str]:
    tmp = tmp_path_factory.mktemp("limits")

    def run(name: str) -> subprocess.CompletedProcess[str] | str:
        folder = tmp / name
        folder.mkdir()
        try:
            return run_limited(CASES[name](folder))
        except subprocess.TimeoutExpired:
            return "timed out: it hung or never stopped reading"
    # three at a time: a regression may take MEMORY_LIMIT each, and the machine has 2 cores
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_within_bounds(
        name: str, outcomes: dict[str, subprocess.CompletedProcess[str] | str]) -> None:
    done = outcomes[name]
    assert not isinstance(done, str), done
    check_refusal(done.returncode, done.stdout, done.stderr)
    assert "MemoryError" not in done.stderr


@pytest.mark.parametrize("name", ["scan-detect", "scan-codes", "scan-codes-pyzbar"])
def test_scan_gives_each_dangerous_file_its_own_error(
        name: str, outcomes: dict[str, subprocess.CompletedProcess[str] | str]) -> None:
    done = outcomes[name]
    assert not isinstance(done, str), done
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == len(UNBOUNDED) + 1, done.stdout
    codes = {Path(line["image"]).name: line["error"]["code"] for line in lines}
    assert codes == {"zero": "not_regular", "a-pipe": "not_regular", "sparse.bin": "too_large",
                     "bomb.png": "unreadable_image"}


def test_face_verify_gives_each_dangerous_file_its_own_error(
        outcomes: dict[str, subprocess.CompletedProcess[str] | str]) -> None:
    done = outcomes["face-verify-pairs"]
    assert not isinstance(done, str), done
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    codes = {Path(line["live"]).name: line["error"]["code"] for line in lines}
    assert codes == {"zero": "not_regular", "a-pipe": "not_regular", "sparse.bin": "too_large",
                     "bomb.png": "unreadable_image"}

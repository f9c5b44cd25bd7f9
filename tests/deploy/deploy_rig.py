"""Helpers of the deploy tests (tests/deploy/conftest.py has the fixtures)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SYSTEM_UNITS = Path("/lib/systemd/system")
ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow", "login.defs")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the installer makes users and chowns")


def skeleton(root: Path) -> Path:
    """A target system: this host's account files and systemd's own units."""
    (root / "etc").mkdir(parents=True)
    for name in ACCOUNT_FILES:
        shutil.copy2(Path("/etc") / name, root / "etc" / name)
    shutil.copytree(SYSTEM_UNITS, root / "lib/systemd/system", symlinks=True)
    return root


def run_script(name: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(DEPLOY / name), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def account(root: Path, table: str, name: str) -> list[str]:
    for line in (root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    raise AssertionError(f"{name} not in {table}")


def owner_mode(path: Path) -> tuple[int, int, int]:
    info = path.lstat()
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def stub_venv(root: Path) -> None:
    """What --files-only leaves out and the units run: the venv's kiosk and python."""
    bin_dir = root / "opt/tongban-kiosk/current/venv/bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("kiosk", "python"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)


Verify = Callable[[Path, list[Path]], subprocess.CompletedProcess[str]]

"""The kiosk PC's install (deploy/): the installer run with ``--root DIR --files-only`` into a
skeleton of a Debian system (its account files and systemd's units copied from this host),
so that users, modes, owners and unit links are real without a chroot. The whole install
in a fresh Debian chroot is deploy/chroot-test.sh (minutes, network)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_rig import Verify, run_script, skeleton


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A skeleton with the kiosk installed (files only: no apt, no Python environment)."""
    root = skeleton(tmp_path / "root")
    done = run_script("install.sh", root, "--files-only")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def verify() -> Verify:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")

    def run(root: Path, units: list[Path]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no",
                               *map(str, units)], capture_output=True, text=True,
                              timeout=60, check=False, cwd=root)
    return run

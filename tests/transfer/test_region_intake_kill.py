"""The region's intake killed with SIGKILL at any point loses and duplicates nothing: a real
``python -m intake intake`` child is killed again and again (after 0–1 packages it reported,
plus a random moment into the next one), then a pass is let finish. Every package is a case
once, with one ``received`` event and one unpacked folder; no half-opened folder is left."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from region_rig import ROOT, Fixture, make_region

PACKAGES = 20
MAX_RUNS = 80


@pytest.mark.parametrize("store", ["file", "s3"])
def test_kill_9_during_intake_loses_and_duplicates_nothing(
        store: str, tmp_path: Path, make_keys: Fixture, make_package: Fixture,
        seal_to_file: Fixture, request: pytest.FixtureRequest) -> None:
    bucket = request.getfixturevalue("s3_server").bucket() if store == "s3" else None
    region = make_region(tmp_path, make_keys, make_package, seal_to_file, bucket=bucket)
    ids = set()
    for seed in range(PACKAGES):
        package_id, data, _ = region.sealed(100 + seed, pages=2 + seed % 5)
        region.put(data, f"u{seed:02d}", package_id=package_id)
        if seed % 4 == 0:                       # a second copy (the other layout, a retry)
            region.put(data, f"u{seed:02d}-again", layout="delivered", package_id=package_id)
        ids.add(package_id)
    rng = random.Random(24)
    kills = mid_open = mid_fetch = 0
    for _ in range(MAX_RUNS):
        child = subprocess.Popen([sys.executable, "-m", "intake", *region.intake_argv()],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 cwd=ROOT)
        assert child.stdout is not None
        ended = False
        for _ in range(rng.randint(0, 1)):
            if not child.stdout.readline():
                ended = True
                break
        if not ended:
            time.sleep(rng.uniform(0.0, 0.1))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate()
        if region.cases.is_dir():               # killed inside open_package, or a fetch
            mid_open += any(region.cases.glob(".opening-*"))
            mid_fetch += any(region.cases.glob(".fetching-*"))
        if child.returncode == 0:               # a whole pass ran: done
            break
        assert child.returncode == -signal.SIGKILL, child.stderr
    final = subprocess.run([sys.executable, "-m", "intake", *region.intake_argv()],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout.splitlines()[-1])["pass"]["cases"] == 0
    assert kills >= 5, f"only {kills} kills landed"
    print(f"kill -9 runs ({store}): {kills} kills, {mid_open} inside a package's opening, "
          f"{mid_fetch} inside a fetch")
    cases = region.rows("SELECT package_id FROM packages")
    assert sorted(r[0] for r in cases) == sorted(ids)                  # none lost, none twice
    assert len(region.rows("SELECT * FROM cases")) == PACKAGES
    assert region.rows("SELECT COUNT(*), COUNT(DISTINCT transfer_number), MAX(seq) "
                       "FROM outgoing") == [(PACKAGES, PACKAGES, 1)]
    assert sorted(p.name for p in region.cases.iterdir()) == sorted(ids)   # no .opening-*
    # (nor .fetching-*)
    assert len(region.rows("SELECT * FROM uploads")) == PACKAGES + (PACKAGES + 3) // 4
    assert region.rows("SELECT COUNT(*) FROM uploads WHERE outcome='duplicate'") == [
        ((PACKAGES + 3) // 4,)]

"""kill -9 at random points, at least 200 times, while packages are committed and uploaded
(tests/transfer/crash_worker.py on the real outbox, sealing, tus client and tus server).

Afterwards: every package whose receipt was printed is at the server exactly once and
byte-identical; none is there without a receipt; every committed package got its receipt
(the start-up 补打); no finished upload was sent again (the client asks the region first);
every allocated case number has a ledger row after restart — 已代收待流转 for a committed
package, 受理中断 for one the kill cut short, none left 受理中; the outbox and ledger
databases pass PRAGMA integrity_check."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.transfer.envelope import open_sealed, read_header
from kiosk.transfer.keys import DeviceKeys, load
from rigs.tus_rig import TusServer, node_available

WORKER = Path(__file__).with_name("crash_worker.py")
KIOSK = "510802-0001"                       # crash_worker.KIOSK
KILLS = int(os.environ.get("CRASH_KILLS", "200"))

pytestmark = [pytest.mark.slow, pytest.mark.integration,
              pytest.mark.skipif(not node_available(), reason="needs the tus server "
                                 "(node + rigs/tus-server/node_modules)")]


def _worker(root: Path, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER), str(root), url, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _receipts(root: Path) -> list[str]:
    """Package ids on the printed receipts; a reprint line starts with "R "."""
    path = root / "receipts.log"
    if not path.exists():
        return []
    # a kill can cut the last line: only whole lines are receipts that printed
    return [line for line in path.read_text().split("\n")[:-1] if line]


def test_kill_9_loses_nothing_and_delivers_nothing_twice(
        tmp_path: Path, allocated_numbers: Callable[[Path, str], list[str]]) -> None:
    root = tmp_path / "kiosk"
    root.mkdir()
    rng = random.Random(20261122)
    stats = {"kills": 0, "receipts_before_drain": 0}
    with TusServer(tmp_path / "server") as server:
        setup = _worker(root, server.url, "--drain")   # keys made before any kill
        _, err = setup.communicate(timeout=300)
        assert setup.returncode == 0, err.decode()
        for _ in range(KILLS):
            worker = _worker(root, server.url)
            time.sleep(rng.choice([rng.uniform(0.0, 0.4), rng.uniform(0.4, 1.5)]))
            if worker.poll() is not None:   # it must not die by itself
                pytest.fail(worker.stderr.read().decode() if worker.stderr else "died")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            stats["kills"] += 1
        stats["receipts_before_drain"] = len(_receipts(root))
        drain = _worker(root, server.url, "--drain")
        _, err = drain.communicate(timeout=300)
        assert drain.returncode == 0, err.decode()
        finishes = server.finishes()
        delivered = server.delivered()

    lines = _receipts(root)
    receipts = [line.split()[-1] for line in lines]
    with sqlite3.connect(root / "outbox" / "outbox.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT package_id, region, state, sha256 FROM deliveries").fetchall()
    committed = {pid for pid, *_ in rows}
    with sqlite3.connect(root / "ledger.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ledger = {case: (state, pid) for case, state, pid in conn.execute(
            "SELECT case_number, state, package_id FROM ledger")}
    firsts = [f for f in finishes if not f["duplicate"]]
    at_server = {(f["package_id"], f["receiver"]): f["sha256"] for f in firsts}

    assert stats["receipts_before_drain"] >= 50, "too few commits to mean anything"
    assert set(receipts) == committed              # every commit has its receipt (补打)
    assert len(firsts) == len(at_server) == len(rows)   # each (package, region) once
    for pid, region, state, sha in rows:
        assert state == "delivered"
        assert at_server[(pid, region)] == sha      # byte-identical to what was spooled
    assert {pid for pid, _ in at_server} <= set(receipts)   # none without a receipt
    assert len(delivered) == len(rows)
    assert len(finishes) == len(firsts), "a finished upload was sent again"

    # every case number given out has its ledger row after the restart (the drain's)
    allocated = allocated_numbers(root / "ledger.sqlite", KIOSK)
    assert sorted(ledger) == sorted(allocated)
    outcome = {case: state for case, (state, _) in ledger.items()}
    committed_cases = {case for case, (_, pid) in ledger.items() if pid in committed}
    assert {c for c, state in outcome.items() if state == "已代收待流转"} == committed_cases
    assert {c for c, state in outcome.items() if state == "受理中断"} == (
        set(allocated) - committed_cases)
    assert sum(state == "受理中断" for state in outcome.values()) >= 5, \
        "too few kills between the number and the commit to mean anything"
    assert not [p for p in (root / "outbox" / "spool").iterdir()
                if p.suffix == ".part"], "recovery left a partial file"

    # what arrived opens at the region (signature, every record): a sample
    signer = DeviceKeys(root / "keys", "510802-0001").key("x25519-chacha20")
    for key_name in sorted(delivered)[:5]:
        region_key = load(root / "regions" / f"{key_name.rsplit('.', 1)[1]}.key")
        assert region_key.private is not None
        with open(delivered[key_name], "rb") as src:
            header, raw = read_header(src)
            open_sealed(src, io.BytesIO(), header, raw, region_key.private, signer.public)
    summary = {**stats, "allocated": len(allocated), "interrupted": len(allocated) - len(
                   committed_cases), "committed": len(committed), "deliveries": len(rows),
               "receipts": len(lines), "reprinted": sum(line.startswith("R ") for line in lines),
               "server_duplicates": len(finishes) - len(firsts)}
    print(json.dumps(summary))

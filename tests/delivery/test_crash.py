"""kill -9 at random points, at least 200 times, while packages are committed and uploaded
(tests/delivery/crash_worker.py on the real outbox, sealing, tus client and tus server).

Afterwards: every package whose receipt was printed is at the server exactly once and
byte-identical; none is there without a receipt; every committed package got its receipt
(the start-up 补打); the outbox database passes PRAGMA integrity_check."""

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
from pathlib import Path

import pytest

from drivers.network.tus_rig import TusServer, node_available
from kiosk.delivery.envelope import open_sealed, read_header
from kiosk.delivery.keys import DeviceKeys, load

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = int(os.environ.get("CRASH_KILLS", "200"))

pytestmark = [pytest.mark.slow, pytest.mark.integration,
              pytest.mark.skipif(not node_available(), reason="needs the tus server "
                                 "(node + drivers/network/tus-server/node_modules)")]


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


def test_kill_9_loses_nothing_and_delivers_nothing_twice(tmp_path: Path) -> None:
    root = tmp_path / "kiosk"
    root.mkdir()
    rng = random.Random(20261122)
    stats = {"kills": 0, "receipts_before_drain": 0}
    with TusServer(tmp_path / "server") as server:
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
    summary = {**stats, "committed": len(committed), "deliveries": len(rows),
               "receipts": len(lines), "reprinted": sum(line.startswith("R ") for line in lines),
               "server_duplicates": len(finishes) - len(firsts)}
    print(json.dumps(summary))

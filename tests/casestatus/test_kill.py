"""kill -9 while events are being applied, again and again, then a full run: every event is
applied exactly once, in order, the held ones drained, and the ledger file is intact."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from status_rig import STORY, Rig, directory_with

from kiosk.casestatus.event import ZH

WORKER = Path(__file__).with_name("kill_worker.py")
KILLS = 12
CASES = 24


def _run(rig: Rig) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER), str(rig.folder),
                             rig.now.isoformat()], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _wait_for(condition: Callable[[], bool], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.005)


def _applied(rig: Rig) -> int:
    if not rig.ledger_path.exists():
        return 0
    with sqlite3.connect(rig.ledger_path) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM status_events").fetchone()[0])
        except sqlite3.OperationalError:       # the tables are not there yet
            return 0


def test_kill_9_applies_nothing_twice_and_loses_nothing(rig: Rig) -> None:
    cases = [rig.send_case(seq=n) for n in range(1, CASES + 1)]
    lines = [rig.event(c, step, s) for step, s in enumerate(STORY, start=1) for c in cases]
    order = list(range(len(lines)))
    rng = random.Random(20261207)
    for i in range(0, len(order) - 1, 7):       # some neighbours swapped: held, then drained
        order[i], order[i + 1] = order[i + 1], order[i]
    (rig.folder / "events.jsonl").write_bytes(b"\n".join(lines[i] for i in order) + b"\n")
    (rig.folder / "directory.json").write_bytes(directory_with(rig.signers))
    rig.close()                                 # the worker is the only writer
    progress = [0]
    for _ in range(KILLS):
        worker = _run(rig)
        # kill once it is applying (not while Python starts): a few more events, then the
        # kill at a random moment — between or inside commits
        _wait_for(lambda w=worker: _applied(rig) > progress[-1] or w.poll() is not None)
        time.sleep(rng.uniform(0, 0.05))
        worker.kill()
        worker.wait()
        progress.append(_applied(rig))
        if progress[-1] == len(lines):
            break
    # the kills landed in the middle (else this test would prove nothing)
    assert sum(0 < done < len(lines) for done in progress) >= 3, progress
    finished = _run(rig)
    _, err = finished.communicate(timeout=600)
    assert finished.returncode == 0, err.decode()
    assert b"status_event_rejected" not in err, err.decode()
    for case in cases:
        assert rig.states(case) == ["已代收待流转", *(ZH[s] for s in STORY)]
    with sqlite3.connect(rig.ledger_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM status_events").fetchone()[0] == len(lines)
        assert conn.execute("SELECT COUNT(*) FROM status_held").fetchone()[0] == 0
    rig.store = type(rig.store)(rig.ledger_path)     # the fixture closes it again

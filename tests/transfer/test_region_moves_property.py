"""Any sequence of attempted moves over a few transfers keeps the outgoing log and the
cases' states in step: each transfer's events are numbered 1, 2, 3 … with no gap, each
kiosk's feed lines 0, 1, 2 …, every event follows NEXT from the one before, the state kept is
the last event's, and a refused move leaves no trace."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.db import connect, transaction
from intake.statusout import MoveError, StatusSigner, advance
from kiosk.casestatus.event import NEXT, CaseState, EventError, parse, verify
from kiosk.transfer.keys import generate
from kiosk.transfer.suites import Role

TRANSFERS = [("XT" + f"{i:028d}", f"510802-000{i % 2 + 1}") for i in range(1, 4)]
VALID: dict[CaseState, dict[str, Any]] = {
    CaseState.ACCEPTED: {"document_number": "A-1", "promised_by": "2026-12-21"},
    CaseState.CORRECTION_REQUIRED: {"items": ["缺少委托书"], "deadline": "2026-12-14"},
    CaseState.CORRECTION_RECEIVED: {"version": "2"},
    CaseState.SPECIAL_PROCEDURE: {"kind": "检验", "reason": "需要检测"},
    CaseState.REFUSED: {"reason": "不属于受理范围"},
    CaseState.DECIDED: {"result": "准予"},
    CaseState.DISPATCHED: {"tracking_number": "SF1", "destination": "window"},
}
SIGNER = StatusSigner("500103", generate("500103", Role.SIGN, "x25519-chacha20"))
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def _fresh(folder: Path) -> sqlite3.Connection:
    conn = connect(folder / "region.db")
    with transaction(conn):
        for transfer, kiosk in TRANSFERS:
            case = f"{kiosk}-250304-{transfer[-4:]}-1"
            conn.execute("INSERT INTO cases VALUES (?, ?, 'M', '事项', ?)",
                         (case, kiosk, T0.isoformat()))
            conn.execute("INSERT INTO transfers VALUES (?, ?, ?, '部门', NULL, ?)",
                         (transfer, case, kiosk, T0.isoformat()))
    return conn


def _snapshot(conn: sqlite3.Connection) -> list[Any]:
    return (conn.execute("SELECT * FROM outgoing ORDER BY id").fetchall()
            + conn.execute("SELECT * FROM transfers ORDER BY transfer_number").fetchall())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_moves_keep_the_log_and_the_states_in_step(
        data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    conn = _fresh(tmp_path_factory.mktemp("moves"))
    current: dict[str, CaseState | None] = {t: None for t, _ in TRANSFERS}
    applied = 0
    for step in range(data.draw(st.integers(0, 40), label="moves")):
        transfer = data.draw(st.sampled_from([t for t, _ in TRANSFERS]), label="transfer")
        allowed = sorted(NEXT[current[transfer]])
        # mostly an allowed move (long histories), else any state (refusals)
        pool = allowed if allowed and data.draw(st.integers(0, 3)) else list(CaseState)
        state = data.draw(st.sampled_from(pool), label="state")
        details = VALID.get(state, {}) if data.draw(st.integers(0, 5)) else {"x": "y"}
        before = _snapshot(conn)
        try:
            with transaction(conn):
                advance(conn, SIGNER, transfer, state, details, T0 + timedelta(minutes=step))
        except (MoveError, EventError):
            assert _snapshot(conn) == before
        else:
            assert state in NEXT[current[transfer]]
            current[transfer], applied = state, applied + 1
    assert applied == conn.execute("SELECT COUNT(*) FROM outgoing").fetchone()[0]
    for transfer, _ in TRANSFERS:
        rows = conn.execute("SELECT seq, state, wire FROM outgoing WHERE transfer_number=? "
                            "ORDER BY id", (transfer,)).fetchall()
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        previous: CaseState | None = None
        for _, state, wire in rows:
            event, signature = parse(wire)
            verify(event, signature, SIGNER.key.public)
            assert event.state.value == state and event.state in NEXT[previous]
            previous = event.state
        kept = conn.execute("SELECT state FROM transfers WHERE transfer_number=?",
                            (transfer,)).fetchone()[0]
        assert kept == (previous.value if previous else None)
    for kiosk in {k for _, k in TRANSFERS}:
        lines = [r[0] for r in conn.execute("SELECT feed_index FROM outgoing WHERE kiosk_id=? "
                                            "ORDER BY id", (kiosk,))]
        assert lines == list(range(len(lines)))
    conn.close()

"""kiosk/sqlite_tx.py: the one write transaction of the ledger, outbox, counters and intake."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.sqlite_tx import write_transaction


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
    return conn


def test_a_commit_is_seen_by_another_connection(tmp_path: Path) -> None:
    writer, reader = _open(tmp_path / "db"), _open(tmp_path / "db")
    with write_transaction(writer):
        writer.execute("INSERT INTO t VALUES (1)")
        assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt, SystemExit])
def test_any_exception_rolls_back_all_of_it_and_is_raised(tmp_path: Path,
                                                          error: type[BaseException]) -> None:
    conn = _open(tmp_path / "db")
    with pytest.raises(error), write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (2)")
        raise error
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


def test_the_write_lock_is_taken_at_the_start(tmp_path: Path) -> None:
    """IMMEDIATE, not DEFERRED: a second writer is refused before it reads anything."""
    first, second = _open(tmp_path / "db"), _open(tmp_path / "db")
    with write_transaction(first):
        with pytest.raises(sqlite3.OperationalError, match="locked"), \
                write_transaction(second):
            pass
        first.execute("INSERT INTO t VALUES (1)")
    assert second.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)

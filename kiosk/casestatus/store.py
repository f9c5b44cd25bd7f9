"""What the kiosk keeps of status events: the applied ones, keyed (transfer number, seq), the
ones held until a gap fills, counters, and the pull feed's position.

The tables live in the ledger's own SQLite file (WAL, full fsync on commit), so an event's
row and the case's new 办理状态 commit in one transaction (``Ledger.changing``): a kill at any
moment leaves both or neither, and an event is never applied twice.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.casestatus.event import CaseState, StatusEvent, canonical
from kiosk.ledger import Ledger

MAX_HELD = 1000                 # out-of-order events waiting, all transfers together
MAX_HELD_PER_TRANSFER = 50      # a gap longer than this is not a gap but a fault

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS status_events (transfer_number TEXT, seq INTEGER, "
    "case_number TEXT, region TEXT, state TEXT, time TEXT, details TEXT, signature BLOB, "
    "applied_at TEXT, PRIMARY KEY (transfer_number, seq))",
    "CREATE INDEX IF NOT EXISTS status_events_case ON status_events (case_number)",
    "CREATE TABLE IF NOT EXISTS status_held (transfer_number TEXT, seq INTEGER, raw BLOB, "
    "held_at TEXT, PRIMARY KEY (transfer_number, seq))",
    "CREATE TABLE IF NOT EXISTS status_counts (name TEXT PRIMARY KEY, value INTEGER)",
    "CREATE TABLE IF NOT EXISTS status_feed (name TEXT PRIMARY KEY, next INTEGER, "
    "etag TEXT)",
    "CREATE TABLE IF NOT EXISTS status_alerted (transfer_number TEXT, kind TEXT, "
    "PRIMARY KEY (transfer_number, kind))",
    # each applied event's signed wire form, for the hall case cards (kiosk/hall/source.py)
    "CREATE TABLE IF NOT EXISTS status_wire (transfer_number TEXT, seq INTEGER, raw TEXT, "
    "PRIMARY KEY (transfer_number, seq))",
)


@dataclass(frozen=True)
class Applied:
    """One applied event, as the timeline reads it (no personal data in any field)."""

    transfer_number: str
    seq: int
    case_number: str
    region: str
    state: CaseState
    time: datetime
    details: dict[str, Any]
    signature: bytes = b""


class StatusStore:
    """The status tables, on a connection of their own to the ledger's file."""

    def __init__(self, ledger_path: Path) -> None:
        self.ledger = Ledger(ledger_path)
        self.lock = threading.RLock()
        with self.changing() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def close(self) -> None:
        self.ledger.close()

    @contextmanager
    def changing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the ledger's file; one thread at a time (the MQTT thread,
        the feed poller and the status poll share this connection)."""
        with self.lock, self.ledger.changing() as conn:
            yield conn

    def find_transfers(self, case_number: str) -> list[str]:
        with self.lock:
            row = self.ledger.find(case_number)
        return [t for t in (row.transfer_numbers.split(",") if row else []) if t]

    # --- inside a transaction (conn from Ledger.changing) ------------------------------
    @staticmethod
    def last(conn: sqlite3.Connection, transfer_number: str) -> Applied | None:
        row = conn.execute(f"SELECT {_APPLIED} FROM status_events WHERE transfer_number = ? "
                           "ORDER BY seq DESC LIMIT 1", (transfer_number,)).fetchone()
        return None if row is None else _applied(row)

    @staticmethod
    def applied_at(conn: sqlite3.Connection, transfer_number: str, seq: int) -> Applied | None:
        row = conn.execute(f"SELECT {_APPLIED} FROM status_events WHERE transfer_number = ? "
                           "AND seq = ?", (transfer_number, seq)).fetchone()
        return None if row is None else _applied(row)

    @staticmethod
    def add(conn: sqlite3.Connection, event: StatusEvent, signature: bytes,
            now: datetime) -> None:
        conn.execute("INSERT INTO status_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (event.transfer_number, event.seq, event.case_number, event.region,
                      event.state.value, event.time.isoformat(),
                      json.dumps(event.details, ensure_ascii=False, sort_keys=True),
                      signature, now.isoformat(timespec="seconds")))
        conn.execute("INSERT OR REPLACE INTO status_wire VALUES (?, ?, ?)",
                     (event.transfer_number, event.seq, wire(event, signature)))
        conn.execute("DELETE FROM status_held WHERE transfer_number = ? AND seq = ?",
                     (event.transfer_number, event.seq))

    @staticmethod
    def hold(conn: sqlite3.Connection, event: StatusEvent, raw: bytes, now: datetime) -> bool:
        """Keep ``raw`` until its gap fills; False when the bounds are reached."""
        total, mine = conn.execute(
            "SELECT COUNT(*), SUM(transfer_number = ?) FROM status_held",
            (event.transfer_number,)).fetchone()
        if total >= MAX_HELD or (mine or 0) >= MAX_HELD_PER_TRANSFER:
            return False
        conn.execute("INSERT OR IGNORE INTO status_held VALUES (?, ?, ?, ?)",
                     (event.transfer_number, event.seq, raw, now.isoformat(timespec="seconds")))
        return True

    @staticmethod
    def held_next(conn: sqlite3.Connection, transfer_number: str, seq: int) -> bytes | None:
        row = conn.execute("SELECT raw FROM status_held WHERE transfer_number = ? AND seq = ?",
                           (transfer_number, seq)).fetchone()
        return None if row is None else bytes(row[0])

    @staticmethod
    def drop_held(conn: sqlite3.Connection, transfer_number: str, seq: int) -> None:
        conn.execute("DELETE FROM status_held WHERE transfer_number = ? AND seq = ?",
                     (transfer_number, seq))

    @staticmethod
    def count(conn: sqlite3.Connection, name: str, by: int = 1) -> None:
        conn.execute("INSERT INTO status_counts VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                     "SET value = value + excluded.value", (name, by))

    # --- reads and small writes of their own -------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.changing() as conn:
            rows = conn.execute("SELECT name, value FROM status_counts").fetchall()
        return {str(name): int(value) for name, value in rows}

    def held(self) -> int:
        with self.changing() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM status_held").fetchone()[0])

    def events_of(self, case_number: str) -> list[Applied]:
        """The case's applied events, in the order they were applied."""
        with self.changing() as conn:
            rows = conn.execute(f"SELECT {_APPLIED} FROM status_events WHERE case_number = ? "
                                "ORDER BY applied_at, transfer_number, seq",
                                (case_number,)).fetchall()
        return [_applied(row) for row in rows]

    def latest(self, states: tuple[CaseState, ...]) -> list[Applied]:
        """Transfers whose newest applied event is in one of ``states``."""
        marks = ", ".join("?" for _ in states)
        with self.changing() as conn:
            rows = conn.execute(
                f"SELECT {_APPLIED} FROM status_events e WHERE state IN ({marks}) AND seq = "
                "(SELECT MAX(seq) FROM status_events WHERE transfer_number = "
                "e.transfer_number)", [s.value for s in states]).fetchall()
        return [_applied(row) for row in rows]

    def heard_from(self, transfer_numbers: list[str]) -> set[str]:
        """Those of ``transfer_numbers`` with at least one applied event."""
        marks = ", ".join("?" for _ in transfer_numbers)
        with self.changing() as conn:
            rows = conn.execute(f"SELECT DISTINCT transfer_number FROM status_events WHERE "
                                f"transfer_number IN ({marks})", transfer_numbers).fetchall()
        return {str(row[0]) for row in rows}

    def feed_position(self, name: str) -> tuple[int, str]:
        with self.changing() as conn:
            row = conn.execute("SELECT next, etag FROM status_feed WHERE name = ?",
                               (name,)).fetchone()
        return (0, "") if row is None else (int(row[0]), str(row[1]))

    def set_feed_position(self, name: str, next_line: int, etag: str) -> None:
        with self.changing() as conn:
            conn.execute("INSERT OR REPLACE INTO status_feed VALUES (?, ?, ?)",
                         (name, next_line, etag))

    def first_alert(self, transfer_number: str, kind: str) -> bool:
        """True once per (transfer, kind): an overdue alert is raised once, not every poll."""
        with self.changing() as conn:
            return conn.execute("INSERT OR IGNORE INTO status_alerted VALUES (?, ?)",
                                (transfer_number, kind)).rowcount == 1


def wire(event: StatusEvent, signature: bytes) -> str:
    """The event as the region sent it (its signature verifies over the same body)."""
    return canonical({"event": event.body(),
                      "signature": base64.b64encode(signature).decode()}).decode()


_APPLIED = "transfer_number, seq, case_number, region, state, time, details, signature"


def _applied(row: tuple[Any, ...]) -> Applied:
    return Applied(transfer_number=row[0], seq=int(row[1]), case_number=row[2],
                   region=row[3], state=CaseState(row[4]), time=datetime.fromisoformat(row[5]),
                   details=json.loads(row[6]), signature=bytes(row[7] or b""))

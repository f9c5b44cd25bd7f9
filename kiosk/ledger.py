"""The hall's ledger (台账) and the number counters, in one SQLite file (WAL mode)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from pathlib import Path

from kiosk import caseno
from kiosk.documents.model import LedgerRow
from kiosk.fsutil import private_file
from kiosk.sqlite_tx import write_transaction

_COLUMNS = [f.name for f in fields(LedgerRow)]
OPEN_STATE = "受理中"        # the number is taken, the case not yet committed (see open_case)


@dataclass(frozen=True)
class Owed:
    """A 容缺 item a case owes: the material and its 补交 deadline."""

    requirement_id: str
    material: str
    deadline: date


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit connection (we issue BEGIN ourselves), WAL, full fsync on commit. The file
    is made 0600 first: SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(private_file(path), isolation_level=None, timeout=30,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        cols = ", ".join(f"{c} TEXT" if c != "count" else "count INTEGER" for c in _COLUMNS)
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS ledger ({cols}, "
                           "PRIMARY KEY (case_number))")
        # every state a case has been in, in order (the ledger row holds only the newest)
        self._conn.execute("CREATE TABLE IF NOT EXISTS ledger_states (case_number TEXT, "
                           "seq INTEGER, state TEXT, time TEXT, "
                           "PRIMARY KEY (case_number, seq))")
        # 容缺 items owed by a case (staff mode): the deadline watch reads this table
        self._conn.execute("CREATE TABLE IF NOT EXISTS rongque (case_number TEXT, "
                           "requirement_id TEXT, material TEXT, deadline TEXT, "
                           "supplied_at TEXT, alerted_on TEXT, "
                           "PRIMARY KEY (case_number, requirement_id))")
        # 进度查询 by ID card: a keyed hash of the applicant's document (kiosk/applicant_key.py),
        # never the number itself; a table of its own, so older ledgers need no migration
        self._conn.execute("CREATE TABLE IF NOT EXISTS applicant_keys (case_number TEXT "
                           "PRIMARY KEY, applicant_key TEXT NOT NULL)")
        self._conn.execute("CREATE INDEX IF NOT EXISTS applicant_keys_key "
                           "ON applicant_keys (applicant_key)")

    def close(self) -> None:
        self._conn.close()

    def allocate(self, kiosk_id: str, day: date,
                 receivers: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """A new case number and one transfer number per receiving region, and nothing
        else: the kiosk itself uses :meth:`open_case`, so no number goes without a row."""
        seq = caseno.next_sequence(self._conn, f"case:{day.isoformat()}")
        return _numbers(kiosk_id, day, seq, receivers)

    def open_case(self, kiosk_id: str, day: date, receivers: tuple[str, ...],
                  row: Callable[[str, tuple[str, ...]], LedgerRow]
                  ) -> tuple[str, tuple[str, ...]]:
        """A new case number and its transfer numbers, with the case's ledger row
        ``row(number, transfers)`` (state 受理中) written in the same transaction: a kill at
        any moment leaves both or neither, so an auditor sees every number ever given out.
        Start-up turns a row still 受理中 into 受理中断 (kiosk/recovery.py)."""
        with write_transaction(self._conn):
            seq = caseno.bump_sequence(self._conn, f"case:{day.isoformat()}")
            number, transfers = _numbers(kiosk_id, day, seq, receivers)
            record = row(number, transfers)
            if record.state != OPEN_STATE or record.case_number != number:
                raise ValueError(f"open_case needs a {OPEN_STATE} row for {number}, got "
                                 f"{record.state} for {record.case_number}")
            self._write(record, "INSERT")
        return number, transfers

    def record(self, row: LedgerRow, owed: tuple[Owed, ...] = (),
               applicant_key: str = "") -> None:
        """Write ``row``, replacing the row of its case number (受理中 → its outcome), with
        the 容缺 items the case owes and the applicant's keyed hash (in one transaction)."""
        with write_transaction(self._conn):
            self._write(row, "INSERT OR REPLACE")
            if applicant_key:
                self._conn.execute("INSERT OR REPLACE INTO applicant_keys VALUES (?, ?)",
                                   (row.case_number, applicant_key))
            for item in owed:
                self._conn.execute(
                    "INSERT OR REPLACE INTO rongque VALUES (?, ?, ?, ?, NULL, NULL)",
                    (row.case_number, item.requirement_id, item.material,
                     item.deadline.isoformat()))

    def overdue(self, today: date) -> list[tuple[str, Owed]]:
        """容缺 items past their deadline, not supplied, not yet alerted ``today``."""
        cur = self._conn.execute(
            "SELECT case_number, requirement_id, material, deadline FROM rongque "
            "WHERE supplied_at IS NULL AND deadline < ? AND (alerted_on IS NULL OR "
            "alerted_on < ?) ORDER BY deadline, case_number", (today.isoformat(),) * 2)
        return [(case, Owed(rid, material, date.fromisoformat(deadline)))
                for case, rid, material, deadline in cur.fetchall()]

    def owed(self, case_number: str) -> list[Owed]:
        cur = self._conn.execute("SELECT requirement_id, material, deadline FROM rongque "
                                 "WHERE case_number = ? AND supplied_at IS NULL",
                                 (case_number,))
        return [Owed(r, m, date.fromisoformat(d)) for r, m, d in cur.fetchall()]

    def forget_owed(self, case_number: str) -> None:
        """The case never went out (受理中断): it owes nothing."""
        self._conn.execute("DELETE FROM rongque WHERE case_number = ?", (case_number,))

    def mark_alerted(self, case_number: str, requirement_id: str, today: date) -> None:
        self._conn.execute("UPDATE rongque SET alerted_on = ? WHERE case_number = ? AND "
                           "requirement_id = ?", (today.isoformat(), case_number,
                                                  requirement_id))

    def _write(self, row: LedgerRow, verb: str) -> None:
        values = asdict(row)
        values["time"] = row.time.isoformat(timespec="seconds")
        marks = ", ".join("?" for _ in _COLUMNS)
        self._conn.execute(f"{verb} INTO ledger VALUES ({marks})",
                           [values[c] for c in _COLUMNS])
        self._add_state(row.case_number, row.state, row.time)

    def _add_state(self, case_number: str, state: str, at: datetime) -> None:
        """Append ``state`` to the case's history unless it is already the newest."""
        last = self._conn.execute(
            "SELECT seq, state FROM ledger_states WHERE case_number = ? "
            "ORDER BY seq DESC LIMIT 1", (case_number,)).fetchone()
        if last is not None and last[1] == state:
            return
        self._conn.execute("INSERT INTO ledger_states VALUES (?, ?, ?, ?)",
                           (case_number, 1 if last is None else last[0] + 1, state,
                            at.isoformat(timespec="seconds")))

    def states(self, case_number: str) -> list[tuple[str, datetime]]:
        """The case's states, oldest first (a ledger from before the history was kept: its
        one state at the row's time)."""
        cur = self._conn.execute("SELECT state, time FROM ledger_states WHERE case_number = ? "
                                 "ORDER BY seq", (case_number,))
        found = [(state, datetime.fromisoformat(at)) for state, at in cur.fetchall()]
        if not found and (row := self.find(case_number)) is not None:
            found = [(row.state, row.time)]
        return found

    def rows(self, limit: int = 100) -> list[LedgerRow]:
        cur = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM ledger "
                                 "ORDER BY time DESC LIMIT ?", (limit,))
        return [_row(record) for record in cur.fetchall()]

    def between(self, first: date, last: date) -> Iterator[LedgerRow]:
        """Rows whose local date is ``first`` … ``last`` (both included), oldest first, read
        as they are iterated (the 台账 export of a busy month is not held twice)."""
        cur = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM ledger "
                                 "WHERE time >= ? AND time < ? ORDER BY time, case_number",
                                 (first.isoformat(), (last + timedelta(days=1)).isoformat()))
        return (_row(record) for record in cur)

    def in_state(self, state: str) -> list[LedgerRow]:
        cur = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM ledger WHERE state = ?",
                                 (state,))
        return [_row(record) for record in cur.fetchall()]

    def set_state(self, case_number: str, state: str, note: str,
                  at: datetime | None = None) -> None:
        with write_transaction(self._conn):
            self.move(case_number, state, note, at or datetime.now())

    @contextmanager
    def changing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the ledger's file, for a part that keeps its own tables
        there and must change them together with a case's state (kiosk/casestatus/store.py):
        use :meth:`move` inside it, never :meth:`set_state`."""
        with write_transaction(self._conn):
            yield self._conn

    def move(self, case_number: str, state: str, note: str | None, at: datetime) -> bool:
        """Inside a transaction: the case's new state (``note`` None keeps the note); False
        when the ledger has no such case."""
        changed = self._conn.execute(
            "UPDATE ledger SET state = ?, note = COALESCE(?, note) WHERE case_number = ?",
            (state, note, case_number)).rowcount
        if changed:
            self._add_state(case_number, state, at)
        return bool(changed)

    def cases_of(self, applicant_key: str, limit: int = 50) -> list[LedgerRow]:
        """The cases recorded with ``applicant_key``, newest first (进度查询 by ID card)."""
        cur = self._conn.execute(
            f"SELECT {', '.join('l.' + c for c in _COLUMNS)} FROM ledger l JOIN applicant_keys "
            "k ON k.case_number = l.case_number WHERE k.applicant_key = ? "
            "ORDER BY l.time DESC LIMIT ?", (applicant_key, limit))
        return [_row(record) for record in cur.fetchall()]

    def find(self, case_number: str) -> LedgerRow | None:
        cur = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM ledger "
                                 "WHERE case_number = ?", (case_number,))
        record = cur.fetchone()
        return _row(record) if record else None


def _numbers(kiosk_id: str, day: date, seq: int,
             receivers: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    return (caseno.case_number(kiosk_id, day, seq),
            tuple(caseno.transfer_number(kiosk_id, r, day, seq) for r in receivers))


def _row(record: tuple[object, ...]) -> LedgerRow:
    data = dict(zip(_COLUMNS, record, strict=True))
    data["time"] = datetime.fromisoformat(str(data["time"]))
    return LedgerRow(**data)  # type: ignore[arg-type]

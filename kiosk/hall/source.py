"""This kiosk's own cases as hall cards: which changed since they were last published, and
each one's card, built from the ledger and the status events it applied.

"Changed" is kept in the ledger's own file by triggers: a new state of a case (a row of
``ledger_states``, written in the same transaction as the state, whoever writes it — a
submission, a status event, staff) or its hall applicant key marks it in ``hall_dirty``; a
kill at any moment loses no change, and a card is marked done only after the broker took it
(PUBACK) and only if nothing changed it meanwhile (``gen``).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.hall.card import MAX_CARD_BYTES, MAX_EVENTS, MAX_STATES, HallCard, sign_card
from kiosk.ledger import Ledger
from kiosk.transfer.envelope import Signer

ARCHIVED = "已归档"
NOT_SENT = ("受理中", "受理中断")    # a number given out, nothing sent: no card
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hall_dirty (case_number TEXT PRIMARY KEY, gen INTEGER)",
    "CREATE TABLE IF NOT EXISTS hall_applicant_keys (case_number TEXT PRIMARY KEY, "
    "applicant_key TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hall_meta (name TEXT PRIMARY KEY, value TEXT)",
    # the status events' wire form (kiosk/casestatus/store.py writes it with each event)
    "CREATE TABLE IF NOT EXISTS status_wire (transfer_number TEXT, seq INTEGER, raw TEXT, "
    "PRIMARY KEY (transfer_number, seq))",
    "CREATE TRIGGER IF NOT EXISTS hall_state_changed AFTER INSERT ON ledger_states BEGIN "
    "INSERT INTO hall_dirty VALUES (NEW.case_number, 1) ON CONFLICT(case_number) DO UPDATE "
    "SET gen = gen + 1; END",
    "CREATE TRIGGER IF NOT EXISTS hall_key_changed AFTER INSERT ON hall_applicant_keys BEGIN "
    "INSERT INTO hall_dirty VALUES (NEW.case_number, 1) ON CONFLICT(case_number) DO UPDATE "
    "SET gen = gen + 1; END",
)


@dataclass(frozen=True)
class Outgoing:
    case_number: str
    gen: int
    payload: bytes | None        # b"": clear the card (archived); None: never a card (not sent)


class CardSource:
    def __init__(self, ledger_path: Path, fleet: str, hall: str, kiosk: str,
                 signer: Signer, card_days: int) -> None:
        # a connection of its own: its transactions never mix with the UI thread's
        ledger = Ledger(ledger_path)
        self.ledger, self.fleet, self.hall, self.kiosk = ledger, fleet, hall, kiosk
        # one transaction at a time on that connection: the mirror's thread and a submission
        self._lock = threading.Lock()
        self.signer, self.lifetime = signer, timedelta(days=card_days)
        with ledger.changing() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def backfill(self, now: datetime) -> None:
        """Once per ledger: the sent cases of the cards' lifetime, for a hall just enabled."""
        since = (now.astimezone() - self.lifetime).replace(tzinfo=None).isoformat()
        with self._lock, self.ledger.changing() as conn:
            if conn.execute("SELECT 1 FROM hall_meta WHERE name = 'backfilled'").fetchone():
                return
            conn.execute("INSERT OR IGNORE INTO hall_dirty SELECT case_number, 1 FROM ledger "
                         "WHERE (package_id != '' OR transfer_numbers != '') AND state NOT IN "
                         "(?, ?, ?) AND time >= ?", (ARCHIVED, *NOT_SENT, since))
            conn.execute("INSERT INTO hall_meta VALUES ('backfilled', ?)", (now.isoformat(),))

    def close(self) -> None:
        self.ledger.close()

    def remember_key(self, case_number: str, applicant_key: str) -> None:
        if applicant_key:
            with self._lock, self.ledger.changing() as conn:
                conn.execute("INSERT OR REPLACE INTO hall_applicant_keys VALUES (?, ?)",
                             (case_number, applicant_key))

    def pending(self, now: datetime, limit: int = 100) -> list[Outgoing]:
        with self._lock, self.ledger.changing() as conn:
            dirty = conn.execute("SELECT case_number, gen FROM hall_dirty ORDER BY rowid "
                                 "LIMIT ?", (limit,)).fetchall()
            return [Outgoing(case, gen, self._payload(conn, case, now)) for case, gen in dirty]

    def done(self, sent: Outgoing) -> None:
        with self._lock, self.ledger.changing() as conn:
            conn.execute("DELETE FROM hall_dirty WHERE case_number = ? AND gen = ?",
                         (sent.case_number, sent.gen))

    def _payload(self, conn: sqlite3.Connection, case: str, now: datetime) -> bytes | None:
        row = self.ledger.find(case)
        if row is None or not (row.package_id or row.transfer_numbers) or \
                row.state in NOT_SENT:
            return None      # a notice, a number given out and interrupted: nothing to show
        if row.state == ARCHIVED:
            return b""
        key = conn.execute("SELECT applicant_key FROM hall_applicant_keys WHERE "
                           "case_number = ?", (case,)).fetchone()
        states = tuple((s, at.isoformat(timespec="seconds"))
                       for s, at in self.ledger.states(case))[-MAX_STATES:]
        card = HallCard(
            fleet=self.fleet, hall=self.hall, kiosk=self.kiosk, case_number=case,
            matter_code=row.matter_code[:200], matter_name=row.matter_name[:200],
            case_type=row.case_type[:200], applicant_masked=row.applicant_masked[:200],
            regions=row.regions[:200], received_at=row.time.isoformat(timespec="seconds"),
            states=states, events=(), applicant_key=key[0] if key else "",
            published_at=now.astimezone(UTC).isoformat(timespec="seconds"),
            expires_at=(now + self.lifetime).astimezone(UTC).isoformat(timespec="seconds"))
        events = _events(conn, case)
        while True:      # the newest event of each state; the oldest dropped until it fits
            payload = sign_card(_with(card, events), self.signer)
            if len(payload) <= MAX_CARD_BYTES or not events:
                return payload
            events = events[1:]


def _events(conn: sqlite3.Connection, case: str) -> tuple[str, ...]:
    try:
        rows = conn.execute(
            "SELECT e.state, w.raw FROM status_events e JOIN status_wire w ON "
            "w.transfer_number = e.transfer_number AND w.seq = e.seq WHERE e.case_number = ? "
            "ORDER BY e.applied_at, e.transfer_number, e.seq", (case,)).fetchall()
    except sqlite3.OperationalError:      # no status events were ever kept in this ledger
        return ()
    newest = {str(state): str(raw) for state, raw in rows}      # later rows win
    return tuple(newest.values())[-MAX_EVENTS:]


def _with(card: HallCard, events: tuple[str, ...]) -> HallCard:
    return replace(card, events=events)

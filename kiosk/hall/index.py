"""The hall's case index on one kiosk: the verified cards of the other kiosks of its hall, in
a small SQLite file of its own (``<data_dir>/hall-index.sqlite``, 0600, WAL).

Not a record of this kiosk — the other kiosks' ledgers are — so it is bounded and may be
lost: at most ``max_cards`` cards (the oldest published goes first), each at most
``card.MAX_CARD_BYTES`` (checked before it gets here); an expired card is not shown and is
pruned. A card replaces the case's card only when it is not older (a replayed old card is
refused). Only what the status screen shows is kept: the verified details, not the events.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.hall.verify import Verified
from kiosk.ledger import connect

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cards (case_number TEXT PRIMARY KEY, kiosk TEXT NOT NULL, "
    "applicant_key TEXT NOT NULL, published_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
    "view TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cards_key ON cards (applicant_key)",
    "CREATE INDEX IF NOT EXISTS cards_published ON cards (published_at)",
    "CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, value INTEGER)",
)


@dataclass(frozen=True)
class HallCase:
    """A case of another kiosk of the hall, as the status screen shows it."""

    number: str
    kiosk: str
    matter_code: str
    matter_name: str
    applicant_masked: str
    received_at: datetime
    states: tuple[tuple[str, datetime], ...]
    details: dict[str, dict[str, Any]]

    @property
    def state(self) -> str:
        return self.states[-1][0]


class HallIndex:
    def __init__(self, path: Path, max_cards: int) -> None:
        self.path, self.max_cards = path, max_cards
        self._conn = connect(path)
        self._lock = threading.Lock()
        for statement in _SCHEMA:
            self._conn.execute(statement)

    def close(self) -> None:
        self._conn.close()

    def put(self, verified: Verified) -> bool:
        """Keep the card; False when the index holds a newer one of the case (a replay)."""
        card = verified.card
        published = _utc(verified.published)
        view = json.dumps({"matter_code": card.matter_code, "matter_name": card.matter_name,
                           "applicant_masked": card.applicant_masked,
                           "received_at": card.received_at, "states": card.states,
                           "details": verified.details}, ensure_ascii=False)
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            before = self._conn.execute("SELECT published_at FROM cards WHERE case_number = ?",
                                        (card.case_number,)).fetchone()
            if before is not None and before[0] > published:
                return False
            if before is None:
                self._make_room()
            self._conn.execute("INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?)",
                               (card.case_number, card.kiosk, card.applicant_key, published,
                                _utc(verified.expires), view))
        return True

    def _make_room(self) -> None:
        total = self._conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
        if total >= self.max_cards:
            self._conn.execute("DELETE FROM cards WHERE case_number IN (SELECT case_number "
                               "FROM cards ORDER BY published_at LIMIT ?)",
                               (total - self.max_cards + 1,))
            self.count("evicted")

    def remove(self, kiosk: str, case_number: str) -> bool:
        """The publishing kiosk cleared the card (archived): only that kiosk's card goes."""
        with self._lock, self._conn:
            return self._conn.execute("DELETE FROM cards WHERE case_number = ? AND kiosk = ?",
                                      (case_number, kiosk)).rowcount > 0

    def prune(self, now: datetime) -> int:
        with self._lock, self._conn:
            return self._conn.execute("DELETE FROM cards WHERE expires_at <= ?",
                                      (_utc(now),)).rowcount

    def count(self, name: str) -> None:
        self._conn.execute("INSERT INTO counts VALUES (?, 1) ON CONFLICT(name) DO UPDATE "
                           "SET value = value + 1", (name,))

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT name, value FROM counts").fetchall()
        return {str(n): int(v) for n, v in rows}

    def bump(self, name: str) -> None:
        with self._lock, self._conn:
            self.count(name)

    def size(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0])

    def find(self, case_number: str, now: datetime) -> HallCase | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT case_number, kiosk, view FROM cards WHERE case_number = ? AND "
                "expires_at > ?", (case_number, _utc(now))).fetchone()
        return None if row is None else _case(row)

    def cases_of(self, applicant_key: str, now: datetime, limit: int = 50) -> list[HallCase]:
        if not applicant_key:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT case_number, kiosk, view FROM cards WHERE applicant_key = ? AND "
                "expires_at > ? ORDER BY published_at DESC LIMIT ?",
                (applicant_key, _utc(now), limit)).fetchall()
        return sorted((_case(r) for r in rows), key=lambda c: c.received_at, reverse=True)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _case(row: tuple[Any, ...]) -> HallCase:
    view = json.loads(row[2])
    return HallCase(number=row[0], kiosk=row[1], matter_code=view["matter_code"],
                    matter_name=view["matter_name"], applicant_masked=view["applicant_masked"],
                    received_at=datetime.fromisoformat(view["received_at"]),
                    states=tuple((s, datetime.fromisoformat(t)) for s, t in view["states"]),
                    details=view["details"])

"""The ratings not yet delivered, in their own SQLite file: written (full fsync) when the
citizen taps, so a crash or an outage between the tap and the upload loses nothing. A
rating's reasons given a moment later replace the row under the same id, before it is sent
when possible; after that they go as a new version of the same rating id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.evaluation.record import Evaluation
from kiosk.ledger import connect

PENDING, SENT, REFUSED = "pending", "sent", "refused"


@dataclass(frozen=True)
class Queued:
    evaluation: Evaluation
    version: int
    attempts: int


class EvaluationStore:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS evaluation (rating_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, "
            "attempts INTEGER NOT NULL DEFAULT 0, due TEXT NOT NULL, note TEXT DEFAULT '', "
            "number TEXT NOT NULL DEFAULT '', PRIMARY KEY (rating_id, version))")

    def close(self) -> None:
        self._conn.close()

    def keep(self, item: Evaluation, now: datetime) -> None:
        """Keep ``item``: a new rating, or a later word on one (its reasons) — which
        replaces the version not yet sent, or follows the one already sent."""
        row = self._conn.execute(
            "SELECT version, state FROM evaluation WHERE rating_id=? "
            "ORDER BY version DESC LIMIT 1", (item.rating_id,)).fetchone()
        if row is not None and row[1] == PENDING:
            self._conn.execute("UPDATE evaluation SET body=? WHERE rating_id=? AND version=?",
                               (item.to_json(), item.rating_id, row[0]))
            return
        version = 1 if row is None else row[0] + 1
        self._conn.execute("INSERT INTO evaluation (rating_id, version, body, state, due, "
                           "number) VALUES (?, ?, ?, ?, ?, ?)",
                           (item.rating_id, version, item.to_json(), PENDING, now.isoformat(),
                            item.number))

    def due(self, now: datetime, limit: int = 50) -> list[Queued]:
        rows = self._conn.execute(
            "SELECT body, version, attempts FROM evaluation WHERE state=? AND due<=? "
            "ORDER BY due, rating_id, version LIMIT ?", (PENDING, now.isoformat(), limit))
        return [Queued(Evaluation.from_json(b), v, a) for b, v, a in rows.fetchall()]

    def sent(self, item: Queued) -> None:
        self._set(item, SENT, "", None)

    def refused(self, item: Queued, why: str) -> None:
        self._set(item, REFUSED, why, None)

    def retry(self, item: Queued, why: str, at: datetime) -> None:
        self._set(item, PENDING, why, at)

    def for_number(self, number: str) -> list[Evaluation]:
        """The ratings of one case (or notice), newest version of each, first round first."""
        rows = self._conn.execute(
            "SELECT body FROM evaluation e WHERE number = ? AND version = (SELECT MAX(version) "
            "FROM evaluation WHERE rating_id = e.rating_id)", (number,))
        return sorted((Evaluation.from_json(body) for (body,) in rows.fetchall()),
                      key=lambda e: e.round)

    def counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT state, COUNT(*) FROM evaluation GROUP BY state")
        return {state: count for state, count in rows.fetchall()}

    def _set(self, item: Queued, state: str, note: str, due: datetime | None) -> None:
        sql = ("UPDATE evaluation SET state=?, note=?, attempts=attempts+1"
               + (", due=?" if due else "") + " WHERE rating_id=? AND version=?")
        args: tuple[object, ...] = (state, note[:200]) + ((due.isoformat(),) if due else ()) \
            + (item.evaluation.rating_id, item.version)
        self._conn.execute(sql, args)


def backoff(attempts: int, low_s: float, high_s: float) -> timedelta:
    """Doubling waits between tries, bounded (jitter is added by the caller)."""
    return timedelta(seconds=min(high_s, low_s * 2 ** min(attempts, 20)))

"""The outbox: sealed packages wait here, durably, until each handling region has its copy.

A package is spooled as one sealed file per receiving region: written to ``.part``, fsynced,
renamed, the folder fsynced, and only then recorded in SQLite (WAL, synchronous=FULL) in one
transaction. Only after :meth:`Outbox.spooling` returns may the kiosk print the receipt; a
crash before that leaves files without rows, which :meth:`Outbox.recover` deletes (no receipt
was printed for them, so nothing was promised).

One row per (package, region): queued → uploading (upload URL and offset kept) → delivered
(the region acknowledged) → purged (ciphertext removed after the retention; the row keeps
metadata only). No row holds anything about the applicant: the case number, matter code and
the sealed file's size and hash are all it knows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from kiosk.fsutil import fsync_dir, sha256_file
from kiosk.ledger import connect
from kiosk.sqlite_tx import write_transaction

SUFFIX = ".tbk"


class State(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    DELIVERED = "delivered"
    PURGED = "purged"


@dataclass(frozen=True)
class PackageMeta:
    """What the outbox may know about a package: no personal data."""

    package_id: str
    case_number: str
    matter_code: str
    suite: str
    deadline: datetime


@dataclass(frozen=True)
class OutboxEntry:
    package_id: str
    region: str
    state: State
    size: int
    sha256: str
    suite: str
    case_number: str
    matter_code: str
    created_at: datetime
    deadline: datetime
    upload_url: str
    offset: int
    attempts: int
    last_error: str
    next_attempt_at: datetime
    delivered_at: datetime | None
    alerted: bool
    receipt_owed: bool

    @property
    def file_name(self) -> str:
        return f"{self.package_id}.{self.region}{SUFFIX}"

    def as_dict(self) -> dict[str, object]:
        return {k: (v.isoformat(timespec="seconds") if isinstance(v, datetime) else v)
                for k, v in self.__dict__.items()}


_COLUMNS = ("package_id", "region", "state", "size", "sha256", "suite", "case_number",
            "matter_code", "created_at", "deadline", "upload_url", "offset", "attempts",
            "last_error", "next_attempt_at", "delivered_at", "alerted", "receipt_owed")
_SCHEMA = """CREATE TABLE IF NOT EXISTS deliveries (
    package_id TEXT NOT NULL, region TEXT NOT NULL, state TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, suite TEXT NOT NULL,
    case_number TEXT NOT NULL, matter_code TEXT NOT NULL,
    created_at TEXT NOT NULL, deadline TEXT NOT NULL,
    upload_url TEXT NOT NULL DEFAULT '', offset INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL, delivered_at TEXT, purged_at TEXT,
    alerted INTEGER NOT NULL DEFAULT 0, receipt_owed INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (package_id, region))"""


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Outbox:
    def __init__(self, root: Path, clock: type[datetime] = datetime) -> None:
        self.root = root
        self.spool = root / "spool"
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clock = clock
        self._conn = connect(root / "outbox.sqlite")
        # one connection, used by the session's thread and the uploader's: statements and
        # transactions take turns, so no statement lands inside another thread's BEGIN
        self._lock = threading.RLock()
        self._sql(_SCHEMA)

    def now(self) -> datetime:
        return self._clock.now(UTC)

    def close(self) -> None:
        self._conn.close()

    # --- committing -------------------------------------------------------------------------

    @contextmanager
    def spooling(self, meta: PackageMeta, regions: tuple[str, ...]
                 ) -> Iterator[dict[str, BinaryIO]]:
        """One open file per region for the sealed bytes. On a clean exit the files are made
        durable and the rows committed, all regions in one transaction; on an error the
        partial files are removed and nothing is recorded."""
        parts = {r: self.spool / f".{meta.package_id}.{r}.part" for r in regions}
        handles = {r: open(p, "xb") for r, p in parts.items()}   # noqa: SIM115 - closed below
        try:
            yield dict(handles)
            for handle in handles.values():
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            for region, handle in handles.items():
                handle.close()
                parts[region].unlink(missing_ok=True)
            raise
        for handle in handles.values():
            handle.close()
        finals = {r: self.spool / f"{meta.package_id}.{r}{SUFFIX}" for r in regions}
        for region in regions:
            os.replace(parts[region], finals[region])
        fsync_dir(self.spool)
        self._record(meta, finals)

    def _record(self, meta: PackageMeta, finals: dict[str, Path]) -> None:
        now = _ts(self.now())
        rows = [(meta.package_id, region, State.QUEUED.value, path.stat().st_size,
                 sha256_file(path), meta.suite, meta.case_number, meta.matter_code, now,
                 _ts(meta.deadline), now) for region, path in finals.items()]
        with self._transaction():
            self._sql_many(
                "INSERT INTO deliveries (package_id, region, state, size, sha256, suite, "
                "case_number, matter_code, created_at, deadline, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def receipt_printed(self, package_id: str) -> None:
        self._sql("UPDATE deliveries SET receipt_owed = 0 WHERE package_id = ?", (package_id,))

    def owed_receipts(self) -> list[OutboxEntry]:
        """Packages committed whose receipt was never confirmed printed: the kiosk stopped
        between the two. One entry per package."""
        seen: dict[str, OutboxEntry] = {}
        for entry in self._select("WHERE receipt_owed = 1"):
            seen.setdefault(entry.package_id, entry)
        return list(seen.values())

    def recover(self) -> list[str]:
        """At start-up: drop what a crash left half-written. Returns the file names removed."""
        known = {e.file_name for e in self._select("")}
        removed = []
        for path in self.spool.iterdir():
            if path.suffix == ".part" or (path.suffix == SUFFIX and path.name not in known):
                path.unlink()
                removed.append(path.name)
        if removed:
            fsync_dir(self.spool)
        return removed

    # --- delivering -------------------------------------------------------------------------

    def path(self, entry: OutboxEntry) -> Path:
        return self.spool / entry.file_name

    def due(self, now: datetime) -> list[OutboxEntry]:
        return self._select("WHERE state IN ('queued', 'uploading') AND next_attempt_at <= ? "
                            "ORDER BY created_at", (_ts(now),))

    def progress(self, entry: OutboxEntry, upload_url: str, offset: int) -> None:
        """Persist where the upload is, so a restart resumes it (HEAD) instead of starting
        a second upload."""
        self._sql("UPDATE deliveries SET state = 'uploading', upload_url = ?, "
                  "offset = ? WHERE package_id = ? AND region = ?",
                  (upload_url, offset, entry.package_id, entry.region))

    def delivered(self, entry: OutboxEntry) -> None:
        self._sql("UPDATE deliveries SET state = 'delivered', offset = size, "
                  "delivered_at = ?, attempts = attempts + 1, last_error = '' "
                  "WHERE package_id = ? AND region = ?",
                  (_ts(self.now()), entry.package_id, entry.region))

    def failed(self, entry: OutboxEntry, error: str, retry_at: datetime) -> None:
        self._sql("UPDATE deliveries SET attempts = attempts + 1, last_error = ?, "
                  "next_attempt_at = ? WHERE package_id = ? AND region = ?",
                  (error, _ts(retry_at), entry.package_id, entry.region))

    def restart_upload(self, entry: OutboxEntry) -> None:
        """The server no longer knows the upload (expired or removed): start a new one."""
        self._sql("UPDATE deliveries SET upload_url = '', offset = 0 "
                  "WHERE package_id = ? AND region = ?",
                  (entry.package_id, entry.region))

    def overdue(self, now: datetime) -> list[OutboxEntry]:
        """Undelivered past their transfer deadline and not yet alerted; marks them alerted,
        so each raises its alert once."""
        late = self._select("WHERE state IN ('queued', 'uploading') AND deadline < ? "
                            "AND alerted = 0", (_ts(now),))
        with self._transaction():
            for entry in late:
                self._sql("UPDATE deliveries SET alerted = 1 WHERE package_id = ? "
                          "AND region = ?", (entry.package_id, entry.region))
        return late

    def purge(self, now: datetime, retention: timedelta) -> list[OutboxEntry]:
        """Remove the ciphertext of packages delivered longer ago than ``retention``."""
        old = self._select("WHERE state = 'delivered' AND delivered_at < ?",
                           (_ts(now - retention),))
        for entry in old:
            with suppress(FileNotFoundError):
                self.path(entry).unlink()
            self._sql("UPDATE deliveries SET state = 'purged', purged_at = ? "
                      "WHERE package_id = ? AND region = ?",
                      (_ts(now), entry.package_id, entry.region))
        if old:
            fsync_dir(self.spool)
        return old

    # --- reading ----------------------------------------------------------------------------

    def entries(self, state: State | None = None) -> list[OutboxEntry]:
        if state is None:
            return self._select("ORDER BY created_at")
        return self._select("WHERE state = ? ORDER BY created_at", (state.value,))

    def counts(self) -> dict[str, int]:
        rows = self._sql("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
        return {state.value: 0 for state in State} | dict(rows)  # type: ignore[arg-type]

    def backlog(self, now: datetime) -> tuple[int, float | None, int]:
        """Undelivered count, the oldest one's age in seconds, and how many are past their
        deadline: the heartbeat's outbox health (no case numbers)."""
        rows = self._sql("SELECT COUNT(*), MIN(created_at), SUM(deadline < ?) FROM deliveries "
                         "WHERE state IN ('queued', 'uploading')", (_ts(now),))
        count, oldest, late = rows[0]
        age = (now - _required(oldest)).total_seconds() if oldest else None
        return int(str(count or 0)), age, int(str(late or 0))

    def integrity(self) -> str:
        return str(self._sql("PRAGMA integrity_check")[0][0])

    def _select(self, where: str, args: tuple[object, ...] = ()) -> list[OutboxEntry]:
        rows = self._sql(f"SELECT {', '.join(_COLUMNS)} FROM deliveries {where}", args)
        return [_entry(r) for r in rows]

    def _sql(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:   # rows fetched under the lock too
            return self._conn.execute(sql, args).fetchall()

    def _sql_many(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        with self._lock:
            self._conn.executemany(sql, rows)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock, write_transaction(self._conn):
            yield


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    d = dict(zip(_COLUMNS, row, strict=True))
    return OutboxEntry(
        package_id=str(d["package_id"]), region=str(d["region"]), state=State(str(d["state"])),
        size=int(str(d["size"])), sha256=str(d["sha256"]), suite=str(d["suite"]),
        case_number=str(d["case_number"]), matter_code=str(d["matter_code"]),
        created_at=_required(d["created_at"]), deadline=_required(d["deadline"]),
        upload_url=str(d["upload_url"]), offset=int(str(d["offset"])),
        attempts=int(str(d["attempts"])), last_error=str(d["last_error"]),
        next_attempt_at=_required(d["next_attempt_at"]),
        delivered_at=_dt(str(d["delivered_at"]) if d["delivered_at"] else None),
        alerted=bool(d["alerted"]), receipt_owed=bool(d["receipt_owed"]))


def _required(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


"""The outbox: packages wait here, durably, until the handling region has them.

First cut: a package is committed as one file (spool, fsync, rename, then an SQLite row),
and a transport delivers it. Sealing (signature + encryption), tus and crash tests are the
delivery issue's; ``Sealer`` is the seam where the cipher goes in before anything is spooled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from kiosk.fsutil import write_atomic
from kiosk.ledger import connect


class Sealer(Protocol):
    suite: str

    def seal(self, package: bytes) -> bytes: ...


class NoSeal:
    """No cipher yet: for the directory gateway inside the hall (see module docstring)."""

    suite = "none"

    def seal(self, package: bytes) -> bytes:
        return package


class Transport(Protocol):
    def send(self, package_id: str, blob: bytes, receivers: tuple[str, ...]) -> None:
        """Deliver to every receiving region; idempotent for the same package id."""
        ...


@dataclass(frozen=True)
class OutboxEntry:
    package_id: str
    state: str
    receivers: tuple[str, ...]
    sha256: str
    created_at: str
    delivered_at: str | None
    attempts: int
    last_error: str


class Outbox:
    def __init__(self, root: Path, sealer: Sealer | None = None) -> None:
        self.root = root
        self.spool = root / "spool"
        self.spool.mkdir(parents=True, exist_ok=True)
        self.sealer = sealer or NoSeal()
        self._conn = connect(root / "outbox.sqlite")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox (package_id TEXT PRIMARY KEY, state TEXT, "
            "receivers TEXT, sha256 TEXT, created_at TEXT, delivered_at TEXT, "
            "attempts INTEGER DEFAULT 0, last_error TEXT DEFAULT '')")

    def close(self) -> None:
        self._conn.close()

    def commit(self, package_id: str, package: bytes, receivers: tuple[str, ...]) -> Path:
        """Spool the sealed package durably, then record it. Only after this returns may
        the kiosk print a receipt."""
        blob = self.sealer.seal(package)
        path = self.spool / f"{package_id}.pkg"
        write_atomic(path, blob)
        self._conn.execute(
            "INSERT INTO outbox (package_id, state, receivers, sha256, created_at) "
            "VALUES (?, 'queued', ?, ?, ?)",
            (package_id, ",".join(receivers), hashlib.sha256(blob).hexdigest(),
             datetime.now(UTC).isoformat(timespec="seconds")))
        return path

    def deliver_once(self, transport: Transport) -> list[str]:
        """Try every queued package once; return the ids delivered."""
        delivered = []
        for entry in self.entries(state="queued"):
            blob = (self.spool / f"{entry.package_id}.pkg").read_bytes()
            try:
                transport.send(entry.package_id, blob, entry.receivers)
            except OSError as exc:   # why: a gateway outage must not lose the package
                self._conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                                   "WHERE package_id = ?", (type(exc).__name__,
                                                            entry.package_id))
                continue
            self._conn.execute("UPDATE outbox SET state = 'delivered', delivered_at = ?, "
                               "attempts = attempts + 1, last_error = '' WHERE package_id = ?",
                               (datetime.now(UTC).isoformat(timespec="seconds"),
                                entry.package_id))
            delivered.append(entry.package_id)
        return delivered

    def entries(self, state: str | None = None) -> list[OutboxEntry]:
        sql = ("SELECT package_id, state, receivers, sha256, created_at, delivered_at, "
               "attempts, last_error FROM outbox")
        args: tuple[str, ...] = ()
        if state:
            sql, args = sql + " WHERE state = ?", (state,)
        rows = self._conn.execute(sql + " ORDER BY created_at", args).fetchall()
        return [OutboxEntry(r[0], r[1], tuple(r[2].split(",")), r[3], r[4], r[5], r[6], r[7])
                for r in rows]


class DirectoryTransport:
    """The hall's gateway folder (前置机): ``<target>/<region code>/<package id>.pkg``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def send(self, package_id: str, blob: bytes, receivers: tuple[str, ...]) -> None:
        digest = hashlib.sha256(blob).digest()
        for region in receivers:
            path = self.target / region / f"{package_id}.pkg"
            if path.exists() and hashlib.sha256(path.read_bytes()).digest() == digest:
                continue   # delivered before a crash lost our acknowledgement: not twice
            write_atomic(path, blob)

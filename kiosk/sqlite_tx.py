"""The one write transaction every SQLite store here uses (ledger, outbox, counters, the
region's intake): BEGIN IMMEDIATE takes the write lock at the start, so two processes never
both read and then fail to upgrade, and a kill at any point leaves all of it or none."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT on a connection opened with ``isolation_level=None``;
    ROLLBACK on any exception (KeyboardInterrupt and SystemExit too), which is re-raised."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

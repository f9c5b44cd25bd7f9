"""The region's own database: one SQLite file (WAL, full fsync on commit) holding the cases
intake recorded, their transfers and files, the uploads already looked at, the staff, and
three append-only logs — intake's events, the back office's audit, and the outgoing signed
status events (only their ``sent_at`` may be filled in, once).

Append-only is enforced by triggers, so a bug (or a hand with the sqlite3 shell that does not
drop them first) cannot rewrite what happened."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from drivers.fileio import shown
from kiosk.errors import KioskError
from kiosk.fsutil import private_file
from kiosk.sqlite_tx import write_transaction

# the intake's modules and tests say intake.db.transaction: the kiosk's one helper
transaction = write_transaction

SCHEMA_VERSION = 2          # 2: staff roles (intake/roles.py)

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    source TEXT PRIMARY KEY, outcome TEXT NOT NULL, package_id TEXT, code TEXT,
    at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_number TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, matter_code TEXT NOT NULL,
    matter_name TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages (
    package_id TEXT PRIMARY KEY, case_number TEXT NOT NULL REFERENCES cases,
    kiosk_id TEXT NOT NULL, suite TEXT NOT NULL, version INTEGER NOT NULL,
    folder TEXT NOT NULL, source TEXT NOT NULL, received_at TEXT NOT NULL,
    UNIQUE (case_number, version));
CREATE TABLE IF NOT EXISTS transfers (
    transfer_number TEXT PRIMARY KEY, case_number TEXT NOT NULL REFERENCES cases,
    kiosk_id TEXT NOT NULL, department TEXT NOT NULL, state TEXT,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    package_id TEXT NOT NULL REFERENCES packages, name TEXT NOT NULL,
    PRIMARY KEY (package_id, name));
CREATE TABLE IF NOT EXISTS staff (
    staff_id TEXT PRIMARY KEY, name TEXT NOT NULL, pin_hash TEXT NOT NULL,
    added_at TEXT NOT NULL, roles TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL,
    source TEXT, package_id TEXT, case_number TEXT, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, staff_id TEXT NOT NULL,
    action TEXT NOT NULL, transfer_number TEXT, from_state TEXT, to_state TEXT,
    details TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS outgoing (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kiosk_id TEXT NOT NULL,
    transfer_number TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
    feed_index INTEGER NOT NULL, wire BLOB NOT NULL, created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (transfer_number, seq), UNIQUE (kiosk_id, feed_index));
CREATE INDEX IF NOT EXISTS outgoing_unsent ON outgoing (id) WHERE sent_at IS NULL;
"""

_APPEND_ONLY = ("events", "audit")
_TRIGGERS = "".join(
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t} "
    f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END;"
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t} "
    f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END;" for t in _APPEND_ONLY) + """
CREATE TRIGGER IF NOT EXISTS outgoing_no_delete BEFORE DELETE ON outgoing
BEGIN SELECT RAISE(ABORT, 'outgoing is append-only'); END;
CREATE TRIGGER IF NOT EXISTS outgoing_sent_once BEFORE UPDATE ON outgoing
WHEN OLD.sent_at IS NOT NULL OR NEW.wire IS NOT OLD.wire OR NEW.seq IS NOT OLD.seq
     OR NEW.transfer_number IS NOT OLD.transfer_number OR NEW.kiosk_id IS NOT OLD.kiosk_id
     OR NEW.feed_index IS NOT OLD.feed_index
BEGIN SELECT RAISE(ABORT, 'an outgoing event is only ever marked sent, once'); END;
"""


class RegionDbError(KioskError):
    """The region's database cannot be used (not SQLite, damaged, another program's)."""

    code = "region_db"


def _bad_db(path: Path, why: str) -> RegionDbError:
    return RegionDbError(f"办理地数据库无法使用：{shown(path)}（{why}）",
                         f"The region's database cannot be used: {shown(path)} ({why})")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """The database at ``path`` (made 0600 if new and ``create``), its schema in place.
    Autocommit: every change goes through :func:`transaction`."""
    _check_regular(path, create)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        conn = sqlite3.connect(private_file(path), isolation_level=None, timeout=30)
    except OSError as exc:
        raise _bad_db(path, exc.strerror or str(exc)) from None
    except sqlite3.Error as exc:
        raise _bad_db(path, str(exc)) from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        _check_owner(conn, path, create)
        conn.executescript("BEGIN IMMEDIATE;" + _TABLES + _TRIGGERS
                           + f"INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');"
                           "COMMIT;")
        _migrate(conn)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        raise _bad_db(path, str(exc)) from None
    except RegionDbError:
        conn.close()
        raise
    return conn


def _check_regular(path: Path, create: bool) -> None:
    """A regular file, or nothing yet where ``create`` allows it. Never a device, a pipe or a
    socket: making it 0600 would chmod ``/dev/zero`` (as root), and opening a pipe to write
    waits for ever for a reader."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not create:
            raise _bad_db(path, "不存在 / no such file") from None
        return
    except OSError as exc:
        raise _bad_db(path, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(mode):
        raise _bad_db(path, "是文件夹 / a folder")
    if not stat.S_ISREG(mode):
        raise _bad_db(path, "不是普通文件（设备、管道或套接字）/ not a regular file "
                            "(a device, pipe or socket)")


def _check_owner(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    """An existing database must be ours, at our schema (not the kiosk's ledger, say); an
    empty one is made ours only where ``create`` allows it."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables and create:
        return
    if "meta" not in tables:
        raise _bad_db(path, "不是办理地数据库 / not a region database")
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    if row is None or row[0] not in ("1", str(SCHEMA_VERSION)):
        raise _bad_db(path, f"版本不符 / schema {row[0] if row else '?'}")


def _migrate(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2: staff get roles; those already there become 管理员 (admin), who may make
    every move, as every staff member could before. Checked inside the write lock, so two
    programs starting at once migrate once."""
    with transaction(conn):
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row[0] == "1":
            conn.execute("ALTER TABLE staff ADD COLUMN roles TEXT NOT NULL DEFAULT 'admin'")
            conn.execute("UPDATE meta SET value='2' WHERE key='schema'")

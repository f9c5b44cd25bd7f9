"""The handling department's staff: who may move a case on, signed in by a PIN for each
action (the command line keeps no session). PINs are kept as scrypt hashes (salted, memory-
hard: a copied database does not give them away cheaply) and compared in constant time; a
failed sign-in is audited, and five failures in a row lock the staff member out until
``staff add --reset`` sets a new PIN. Each holds one or more roles (intake/roles.py) that
say which moves they may make."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from intake import roles as role_table
from intake.db import transaction
from kiosk.errors import KioskError

STAFF_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
PIN = re.compile(r"\d{6,12}")
MAX_FAILURES = 5
_N, _R, _P = 1 << 14, 8, 1          # scrypt: ~16 MiB, tens of milliseconds


class StaffError(KioskError):
    code = "staff_error"


def _hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def _encode(pin: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${_hash(pin, salt).hex()}"


def _matches(pin: str, stored: str) -> bool:
    kind, n, r, p, salt, digest = stored.split("$")
    assert kind == "scrypt" and (int(n), int(r), int(p)) == (_N, _R, _P)
    return hmac.compare_digest(_hash(pin, bytes.fromhex(salt)), bytes.fromhex(digest))


def check_staff_id(staff_id: str) -> str:
    if not STAFF_ID.fullmatch(staff_id):
        raise StaffError(f"工号只能由 1–32 位字母、数字、- 或 _ 组成：{staff_id[:40]!r}",
                         f"A staff id is 1-32 letters, digits, - or _: {staff_id[:40]!r}",
                         code="bad_staff_id")
    return staff_id


def check_pin(pin: str) -> str:
    if not PIN.fullmatch(pin):
        raise StaffError("PIN 应为 6–12 位数字", "A PIN is 6-12 digits", code="bad_pin")
    return pin


def add(conn: sqlite3.Connection, staff_id: str, name: str, pin: str, now: datetime, *,
        roles: Iterable[str] = (), reset: bool = False) -> None:
    """A new staff member with ``roles`` (or, with ``reset``, a new PIN for one, and new
    roles when given), audited."""
    check_staff_id(staff_id)
    check_pin(pin)
    roles = list(roles)
    stored = role_table.encode(roles) if roles or not reset else None
    if not 0 < len(name) <= 50 or not name.isprintable():
        raise StaffError("姓名应为 1–50 个可打印字符", "A name is 1-50 printable characters",
                         code="bad_name")
    with transaction(conn):
        exists = conn.execute("SELECT 1 FROM staff WHERE staff_id=?",
                              (staff_id,)).fetchone() is not None
        if exists and not reset:
            raise StaffError(f"工号已存在：{staff_id}（重设 PIN 用 --reset）",
                             f"Staff id exists: {staff_id} (--reset sets a new PIN)",
                             code="staff_exists")
        if stored is None:          # a PIN reset keeps the roles
            stored = conn.execute("SELECT roles FROM staff WHERE staff_id=?",
                                  (staff_id,)).fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO staff (staff_id, name, pin_hash, added_at, roles) "
                     "VALUES (?, ?, ?, ?, ?)", (staff_id, name, _encode(pin), now.isoformat(),
                                                stored))
        _audit(conn, now, staff_id, "pin_reset" if exists else "staff_added",
               json.dumps({"roles": stored}))


def sign_in(conn: sqlite3.Connection, staff_id: str, pin: str, now: datetime) -> str:
    """The staff member's name if ``pin`` is theirs; else StaffError, the failure audited."""
    row = conn.execute("SELECT name, pin_hash FROM staff WHERE staff_id=?",
                       (check_staff_id(staff_id),)).fetchone()
    refused = StaffError("工号或 PIN 不正确", "Wrong staff id or PIN", code="sign_in_failed")
    if row is None:
        _fail(conn, now, staff_id)
        raise refused
    if _failures(conn, staff_id) >= MAX_FAILURES:
        raise StaffError(f"连续 {MAX_FAILURES} 次 PIN 错误，已锁定；请管理员重设 PIN",
                         f"Locked after {MAX_FAILURES} wrong PINs; an administrator must "
                         "reset the PIN", code="staff_locked")
    if not _matches(pin, row[1]):
        _fail(conn, now, staff_id)
        raise refused
    return str(row[0])


def record(conn: sqlite3.Connection, now: datetime, staff_id: str, action: str) -> None:
    """An audit row of the staff member's own (the web office's sign-in and sign-out)."""
    with transaction(conn):
        _audit(conn, now, staff_id, action)


def pin_stamp(conn: sqlite3.Connection, staff_id: str) -> str | None:
    """What a web session is bound to: a digest of the stored PIN hash, or None when the
    staff member is gone or locked out (a PIN reset or a lock-out ends their sessions)."""
    row = conn.execute("SELECT pin_hash FROM staff WHERE staff_id=?", (staff_id,)).fetchone()
    if row is None or _failures(conn, staff_id) >= MAX_FAILURES:
        return None
    return hashlib.sha256(row[0].encode()).hexdigest()


def _failures(conn: sqlite3.Connection, staff_id: str) -> int:
    """Failed sign-ins since the staff member's last successful action or PIN reset."""
    last_good = conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit WHERE staff_id=? AND "
                             "action != 'sign_in_failed'", (staff_id,)).fetchone()[0]
    return int(conn.execute("SELECT COUNT(*) FROM audit WHERE staff_id=? AND id > ? AND "
                            "action = 'sign_in_failed'", (staff_id, last_good)).fetchone()[0])


def _fail(conn: sqlite3.Connection, now: datetime, staff_id: str) -> None:
    with transaction(conn):
        _audit(conn, now, staff_id, "sign_in_failed")


def roles_of(conn: sqlite3.Connection, staff_id: str) -> frozenset[str]:
    """The staff member's roles now (none when gone): read at every move, so a change of
    roles counts at once, in the web office's open sessions too."""
    row = conn.execute("SELECT roles FROM staff WHERE staff_id=?", (staff_id,)).fetchone()
    return role_table.decode(row[0] if row else None)


def _audit(conn: sqlite3.Connection, now: datetime, staff_id: str, action: str,
           details: str = "{}") -> None:
    conn.execute("INSERT INTO audit (at, staff_id, action, details) VALUES (?, ?, ?, ?)",
                 (now.isoformat(), staff_id, action, details))

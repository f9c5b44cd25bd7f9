"""Case numbers (受理编号) and cross-region transfer numbers (业务协同编号).

A case number is all digits, grouped so it can be read aloud over the phone:
``510802-0001-261121-0042-6`` = kiosk id (hall division code + serial), date, the day's
sequence, and a Damm check digit (catches every single-digit error and every swap of
adjacent digits). The kiosk id makes numbers unique across a fleet; the sequence comes from
a SQLite counter taken under a write lock, so threads and processes never share one.

A transfer number is distinct in shape and prefix: ``XT`` + sender and receiver division
codes + date + kiosk serial + sequence — one per receiving region.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from kiosk.sqlite_tx import write_transaction

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9), (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5), (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm(digits: str) -> int:
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def is_valid_case_number(number: str) -> bool:
    digits = number.replace("-", "")
    return digits.isdigit() and len(digits) == 21 and damm(digits) == 0


def next_sequence(conn: sqlite3.Connection, key: str) -> int:
    """Atomically increment and return the counter ``key`` (shared by all processes)."""
    with write_transaction(conn):
        return bump_sequence(conn, key)


def bump_sequence(conn: sqlite3.Connection, key: str) -> int:
    """Increment and return the counter ``key`` inside the caller's write transaction (BEGIN
    IMMEDIATE), so whatever else that transaction writes commits with the number or not at
    all."""
    conn.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER)")
    conn.execute("INSERT INTO counters VALUES (?, 0) ON CONFLICT(key) DO NOTHING", (key,))
    row = conn.execute("UPDATE counters SET value = value + 1 WHERE key = ? "
                       "RETURNING value", (key,)).fetchone()
    return int(row[0])


def case_number(kiosk_id: str, day: date, sequence: int) -> str:
    if sequence > 9999:
        raise ValueError("more than 9999 cases in a day on one kiosk")
    body = f"{kiosk_id.replace('-', '')}{day:%y%m%d}{sequence:04d}"
    region, serial = kiosk_id.split("-")
    return f"{region}-{serial}-{day:%y%m%d}-{sequence:04d}-{damm(body)}"


def transfer_number(kiosk_id: str, receiver_region: str, day: date, sequence: int) -> str:
    region, serial = kiosk_id.split("-")
    return f"XT{region}{receiver_region}{day:%Y%m%d}{serial}{sequence:04d}"

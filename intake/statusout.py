"""The outgoing status events: each move of a transfer becomes one signed event
(kiosk/casestatus/event.py's format) with the transfer's next sequence number, written into
``outgoing`` in the caller's transaction together with the transfer's new state — so a state
is never changed without its event, nor an event sent for a state not kept.

The publisher (MQTT) and the feed (HTTPS) only read ``outgoing``; ``feed_index`` numbers each
kiosk's events 0, 1, 2, … in the order written, the line numbers of its pull feed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.fileio import shown
from kiosk.casestatus.event import ZH, CaseState, StatusEvent, may_follow, sign
from kiosk.errors import KioskError
from kiosk.transfer.keys import KeyFile, KeyFileError, load
from kiosk.transfer.suites import Role


class MoveError(KioskError):
    """A move the case's state does not allow, or a case that is not there."""

    code = "bad_move"


@dataclass(frozen=True)
class StatusSigner:
    """The region's status signing key (``kiosk-region keygen --status``)."""

    region: str
    key: KeyFile

    @classmethod
    def load(cls, path: Path, region: str | None = None) -> StatusSigner:
        """The key at ``path``, checked to be a private signing key (of ``region``)."""
        key = load(path)
        region = key.owner if region is None else region
        if key.private is None or key.role is not Role.SIGN:
            raise KeyFileError(f"{shown(path)} 不是办理地的状态签名私钥",
                               f"{shown(path)} is not a region's private status signing key",
                               code="bad_key")
        if key.owner != region:
            raise KeyFileError(f"状态签名密钥属于 {key.owner}，而不是办理地 {region}",
                               f"The status key is {key.owner}'s, not region {region}'s",
                               code="bad_key")
        return cls(region, key)

    def wire(self, event: StatusEvent) -> bytes:
        assert self.key.private is not None
        return sign(event, self.key.private)


def current_state(conn: sqlite3.Connection, transfer_number: str) -> CaseState | None:
    row = conn.execute("SELECT state FROM transfers WHERE transfer_number=?",
                       (transfer_number,)).fetchone()
    if row is None:
        raise MoveError(f"没有这个协同编号的办件：{transfer_number}",
                        f"No case with transfer number {transfer_number}", code="no_case")
    return None if row[0] is None else CaseState(row[0])


def advance(conn: sqlite3.Connection, signer: StatusSigner, transfer_number: str,
            state: CaseState, details: dict[str, Any], now: datetime) -> StatusEvent:
    """Move the transfer to ``state``: its signed event in ``outgoing``, its new state in
    ``transfers``. Call inside a transaction. Raises MoveError for a move NEXT forbids and
    EventError for details the format refuses (nothing written either way)."""
    previous = current_state(conn, transfer_number)
    if not may_follow(previous, state):
        was = ZH[previous] if previous else "（无）"
        raise MoveError(f"办件不能从“{was}”转为“{ZH[state]}”",
                        f"A case cannot move from {previous.value if previous else 'nothing'}"
                        f" to {state.value}", code="move_not_allowed")
    case_number, kiosk_id = conn.execute(
        "SELECT case_number, kiosk_id FROM transfers WHERE transfer_number=?",
        (transfer_number,)).fetchone()
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outgoing "
                       "WHERE transfer_number=?", (transfer_number,)).fetchone()[0]
    event = StatusEvent(region=signer.region, transfer_number=transfer_number,
                        case_number=case_number, seq=seq, state=state, time=now,
                        suite=signer.key.suite, key_id=signer.key.key_id, details=details)
    wire = signer.wire(event)            # checks every field first
    index = conn.execute("SELECT COALESCE(MAX(feed_index), -1) + 1 FROM outgoing "
                         "WHERE kiosk_id=?", (kiosk_id,)).fetchone()[0]
    conn.execute("INSERT INTO outgoing (kiosk_id, transfer_number, seq, state, feed_index, "
                 "wire, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (kiosk_id, transfer_number, seq, state.value, index, wire, now.isoformat()))
    conn.execute("UPDATE transfers SET state=?, updated_at=? WHERE transfer_number=?",
                 (state.value, now.isoformat(), transfer_number))
    return event

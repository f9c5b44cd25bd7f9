"""Applying a status event at the receiving kiosk: every check, then the ledger follows.

``apply(raw)``: parse (bounded, strict) → not stale → the region's status key, by (region,
key_id), from the region directory in use, valid at the event's time and not revoked →
signature → the case is in this kiosk's ledger and the transfer number is one of its
transfers, handled by the event's region → seq is the transfer's last + 1 (older or equal:
a replay, counted and ignored; a gap: held until it fills, bounded) → the move is allowed
(``event.may_follow``) → the event row and the ledger's 办理状态 (``event.ZH``) in one
transaction, then any held successors. A rejection changes nothing and raises the alert
``status_event_rejected`` (reason, region, transfer number — never personal data).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from kiosk.casestatus.event import ZH, CaseState, EventError, StatusEvent, may_follow, parse, verify
from kiosk.casestatus.store import StatusStore
from kiosk.routing.directory_format import RegionKey

log = logging.getLogger(__name__)
ALERT = "status_event_rejected"
MAX_AGE = timedelta(days=30)         # older than this: stale (a week offline is well inside)
MAX_AHEAD = timedelta(minutes=10)    # the region's clock ahead of ours by more: refused


class Outcome(StrEnum):
    APPLIED = "applied"
    HELD = "held"                    # waiting for an earlier seq of its transfer
    DUPLICATE = "duplicate"          # exactly what was applied at that seq (QoS 1 redelivery)
    REJECTED = "rejected"


class Reason(StrEnum):
    MALFORMED = "malformed"
    STALE = "stale"
    UNKNOWN_KEY = "unknown_key"      # no such status key for the region, lapsed or revoked
    FORGED = "forged"                # the signature does not verify
    NOT_OURS = "not_ours"            # no such case and transfer in this kiosk's ledger
    FOREIGN_REGION = "foreign_region"   # a region speaking for another region's transfer
    REPLAYED = "replayed"            # a different event at a seq already applied
    DISALLOWED = "disallowed"        # a move the state machine does not allow
    HELD_FULL = "held_full"          # too many events waiting for a gap


class Alerts(Protocol):
    def alert(self, code: str, detail: dict[str, str]) -> None: ...


class StatusKeys(Protocol):
    """Where the region's status keys come from (kiosk/casestatus/keys.py)."""

    def key(self, region: str, key_id: str, at: datetime) -> RegionKey | None: ...


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: Reason | None = None
    applied: int = 0                 # events applied by this call (held successors too)


class _Rejected(Exception):
    def __init__(self, reason: Reason, zh: str, en: str) -> None:
        super().__init__(en)
        self.reason, self.zh, self.en = reason, zh, en


class Receiver:
    """Applies events to one kiosk's ledger; safe to call from several threads."""

    def __init__(self, store: StatusStore, keys: StatusKeys, alerts: Alerts,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 max_age: timedelta = MAX_AGE) -> None:
        self.store, self.keys, self.alerts = store, keys, alerts
        self.now, self.max_age = now, max_age
        self._lock = threading.Lock()

    def apply(self, raw: bytes) -> Result:
        with self._lock:
            try:
                return self._apply(raw)
            except _Rejected as why:
                self._reject(why, raw)
                return Result(Outcome.REJECTED, why.reason)

    def _apply(self, raw: bytes) -> Result:
        try:
            event, signature = parse(raw)
        except EventError as exc:
            raise _Rejected(Reason.MALFORMED, exc.zh, exc.en) from None
        self._fresh(event)
        self._verified(event, signature)
        dropped: list[tuple[_Rejected, bytes]] = []
        with self.store.changing() as conn:
            result = self._ordered(conn, event, signature, raw, dropped)
        for why, held in dropped:       # alerted after the commit (its own transaction)
            self._reject(why, held)
        return result

    def _fresh(self, event: StatusEvent) -> None:
        now = self.now()
        if event.time < now - self.max_age or event.time > now + MAX_AHEAD:
            raise _Rejected(Reason.STALE, "状态消息时间过旧或在未来",
                            "the event's time is too old or in the future")

    def _verified(self, event: StatusEvent, signature: bytes) -> None:
        key = self.keys.key(event.region, event.key_id, event.time)
        if key is None or key.suite != event.suite:
            raise _Rejected(Reason.UNKNOWN_KEY, "地区目录中没有该办理地有效的状态签名密钥",
                            "no valid status key of that region in the region directory")
        try:
            verify(event, signature, key.public)
        except EventError:
            raise _Rejected(Reason.FORGED, "签名验证失败", "the signature does not verify"
                            ) from None

    def _ordered(self, conn: sqlite3.Connection, event: StatusEvent, signature: bytes,
                 raw: bytes, dropped: list[tuple[_Rejected, bytes]]) -> Result:
        self._ours(conn, event)
        last = self.store.last(conn, event.transfer_number)
        last_seq = 0 if last is None else last.seq
        if event.seq <= last_seq:
            return self._replay(conn, event, signature)
        if event.seq > last_seq + 1:
            if not self.store.hold(conn, event, raw, self.now()):
                raise _Rejected(Reason.HELD_FULL, "等待补齐的状态消息过多",
                                "too many events waiting for a gap to fill")
            self.store.count(conn, "held")
            return Result(Outcome.HELD)
        self._commit(conn, event, signature, None if last is None else last.state)
        return Result(Outcome.APPLIED, applied=1 + self._drain(conn, event, dropped))

    def _ours(self, conn: sqlite3.Connection, event: StatusEvent) -> None:
        row = conn.execute("SELECT transfer_numbers FROM ledger WHERE case_number = ?",
                           (event.case_number,)).fetchone()
        if row is None or event.transfer_number not in str(row[0] or "").split(","):
            raise _Rejected(Reason.NOT_OURS, "本机没有发出该业务协同编号",
                            "this kiosk sent no such case and transfer")
        # XT + sender (6) + receiver (6) + …: the receiver is the handling region
        if event.transfer_number[8:14] != event.region:
            raise _Rejected(Reason.FOREIGN_REGION, "该业务协同编号不属于发送状态的办理地",
                            "the transfer is not handled by the region that sent the event")

    def _replay(self, conn: sqlite3.Connection, event: StatusEvent,
                signature: bytes) -> Result:
        before = self.store.applied_at(conn, event.transfer_number, event.seq)
        if before is not None and before.signature == signature:
            self.store.count(conn, "duplicate")
            return Result(Outcome.DUPLICATE)
        raise _Rejected(Reason.REPLAYED, f"第 {event.seq} 号状态已经处理过",
                        f"seq {event.seq} was already applied")

    def _commit(self, conn: sqlite3.Connection, event: StatusEvent, signature: bytes,
                previous: CaseState | None) -> None:
        if not may_follow(previous, event.state):
            raise _Rejected(Reason.DISALLOWED, f"办件状态不能从 {previous} 变为 {event.state}",
                            f"a case cannot move from {previous} to {event.state.value}")
        self.store.add(conn, event, signature, self.now())
        # the ledger keeps the hall's local times (see kiosk/case_timeline.py)
        local = event.time.astimezone().replace(tzinfo=None)
        self.store.ledger.move(event.case_number, ZH[event.state], None, local)
        self.store.count(conn, "applied")

    def _drain(self, conn: sqlite3.Connection, event: StatusEvent,
               dropped: list[tuple[_Rejected, bytes]]) -> int:
        """Held successors of ``event``, now in order; a bad one is dropped and stops it."""
        applied, current = 0, event
        while (raw := self.store.held_next(conn, current.transfer_number, current.seq + 1)):
            following, signature = parse(raw)     # it parsed and verified when it was held
            try:
                self._commit(conn, following, signature, current.state)
            except _Rejected as why:
                self.store.drop_held(conn, following.transfer_number, following.seq)
                dropped.append((why, raw))
                break
            applied, current = applied + 1, following
        return applied

    def _reject(self, why: _Rejected, raw: bytes) -> None:
        region, transfer = _names(raw)
        log.warning("status event rejected: %s (%s)", why.reason.value, why.en)
        with self.store.changing() as conn:
            self.store.count(conn, f"rejected_{why.reason.value}")
        self.alerts.alert(ALERT, {
            "reason": why.reason.value, "region": region, "transfer_number": transfer,
            "zh": f"办件状态消息被拒收：{why.zh}", "en": f"Case status event refused: {why.en}"})


def _names(raw: bytes) -> tuple[str, str]:
    """Region and transfer number for the alert, when the event parses (else empty)."""
    try:
        event, _ = parse(raw)
    except EventError:
        return "", ""
    return event.region, event.transfer_number

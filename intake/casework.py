"""The back office's actions on a case: list, show and move on. A move is made by a signed-
in staff member and is, in one transaction, the transfer's new state, its signed status event
(:mod:`.statusout`) and the audit row (who, when, what, from which state).

A case is named by its transfer number (业务协同编号: one per handling region, what the
status events carry), or by its case number when it has one transfer here."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from typing import Any

from intake import roles as role_table
from intake.db import transaction
from intake.staff import roles_of, sign_in
from intake.statusout import MoveError, StatusSigner, advance
from kiosk.casestatus.event import CASE_NUMBER, DETAILS, TRANSFER_NUMBER, ZH, CaseState

# details a move must carry (GB/T 39046: table 6 受理文书编号 and 承诺办结时间; table 7 补正
# items with a deadline; the refusal's reason; table 8 the result; table 15 the 物流单号 and
# where the result goes); the rest of DETAILS is optional
REQUIRED: dict[CaseState, frozenset[str]] = {
    CaseState.ACCEPTED: frozenset({"document_number", "promised_by"}),
    CaseState.CORRECTION_REQUIRED: frozenset({"items", "deadline"}),
    CaseState.SPECIAL_PROCEDURE: frozenset({"kind", "reason"}),
    CaseState.REFUSED: frozenset({"reason"}),
    CaseState.DECIDED: frozenset({"result"}),
    CaseState.DISPATCHED: frozenset({"tracking_number", "destination"}),
}
_DATE_DETAILS = frozenset({"promised_by", "deadline", "until", "collect_until"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def transfer_for(conn: sqlite3.Connection, ref: str) -> str:
    """The transfer number ``ref`` names (itself, or a case's only transfer here)."""
    if TRANSFER_NUMBER.fullmatch(ref):
        return ref
    if not CASE_NUMBER.fullmatch(ref):
        raise MoveError(f"应为协同编号（XT…）或办件编号：{ref[:40]!r}",
                        f"Expected a transfer number (XT…) or a case number: {ref[:40]!r}",
                        code="bad_case_ref")
    rows = conn.execute("SELECT transfer_number FROM transfers WHERE case_number=?",
                        (ref,)).fetchall()
    if len(rows) != 1:
        raise MoveError(f"办件 {ref} 在本地{'没有' if not rows else '有多个'}协同编号，"
                        "请用协同编号", f"Case {ref} has {len(rows)} transfers here: name "
                        "the transfer number", code="no_case" if not rows else "ambiguous")
    return str(rows[0][0])


def check_details(state: CaseState, details: dict[str, Any]) -> dict[str, Any]:
    """``details`` complete for ``state`` and its dates real dates (the event format checks
    the rest when the event is signed)."""
    missing = sorted(REQUIRED.get(state, frozenset()) - set(details))
    extra = sorted(set(details) - DETAILS[state])
    if missing or extra:
        raise MoveError(f"“{ZH[state]}”缺少 {', '.join(missing) or '—'}，"
                        f"不能带 {', '.join(extra) or '—'}",
                        f"{state.value} needs {', '.join(missing) or '-'}, "
                        f"does not take {', '.join(extra) or '-'}", code="bad_details")
    for name in _DATE_DETAILS & set(details):
        value = details[name]
        try:
            ok = bool(_DATE.fullmatch(value)) and bool(datetime.fromisoformat(value))
        except ValueError:
            ok = False
        if not ok:
            raise MoveError(f"{name} 应为日期（YYYY-MM-DD）", f"{name} must be a date "
                            "(YYYY-MM-DD)", code="bad_details")
    return details


def move(conn: sqlite3.Connection, signer: StatusSigner, staff_id: str, pin: str, ref: str,
         state: CaseState, details: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Sign in, then move the case on: state, signed event and audit row together."""
    sign_in(conn, staff_id, pin, now)
    return move_signed_in(conn, signer, staff_id, ref, state, details, now)


def move_signed_in(conn: sqlite3.Connection, signer: StatusSigner, staff_id: str, ref: str,
                   state: CaseState, details: dict[str, Any], now: datetime
                   ) -> dict[str, Any]:
    """The move for a staff member already signed in (the web office's session): the one
    audited path both the command line and the web page take."""
    transfer = transfer_for(conn, ref)
    _check_role(conn, staff_id, transfer, state, now)
    check_details(state, details)
    with transaction(conn):
        before = conn.execute("SELECT state FROM transfers WHERE transfer_number=?",
                              (transfer,)).fetchone()
        event = advance(conn, signer, transfer, state, details, now)
        conn.execute("INSERT INTO audit (at, staff_id, action, transfer_number, from_state, "
                     "to_state, details) VALUES (?, ?, 'move', ?, ?, ?, ?)",
                     (now.isoformat(), staff_id, transfer, before[0] if before else None,
                      state.value, json.dumps(details, ensure_ascii=False, sort_keys=True)))
    return {"transfer_number": transfer, "case_number": event.case_number, "seq": event.seq,
            "state": state.value, "from": before[0] if before else None}


def _check_role(conn: sqlite3.Connection, staff_id: str, transfer: str, state: CaseState,
                now: datetime) -> None:
    """The move is one the staff member's roles allow; else an audited refusal (a forged
    form, or a command line run by the wrong person)."""
    held = roles_of(conn, staff_id)
    if state in role_table.moves_for(held):
        return
    with transaction(conn):
        before = conn.execute("SELECT state FROM transfers WHERE transfer_number=?",
                              (transfer,)).fetchone()
        conn.execute("INSERT INTO audit (at, staff_id, action, transfer_number, from_state, "
                     "to_state, details) VALUES (?, ?, 'move_refused', ?, ?, ?, ?)",
                     (now.isoformat(), staff_id, transfer, before[0] if before else None,
                      state.value, json.dumps({"roles": sorted(held)})))
    raise MoveError(f"您的岗位（{role_table.labels(held) or '无'}）不能转为“{ZH[state]}”",
                    f"Your role ({', '.join(sorted(held)) or 'none'}) may not move a case "
                    f"to {state.value}", code="role_forbidden")


def list_cases(conn: sqlite3.Connection, state: CaseState | None = None, *,
               limit: int = -1, offset: int = 0) -> list[dict[str, Any]]:
    """The cases (in ``state``), oldest change first; ``limit``/``offset`` page them."""
    sql = ("SELECT t.transfer_number, t.case_number, t.kiosk_id, t.state, t.updated_at, "
           "c.matter_name FROM transfers t JOIN cases c USING (case_number)")
    params: tuple[Any, ...] = (state.value,) if state else ()
    rows = conn.execute(sql + (" WHERE t.state=?" if state else "") + " ORDER BY "
                        "t.updated_at, t.transfer_number LIMIT ? OFFSET ?",
                        (*params, limit, offset))
    keys = ("transfer_number", "case_number", "kiosk_id", "state", "updated_at", "matter")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def show(conn: sqlite3.Connection, ref: str) -> dict[str, Any]:
    """One case: its transfer, packages (versions, folders, files) and status history."""
    transfer = transfer_for(conn, ref)
    row = conn.execute("SELECT case_number, kiosk_id, department, state FROM transfers "
                       "WHERE transfer_number=?", (transfer,)).fetchone()
    if row is None:
        raise MoveError(f"没有这个协同编号的办件：{transfer}",
                        f"No case with transfer number {transfer}", code="no_case")
    number, kiosk_id, department, state = row
    packages = [{"package_id": p, "version": v, "folder": f,
                 "files": [r[0] for r in conn.execute(
                     "SELECT name FROM files WHERE package_id=? ORDER BY name", (p,))],
                 "file_ids": [r[0] for r in conn.execute(      # the back office's links
                     "SELECT rowid FROM files WHERE package_id=? ORDER BY name", (p,))]}
                for p, v, f in conn.execute("SELECT package_id, version, folder FROM packages "
                                            "WHERE case_number=? ORDER BY version", (number,))]
    history = [{"seq": s, "state": st, "time": t, "sent": sent is not None}
               for s, st, t, sent in conn.execute(
                   "SELECT seq, state, created_at, sent_at FROM outgoing "
                   "WHERE transfer_number=? ORDER BY seq", (transfer,))]
    audit = [{"at": a, "staff_id": who, "action": act, "from": f, "to": t,
              "details": json.loads(d)}
             for a, who, act, f, t, d in conn.execute(
                 "SELECT at, staff_id, action, from_state, to_state, details FROM audit "
                 "WHERE transfer_number=? ORDER BY id", (transfer,))]
    return {"transfer_number": transfer, "case_number": number, "kiosk_id": kiosk_id,
            "department": department, "state": state, "packages": packages,
            "history": history, "audit": audit}

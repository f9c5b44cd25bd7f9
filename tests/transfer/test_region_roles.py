"""Staff roles in the back office (intake/roles.py): ``staff add --role``, the case page
offering only the moves the signed-in role may make, a forged POST for any other move
refused with 403 and audited (nothing moved, no event signed), the same rule on the
command line, and an existing database upgraded with its staff as 管理员."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_region_office_http import PIN, Rig

from intake import roles, staff
from intake.cli import main
from intake.db import SCHEMA_VERSION, connect, transaction
from intake.office import OfficeServer
from intake.statusout import StatusSigner
from kiosk.casestatus.event import CaseState
from kiosk.transfer.keys import generate, write_private
from kiosk.transfer.suites import Role

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))
TRANSFER = "XT" + "0" * 28
STAFF = {"shou01": ["intake"], "shen01": ["approver"], "chuang01": ["window"],
         "guan01": ["admin"]}


def _db(tmp_path: Path) -> Path:
    db = tmp_path / "region.db"
    conn = connect(db)
    for staff_id, held in STAFF.items():
        staff.add(conn, staff_id, staff_id, PIN, NOW, roles=held)
    with transaction(conn):
        conn.execute("INSERT INTO cases VALUES ('510802-0001-250300-9141-7', '510802-0001', "
                     "'m', '事项', 'now')")
        conn.execute("INSERT INTO transfers VALUES (?, '510802-0001-250300-9141-7', "
                     "'510802-0001', '部门', 'received', 'now')", (TRANSFER,))
    conn.close()
    return db


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    key = tmp_path / "status.key"
    write_private(key, generate("500103", Role.SIGN, "x25519-chacha20"))
    db = _db(tmp_path)
    found = Rig(None, db)  # type: ignore[arg-type]
    found.server = OfficeServer(("127.0.0.1", 0), db, StatusSigner.load(key),
                                timedelta(minutes=15), lambda: found.now[0])
    threading.Thread(target=found.server.serve_forever, daemon=True).start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def _signed_in(rig: Rig, staff_id: str) -> tuple[str, str]:
    """(the session cookie, the case page) for ``staff_id``."""
    _, msg, _ = rig.request("GET", "/sign-in")
    token = re.search(r"office_sign_in=([\w-]+)", msg["Set-Cookie"])
    assert token
    status, msg, _ = rig.request("POST", "/sign-in", {
        "csrf": token[1], "staff_id": staff_id, "pin": PIN}, f"office_sign_in={token[1]}")
    assert status == 303
    cookie = next(c for c in msg.get_all("Set-Cookie") or []
                  if c.startswith("office_session")).split(";")[0]
    status, _, page = rig.request("GET", f"/cases/{TRANSFER}", cookie=cookie)
    assert status == 200
    return cookie, page


def _offered(page: str) -> set[str]:
    return set(re.findall(r'name="to" value="(\w+)"', page))


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize(("staff_id", "offered"), [
    ("shou01", {"accepted", "correction_required", "refused"}),
    ("shen01", {"refused"}), ("chuang01", set()),
    ("guan01", {"accepted", "correction_required", "refused"})])
def test_the_case_page_offers_only_the_roles_moves(rig: Rig, staff_id: str,
                                                   offered: set[str]) -> None:
    _, page = _signed_in(rig, staff_id)
    assert _offered(page) == offered
    assert roles.ROLES[STAFF[staff_id][0]][0] in page          # the role is shown


def test_a_forged_move_outside_the_role_is_403_audited_and_changes_nothing(rig: Rig) -> None:
    cookie, page = _signed_in(rig, "chuang01")
    csrf = re.search(r'name="csrf" value="([\w-]+)"', page)
    assert csrf
    status, _, reply = rig.request("POST", f"/cases/{TRANSFER}/move", {
        "csrf": csrf[1], "to": "accepted", "document_number": "渝中受字〔2026〕1号",
        "promised_by": "2026-12-21"}, cookie)
    assert status == 403 and "不能转为" in reply and "may not move" in reply
    assert _rows(rig.db, "SELECT state FROM transfers") == [("received",)]
    assert _rows(rig.db, "SELECT COUNT(*) FROM outgoing") == [(0,)]
    assert _rows(rig.db, "SELECT staff_id, action, from_state, to_state FROM audit WHERE "
                 "transfer_number IS NOT NULL") == [("chuang01", "move_refused", "received",
                                                     "accepted")]


def test_the_intake_role_moves_and_the_window_role_then_cannot_decide(rig: Rig) -> None:
    cookie, page = _signed_in(rig, "shou01")
    csrf = re.search(r'name="csrf" value="([\w-]+)"', page)
    assert csrf
    status, _, _ = rig.request("POST", f"/cases/{TRANSFER}/move", {
        "csrf": csrf[1], "to": "accepted", "document_number": "渝中受字〔2026〕1号",
        "promised_by": "2026-12-21"}, cookie)
    assert status == 303
    assert _rows(rig.db, "SELECT state FROM transfers") == [("accepted",)]
    _, approver_page = _signed_in(rig, "shen01")
    assert _offered(approver_page) == {"special_procedure", "decided", "refused"}
    _, intake_page = _signed_in(rig, "shou01")
    assert "decided" not in _offered(intake_page)


def _cli_move(tmp_path: Path, db: Path, staff_id: str, to: str, *details: str,
              monkeypatch: pytest.MonkeyPatch) -> int:
    key = tmp_path / "status.key"
    if not key.exists():
        write_private(key, generate("500103", Role.SIGN, "x25519-chacha20"))
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    return main(["case", "move", TRANSFER, "--to", to, "--db", str(db), "--status-key",
                 str(key), "--staff", staff_id, *details])


def test_the_command_line_keeps_the_same_rule(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = _db(tmp_path)
    refused = ["--reason", "材料不全"]
    assert _cli_move(tmp_path, db, "chuang01", "refused", *refused,
                     monkeypatch=monkeypatch) == 2
    assert "role" in capsys.readouterr().err
    assert _rows(db, "SELECT state FROM transfers") == [("received",)]
    assert _cli_move(tmp_path, db, "shou01", "refused", *refused, monkeypatch=monkeypatch) == 0
    assert _cli_move(tmp_path, db, "shou01", "archived", monkeypatch=monkeypatch) == 2
    assert _cli_move(tmp_path, db, "guan01", "archived", monkeypatch=monkeypatch) == 0
    assert [r[0] for r in _rows(db, "SELECT action FROM audit WHERE transfer_number IS NOT "
                                   "NULL ORDER BY id")] == [
        "move_refused", "move", "move_refused", "move"]


def test_staff_add_needs_a_known_role_and_takes_the_chinese_label(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io
    db = tmp_path / "r.db"

    def add(*extra: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
        return main(["staff", "add", "--db", str(db), "--id", "li02", "--name", "李", *extra])

    assert add() == 2 and "--role" in capsys.readouterr().err
    assert add("--role", "boss") == 2 and "No such role" in capsys.readouterr().err
    assert _rows(db, "SELECT * FROM staff") == []
    assert add("--role", "受理人员", "--role", "window") == 0
    assert _rows(db, "SELECT roles FROM staff") == [("intake,window",)]
    assert add("--reset") == 0                               # a PIN reset keeps the roles
    assert _rows(db, "SELECT roles FROM staff") == [("intake,window",)]
    assert add("--reset", "--role", "approver") == 0
    assert _rows(db, "SELECT roles FROM staff") == [("approver",)]


def test_an_existing_database_is_upgraded_and_its_staff_become_admins(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with sqlite3.connect(db) as conn:          # back to schema 1, as the previous release
        conn.execute("ALTER TABLE staff DROP COLUMN roles")
        conn.execute("UPDATE meta SET value='1' WHERE key='schema'")
    conn2 = connect(db, create=False)
    try:
        assert conn2.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (
            str(SCHEMA_VERSION),)
        assert {staff.roles_of(conn2, s) for s in STAFF} == {frozenset({"admin"})}
        assert CaseState.ARCHIVED in roles.moves_for(staff.roles_of(conn2, "shou01"))
    finally:
        conn2.close()
    connect(db, create=False).close()          # a second open migrates nothing again


def test_a_database_from_the_future_is_refused(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='3' WHERE key='schema'")
    with pytest.raises(Exception, match="schema 3"):
        connect(db, create=False)


@given(st.text(max_size=40))
def test_any_role_name_is_a_known_role_or_a_typed_refusal(text: str) -> None:
    try:
        assert roles.parse_role(text) in roles.ROLES
    except roles.RoleError as exc:
        assert exc.zh and exc.en


@given(st.text(max_size=200))
def test_a_stored_roles_value_never_grants_an_unknown_role(stored: str) -> None:
    held = roles.decode(stored)
    assert held <= set(roles.ROLES)
    assert roles.moves_for(held) <= set(CaseState)

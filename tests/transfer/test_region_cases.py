"""The back office on the command line: a signed-in staff member moves a case on; each move
is one signed status event with the transfer's next sequence number, the case's new state
and an audit row, together — and a move the state machine forbids, a wrong PIN or missing
details change nothing."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from region_rig import Fixture, Region, make_region, region_cli

from intake.cli import main
from kiosk.casestatus.event import parse, verify
from kiosk.transfer.keys import load
from kiosk.transfer.suites import Role

PIN = "246810"


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Region:
    return make_region(tmp_path, make_keys, make_package, seal_to_file)


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def _received_case(region: Region, monkeypatch: pytest.MonkeyPatch, seed: int = 1) -> str:
    package_id, data, built = region.sealed(seed)
    region.put(data, f"u{seed}", package_id=package_id)
    assert _run(region.intake_argv(), monkeypatch) == 0
    assert _run(["staff", "add", "--db", str(region.db), "--id", "zhang01", "--name", "张工",
                 "--role", "admin"], monkeypatch, PIN + "\n") == 0
    return str(built.manifest["receivers"][0]["transfer_number"])


def _move(region: Region, ref: str, to: str, *extra: str) -> list[str]:
    return ["case", "move", ref, "--to", to, "--db", str(region.db), "--status-key",
            str(region.status_key), "--staff", "zhang01", *extra]


def _counts(region: Region) -> tuple[int, int, int]:
    return (len(region.rows("SELECT * FROM outgoing")),
            len(region.rows("SELECT * FROM audit WHERE action='move'")),
            len(region.rows("SELECT * FROM transfers WHERE state='received'")))


def test_the_whole_story_through_the_command_line(region: Region, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    done = region_cli(["keygen", "--status", "--region", "500103", "--suite",
                       "x25519-chacha20", "--out", str(keys)])
    assert done.returncode == 0, done.stderr
    made = load(keys / "region-500103-x25519-chacha20-status.key")
    assert made.role is Role.SIGN and made.private is not None and made.owner == "500103"
    first, data, built = region.sealed(1)
    region.put(data, "v1", package_id=first)
    assert region_cli(region.intake_argv()).returncode == 0
    assert region_cli(["staff", "add", "--db", str(region.db), "--id", "zhang01", "--name",
                       "张工", "--role", "admin"], stdin=PIN + "\n").returncode == 0
    transfer = built.manifest["receivers"][0]["transfer_number"]
    moves = [("accepted", "--document-number", "渝中受字〔2026〕118号", "--promised-by",
              "2026-12-21"),
             ("correction_required", "--item", "户口簿原件扫描件不清晰", "--item",
              "缺少委托书", "--deadline", "2026-12-14")]
    for to, *extra in moves:
        done = region_cli(_move(region, transfer, to, *extra), stdin=PIN + "\n")
        assert done.returncode == 0, done.stderr
    # the 补正 package: same case, next version; intake moves the case on by itself
    second, data2, _ = region.sealed(1, package_id="0f1e2d3c-aaaa-4bbb-8ccc-00000000000b")
    region.put(data2, "v2", package_id=second)
    assert region_cli(region.intake_argv()).returncode == 0
    for to, *extra in [("decided", "--result", "准予", "--certificate-name", "亲属关系证明"),
                       ("dispatched", "--tracking-number", "SF1234567890", "--destination",
                        "window", "--window", "3号窗口"),
                       ("arrived_at_window", "--window", "3号窗口"), ("collected",),
                       ("archived",)]:
        done = region_cli(_move(region, built.manifest["case_number"], to, *extra),
                          stdin=PIN + "\n")
        assert done.returncode == 0, done.stderr
    states = ["received", "accepted", "correction_required", "correction_received", "decided",
              "dispatched", "arrived_at_window", "collected", "archived"]
    rows = region.rows("SELECT seq, state, wire FROM outgoing WHERE transfer_number=? "
                       "ORDER BY id", transfer)
    assert [(seq, state) for seq, state, _ in rows] == list(enumerate(states, 1))
    public = load(region.status_pub).public
    for _, _, wire in rows:
        event, signature = parse(wire)
        verify(event, signature, public)
    assert parse(rows[3][2])[0].details == {"version": "2"}
    assert parse(rows[2][2])[0].details["items"] == ["户口簿原件扫描件不清晰", "缺少委托书"]
    audit = region.rows("SELECT staff_id, from_state, to_state FROM audit WHERE action='move' "
                        "ORDER BY id")
    assert [a[0] for a in audit] == ["zhang01"] * 7
    assert [(a[1], a[2]) for a in audit] == [       # correction_received was intake's own
        ("received", "accepted"), ("accepted", "correction_required"),
        ("correction_received", "decided"), ("decided", "dispatched"),
        ("dispatched", "arrived_at_window"), ("arrived_at_window", "collected"),
        ("collected", "archived")]
    shown = json.loads(region_cli(["case", "show", transfer, "--db", str(region.db)]).stdout)
    assert shown["state"] == "archived" and [p["version"] for p in shown["packages"]] == [1, 2]
    listed = json.loads(region_cli(["case", "list", "--db", str(region.db), "--state",
                                    "archived"]).stdout)
    assert [c["transfer_number"] for c in listed] == [transfer]


def test_a_move_the_state_machine_forbids_changes_nothing(
        region: Region, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transfer = _received_case(region, monkeypatch)
    before = _counts(region)
    assert _run(_move(region, transfer, "collected"), monkeypatch, PIN) == 2
    err = capsys.readouterr().err
    assert "不能从" in err and "cannot move from received to collected" in err
    assert _counts(region) == before


@pytest.mark.parametrize("extra", [[], ["--document-number", "x"],
                                   ["--document-number", "x", "--promised-by", "2026-13-40"],
                                   ["--document-number", "x", "--promised-by", "soon"],
                                   ["--document-number", "x" * 501, "--promised-by",
                                    "2026-12-21"]])
def test_missing_or_bad_details_change_nothing(region: Region, extra: list[str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    transfer = _received_case(region, monkeypatch)
    before = _counts(region)
    assert _run(_move(region, transfer, "accepted", *extra), monkeypatch, PIN) == 2
    err = capsys.readouterr().err
    assert " / " in err and "Traceback" not in err
    assert _counts(region) == before


def test_a_wrong_pin_is_audited_and_five_lock_the_staff_member_out(
        region: Region, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    transfer = _received_case(region, monkeypatch)
    args = _move(region, transfer, "refused", "--reason", "不属于本部门受理范围")
    for _ in range(5):
        assert _run(args, monkeypatch, "135790") == 2
    assert "Wrong staff id or PIN" in capsys.readouterr().err
    assert _run(args, monkeypatch, PIN) == 2                 # the right PIN, too late
    err = capsys.readouterr().err
    assert "已锁定" in err and "Locked" in err
    assert _counts(region)[:2] == (1, 0)
    assert region.rows("SELECT COUNT(*) FROM audit WHERE action='sign_in_failed'") == [(5,)]
    assert _run(["staff", "add", "--reset", "--db", str(region.db), "--id", "zhang01",
                 "--name", "张工"], monkeypatch, "112233") == 0
    assert _run(args, monkeypatch, "112233") == 0
    assert region.rows("SELECT state FROM transfers") == [("refused",)]


def test_pins_are_hashed_and_never_taken_from_the_command_line(
        region: Region, monkeypatch: pytest.MonkeyPatch) -> None:
    _received_case(region, monkeypatch)
    assert PIN.encode() not in region.db.read_bytes()
    [(stored,)] = region.rows("SELECT pin_hash FROM staff")
    assert stored.startswith("scrypt$")
    with pytest.raises(SystemExit) as info:
        _run(["staff", "add", "--db", str(region.db), "--id", "li02", "--name", "李",
              "--pin", PIN], monkeypatch)
    assert info.value.code == 2


@pytest.mark.parametrize("pin", ["", "12345", "abcdef", "1234567890123"])
def test_a_pin_that_is_not_6_to_12_digits_is_refused(pin: str, region: Region,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(["staff", "add", "--db", str(region.db), "--id", "li02", "--name", "李",
                 "--role", "intake"], monkeypatch, pin) == 2
    assert region.rows("SELECT * FROM staff") == []


def test_the_logs_are_append_only(region: Region, monkeypatch: pytest.MonkeyPatch) -> None:
    transfer = _received_case(region, monkeypatch)
    assert _run(_move(region, transfer, "accepted", "--document-number", "A1",
                      "--promised-by", "2026-12-21"), monkeypatch, PIN) == 0
    conn = sqlite3.connect(region.db)
    for sql in ("UPDATE audit SET staff_id='x'", "DELETE FROM audit",
                "UPDATE events SET kind='x'", "DELETE FROM events", "DELETE FROM outgoing",
                "UPDATE outgoing SET wire=x'00'", "UPDATE outgoing SET seq=seq+1"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.execute("UPDATE outgoing SET sent_at='now' WHERE seq=1")       # once is allowed
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE outgoing SET sent_at='again' WHERE seq=1")
    conn.close()


@pytest.mark.parametrize("ref", ["../../etc/passwd", "XT123", "510802-0001-250304-1234-5"])
def test_an_unknown_or_malformed_case_is_refused(ref: str, region: Region,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _received_case(region, monkeypatch)
    assert _run(["case", "show", ref, "--db", str(region.db)], monkeypatch) == 2
    assert _run(_move(region, ref, "accepted", "--document-number", "A", "--promised-by",
                      "2026-12-21"), monkeypatch, PIN) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and " / " in err


def test_case_commands_refuse_a_missing_database(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(["case", "list", "--db", str(tmp_path / "none.db")], monkeypatch) == 2
    assert not (tmp_path / "none.db").exists()

"""`kiosk ledger show --case N --json` and `kiosk status --case N`: a case's states in order,
with its delivery and rating, from a real headless demo's data folder; bad input refused."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli import main
from kiosk.ledger import Ledger
from kiosk.recovery import INTERRUPTED_STATE

PERSONAL = ("张明华", "110101195803121237", "13800138000")    # assets/demo/identities.toml


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    runs = {}
    for scenario in ("complete", "missing"):
        out = tmp_path_factory.mktemp(scenario)
        assert main(["demo", "--headless", "--out", str(out), "--scenario", scenario]) == 0
        ledger = Ledger(out / "data" / "ledger.sqlite")
        (row,) = ledger.rows()
        ledger.close()
        runs[scenario] = (out / "data", row.case_number)
    return runs


def _show(capsys: pytest.CaptureFixture[str], data: Path, case: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["ledger", "show", "--case", case, "--json", "--data-dir", str(data)]) == 0
    shown: dict[str, object] = json.loads(capsys.readouterr().out)
    return shown


def test_a_received_case_shows_its_states_delivery_and_rating(
        demo_runs: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str]) -> None:
    data, case = demo_runs["complete"]
    shown = _show(capsys, data, case)
    assert shown["case"] == case and shown["rating"] == "非常满意"
    states = shown["states"]
    assert isinstance(states, list)
    assert [s["state"] for s in states] == ["受理中", "已代收待流转", "已送达办理地"]
    times = [datetime.fromisoformat(s["time"]) for s in states]
    assert times == sorted(times)


def test_a_correction_notice_is_its_own_state(
        demo_runs: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str]) -> None:
    data, case = demo_runs["missing"]
    shown = _show(capsys, data, case)
    assert [s["state"] for s in shown["states"]] == ["受理中", "一次性告知补正"]  # type: ignore[attr-defined]
    assert shown["rating"] == "非常满意"


def test_status_reads_for_a_person_in_both_languages_and_holds_no_personal_data(
        demo_runs: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str]) -> None:
    data, case = demo_runs["complete"]
    capsys.readouterr()
    assert main(["status", "--case", case, "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert case in text and "材料已收取，等待转送办理地" in text and "delivered to" in text
    assert not any(p in text for p in PERSONAL)


def test_a_state_set_later_is_added_to_the_history(tmp_path: Path,
                                                   demo_runs: dict[str, tuple[Path, str]],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data, case = demo_runs["missing"]
    copy = tmp_path / "data"
    copy.mkdir()
    source = sqlite3.connect(data / "ledger.sqlite")
    source.backup(target := sqlite3.connect(copy / "ledger.sqlite"))
    source.close()
    target.close()
    ledger = Ledger(copy / "ledger.sqlite")
    ledger.set_state(case, INTERRUPTED_STATE, "test")
    ledger.set_state(case, INTERRUPTED_STATE, "again")        # the same state: not repeated
    ledger.close()
    states = [s["state"] for s in _show(capsys, copy, case)["states"]]  # type: ignore[attr-defined]
    assert states == ["受理中", "一次性告知补正", INTERRUPTED_STATE]


def test_a_ledger_from_before_the_history_shows_its_one_state(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.close()
    conn = sqlite3.connect(tmp_path / "ledger.sqlite")
    conn.execute("DROP TABLE ledger_states")
    conn.execute("INSERT INTO ledger (case_number, time, state) VALUES (?, ?, ?)",
                 ("510802-0001-261207-0001-7", "2026-12-07T09:00:00", "已代收待流转"))
    conn.commit()
    conn.close()
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.states("510802-0001-261207-0001-7") == [
        ("已代收待流转", datetime(2026, 12, 7, 9, 0))]
    ledger.close()


@pytest.mark.parametrize(("args", "code"), [
    (["--case", "510802-0001-261207-0001-8"], "check digit"),        # a wrong check digit
    (["--case", "510802-0001-261207-0002-5"], "No case"),            # valid, not here
    (["--case", "../../etc/passwd"], "Not a case number"),
    (["--case", "1" * 5000], "Not a case number"),
])
def test_wrong_case_numbers_are_refused_in_both_languages(
        demo_runs: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str],
        args: list[str], code: str) -> None:
    data, _ = demo_runs["complete"]
    for command in (["ledger", "show"], ["status"]):
        capsys.readouterr()
        assert main([*command, *args, "--data-dir", str(data)]) == 2
        err = capsys.readouterr().err
        assert code in err and ("受理编号" in err or "台账" in err)


def test_a_folder_without_a_ledger_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--case", "510802-0001-261207-0001-7",
                 "--data-dir", str(tmp_path)]) == 2
    assert "没有台账数据库" in capsys.readouterr().err
    assert not (tmp_path / "ledger.sqlite").exists()        # read-only: nothing created


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_case_text_is_a_clean_answer(demo_runs: dict[str, tuple[Path, str]],
                                         text: str) -> None:
    data, _ = demo_runs["complete"]
    assert main(["ledger", "show", "--case", text, "--json", "--data-dir", str(data)]) in (0, 2)

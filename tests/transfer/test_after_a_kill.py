"""A kiosk killed between taking a case number and committing the package (issue 19): a real
``kiosk demo --headless`` process dies by SIGKILL while the receipt's PDF renders
(tests/transfer/kill_in_render.py); then a kiosk starts on its data directory.

The number has its ledger row (受理中, and 受理中断 with the time after the restart), the
session's sealed page folder is removed at start-up, and the data directory and its files are
the owner's only, also when an older version left them open."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.bootstrap import build_kiosk
from kiosk.documents.model import LedgerRow
from kiosk.ledger import Ledger
from kiosk.paths import DEMO_SETTINGS
from kiosk.settings import load_settings

SCRIPT = Path(__file__).with_name("kill_in_render.py")
KIOSK_ID = "510802-0001"                     # config/demo.toml
DEMO_NAME = "张明华"                          # assets/demo/identities.toml: resident


@dataclass(frozen=True)
class AfterKill:
    data: Path
    allocated: list[str]                     # every number the counters gave out
    states_before: dict[str, str]            # case number → state, as the kill left them
    folders_before: list[str]                # data/tmp, as the kill left it
    modes_before: dict[str, int]             # data-relative path → permission bits
    restarted_at: datetime
    rows_after: dict[str, LedgerRow | None]
    folders_after: list[str]


def _modes(data: Path) -> dict[str, int]:
    paths = [data, *data.rglob("*")]
    return {str(p.relative_to(data)): stat.S_IMODE(p.lstat().st_mode) for p in paths
            if not p.is_symlink()}


@pytest.fixture(scope="module")
def after_kill(tmp_path_factory: pytest.TempPathFactory,
               allocated_numbers: Callable[[Path, str], list[str]]) -> AfterKill:
    out = tmp_path_factory.mktemp("killed") / "run"
    done = subprocess.run([sys.executable, str(SCRIPT), "demo", "--headless", "--matter",
                           "GA-HJZM-001", "--out", str(out)], capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode(errors="replace")
    data = out / "data"
    with closing(sqlite3.connect(data / "ledger.sqlite")) as conn:
        states = dict(conn.execute("SELECT case_number, state FROM ledger").fetchall())
    allocated = allocated_numbers(data / "ledger.sqlite", KIOSK_ID)
    folders = sorted(p.name for p in (data / "tmp").iterdir())
    modes = _modes(data)
    restarted_at = datetime.now()
    kiosk = build_kiosk(load_settings(DEMO_SETTINGS).with_data_dir(data))
    try:
        kiosk.open(restarted_at)
        rows = {number: kiosk.ledger.find(number) for number in allocated}
    finally:
        kiosk.close()
    return AfterKill(data, allocated, states, folders, modes, restarted_at, rows,
                     sorted(p.name for p in (data / "tmp").iterdir()))


def test_a_number_taken_before_the_kill_has_its_ledger_row(after_kill: AfterKill) -> None:
    assert len(after_kill.allocated) == 1          # the kill came after the number
    [number] = after_kill.allocated
    assert after_kill.states_before == {number: "受理中"}


def test_start_up_marks_it_interrupted_with_the_time(after_kill: AfterKill) -> None:
    [number] = after_kill.allocated
    row = after_kill.rows_after[number]
    assert row is not None and row.state == "受理中断"
    assert f"{after_kill.restarted_at:%Y-%m-%d %H:%M}" in row.note and "重启" in row.note
    assert row.matter_code == "GA-HJZM-001" and row.package_id   # what an auditor follows up
    assert row.applicant_masked == "张*华" and DEMO_NAME not in repr(row)


def test_start_up_removes_the_session_folder_the_kill_left(after_kill: AfterKill) -> None:
    assert [f for f in after_kill.folders_before if f.startswith("session-")]
    assert after_kill.folders_after == []


def test_the_data_directory_and_its_files_are_the_owners_only(after_kill: AfterKill) -> None:
    modes = after_kill.modes_before
    assert modes["."] == 0o700
    for name in ("ledger.sqlite", "outbox/outbox.sqlite", "kiosk.log"):
        assert modes[name] == 0o600, name
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


def test_start_up_closes_what_an_older_version_left_open(tmp_path: Path) -> None:
    """0755 folders and 0644 files from before this fix: start-up makes them owner-only."""
    data = tmp_path / "data"
    (data / "outbox" / "spool").mkdir(parents=True)
    Ledger(data / "ledger.sqlite").close()
    (data / "kiosk.log").write_text("an old log\n")
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    outside = tmp_path / "shared.txt"
    outside.write_text("not the kiosk's")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)
    kiosk = build_kiosk(load_settings(DEMO_SETTINGS).with_data_dir(data))
    kiosk.close()
    modes = _modes(data)
    assert modes["."] == 0o700 and modes["outbox/spool"] == 0o700
    assert modes["ledger.sqlite"] == modes["kiosk.log"] == 0o600
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644     # a link is not followed


def test_a_new_ledger_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """Under a umask of 022 (a process started some other way): the file itself is made
    0600 first, and SQLite gives the -wal and -shm files the same mode."""
    old_umask = os.umask(0o022)
    try:
        ledger = Ledger(tmp_path / "ledger.sqlite")
    finally:
        os.umask(old_umask)
    try:
        ledger.allocate(KIOSK_ID, datetime.now().date(), ())
        files = sorted(tmp_path.glob("ledger.sqlite*"))
        assert [f.name for f in files] == ["ledger.sqlite", "ledger.sqlite-shm",
                                           "ledger.sqlite-wal"]
        assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    finally:
        ledger.close()

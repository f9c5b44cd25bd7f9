"""The audit log's reader and the roster's reader under arbitrary bytes: ``verify`` either
returns or raises AuditError naming an entry (never another exception, never a crash); the
roster reader raises StaffError only; and the controls — what they must still take."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.staff.audit import ANCHOR_NAME, LOG_NAME, AuditLog
from kiosk.staff.errors import AuditError, StaffError
from kiosk.staff.roster import read_roster
from kiosk.staff.verify import verify

KIOSK = "510802-0001"
FIXTURE = [HealthCheck.function_scoped_fixture]     # tmp_path is reused: each case rewrites it


def _intact(folder: Path, entries: int = 4) -> bytes:
    log = AuditLog(folder, KIOSK, clock=lambda: datetime(2026, 12, 7, tzinfo=UTC))
    for i in range(entries):
        log.append("g001", "case.reprint", after={"copy": i + 1})
    return (folder / LOG_NAME).read_bytes()


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("audit")
    return _intact(folder), (folder / ANCHOR_NAME).read_bytes()


def _check(folder: Path, log: bytes, anchor: bytes | None) -> None:
    folder.mkdir(exist_ok=True)
    (folder / LOG_NAME).write_bytes(log)
    if anchor is None:
        (folder / ANCHOR_NAME).unlink(missing_ok=True)
    else:
        (folder / ANCHOR_NAME).write_bytes(anchor)
    try:
        verify(folder)
    except AuditError as exc:
        assert exc.zh and exc.en and (exc.seq is None or exc.seq >= 1)


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE)
@given(log=st.binary(max_size=3000), anchor=st.one_of(st.none(), st.binary(max_size=200)))
def test_any_bytes_as_log_and_anchor_never_crash_verify(tmp_path: Path, log: bytes,
                                                       anchor: bytes | None) -> None:
    _check(tmp_path / "any", log, anchor)


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE)
@given(data=st.data())
def test_mutations_of_an_intact_log_are_caught(tmp_path: Path, intact: tuple[bytes, bytes],
                                               data: st.DataObject) -> None:
    log, anchor = intact
    start = data.draw(st.integers(0, len(log) - 1))
    end = data.draw(st.integers(start, min(len(log), start + 40)))
    insert = data.draw(st.binary(max_size=40))
    mutated = log[:start] + insert + log[end:]
    folder = tmp_path / "mut"
    folder.mkdir(exist_ok=True)
    (folder / LOG_NAME).write_bytes(mutated)
    (folder / ANCHOR_NAME).write_bytes(anchor)
    if mutated == log:
        assert verify(folder).entries == 4
        return
    with pytest.raises(AuditError) as info:
        verify(folder)
    assert info.value.zh and info.value.en


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_roster_raise_staff_error_only(data: bytes) -> None:
    try:
        read_roster(data)
    except StaffError as exc:
        assert exc.code == "bad_roster"


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=20))
def test_any_json_shape_as_a_roster_raises_staff_error_only(doc: object) -> None:
    import json
    try:
        read_roster(json.dumps({"format": 1, "hall": "h", "staff": [doc]}).encode())
    except StaffError as exc:
        assert exc.code == "bad_roster"


def test_control_an_appended_log_still_verifies(tmp_path: Path) -> None:
    _intact(tmp_path, 2)
    _intact(tmp_path, 2)                     # a second process's appends continue the chain
    assert verify(tmp_path).entries == 4

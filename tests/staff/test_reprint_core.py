"""The reprint's core (kiosk/staff/reprint.py) and the audit view's tail
(kiosk/staff/audit_tail.py): case numbers found in scanned or typed text, the per-case
count, and the newest entries read from the end of the log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kiosk.caseno import damm
from kiosk.staff.audit import LOG_NAME, AuditLog
from kiosk.staff.audit_tail import last_entries
from kiosk.staff.reprint import COUNT_FILE, MAX_TRACKED, ReprintCounter, case_number_in


def _number(seq: int) -> str:
    first = f"5108020001261207{seq:04d}"
    d = first + str(damm(first))
    return f"{d[:6]}-{d[6:10]}-{d[10:16]}-{d[16:20]}-{d[20]}"


def test_a_case_number_is_found_in_a_qr_a_code128_or_typed_digits() -> None:
    number = _number(42)
    assert case_number_in(number) == number                         # the QR: dashed
    assert case_number_in(number.replace("-", "")) == number         # CODE128: digits
    assert case_number_in(f"https://x.example/track?case={number}") == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert case_number_in(wrong) is None                            # the check digit
    assert case_number_in("1" + number.replace("-", "")) is None     # 22 digits: not one
    assert case_number_in("") is None


def test_the_count_goes_up_per_case_and_survives_a_damaged_file(tmp_path: Path) -> None:
    counter = ReprintCounter(tmp_path)
    a, b = _number(1), _number(2)
    assert [counter.record(a), counter.record(a), counter.record(b)] == [1, 2, 1]
    assert ReprintCounter(tmp_path).count(a) == 2
    (tmp_path / COUNT_FILE).write_text("{not json")
    assert counter.count(a) == 0 and counter.record(a) == 1


def test_the_count_keeps_the_newest_cases_only(tmp_path: Path) -> None:
    counter = ReprintCounter(tmp_path)
    (tmp_path / COUNT_FILE).write_text(
        "{" + ",".join(f'"c{i}": 1' for i in range(MAX_TRACKED + 50)) + "}")
    counter.record(_number(3))
    assert counter.count("c0") == 0 and counter.count(f"c{MAX_TRACKED + 49}") == 1
    assert counter.count(_number(3)) == 1


def test_the_tail_is_the_newest_entries_newest_first(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "510802-0001", lambda: datetime(2026, 12, 7, tzinfo=UTC))
    for i in range(30):
        log.append("g001", "case.lookup", after={"shown": i})
    tail = last_entries(tmp_path, 20)
    assert [e["after"]["shown"] for e in tail] == list(range(29, 9, -1))
    with open(tmp_path / LOG_NAME, "ab") as handle:
        handle.write(b"not an entry\n")
    assert last_entries(tmp_path, 2)[0] == {"damaged": True}
    assert last_entries(tmp_path / "none") == []

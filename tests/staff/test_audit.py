"""The hash-chained audit log: intact logs verify; any changed byte, a removed, reordered or
cut-off entry fails naming the first bad entry; a torn tail is reported, then cut and
recorded; nothing personal can be written into it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.staff.audit import ANCHOR_NAME, LOG_NAME, TORN_ACTION, AuditLog
from kiosk.staff.errors import AuditError
from kiosk.staff.verify import verify

KIOSK = "110101-0001"
CASE = "110101-0001-261207-0001-3"


def _log(folder: Path, entries: int = 5) -> AuditLog:
    log = AuditLog(folder, KIOSK, clock=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    for i in range(entries):
        log.append("g001", "case.verify_original", case=CASE if i % 2 else None,
                   before={"state": "unverified"}, after={"material": f"m{i}", "n": i})
    return log


def _lines(folder: Path) -> list[bytes]:
    return (folder / LOG_NAME).read_bytes().splitlines(keepends=True)


def _fails_at(folder: Path) -> AuditError:
    with pytest.raises(AuditError) as info:
        verify(folder)
    assert info.value.zh and info.value.en
    return info.value


def test_intact_log_verifies_and_anchor_follows(tmp_path: Path) -> None:
    log = _log(tmp_path, 5)
    done = verify(tmp_path)
    assert done.entries == 5 and done.anchor == log.anchor() and done.anchor.seq == 5
    first = json.loads(_lines(tmp_path)[0])
    assert first["prev"] == "0" * 64 and first["kiosk"] == KIOSK and first["seq"] == 1


def test_empty_log_verifies(tmp_path: Path) -> None:
    assert verify(tmp_path).entries == 0


def test_every_single_byte_flip_is_caught_and_names_its_entry(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    original = (tmp_path / LOG_NAME).read_bytes()
    starts = [0]
    for line in _lines(tmp_path):
        starts.append(starts[-1] + len(line))
    for offset in range(len(original)):
        damaged = bytearray(original)
        damaged[offset] ^= 0x01
        (tmp_path / LOG_NAME).write_bytes(bytes(damaged))
        error = _fails_at(tmp_path)
        entry = next(i for i in range(3) if starts[i] <= offset < starts[i + 1]) + 1
        # a flipped newline joins two lines or splits one: the entry it ends is named
        assert error.seq in (entry, entry + 1), (offset, error.seq, error.en)


def test_removed_entry_in_the_middle_is_named(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    lines = _lines(tmp_path)
    (tmp_path / LOG_NAME).write_bytes(b"".join(lines[:2] + lines[3:]))
    error = _fails_at(tmp_path)
    assert error.seq == 3 and error.code in ("order", "chain") and "第 3 条" in error.zh


def test_removed_newest_entries_are_caught_by_the_anchor(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    (tmp_path / LOG_NAME).write_bytes(b"".join(_lines(tmp_path)[:3]))
    error = _fails_at(tmp_path)
    assert error.code == "truncated" and error.seq == 4


def test_removed_anchor_is_reported(tmp_path: Path) -> None:
    _log(tmp_path, 2)
    (tmp_path / ANCHOR_NAME).unlink()
    assert _fails_at(tmp_path).code == "no_anchor"


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    lines = _lines(tmp_path)
    lines[1], lines[2] = lines[2], lines[1]
    (tmp_path / LOG_NAME).write_bytes(b"".join(lines))
    assert _fails_at(tmp_path).seq == 2


def test_rewritten_entry_with_a_fresh_hash_still_breaks_the_chain(tmp_path: Path) -> None:
    from kiosk.staff.audit import canonical, entry_hash

    _log(tmp_path, 4)
    lines = _lines(tmp_path)
    doc = json.loads(lines[1])
    doc["after"]["material"] = "forged"
    doc["hash"] = entry_hash(doc)
    lines[1] = canonical(doc) + b"\n"
    (tmp_path / LOG_NAME).write_bytes(b"".join(lines))
    assert _fails_at(tmp_path).seq == 3          # entry 2 is self-consistent; 3 no longer chains


def test_torn_tail_fails_verify_then_is_cut_and_recorded(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    with open(tmp_path / LOG_NAME, "ab") as handle:
        handle.write(b'{"action":"case.rep')            # a power cut mid-write
    assert _fails_at(tmp_path).code == "torn_tail"
    log.append("g001", "case.reprint", case=CASE)
    done = verify(tmp_path)
    assert done.entries == 5 and done.torn_cuts == (4,)
    cut = json.loads(_lines(tmp_path)[3])
    assert cut["action"] == TORN_ACTION and cut["after"] == {"torn_bytes": 19}
    assert (tmp_path / "audit.torn").read_bytes() == b'{"action":"case.rep\n'


def test_anchor_one_behind_after_a_power_cut_is_accepted(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    anchor = (tmp_path / ANCHOR_NAME).read_bytes()
    _log(tmp_path, 1)                                     # entry 4, then "the cut": old anchor
    (tmp_path / ANCHOR_NAME).write_bytes(anchor)
    assert verify(tmp_path).entries == 4


@pytest.mark.parametrize("detail", [
    {"phone": "13812345678"}, {"id": "110101199003071234"}, {"x": "a" * 65},
    {"n": 1234567}, {"Bad-Key": 1}, {f"k{i}": i for i in range(9)}, {"nested": {"a": 1}},
    {"list": ["ok", "13812345678"]}, {"ctl": "a\nb"},
])
def test_personal_or_oversized_details_are_refused(tmp_path: Path, detail: dict) -> None:
    with pytest.raises(AuditError) as info:
        AuditLog(tmp_path, KIOSK).append("g001", "ledger.export", after=detail)
    assert info.value.code == "entry_refused"
    assert not (tmp_path / LOG_NAME).exists() or (tmp_path / LOG_NAME).read_bytes() == b""


def test_staff_field_refuses_an_id_number(tmp_path: Path) -> None:
    with pytest.raises(AuditError):
        AuditLog(tmp_path, KIOSK).append("110101199003071234", "staff.sign_in")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    _log(tmp_path / "staff", 4)
    ok = _cli("audit", "verify", "--data-dir", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "4" in ok.stdout
    path = tmp_path / "staff" / LOG_NAME
    data = bytearray(path.read_bytes())
    data[len(_lines(tmp_path / "staff")[0]) + 30] ^= 0x02      # a byte inside entry 2
    path.write_bytes(bytes(data))
    bad = _cli("audit", "verify", "--data-dir", str(tmp_path))
    assert bad.returncode != 0
    assert "第 2 条" in bad.stderr and "entry 2" in bad.stderr


def test_appends_from_several_processes_at_once_keep_one_chain(tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path; from kiosk.staff.audit import AuditLog\n"
              "log = AuditLog(Path(sys.argv[1]), '110101-0001')\n"
              "for i in range(25): log.append('g00' + sys.argv[2], 'case.lookup', "
              "after={'i': i})\n")
    workers = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(n)])
               for n in range(4)]
    assert [w.wait(timeout=300) for w in workers] == [0, 0, 0, 0]
    done = verify(tmp_path)
    assert done.entries == 100 and done.anchor.seq == 100

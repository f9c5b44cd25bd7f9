"""The 台账 view: filters by date range, state and scope, masked like the export, newest
first with the full count; a case's 审批流程登记卡 and 转办单 as PDF (text read back with
pdftotext: the seed forms' rows, masked data, the outbox's delivery time); ``kiosk ledger
card`` from the shell with typed bilingual errors, exit != 0 and one audit entry per call;
the case-number parser against hostile and sloppy input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from staff_kit import entries, session

from kiosk.caseno import case_number, transfer_number
from kiosk.catalogue import load_catalogue
from kiosk.documents import Renderer
from kiosk.documents.model import LedgerRow
from kiosk.ledger import Ledger
from kiosk.paths import DEMO_SETTINGS, FONT, REPO
from kiosk.settings import load_settings
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_view import (
    Filter,
    Form,
    Hall,
    card_as,
    card_blocks,
    find_case,
    parse_case_number,
    registration_card,
    view,
    view_as,
)
from kiosk.staff.roles import Role
from kiosk.transfer.outbox import Outbox, PackageMeta

KIOSK = "510802-0001"
FULL_NAME, FULL_PHONE = "欧阳明华", "13812345678"
SETTINGS = load_settings(DEMO_SETTINGS)
CATALOGUE = load_catalogue(SETTINGS.paths.catalogue)
MATTER = CATALOGUE.matters[0]
REGION = "500103"        # the applicant's region the case went to (issue 23: per applicant)


def _row(n: int, day: date, **extra: object) -> LedgerRow:
    transfers = transfer_number(KIOSK, REGION, day, n)
    values: dict = {
        "case_number": case_number(KIOSK, day, n),
        "time": datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=n),
        "department": MATTER.department,
        "matter_code": MATTER.code, "matter_name": MATTER.name, "count": 2,
        "case_type": "承诺件", "applicant_masked": FULL_NAME, "phone_masked": FULL_PHONE,
        "window": KIOSK, "staff": "自助终端", "state": "已代收待流转", "scope": "跨省通办",
        "regions": "重庆市渝中区", "transfer_numbers": transfers, "note": ""}
    values.update(extra)
    return LedgerRow(**values)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    made = Ledger(tmp_path / "ledger.sqlite")
    for n in range(1, 6):
        made.record(_row(n, date(2026, 12, 1)))
    made.record(_row(6, date(2026, 12, 2), state="一次性告知补正", scope="全省通办"))
    made.record(_row(7, date(2026, 12, 9)))
    return made


def test_the_filter_takes_range_state_and_scope_and_masks(ledger: Ledger) -> None:
    page = view(ledger, Filter(date(2026, 12, 1), date(2026, 12, 2)))
    assert page.total == 6
    assert page.rows[0].case_number == case_number(KIOSK, date(2026, 12, 2), 6)   # newest
    assert page.states == ("一次性告知补正", "已代收待流转")
    assert page.scopes == ("全省通办", "跨省通办")
    assert {(r.applicant, r.phone) for r in page.rows} == {("欧**华", "138****5678")}
    only = view(ledger, Filter(date(2026, 12, 1), date(2026, 12, 9), state="已代收待流转",
                               scope="跨省通办"))
    assert only.total == 6 and all(r.state == "已代收待流转" for r in only.rows)
    assert view(ledger, Filter(date(2026, 12, 1), date(2026, 12, 9)), shown=3).total == 7
    assert len(view(ledger, Filter(date(2026, 12, 1), date(2026, 12, 9)), shown=3).rows) == 3
    with pytest.raises(StaffError) as backwards:
        view(ledger, Filter(date(2026, 12, 9), date(2026, 12, 1)))
    assert backwards.value.code == "bad_dates"


def test_viewing_is_one_audit_entry_and_open_to_guides_not_maintainers(ledger: Ledger,
                                                                      tmp_path: Path) -> None:
    flt = Filter(date(2026, 12, 1), date(2026, 12, 2), state="一次性告知补正")
    assert view_as(session(tmp_path, Role.GUIDE, staff_id="G001"), ledger, flt).total == 1
    with pytest.raises(StaffError):
        view_as(session(tmp_path, Role.MAINTAINER), ledger, flt)
    assert [(e["staff"], e["action"], e["after"]["result"]) for e in entries(tmp_path)] == [
        ("G001", "ledger.view", "done"), ("M001", "ledger.view", "forbidden")]
    assert entries(tmp_path)[0]["after"]["rows"] == 1


@pytest.mark.parametrize("typed", [
    "510802-0001-261201-0001-{c}", "5108020001261201 0001{c}",
    "５１０８０２－０００１－２６１２０１－０００１－{c}", " 510802—0001—261201—0001—{c} "])
def test_sloppy_but_right_case_numbers_are_read(typed: str) -> None:
    right = case_number(KIOSK, date(2026, 12, 1), 1)
    assert parse_case_number(typed.format(c=right[-1])) == right


@pytest.mark.parametrize("typed", [
    "", "abc", "510802-0001-261201-0001", "510802-0001-261201-0001-99", "1" * 65, "\x00" * 21,
    "510802/../../etc/passwd", "٥١٠٨٠٢٠٠٠١٢٦١٢٠١٠٠٠١٠", "510802-0001-261201-0001-x",
    "=cmd|' /C calc'!A0", "１" * 21])
def test_wrong_case_numbers_are_typed_errors(typed: str) -> None:
    with pytest.raises(StaffError) as bad:
        parse_case_number(typed)
    assert bad.value.code == "bad_case_number" and bad.value.zh and bad.value.en


def test_a_mistyped_digit_is_caught_by_the_check_digit(ledger: Ledger) -> None:
    right = case_number(KIOSK, date(2026, 12, 1), 1)
    for i in [0, 7, 14, 19]:                                   # any single digit changed
        digits = right.replace("-", "")
        wrong = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1:]
        with pytest.raises(StaffError) as bad:
            find_case(ledger, wrong)
        assert bad.value.code == "bad_case_number"
    with pytest.raises(StaffError) as missing:
        find_case(ledger, case_number(KIOSK, date(2026, 12, 1), 99))
    assert missing.value.code == "no_such_case"


def _text(pdf: bytes, tmp: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (tmp / "f.pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", str(tmp / "f.pdf"), str(tmp / "f.txt")], check=True)
    text = (tmp / "f.txt").read_text(encoding="utf-8")
    return "".join(text.split())          # a cell's text wraps: compare without breaks


HALL = Hall(KIOSK, "广元市利州区政务服务中心", {m.code: m for m in CATALOGUE.matters})


def test_the_registration_card_has_the_seed_rows_and_the_delivery(ledger: Ledger,
                                                                  tmp_path: Path) -> None:
    row = find_case(ledger, case_number(KIOSK, date(2026, 12, 1), 3))
    outbox = Outbox(tmp_path / "outbox")
    region = REGION
    with outbox.spooling(PackageMeta("p1", row.case_number, MATTER.code, "s",
                                     datetime(2026, 12, 1, 3, tzinfo=UTC)), (region,)) as files:
        files[region].write(b"sealed")
    outbox.delivered(outbox.entries()[0])
    pdf = card_as(session(tmp_path / "staff", Role.WINDOW, staff_id="W001"),
                  Renderer(SETTINGS.paths.assets / FONT), Form.REGISTRATION, row, HALL,
                  outbox.entries(), datetime(2026, 12, 7, 15))
    text = _text(pdf, tmp_path)
    for words in ["审批流程登记卡", "申请事项", "申请人姓名", "联系人", "联系电话", "受理编号",
                  "承诺时限", "受理时间", "办理环节", "接件时间", "办结时间", "办理意见", "责任人",
                  "收件", "流转", "办理", "送达", "特殊环节", "勘验", "评审", "整改",
                  row.case_number, f"{MATTER.time_limits.promised_days} 个工作日",
                  "欧**华", "138****5678", "已推送至办理地"]:
        assert words.replace(" ", "") in text, words
    assert FULL_NAME not in text and FULL_PHONE not in text
    assert [e["case"] for e in entries(tmp_path / "staff")] == [row.case_number]
    outbox.close()


@pytest.mark.parametrize("state", ["已代收待流转", "已受理", "需补正", "已办结"])
def test_a_case_the_region_moved_on_was_still_received_complete(ledger: Ledger,
                                                                  state: str) -> None:
    # the 收件 row says how the case left the kiosk, not the region's state of today
    row = replace(find_case(ledger, case_number(KIOSK, date(2026, 12, 1), 3)), state=state)
    card = registration_card(row, HALL, [], datetime(2026, 12, 7, 15))
    assert card.stages[0].opinion == "材料齐全，已代收"


def test_the_transfer_slip_copy_has_the_seed_rows(ledger: Ledger, tmp_path: Path) -> None:
    row = find_case(ledger, case_number(KIOSK, date(2026, 12, 1), 2))
    blocks = card_blocks(Form.TRANSFER, row, HALL, [], datetime(2026, 12, 7, 15))
    text = _text(Renderer(SETTINGS.paths.assets / FONT).pdf(blocks), tmp_path)
    for words in ["申请材料转办单", "序号", "材料名称", "数量", "页数", "备注", "郑重承诺",
                  "如有虚假，愿意承担相应的法律责任", "收件地址", "接件单位", "尚未送达",
                  row.transfer_numbers.split(",")[0], MATTER.department]:
        assert words.replace(" ", "") in text, words
    assert FULL_NAME not in text and FULL_PHONE not in text


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "ledger", "card", "--data-dir",
                           str(tmp), *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


def test_the_shell_command_writes_the_pdf_and_refuses_with_typed_errors(ledger: Ledger,
                                                                        tmp_path: Path) -> None:
    right = case_number(KIOSK, date(2026, 12, 1), 4)
    done = _cli(tmp_path, "--case", right, "--form", "transfer", "--out", str(tmp_path / "t.pdf"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    cases = [(["--case", right[:-1] + str((int(right[-1]) + 1) % 10), "--form", "registration"],
              "校验位"),
             (["--case", "12345", "--form", "registration"], "21 位数字"),
             (["--case", case_number(KIOSK, date(2026, 12, 1), 42), "--form", "registration"],
              "台账中没有"),
             (["--case", right, "--form", "../etc"], "registration"),
             (["--case", right, "--form", "\x01 13812345678"], "registration")]
    for args, words in cases:
        refused = _cli(tmp_path, *args, "--out", str(tmp_path / "x.pdf"))
        assert refused.returncode != 0 and words in refused.stderr, refused.stderr
        assert " / " in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "x.pdf").exists()
    results = [(e["case"], e["after"]["result"]) for e in entries(tmp_path / "staff")]
    assert results == [(right, "done"), (None, "bad_case_number"), (None, "bad_case_number"),
                       (None, "no_such_case"), (None, "bad_argument"), (None, "bad_argument")]
    assert "13812345678" not in (tmp_path / "staff" / "audit.log").read_text()


def test_the_shell_command_outside_a_kiosk_data_folder(tmp_path: Path) -> None:
    refused = _cli(tmp_path, "--case", "x", "--form", "transfer", "--out", str(tmp_path / "t"))
    assert refused.returncode == 2 and "没有台账数据库" in refused.stderr
    assert not (tmp_path / "staff").exists()

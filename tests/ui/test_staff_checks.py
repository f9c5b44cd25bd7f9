"""日检, consumables and the 台账 on the real app, headless, with simulated touches: each
function shown only to its roles, each action one audit entry, the reminder line on the
menu, the printed target read by the camera and the test strip on the loopback printer, a
refill the printer contradicts refused with its reason, a case's 登记卡 previewed and saved
as PDF where the screen says."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

from kivy.core.window import Window
from kivy.uix.modalview import ModalView
from staff_rig import StaffRig
from ui_harness import ROOT, Harness, open_kiosk

from drivers.status import PaperLevel
from kiosk.caseno import case_number, transfer_number
from kiosk.documents.model import LedgerRow
from kiosk.ops.verdicts import OK, Check
from kiosk.staff.inspection import Inspection, InspectionStore, Kind

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))
KIOSK = "510802-0001"


def actions(rig: StaffRig, prefix: str) -> list[tuple[str, str]]:
    return [(e["action"], e["after"]["result"]) for e in rig.entries()
            if e["action"].startswith(prefix)]


def test_each_role_sees_only_its_functions(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "maint")
    names = h.names()
    assert {"menu_staff_selftest", "menu_staff_consumables"} <= names
    assert "menu_staff_ledger" not in names
    h.tap("menu_sign_out")
    h.wait_screen("attract")
    rig.sign_in(h, "guide")
    names = h.names()
    assert "menu_staff_ledger" in names
    assert not {"menu_staff_selftest", "menu_staff_consumables"} & names


def test_selftest_walk_records_the_inspection_and_clears_the_reminder(
        staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    store = InspectionStore(rig.folder)
    two_days_ago = datetime.now() - timedelta(days=2)      # records exist: yesterday counts
    store.save(Inspection(Kind.END, "m001", KIOSK, two_days_ago, two_days_ago,
                          (Check("disk", OK, "好", "fine"),)))
    yesterday = (datetime.now() - timedelta(days=1)).date()
    rig.sign_in(h, "maint")
    assert f"{yesterday.month}月{yesterday.day}日的班后检查尚未完成" in h.text_on_screen()
    h.screenshot("menu-reminder")
    h.tap("menu_staff_selftest")
    h.wait_screen("staff_selftest")
    h.tap("kind_start")
    h.kiosk.camera.place("日检测试卡")                       # the printed target on the plate
    h.tap("start_all")
    h.wait(lambda: h.find("save_record").enabled, "every row checked")
    for name in ("identity_reader", "document_camera", "receipt_printer", "clock", "disk",
                 "outbox"):
        assert h.find(f"result_{name}").text.startswith("✓"), name
    h.screenshot("selftest-done")
    strip = h.kiosk.printer.virtual.wait_for_jobs(1)        # type: ignore[attr-defined]
    assert any("日检测试条" in line for line in strip[0].transcript)
    h.tap("save_record")
    h.wait(lambda: h.has("selftest_message"), "the saved message")
    saved = store.recent()[0]
    assert (saved.kind, saved.staff_id, saved.verdict) == (Kind.START, "m001", "ok")
    assert len(saved.checks) >= 7
    assert actions(rig, "device.") == [("device.self_test", "done")]
    h.screenshot("selftest-saved")
    h.tap("back")
    h.wait_screen("staff_menu")
    assert "班后检查尚未完成" not in h.text_on_screen().replace(
        f"{date.today().month}月{date.today().day}日的班后检查尚未完成", "")


def test_a_failing_row_says_why_and_a_row_can_be_checked_again(staffed: Harness,
                                                                rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "maint")
    h.tap("menu_staff_selftest")
    h.kiosk.printer.set_paper(PaperLevel.OUT)                 # type: ignore[attr-defined]
    h.tap("check_receipt_printer")
    h.wait(lambda: h.find("check_receipt_printer").enabled and
           "×" in h.find("result_receipt_printer").text, "the printer row failed")
    assert "不可用" in h.find("result_receipt_printer").text
    h.screenshot("selftest-printer-fail")
    h.kiosk.printer.refill()                                  # type: ignore[attr-defined]
    h.tap("check_receipt_printer")
    h.wait(lambda: h.find("result_receipt_printer").text.startswith("✓"), "checked again")
    assert actions(rig, "device.") == []                      # nothing recorded until saved


def test_consumables_refill_refused_then_confirmed_and_a_part_change(staffed: Harness,
                                                                     rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "maint")
    h.tap("menu_staff_consumables")
    h.wait_screen("staff_consumables")
    h.kiosk.printer.set_paper(PaperLevel.OUT)                 # type: ignore[attr-defined]
    h.tap("refill")
    h.wait(lambda: h.nav.dialog is not None, "the refusal")
    assert "仍报告缺纸" in str(h.nav.dialog.message.text)
    h.screenshot("consumables-refused")
    h.tap("ok")
    dialog_gone(h)
    h.kiosk.printer.refill()                                  # type: ignore[attr-defined]
    h.tap("refill")
    h.wait(lambda: h.has("consumables_message"), "the refill recorded")
    assert "补充纸卷" in h.find("consumables_message").text
    h.tap("replace_ribbon")
    h.wait(lambda: "色带" in h.find("consumables_message").text, "the ribbon recorded")
    h.screenshot("consumables-done")
    assert actions(rig, "device.consumables") == [
        ("device.consumables", "failed"), ("device.consumables", "done"),
        ("device.consumables", "done")]


def dialog_gone(h: Harness) -> None:
    """A dialog closes animated: until it is off the window it takes the next touch."""
    h.wait(lambda: not any(isinstance(w, ModalView) for w in Window.children),
           "the dialog gone from the window")


def add_cases(h: Harness) -> list[str]:
    matter = h.kiosk.catalogue.matters[0]
    today = datetime.now().date()
    numbers = []
    for seq in range(1, 6):
        number = case_number(KIOSK, today, seq)
        transfers = transfer_number(KIOSK, "500103", today, seq)   # the applicant's region
        h.kiosk.ledger.record(LedgerRow(
            case_number=number, time=datetime.combine(today, datetime.min.time())
            + timedelta(minutes=seq), department=matter.department, matter_code=matter.code,
            matter_name=matter.name, count=2, case_type="承诺件", applicant_masked="欧阳明华",
            phone_masked="13812345678", window=KIOSK, staff="自助终端",
            state="已代收待流转" if seq != 3 else "一次性告知补正", scope="跨省通办",
            regions="重庆市渝中区", transfer_numbers=transfers if seq != 3 else ""))
        numbers.append(number)
    return numbers


def test_ledger_filter_preview_and_save(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    numbers = add_cases(h)
    rig.sign_in(h, "guide")
    h.tap("menu_staff_ledger")
    h.wait_screen("staff_ledger")
    assert "共 5 件" in h.find("ledger_count").text
    text = h.text_on_screen()
    assert "欧**华" in text and "138****5678" in text
    assert "欧阳明华" not in text and "13812345678" not in text
    h.screenshot("ledger-list")
    h.tap("state_一次性告知补正")
    assert "共 1 件" in h.find("ledger_count").text
    h.tap("state_all")
    h.tap(f"case_{numbers[1]}")
    h.tap("show_registration")
    h.wait(lambda: h.has("form_preview"), "the card's preview")
    h.screenshot("ledger-card-preview")
    h.tap("save_pdf")
    saved = rig.folder / "forms" / f"{numbers[1]}-registration.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    assert str(saved) in h.find("ledger_message").text
    views = [(e["case"], e["after"].get("as")) for e in rig.entries()
             if e["action"] == "ledger.view"]
    assert views[-2:] == [(numbers[1], "preview"), (numbers[1], "pdf")]
    assert all(e["after"]["result"] == "done" for e in rig.entries()
               if e["action"] == "ledger.view")


def test_signing_out_mid_check_leaves_nothing_behind(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "maint")
    h.tap("menu_staff_selftest")
    h.tap("start_all")                   # no target on the plate: the camera row waits
    h.wait(lambda: "正在检查" in h.find("result_document_camera").text, "the camera row")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    h.wait(lambda: h.ui.bridge.pending == 0, "the running check to end")
    h.pump(5)
    assert h.screen == "attract" and InspectionStore(rig.folder).recent() == []
    assert actions(rig, "device.") == []


def test_the_demo_strip_lays_the_target_on_the_selftest_screen(tmp_path: Path,
                                                                rig: StaffRig) -> None:
    h = open_kiosk(tmp_path, ARTIFACTS / "demo-target", staff=rig.authority, demo=True)
    try:
        rig.sign_in(h, "maint")
        h.tap("menu_staff_selftest")
        strip = next(w for w in h.widgets() if getattr(w, "name", "") == "demo_page")
        h.touch_at(*strip.to_window(*strip.center))
        h.tap("check_document_camera")
        h.wait(lambda: h.find("check_document_camera").enabled and
               h.find("result_document_camera").text[:1] in "✓×!", "the camera row")
        assert h.find("result_document_camera").text.startswith("✓")
    finally:
        h.close()


def test_the_ledger_is_exported_from_the_screen_in_the_seed_columns(staffed: Harness,
                                                                    rig: StaffRig) -> None:
    from openpyxl import load_workbook

    from kiosk.staff.ledger_export import HEADERS, Layout

    h = staffed
    add_cases(h)
    rig.sign_in(h, "guide")
    h.tap("menu_staff_ledger")
    h.wait_screen("staff_ledger")
    h.tap("export_appendix-c")
    h.wait(lambda: h.has("ledger_message"), "the export's message")
    h.screenshot("ledger-exported")
    [saved] = (rig.folder / "exports").glob("ledger-appendix-c-*.xlsx")
    assert str(saved) in h.find("ledger_message").text and "5 件" in h.find("ledger_message").text
    sheet = load_workbook(saved, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS[Layout.APPENDIX_C] and len(rows) == 6
    flat = " ".join(str(c) for r in rows for c in r)
    assert "欧**华" in flat and "欧阳明华" not in flat and "13812345678" not in flat
    assert actions(rig, "ledger.export") == [("ledger.export", "done")]
    assert rig.verify_cli(rig.folder.parent).returncode == 0

"""The frame's own staff functions on the real app, headless: 补打 (by the receipt's QR on
the document camera, by the number typed, among the newest 20; 补打 第N次), 维护模式 on/off
with the public notice, 退出到桌面 with a reason and exit status 77, and the audit view —
each one audit entry, and the chain verifies after the walk (`kiosk audit verify`)."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from pathlib import Path

from kivy.core.window import Window
from kivy.uix.modalview import ModalView
from PIL import Image
from staff_rig import StaffRig
from test_journey import shot
from ui_harness import ROOT, Harness

from kiosk.caseno import damm
from kiosk.documents.forms import reprint_blocks
from kiosk.documents.model import LedgerRow
from kiosk.lifecycle import KioskState
from kiosk.staff.session import EXIT_TO_DESKTOP
from kiosk.submission import office

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))


def case_number(seq: int) -> str:
    first = f"5108020001261207{seq:04d}"
    digits = first + str(damm(first))
    return f"{digits[:6]}-{digits[6:10]}-{digits[10:16]}-{digits[16:20]}-{digits[20]}"


def add_cases(h: Harness, count: int) -> list[str]:
    """Ledger rows of cases with a package, as a day's submissions leave them."""
    numbers = []
    start = datetime(2026, 12, 7, 9, 0)
    for seq in range(1, count + 1):
        number = case_number(seq)
        h.kiosk.ledger.record(LedgerRow(
            case_number=number, time=start + timedelta(minutes=seq),
            department="利州区政务服务中心",
            matter_code="GA-HJZM-001", matter_name="户籍类证明开具", count=1, case_type="承诺件",
            applicant_masked="张*华", phone_masked="138****0000", window="510802-0001",
            staff="自助终端", state="已代收待流转", scope="省内通办", regions="四川省成都市",
            package_id=f"pkg-{seq}"))
        numbers.append(number)
    return numbers


def printed(h: Harness, count: int) -> list[str]:
    """The text lines of the virtual ESC/POS printer's jobs (waits for ``count``)."""
    jobs = h.kiosk.printer.virtual.wait_for_jobs(count)      # type: ignore[attr-defined]
    return ["\n".join(job.transcript) for job in jobs]


def test_reprint_by_number_by_list_and_by_the_receipts_qr(staffed: Harness, rig: StaffRig,
                                                         tmp_path: Path) -> None:
    h = staffed
    numbers = add_cases(h, 25)
    rig.sign_in(h, "guide")
    assert h.names() >= {"menu_staff_reprint"}
    h.tap("menu_staff_reprint")
    h.wait_screen("staff_reprint")
    h.tap("way_type")
    h.type_digits(numbers[-3].replace("-", ""))
    shot(h, "reprint-typed")
    h.tap("find_typed")
    assert h.has("reprint_now")
    shot(h, "reprint-found")
    h.tap("reprint_now")
    assert "第1次" in str(h.find("reprint_message").text)
    h.tap("way_recent")
    shown = [n for n in h.names() if n.startswith("case_")]
    assert len(shown) == 20 and f"case_{numbers[-1]}" in shown      # the newest 20
    assert f"case_{numbers[0]}" not in shown
    shot(h, "reprint-recent")
    h.tap(f"case_{numbers[-3]}")
    h.tap("reprint_now")
    assert "第2次" in str(h.find("reprint_message").text)
    # a receipt's QR (the 补打's paper, as printed), laid on the document camera
    row = h.kiosk.ledger.find(numbers[-3])
    assert row is not None
    paper = h.kiosk.printing.job("qr", "receipt", reprint_blocks(row, office(
        h.kiosk.settings), datetime.now())).raster_png
    image = Image.open(io.BytesIO(paper)).convert("RGB")
    h.kiosk.camera._cache[("补打回执", 1)] = image                  # type: ignore[attr-defined]
    h.kiosk.camera.place("补打回执", 1)                             # type: ignore[attr-defined]
    h.tap("way_scan")
    h.tap("scan_now")
    h.wait(lambda: h.has("reprint_now"), "the receipt's code read")
    assert numbers[-3] in h.text_on_screen()
    h.tap("reprint_now")
    assert "第3次" in str(h.find("reprint_message").text)
    papers = printed(h, 3)
    assert [("补打 第1次" in p, "补打 第2次" in p, "补打 第3次" in p) for p in papers] == [
        (True, False, False), (False, True, False), (False, False, True)]
    assert all(numbers[-3] in p and "测试guide" in p for p in papers)
    reprints = [e for e in rig.entries() if e["action"] == "case.reprint"]
    assert [(e["case"], e["after"]["reprint"]) for e in reprints] == [
        (numbers[-3], 1), (numbers[-3], 2), (numbers[-3], 3)]
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    checked = rig.verify_cli(tmp_path / "data")
    assert checked.returncode == 0, checked.stderr


def test_a_wrong_number_finds_nothing(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    numbers = add_cases(h, 1)
    rig.sign_in(h, "guide")
    h.tap("menu_staff_reprint")
    h.tap("way_type")
    wrong = numbers[0].replace("-", "")[:-1] + str((int(numbers[0][-1]) + 1) % 10)
    h.type_digits(wrong)
    h.tap("find_typed")
    assert "没有找到" in str(h.find("reprint_message").text) and not h.has("reprint_now")


def test_maintenance_stays_on_after_sign_out_until_switched_off(staffed: Harness,
                                                                rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "maint")
    h.tap("menu_staff_maintenance")
    h.tap("maintenance_toggle")
    assert "已开启" in str(h.find("maintenance_state").text)
    shot(h, "maintenance-on")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    assert h.ui.service.state()[0] is KioskState.UNAVAILABLE
    assert not h.find("start").enabled and "暂停服务，维护中" in h.text_on_screen()
    shot(h, "attract-maintenance")
    rig.sign_in(h, "maint")
    h.tap("menu_staff_maintenance")
    h.tap("maintenance_toggle")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    assert h.ui.service.state()[0] is KioskState.AVAILABLE
    assert [e["after"].get("maintenance") for e in rig.entries()
            if e["action"] == "kiosk.maintenance"] == ["on", "off"]


def test_exit_to_the_desktop_asks_why_and_ends_with_status_77(staffed: Harness,
                                                              rig: StaffRig) -> None:
    h = staffed
    stopped: list[bool] = []
    h.app.stop = lambda *_a: stopped.append(True)     # the test's window stays open
    rig.sign_in(h, "super")
    h.tap("menu_staff_exit")
    h.wait_screen("staff_exit")
    shot(h, "exit-reasons")
    h.tap("exit_repair")
    assert h.nav.dialog is not None and h.nav.dialog.name == "confirm_exit"
    h.tap("keep")                                      # not yet: nothing happens
    assert h.app.exit_status is None
    dialog_gone(h)
    h.tap("exit_repair")
    h.tap("confirm")
    h.wait(lambda: stopped, "the app asked to stop")
    assert h.app.exit_status == EXIT_TO_DESKTOP == 77
    tail = [(e["action"], e["after"]) for e in rig.entries()[-2:]]
    assert tail == [("kiosk.exit_to_desktop", {"result": "done", "reason": "repair"}),
                    ("staff.sign_out", {"reason": "exit", "mode": "service"})]


def test_the_audit_view_shows_the_verdict_and_the_newest_entries(staffed: Harness,
                                                                 rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "super")
    h.tap("menu_staff_audit")
    h.wait_screen("staff_audit")
    assert "校验通过" in str(h.find("audit_verdict").text)
    assert "staff.sign_in" in h.text_on_screen()
    shot(h, "audit-view")
    assert rig.entries()[-1]["action"] == "audit.view"


def test_staff_screens_for_the_docs(staffed: Harness, rig: StaffRig) -> None:
    """docs/screens/staff (scripts/screens_docs.py): the menu of someone with every role,
    in both modes, and the reprint's ways."""
    h = staffed
    add_cases(h, 3)
    rig.sign_in(h, "all")
    assert menu_names(h) == {"menu_staff_reprint", "menu_staff_maintenance",
                             "menu_staff_audit", "menu_staff_exit", "menu_staff_selftest",
                             "menu_staff_consumables", "menu_staff_ledger"}
    shot(h, "menu-every-role")
    h.tap("menu_staff_reprint")
    shot(h, "reprint-scan")
    h.tap("way_recent")
    shot(h, "reprint-newest")
    h.tap("back")
    h.tap("menu_staff_exit")
    h.tap("exit_update")
    shot(h, "exit-confirm")
    h.tap("keep")
    dialog_gone(h)
    h.tap("staff_sign_out")
    h.wait_screen("attract")


def menu_names(h: Harness) -> set[str]:
    return {n for n in h.names() if n.startswith("menu_staff_")}


def dialog_gone(h: Harness) -> None:
    """A dialog closes animated: until it is off the window it takes the next touch."""
    h.wait(lambda: not any(isinstance(w, ModalView) for w in Window.children),
           "the dialog gone from the window")

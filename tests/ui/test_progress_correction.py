"""补正 from the 进度查询 status screen (issue 24 item 5), on the real app, headless: the case
is a real one (the scripted citizen submits it, the demo region's signed events ask for two
items: kiosk/demo/correction_case.py); the applicant's card is checked, the capture screen
takes exactly the requested items, the follow-up package is version 2 of the same case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from staff_rig import StaffRig
from test_journey import shot
from test_progress_lookup import by_qr, lay_receipt, no_personal_data
from test_staff_assist import staff_in
from ui_harness import Harness

from drivers.status import PaperLevel
from intake.opening import open_package
from kiosk.correction import SUBMITTED_STATE, WAITING_STATE
from kiosk.demo.correction_case import DEMO_REGIONS, ITEMS, NOTICE, seed
from kiosk.demo.hand import DemoHand
from kiosk.service import KioskService
from kiosk.transfer.keys import DeviceKeys, Registry

REQUESTED = ("household_register", "correction_2")   # 居民户口簿, and one in its own words


def waiting_case(h: Harness, tmp_path: Path, deadline: date | None = None) -> str:
    """A real case of the demo resident whose region asked for ``ITEMS``; the card taken
    back and the plate cleared, as the citizen left them."""
    number = seed(h.kiosk, tmp_path / "seeded", deadline or date.today() + timedelta(days=30))
    hand = DemoHand.reach(h.kiosk.identity, h.kiosk.camera, h.kiosk.printer)
    hand.clear_plate()
    hand.remove_card()
    row = h.kiosk.ledger.find(number)
    assert row is not None and row.state == WAITING_STATE
    return number


def open_waiting(h: Harness, tmp_path: Path, deadline: date | None = None) -> str:
    number = waiting_case(h, tmp_path, deadline)
    row = h.kiosk.ledger.find(number)
    assert row is not None
    lay_receipt(h, row)
    by_qr(h)
    assert number in h.find("case_number").text
    return number


def start_with_card(h: Harness, card: str) -> None:
    h.tap("start_correction")
    h.wait(lambda: h.has("correction_card"), "the card prompt")
    h.kiosk.identity.present(card)                             # type: ignore[attr-defined]


def correction_session(h: Harness) -> Any:
    return h.nav.screen("correction").session


def test_the_requested_items_are_captured_and_sent_as_version_2(harness: Harness,
                                                               tmp_path: Path) -> None:
    h = harness
    number = open_waiting(h, tmp_path)
    shot(h, "correction-status")
    assert "需要补正材料" in h.find("case_state").text
    start_with_card(h, "resident")
    h.wait_screen("capture")
    capture = h.nav.current
    assert [m.id for m, _ in capture.rows()] == list(REQUESTED)     # exactly what was asked
    assert {n for n in h.names() if n.startswith("material_")} == {
        f"material_{i}" for i in REQUESTED}
    # the receipt scanned for the lookup still lies on the plate: never taken as a page
    h.wait(lambda: capture.feed is not None and capture.feed.latest() is not None
           and capture.feed.latest().detection.quad is not None, "the receipt seen")
    h.tap("shoot")
    assert not capture.feed.plate_clear and correction_session(h).pages == {}
    shot(h, "correction-capture")
    h.kiosk.camera.remove()                                         # type: ignore[attr-defined]
    for item_id in REQUESTED:
        h.tap(f"material_{item_id}")
        h.wait(lambda: capture.feed.plate_clear, "the plate seen empty")
        h.kiosk.camera.place(capture.material(item_id).name, 1)     # type: ignore[attr-defined]
        h.wait(lambda i=item_id: correction_session(h).pages.get(i), f"{item_id} captured")
        h.wait(lambda: not capture.shooting, "the shot to finish")
        h.kiosk.camera.remove()                                     # type: ignore[attr-defined]
    h.tap("review")
    h.wait(lambda: h.has("submit_correction"), "the summary")
    shot(h, "correction-summary")
    h.tap("submit_correction")
    h.wait(lambda: h.has("correction_number"), "the 补正 receipt")
    shot(h, "correction-printed")
    assert number in h.find("correction_number").text
    no_personal_data(h)
    row = h.kiosk.ledger.find(number)
    assert row is not None and row.state == SUBMITTED_STATE
    paper = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("paper/*.txt"))
    assert "补正材料接收凭证" in paper and ITEMS[1] in paper and "第2版" in paper
    manifest = opened_follow_up(h, tmp_path, number)
    assert manifest["case_number"] == number and manifest["version"] == 2
    assert manifest["correction_items"] == list(ITEMS)
    h.tap("next")                                   # no rating for a 补正: the normal end
    h.wait_screen("attract")
    assert h.journey.session is None and correction_session(h) is None


def test_the_regions_notice_is_printed_from_the_status_screen(harness: Harness,
                                                             tmp_path: Path) -> None:
    """Seed 004 (三): the region's 补正通知书 relayed to the applicant, on paper to take home;
    with no paper it is said, and never held for the next citizen."""
    h = harness
    number = open_waiting(h, tmp_path)
    h.kiosk.printer.set_paper(PaperLevel.OUT)                     # type: ignore[attr-defined]
    h.tap("print_notice")
    h.wait(lambda: h.has("notice_state") and "无法打印" in h.find("notice_state").text,
           "the notice said unprinted")
    h.tap("home")
    h.wait_screen("attract")
    h.kiosk.printer.set_paper(PaperLevel.FULL)                      # type: ignore[attr-defined]
    assert not any("补正通知书" in p.read_text(encoding="utf-8")
                   for p in tmp_path.rglob("paper/*.txt"))       # not held for later
    lay_receipt(h, h.kiosk.ledger.find(number))                   # type: ignore[arg-type]
    by_qr(h)
    h.tap("print_notice")
    h.wait(lambda: h.has("notice_state") and "已打印" in h.find("notice_state").text,
           "the notice printed")
    shot(h, "correction-notice-printed")
    assert not h.has("print_notice")                              # once per look
    (paper,) = [p.read_text(encoding="utf-8") for p in tmp_path.rglob("paper/*.txt")
                if "补正通知书" in p.read_text(encoding="utf-8")]
    assert NOTICE in paper and number in paper and "请于" in paper
    assert all(item in paper for item in ITEMS)
    assert "办理地出具" in paper and "张*华" in paper
    no_personal_data(h)
    for private in ("张明华", "110101195803121237", "13800138000"):
        assert private not in paper


def opened_follow_up(h: Harness, tmp_path: Path, number: str) -> dict[str, Any]:
    """The outbox's package for the case other than the original, opened as its region."""
    row = h.kiosk.ledger.find(number)
    assert row is not None
    (follow_up,) = [e.package_id for e in h.kiosk.outbox.entries()
                    if e.case_number == number and e.package_id != row.package_id]
    KioskService(h.kiosk).deliver()
    data = tmp_path / "data"
    region = row.transfer_numbers.split(",")[0][8:14]
    suite = h.kiosk.settings.transfer.suite
    kiosk_key = DeviceKeys(data / "keys", h.kiosk.settings.kiosk.id).key(suite)
    opened = open_package(data / "region" / region / f"{follow_up}.tbk",
                          DEMO_REGIONS / f"region-{region}-{suite}.key",
                          Registry([kiosk_key]), tmp_path / "opened")
    return dict(json.loads(json.dumps(opened.manifest)))


def test_another_persons_card_is_refused(harness: Harness, tmp_path: Path) -> None:
    h = harness
    number = open_waiting(h, tmp_path)
    start_with_card(h, "resident_neimenggu")
    h.wait(lambda: h.has("correction_refused"), "the refusal")
    shot(h, "correction-wrong-card")
    refused = h.find("correction_refused").text
    assert "证件与原申请人不一致" in refused and "not the original applicant" in refused
    assert refused.index("证件与原申请人") < refused.index("not the original")
    assert h.screen == "correction" and h.has("again")
    session = correction_session(h)
    assert session is not None and not session.verified and session.identity is None
    row = h.kiosk.ledger.find(number)
    assert row is not None and row.state == WAITING_STATE


def test_a_passed_deadline_offers_no_correction(harness: Harness, tmp_path: Path) -> None:
    h = harness
    open_waiting(h, tmp_path, deadline=date.today() - timedelta(days=1))
    assert "需要补正材料" in h.find("case_state").text
    assert not h.has("start_correction")
    shot(h, "correction-deadline-passed")
    closed = h.find("correction_closed").text
    assert "补正期限已过" in closed and "deadline has passed" in closed


@pytest.mark.kiosk(idle_timeout_s=3, idle_warning_s=2)
def test_idle_mid_correction_wipes_it(harness: Harness, tmp_path: Path) -> None:
    h = harness
    open_waiting(h, tmp_path)
    start_with_card(h, "resident")
    h.wait_screen("capture")
    capture = h.nav.current
    session = correction_session(h)
    h.kiosk.camera.remove()                                         # type: ignore[attr-defined]
    h.wait(lambda: capture.feed.plate_clear, "the plate seen empty")
    h.kiosk.camera.place(capture.material(REQUESTED[0]).name, 1)    # type: ignore[attr-defined]
    h.wait(lambda: session.pages.get(REQUESTED[0]), "a page captured")
    h.kiosk.camera.remove()                                         # type: ignore[attr-defined]
    h.wait(lambda: h.nav.dialog is not None and h.nav.dialog.name == "idle", "the idle warning")
    h.wait_screen("attract")
    assert session.store.wiped and session.pages == {}
    assert correction_session(h) is None and capture.checklist is None
    assert capture.step == 4                       # the next application counts its steps


def test_a_guide_called_to_the_status_screen_starts_it_the_same_way(staffed: Harness,
                                                                     rig: StaffRig,
                                                                     tmp_path: Path) -> None:
    """Staff assist: the guide signs in over the status screen and out again to it; the same
    button starts the 补正, and the applicant's card (not the guide's) is what is checked."""
    h = staffed
    number = open_waiting(h, tmp_path)
    lookup = h.journey.session
    staff_in(h, rig, "guide")
    h.tap("staff_sign_out")
    h.wait_screen("progress")
    assert h.journey.session is lookup and number in h.find("case_number").text
    start_with_card(h, "resident")
    h.wait_screen("capture")
    session = correction_session(h)
    assert session.verified and [m.id for m, _ in h.nav.current.rows()] == list(REQUESTED)


LANDSCAPE = os.environ.get("UI_WINDOW") == "1920x1080"


@pytest.mark.skipif(not LANDSCAPE, reason="runs in its own landscape window (see below)")
@pytest.mark.kiosk(orientation="landscape")
def test_landscape_correction(harness: Harness, tmp_path: Path) -> None:
    """Landscape: the button beside the timeline, the card prompt, the capture checklist."""
    h = harness
    open_waiting(h, tmp_path)
    shot(h, "landscape-correction-status")
    start_with_card(h, "resident_neimenggu")
    h.wait(lambda: h.has("correction_refused"), "the refusal")
    shot(h, "landscape-correction-refused")
    h.kiosk.identity.remove()                                      # type: ignore[attr-defined]
    h.kiosk.identity.present("resident")                           # type: ignore[attr-defined]
    h.tap("again")
    h.wait_screen("capture")
    shot(h, "landscape-correction-capture")


@pytest.mark.skipif(LANDSCAPE, reason="the parent of the landscape run")
def test_landscape_layout() -> None:
    """The 1920×1080 layout, in a child pytest whose window is created landscape."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{__file__}::test_landscape_correction"],
        env={**os.environ, "UI_WINDOW": "1920x1080"}, capture_output=True, text=True,
        timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout

"""进度查询 on the real app, headless: by the receipt's QR on the document camera, by the ID
card, a QR from elsewhere, a result waiting at the window, the second rating once, and the
idle wipe. Cases are set up in the ledger directly (Ledger.set_state), as the status events
will move them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from test_journey import shot
from ui_harness import Harness

from kiosk.caseno import damm
from kiosk.documents.blocks import Codes, Title
from kiosk.documents.forms import reprint_blocks
from kiosk.documents.model import LedgerRow
from kiosk.submission import office

APPLICANT = ("张明华", "110101195803121237", "13800138000")   # the emulated resident card
START = datetime(2026, 12, 7, 9, 0)
ALL_DETAILS = {"结果已到窗口待领取": {"window": "3号综合窗口", "collect_until": "2027-01-06",
                                  "hours": "工作日 9:00–17:00"}}


def number(seq: int) -> str:
    first = f"5108020001261207{seq:04d}"
    digits = first + str(damm(first))
    return f"{digits[:6]}-{digits[6:10]}-{digits[10:16]}-{digits[16:20]}-{digits[20]}"


def add_case(h: Harness, seq: int, states: tuple[str, ...] = (), key: str = "",
             matter: str = "户籍类证明开具") -> LedgerRow:
    case = number(seq)
    row = LedgerRow(case_number=case, time=START, department="利州区政务服务中心",
                    matter_code="GA-HJZM-001", matter_name=matter, count=1,
                    case_type="承诺件", applicant_masked="张*华", phone_masked="138****8000",
                    window="510802-0001", staff="自助终端", state="已代收待流转",
                    scope="省内通办", regions="四川省成都市", package_id=f"pkg-{seq}")
    h.kiosk.ledger.record(row, applicant_key=key)
    for hours, state in enumerate(states, start=1):
        h.kiosk.ledger.set_state(case, state, "", START + timedelta(hours=hours))
    found = h.kiosk.ledger.find(case)
    assert found is not None
    return found


def lay_paper(h: Harness, png: bytes, label: str) -> None:
    """A printed paper on the document camera's plate (the emulator shows this image)."""
    h.kiosk.camera._cache[(label, 1)] = Image.open(io.BytesIO(png)).convert("RGB")  # type: ignore[attr-defined]
    h.kiosk.camera.place(label, 1)                                                   # type: ignore[attr-defined]


def lay_receipt(h: Harness, row: LedgerRow) -> None:
    blocks = reprint_blocks(row, office(h.kiosk.settings), datetime.now())
    lay_paper(h, h.kiosk.printing.job("qr", "receipt", blocks).raster_png, "回执")


def open_lookup(h: Harness) -> None:
    h.wait_screen("attract")
    h.tap("progress")
    h.wait_screen("progress")


def by_qr(h: Harness) -> None:
    open_lookup(h)
    h.tap("by_qr")
    h.wait(lambda: h.has("case_state") or h.has("progress_message"), "the code to be read")


class Given:
    def __init__(self, found: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.found = found

    def details(self, case_number: str) -> dict[str, dict[str, Any]]:
        return self.found.get(case_number, {})


def no_personal_data(h: Harness) -> None:
    text = h.text_on_screen()
    assert not any(p in text for p in APPLICANT), "masked: no full name, ID or phone"


def test_the_receipts_qr_shows_the_timeline_in_both_languages(harness: Harness) -> None:
    h = harness
    row = add_case(h, 1, ("办理地已接收", "已受理"))
    lay_receipt(h, row)
    by_qr(h)
    shot(h, "progress-by-qr")
    assert row.case_number in h.find("case_number").text
    assert "办理地已受理，正在办理" in h.find("case_state").text
    timeline = h.text_on_screen()
    assert "办理地已收到您的材料" in timeline and "accepted by the handling region" in timeline
    assert timeline.index("办理地已受理") < timeline.index("accepted by the handling")
    assert "张*华" in timeline and not h.has("rate_second")       # not decided yet
    no_personal_data(h)
    mark = len(h.kiosk.speaker.spoken)                             # type: ignore[attr-defined]
    h.tap("read_aloud")
    h.wait(lambda: len(h.kiosk.speaker.spoken) > mark, "the timeline read aloud")  # type: ignore[attr-defined]
    said = "\n".join(t for t, _ in h.kiosk.speaker.spoken[mark:])  # type: ignore[attr-defined]
    assert "办理地已受理" in said and "办理地已收到您的材料" in said


def test_an_id_card_lists_the_persons_cases_here(harness: Harness) -> None:
    h = harness
    h.kiosk.identity.present("resident")                           # type: ignore[attr-defined]
    key = h.ui.service.progress.applicant_key(h.kiosk.identity.read(5))
    h.kiosk.identity.remove()                                      # type: ignore[attr-defined]
    add_case(h, 1, ("已受理",), key=key)
    add_case(h, 2, ("已受理", "已办结"), key=key, matter="居住证明")
    add_case(h, 3, ("已受理",), key="f" * 64)                       # somebody else's
    open_lookup(h)
    h.tap("by_card")
    h.wait(lambda: h.has("progress_wait"), "the card prompt")
    h.kiosk.identity.present("resident")                           # type: ignore[attr-defined]
    h.wait(lambda: h.has(f"case_{number(1)}"), "the person's cases")
    shot(h, "progress-by-card-list")
    assert h.has(f"case_{number(2)}") and not h.has(f"case_{number(3)}")
    assert "请取回您的身份证" in h.find("card_reminder").children[0].text   # not needed now
    no_personal_data(h)
    h.tap(f"case_{number(2)}")
    h.wait(lambda: h.has("case_state"), "the case")
    assert "已办结" in h.find("case_state").text and h.has("rate_second")
    h.tap("back")
    h.wait(lambda: h.has(f"case_{number(1)}"), "the list again")


def test_a_qr_from_elsewhere_is_told_plainly(harness: Harness) -> None:
    h = harness
    add_case(h, 1)
    blocks = [Title("某商户付款码"), Codes(qr="https://pay.example.com/qr/6222021234567890",
                                         code128="PAY123456", caption="付款码")]
    lay_paper(h, h.kiosk.printing.job("foreign", "receipt", blocks).raster_png, "付款码")
    by_qr(h)
    shot(h, "progress-foreign-qr")
    message = h.find("progress_message").text
    assert "不是本大厅受理回执" in message and "not the QR code of a receipt" in message
    assert not h.has("case_state") and h.has("again")


@pytest.mark.kiosk(elder=True)
def test_a_result_at_the_window_says_where_and_when_to_collect(harness: Harness) -> None:
    h = harness
    row = add_case(h, 1, ("已受理", "已办结", "结果已寄出", "结果已到窗口待领取"))
    h.ui.service.progress.details = Given({row.case_number: ALL_DETAILS})
    lay_receipt(h, row)
    by_qr(h)
    shot(h, "progress-pickup-elder")
    pickup = "\n".join(str(getattr(w, "text", "")) for w in h.find("pickup").walk())
    assert "3号综合窗口" in pickup and "2027-01-06" in pickup and "9:00" in pickup
    mark = len(h.kiosk.speaker.spoken)                             # type: ignore[attr-defined]
    h.tap("read_aloud")
    h.wait(lambda: len(h.kiosk.speaker.spoken) > mark, "read aloud")  # type: ignore[attr-defined]
    said = "\n".join(t for t, _ in h.kiosk.speaker.spoken[mark:])  # type: ignore[attr-defined]
    assert "3号综合窗口" in said and "2027-01-06" in said


def test_the_second_rating_is_given_once(harness: Harness) -> None:
    h = harness
    row = add_case(h, 1, ("已受理", "已办结"))
    lay_receipt(h, row)
    by_qr(h)
    h.tap("rate_second")
    h.wait(lambda: h.has("rate_satisfied"), "the five levels")
    shot(h, "progress-rate")
    h.tap("rate_satisfied")
    h.wait(lambda: h.has("rated"), "the rating kept")
    assert not h.has("rate_second")
    kept = h.kiosk.evaluations.for_number(row.case_number)
    assert [(e.round, e.level) for e in kept] == [(2, "满意")]
    h.tap("home")
    h.wait_screen("attract")
    by_qr(h)                                   # asked again: already rated, no second offer
    shot(h, "progress-already-rated")
    assert h.has("rated") and not h.has("rate_second")
    assert "您已评价" in h.find("rated").text
    assert len(h.kiosk.evaluations.for_number(row.case_number)) == 1


@pytest.mark.kiosk(idle_timeout_s=3, idle_warning_s=2)
def test_idle_ends_the_lookup_and_wipes_what_it_showed(harness: Harness) -> None:
    h = harness
    row = add_case(h, 1, ("已受理", "已办结", "结果已寄出", "结果已到窗口待领取"))
    h.ui.service.progress.details = Given({row.case_number: ALL_DETAILS})
    lay_receipt(h, row)
    by_qr(h)
    session = h.journey.session
    assert session is not None and h.has("pickup")
    h.wait(lambda: h.nav.dialog is not None and h.nav.dialog.name == "idle",
           "the idle warning")
    h.wait_screen("attract")
    assert session.end_reason is not None and session.end_reason.value == "timeout"
    screen = h.nav.screen("progress")
    assert screen.view is None and screen.state == "choose" and not screen.children
    shown = "\n".join(str(getattr(w, "text", "")) for s in h.nav.manager.screens
                      for w in s.walk(restrict=True))
    assert row.case_number not in shown and "3号综合窗口" not in shown


def test_a_bad_second_rating_asks_why_and_whether_to_call_back(harness: Harness) -> None:
    h = harness
    row = add_case(h, 1, ("已受理", "已办结"))
    lay_receipt(h, row)
    by_qr(h)
    h.tap("rate_second")
    h.wait(lambda: h.has("rate_dissatisfied"), "the five levels")
    h.tap("rate_dissatisfied")
    h.wait(lambda: h.has("reason_too_slow"), "why")
    shot(h, "progress-rate-why")
    h.wait(lambda: any("办理时间太长" in t for t, _ in h.kiosk.speaker.spoken),  # type: ignore[attr-defined]
           "every reason said")
    kept = h.kiosk.evaluations.for_number(row.case_number)
    assert [(e.round, e.level, e.reasons) for e in kept] == [(2, "不满意", ())]   # at the tap
    h.tap("reason_too_slow")
    h.tap("contact_yes")
    h.tap("submit_rating")
    h.wait(lambda: h.has("rated"), "back on the case")
    (kept_now,) = h.kiosk.evaluations.for_number(row.case_number)
    assert kept_now.reasons == ("too_slow",) and kept_now.staff_may_contact is True
    assert kept_now.rating_id == kept[0].rating_id


LANDSCAPE = os.environ.get("UI_WINDOW") == "1920x1080"


@pytest.mark.skipif(not LANDSCAPE, reason="runs in its own landscape window (see below)")
@pytest.mark.kiosk(orientation="landscape")
def test_landscape_lookup(harness: Harness) -> None:
    """Landscape: the rating and the steps beside the case (one column has no room)."""
    h = harness
    row = add_case(h, 1, ("已受理", "已办结", "结果已寄出", "结果已到窗口待领取"))
    h.ui.service.progress.details = Given({row.case_number: ALL_DETAILS})
    open_lookup(h)
    shot(h, "landscape-choose")
    lay_receipt(h, row)
    h.tap("by_qr")
    h.wait(lambda: h.has("case_state"), "the case")
    shot(h, "landscape-case")
    h.tap("rate_second")                       # on screen without scrolling
    h.wait(lambda: h.has("rate_dissatisfied"), "the five levels")
    h.tap("rate_dissatisfied")
    h.wait(lambda: h.has("reason_too_slow"), "why")
    shot(h, "landscape-why")


@pytest.mark.skipif(LANDSCAPE, reason="the parent of the landscape run")
def test_landscape_layout() -> None:
    """The 1920×1080 layout, in a child pytest whose window is created landscape."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{__file__}::test_landscape_lookup"],
        env={**os.environ, "UI_WINDOW": "1920x1080"}, capture_output=True, text=True,
        timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout

"""The staff functions on a citizen's case on the real app, headless, with simulated touches:
a guide called mid-session checks the originals on the checklist (thumbnails, large toggles),
approves a 容缺 item with the deadline picker and the attestation, the applicant taps 承诺,
staff sign out to the same citizen screen — and the review accepts the case. 代办: the
agent's card and the 委托书. Each action is one audit entry; the chain verifies after."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

from PIL import Image
from staff_rig import StaffRig
from test_journey import identify, shot
from ui_harness import ROOT, Harness

from drivers.camera import CapturedPage, PageQuality
from kiosk.assist import AssistKind
from kiosk.catalogue.model import Necessity

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))
MATTER, RONGQUE = "GA-HKQY-003", "spouse_household_register"     # 夫妻投靠, 可容缺
PAGES = ("application_form.png", "id_card_copy.png", "hukou_page.png")


def to_capture(h: Harness) -> None:
    h.tap("start")
    h.wait_screen("matters")
    h.tap("search")
    h.type_keys("fqtk")
    h.tap(f"matter_{MATTER}")
    h.wait_screen("guide")
    identify(h)


def scan_all_but_rongque(h: Harness) -> None:
    """Each required material's pages straight into the session (the capture screen's
    auto-capture is tested in test_journey; here the pages only need to be there, with a
    picture a thumbnail can show). Nothing is laid on the plate, so nothing is auto-taken."""
    session = h.journey.session
    for n, req in enumerate(session.situation.materials):
        if req.necessity is Necessity.REQUIRED and req.id != RONGQUE:
            material = req.options[0]
            for _ in range(max(1, material.pages.min)):
                session.add_page(material.id, demo_page(PAGES[n % len(PAGES)]))
    h.pump(2)


def demo_page(name: str) -> CapturedPage:
    with Image.open(ROOT / "assets" / "demo" / "pages" / name) as image:
        small = image.convert("RGB")
        small.thumbnail((800, 800))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
    return CapturedPage(out.getvalue(), small.width, small.height, 150, PageQuality())


def staff_in(h: Harness, rig: StaffRig, who: str = "all") -> None:
    h.tap("call_staff")
    h.wait(lambda: h.has("staff_sign_in"), "the call dialog")
    h.tap("staff_sign_in")
    rig.to_pin(h, who)
    rig.type_pin(h)
    h.wait_screen("staff_menu")


def test_originals_and_rongque_by_touch_then_the_review_accepts(staffed: Harness,
                                                                rig: StaffRig) -> None:
    h = staffed
    to_capture(h)
    scan_all_but_rongque(h)
    session = h.journey.session
    staff_in(h, rig)
    assert {"menu_staff_originals", "menu_staff_rongque", "menu_staff_agent"} <= h.names()
    h.tap("menu_staff_originals")
    h.wait_screen("staff_originals")
    shot(h, "originals-before")
    assert h.find(f"original_{RONGQUE}").enabled is False          # not scanned: 请先扫描
    checkable = [n.removeprefix("original_") for n in sorted(h.names())
                 if n.startswith("original_") and not n.startswith("original_row_")
                 and h.find(n).enabled]
    assert len(checkable) == 5
    for rid in checkable:
        h.tap(f"original_{rid}")
    shot(h, "originals-checked")
    assert {o.requirement_id for o in session.assist.originals} == set(checkable)
    assert session.assist.kind is AssistKind.HELP and session.assist.staff_name == "测试all"
    h.tap(f"original_{checkable[0]}")                                # a mark taken back
    assert session.assist.original(checkable[0]) is None
    h.tap(f"original_{checkable[0]}")

    h.tap("back")
    h.wait_screen("staff_menu")
    h.tap("menu_staff_rongque")
    h.wait_screen("staff_rongque")
    shot(h, "rongque-picker")
    today = rig.clock().date()
    assert h.find(f"approve_{RONGQUE}").enabled is False             # attest first
    h.tap(f"deadline_+7_{RONGQUE}")
    h.tap(f"deadline_-1_{RONGQUE}")
    h.tap(f"attest_{RONGQUE}")
    h.tap(f"approve_{RONGQUE}")
    shot(h, "rongque-approved")
    approval = session.assist.approval(RONGQUE)
    assert approval is not None and approval.deadline == today + timedelta(days=10 + 7 - 1)
    h.tap(f"commit_{RONGQUE}")                                       # the applicant's tap
    assert h.has(f"committed_{RONGQUE}")
    shot(h, "rongque-committed")

    h.tap("staff_sign_out")
    h.wait_screen("capture")                                         # where the citizen was
    assert h.journey.session is session
    assert session.review().accepted
    assert [i.requirement_id for i in session.result.deferred] == [RONGQUE]
    actions = [e["action"] for e in rig.entries()]
    assert actions == (["staff.sign_in", "case.assist"] + ["case.verify_original"] * 7
                       + ["case.approve_rongque", "staff.sign_out"])
    verified = rig.verify_cli(h.kiosk.settings.paths.data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_guide_sees_no_rongque_and_records_the_agent_and_the_mandate(
        staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    to_capture(h)
    staff_in(h, rig, "guide")
    names = h.names()
    assert "menu_staff_originals" in names and "menu_staff_rongque" not in names
    h.tap("menu_staff_agent")
    h.wait_screen("staff_agent")
    h.tap("assist_proxy")
    shot(h, "agent-proxy")
    h.kiosk.identity.present("resident_young")                       # the agent's own card
    h.tap("agent_read")
    session = h.journey.session
    h.wait(lambda: session.assist.agent is not None, "the agent's card read")
    h.wait(lambda: "王子涵" in h.text_on_screen(), "the agent named")
    h.kiosk.camera.place("授权委托书", 1)
    h.tap("mandate_capture")
    h.wait(lambda: len(session.mandate) == 1, "the 委托书 photographed")
    h.wait(lambda: "已拍 1 页" in h.text_on_screen(), "the page counted")
    shot(h, "agent-read")
    assert session.assist.kind is AssistKind.PROXY
    text = (rig.folder / "audit.log").read_text(encoding="utf-8")
    assert "王子涵" not in text and "110105199602140312" not in text

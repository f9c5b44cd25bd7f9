"""人证核验 in the citizen's journey, headless, on the real parts: the demo's emulated face
camera (someone at it who does each move the screen asks for), dlib, the liveness judge. Pass,
mismatch, spoof (a photo held up), three failures → staff called, staff verifying by sight,
and a card with no photo (straight to staff, who end the session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from staff_rig import StaffRig
from test_journey import shot
from ui_harness import ROOT, Harness, open_kiosk

from kiosk.demo.hand import DemoHand
from kiosk.face_step import PROMPT_TOPIC, FaceResult

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))
QUICK = {"time_limit_s": 2.0}       # a photo fails in 2 s a try, not 15


@pytest.fixture
def face_kiosk(tmp_path: Path, rig: StaffRig, request: pytest.FixtureRequest
               ) -> Iterator[Any]:
    """open(**face): the kiosk with staff mode and 人证核验 on; the person at the camera
    follows the prompts; ``moves`` collects the prompts said."""
    opened: list[Harness] = []
    moves: list[str] = []

    def open_face(**face: Any) -> Harness:
        # a try that passes ends when it passes: the longest limit only keeps a loaded
        # machine (frames judged late) from failing the citizen in front of the camera
        face.setdefault("time_limit_s", 60.0)
        h = open_kiosk(tmp_path, ARTIFACTS / request.node.name, staff=rig.authority,
                       face=face)
        opened.append(h)
        hand = DemoHand.reach(h.kiosk.identity, None, None, h.kiosk.face_camera)
        hand.follow_prompts(h.kiosk.bus)
        h.kiosk.bus.subscribe(PROMPT_TOPIC, lambda _t, p: moves.append(p["move"]))
        h.hand, h.moves = hand, moves         # type: ignore[attr-defined]
        return h

    yield open_face
    for h in opened:
        h.close()


def to_face(h: Harness, card: str = "resident", scene: str = "right") -> None:
    h.hand.present_face(scene)                # type: ignore[attr-defined]
    h.tap("start")
    h.wait_screen("matters")
    h.tap("matter_GA-HJZM-001")
    h.wait_screen("guide")
    h.tap("next")
    h.wait_screen("identify")
    h.kiosk.identity.present(card)
    h.wait(lambda: h.has("next"), "the card to be read")
    h.tap("next")
    h.wait_screen("face")


def try_ends(h: Harness) -> None:
    screen = h.nav.current
    h.wait(lambda: not screen.running, "the try to end")


def prompt_text(h: Harness) -> str:
    return str(h.find("face_prompt").text)


def check_of(h: Harness) -> Any:
    return h.journey.session.face


def test_the_cards_holder_passes_and_goes_on_to_the_materials(face_kiosk: Any) -> None:
    h = face_kiosk()
    to_face(h)
    assert h.has("face_preview") and h.nav.current.running
    h.wait(lambda: h.nav.current._texture is not None, "the live preview")
    shot(h, "face-checking")
    try_ends(h)
    check = check_of(h)
    assert check.result is FaceResult.PASS and check.tries == 1 and check.score >= 0.5
    asked = [m for m in h.moves if m]                   # type: ignore[attr-defined]
    # four moves, each asked again only while it was not yet seen (a reminder)
    assert len([m for i, m in enumerate(asked) if i == 0 or m != asked[i - 1]]) == 4
    assert "核验通过" in prompt_text(h) and "Verified" in prompt_text(h)
    said = [text for text, _lang in h.kiosk.speaker.spoken]
    assert any(("转头" in t or "眨" in t) for t in said), said     # the moves were spoken
    shot(h, "face-passed")
    h.tap("next")
    h.wait(lambda: h.screen in ("capture", "region"), "the next step")


def test_someone_else_is_told_the_face_does_not_match_and_may_try_again(
        face_kiosk: Any) -> None:
    h = face_kiosk()
    to_face(h, scene="other")
    try_ends(h)
    assert check_of(h).result is FaceResult.MISMATCH
    assert "不一致" in prompt_text(h)
    assert "还可以再试 2 次" in h.find("face_result").text
    assert h.has("face_retry") and not h.has("next")
    assert h.journey.session.face_pending
    shot(h, "face-mismatch")


def test_a_photo_held_up_fails_the_challenge(face_kiosk: Any) -> None:
    h = face_kiosk(**QUICK)
    to_face(h, scene="photo")
    try_ends(h)
    check = check_of(h)
    assert check.result is FaceResult.SPOOF and check.liveness in ("timeout", "still")
    assert "×" in prompt_text(h) and h.has("face_retry")


def fail_three_times(h: Harness) -> None:
    to_face(h, scene="photo")
    for n in (1, 2, 3):
        try_ends(h)
        assert check_of(h).tries == n
        if n < 3:
            h.tap("face_retry")


def test_three_failures_call_staff_and_the_session_waits(face_kiosk: Any) -> None:
    h = face_kiosk(**QUICK)
    fail_three_times(h)
    h.wait(lambda: h.ui.service.staff_call() is not None, "the call for staff")
    h.wait(lambda: h.nav.dialog is not None, "the call dialog")
    assert h.nav.dialog.name == "staff_called"
    h.tap("close_call")     # the dialog closed: the screen itself says what to do
    assert "请联系工作人员核验" in prompt_text(h)
    assert "已尝试 3 次" in h.find("face_result").text
    assert not h.has("face_retry") and not h.has("next")
    shot(h, "face-to-staff")


def sign_in_from_the_call(h: Harness, rig: StaffRig) -> None:
    h.wait(lambda: h.nav.dialog is not None and h.has("staff_sign_in"), "the call dialog")
    h.tap("staff_sign_in")
    rig.to_pin(h, "guide")
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    h.tap("menu_staff_face")
    h.wait_screen("staff_face")


def test_staff_verify_by_sight_and_the_applicant_goes_on(face_kiosk: Any,
                                                        rig: StaffRig) -> None:
    h = face_kiosk(**QUICK)
    fail_three_times(h)
    sign_in_from_the_call(h, rig)
    shot(h, "face-staff")
    h.tap("face_same")
    assert h.has("face_verified")
    check = check_of(h)
    assert check.result is FaceResult.STAFF_VERIFIED and check.staff_id == "g001"
    assert check.tries == 3
    entry = [e for e in rig.entries() if e["action"] == "case.verify_face"]
    assert len(entry) == 1 and entry[0]["staff"] == "g001"
    assert entry[0]["after"]["face"] == "staff_verified" and entry[0]["after"]["tries"] == 3
    h.tap("staff_sign_out")
    h.wait_screen("face")
    assert "工作人员已核验" in prompt_text(h)
    h.tap("next")
    h.wait(lambda: h.screen in ("capture", "region"), "the next step")


def test_a_card_with_no_photo_goes_to_staff_who_may_end_the_session(
        face_kiosk: Any, rig: StaffRig) -> None:
    h = face_kiosk()
    to_face(h, card="resident_young")            # its entry has no photo
    h.wait(lambda: h.ui.service.staff_call() is not None, "the call for staff")
    check = check_of(h)
    assert check.result is FaceResult.NO_PHOTO and check.tries == 0
    assert not h.moves                            # type: ignore[attr-defined]
    h.tap("close_call")
    assert "没有可比对的照片" in h.find("face_result").text
    assert "请联系工作人员核验" in prompt_text(h)
    shot(h, "face-no-photo")
    h.tap("call_staff")
    sign_in_from_the_call(h, rig)
    h.tap("face_not_same")
    h.wait_screen("attract")
    assert h.journey.session is None
    refused = [e for e in rig.entries() if e["action"] == "case.verify_face"]
    assert refused and refused[0]["after"]["face"] == "refused"


def test_a_citizen_who_cancels_mid_try_leaves_no_preview_running(face_kiosk: Any) -> None:
    from kivy.clock import Clock

    h = face_kiosk(**QUICK)
    to_face(h, scene="photo")
    screen = h.nav.current
    assert screen.running
    h.journey.cancel()
    h.wait_screen("attract")
    assert not [e for e in Clock.get_events() if e.get_callback() == screen._update]
    h.wait(lambda: h.ui.bridge.pending == 0, "the abandoned try to end")
    assert h.journey.session is None and h.nav.dialog is None

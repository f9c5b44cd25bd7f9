"""Staff mode's frame on the real app, headless, with simulated touches (issue 21): the entry
(gesture, the call dialog's button, no roster), card + shuffled PIN sign-in, the lock-out,
the two modes, the menu by role, the 120 s sign-out, the gate on every staff screen, and the
audit chain verifying after the walk."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from kivy.tests.common import UnitTestTouch
from staff_rig import PEOPLE, PIN, StaffRig
from test_journey import MATTER, identify, reach_delivery, shot, start_matter
from ui_harness import ROOT, Harness, open_kiosk

from kiosk.lifecycle import KioskState
from screens.staff.table import FUNCTIONS

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))


def menu_names(h: Harness) -> set[str]:
    return {n for n in h.names() if n.startswith("menu_staff_")}


def test_without_a_roster_staff_mode_says_why(tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    rig = StaffRig(tmp_path, with_roster=False)
    h = open_kiosk(tmp_path, ARTIFACTS / request.node.name, staff=rig.authority)
    try:
        h.ui.service.request_staff_mode()
        h.wait(lambda: h.nav.dialog is not None, "the reason")
        assert "名册" in str(h.nav.dialog.message.text) and h.screen == "attract"
        shot(h, "no-roster")
        h.tap("ok")
        assert h.screen == "attract" and not h.app.staff.active
    finally:
        h.close()


def test_the_title_hold_opens_sign_in_from_idle(staffed: Harness) -> None:
    h = staffed
    title = next(w for w in h.nav.current.walk() if "跨域通办" in str(getattr(w, "text", "")))
    x, y = title.to_window(*title.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    h.wait_screen("staff_signin")           # after the 3 s hold
    touch.touch_up()
    h.pump(2)
    assert h.has("public_notice")           # service mode: the public is told
    shot(h, "signin-card")
    h.tap("staff_cancel")
    h.wait_screen("attract")


def test_service_mode_signs_in_shows_only_the_roles_functions_and_signs_out(
        staffed: Harness, rig: StaffRig, tmp_path: Path) -> None:
    h = staffed
    h.ui.service.request_staff_mode()
    rig.to_pin(h, "maint")
    shot(h, "signin-pin")
    first = h.nav.current.pad.order
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    shot(h, "menu-maintainer")
    assert menu_names(h) == {"menu_staff_maintenance", "menu_staff_selftest",
                             "menu_staff_consumables"}
    assert h.ui.service.state()[0] is KioskState.UNAVAILABLE        # 暂停服务 to the public
    h.tap("menu_staff_maintenance")
    h.wait_screen("staff_maintenance")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    assert h.ui.service.state()[0] is KioskState.AVAILABLE and not h.app.staff.active
    actions = [(e["staff"], e["action"], e["after"].get("result") or e["after"].get("reason"))
               for e in rig.entries()]
    assert actions == [("m001", "staff.sign_in", "ok"),
                       ("m001", "staff.sign_out", "signed_out")]
    h.ui.service.request_staff_mode()           # the pad is shuffled anew each time
    rig.to_pin(h, "super")
    orders = {tuple(first), tuple(h.nav.current.pad.order)}
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    assert menu_names(h) == {"menu_staff_audit", "menu_staff_exit", "menu_staff_ledger"}
    assert len(orders) == 2 or first == sorted(first)  # equal only by a 1 in 3.6 M chance
    h.tap("menu_sign_out")
    h.wait_screen("attract")
    checked = rig.verify_cli(tmp_path / "data")
    assert checked.returncode == 0, checked.stderr
    assert "4" in checked.stdout


def test_five_wrong_pins_lock_staff_sign_in(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    h.ui.service.request_staff_mode()
    rig.to_pin(h, "guide")
    for left in (4, 3, 2, 1):
        rig.type_pin(h, "000000")
        assert f"还可尝试 {left} 次" in str(h.find("staff_message").text)
        assert h.has("pin_dots")                   # still at the pad, drawn anew
    shot(h, "signin-wrong-pin")
    rig.type_pin(h, "000000")
    assert "锁定" in str(h.find("staff_message").text) and not h.has("pin_dots")
    assert rig.alerts == ["staff_locked"]
    shot(h, "signin-locked")
    h.tap("staff_cancel")
    h.wait_screen("attract")
    h.ui.service.request_staff_mode()               # the right card and PIN: still locked
    h.wait_screen("staff_signin")
    assert "锁定" in str(h.find("staff_message").text)
    rig.present(h, "guide")
    h.pump(10)
    assert not h.has("pin_dots") and h.app.staff.session is None
    rig.clock.advance(15 * 60 + 1)                  # the lock ends
    h.tap("staff_cancel")
    h.wait_screen("attract")
    rig.sign_in(h, "guide")
    assert h.app.staff.signed_in


def test_a_card_not_on_the_roster_is_refused_at_the_pin(staffed: Harness,
                                                       rig: StaffRig) -> None:
    h = staffed
    h.ui.service.request_staff_mode()
    h.wait_screen("staff_signin")
    h.kiosk.identity.present("resident")           # a citizen's card: not staff
    h.wait(lambda: h.has("pin_dots"), "the card read")
    rig.type_pin(h)
    assert "名册中没有这张证件" in str(h.find("staff_message").text)
    assert h.has("staff_read_again") and h.app.staff.session is None


def test_120_seconds_without_a_touch_sign_staff_out(staffed: Harness, rig: StaffRig) -> None:
    h = staffed
    rig.sign_in(h, "all")
    rig.clock.advance(119)
    h.pump(3)
    assert h.screen == "staff_menu"
    rig.clock.advance(2)
    h.wait_screen("attract")                       # the navigator's tick signed out
    assert rig.entries()[-1]["after"] == {"reason": "idle", "mode": "service"}
    assert h.ui.service.state()[0] is KioskState.AVAILABLE


def test_assist_over_a_citizen_session_returns_to_the_same_screen(staffed: Harness,
                                                                  rig: StaffRig) -> None:
    h = staffed
    start_matter(h)
    identify(h)                                     # on capture, the citizen identified
    session = h.journey.session
    identity = session.identity
    before = h.text_on_screen()
    h.tap("call_staff")
    h.wait(lambda: h.has("staff_sign_in"), "the call dialog")
    shot(h, "call-dialog-staff-button")
    h.tap("staff_sign_in")
    rig.to_pin(h, "all")
    assert not h.has("public_notice")              # assist: the kiosk is not paused
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    shot(h, "menu-assist")
    assert "menu_staff_maintenance" not in menu_names(h)     # service mode only
    assert "menu_staff_exit" not in menu_names(h)
    assert h.ui.service.staff_call() is None        # the member of staff has come
    h.tap("staff_sign_out")
    h.wait_screen("capture")
    assert h.journey.session is session and session.identity is identity
    assert session.matter.code == MATTER and session.end_reason is None
    assert h.text_on_screen() == before
    assert [e["after"].get("mode") for e in rig.entries()] == ["assist", "assist"]


def test_no_staff_function_is_reachable_without_signing_in(staffed: Harness,
                                                           rig: StaffRig) -> None:
    """Walk the citizen's screens: none offers a staff function, and each staff screen
    reached directly draws only the gate (no body, no audit entry)."""
    h = staffed
    function_names = {f"menu_{f.screen}" for f in FUNCTIONS} | {"staff_menu"}
    seen: list[str] = []

    def look() -> None:
        seen.append(h.screen)
        assert not (h.names() & function_names), h.screen
        for function in FUNCTIONS:
            current = h.screen
            h.nav.go(function.screen)
            h.pump(2)
            shown = h.names() - {function.screen}
            assert shown <= {"staff_gate", "back"}, (function.screen, shown)
            h.nav.go(current)
            h.pump(2)
    look()
    start_matter(h)
    look()
    identify(h)
    look()
    assert seen == ["attract", "guide", "capture"] and rig.entries() == []
    h.nav.go("staff_menu")
    h.pump(2)
    assert h.names() - {"staff_menu"} <= {"staff_gate", "back"}
    h.tap("back")                                   # a citizen's session is left alone
    assert h.journey.session is not None and rig.entries() == []


def test_no_card_number_or_pin_reaches_a_log(staffed: Harness, rig: StaffRig,
                                             caplog: pytest.LogCaptureFixture) -> None:
    h = staffed
    caplog.set_level(logging.DEBUG)
    rig.sign_in(h, "all")
    h.tap("menu_staff_audit")
    h.wait_screen("staff_audit")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    written = caplog.text + (rig.folder / "audit.log").read_text()
    for _sid, number, _roles in PEOPLE.values():
        assert number not in written
    assert PIN not in written


def test_a_citizen_read_still_waiting_does_not_take_the_staff_card(staffed: Harness,
                                                                   rig: StaffRig) -> None:
    """Staff called from the identify screen, whose read of the citizen's card still waits:
    the staff card placed for sign-in is never filed as the citizen's identity."""
    h = staffed
    start_matter(h)
    h.tap("next")
    h.wait_screen("identify")                      # its read waits for a card
    session = h.journey.session
    h.tap("call_staff")
    h.wait(lambda: h.has("staff_sign_in"), "the call dialog")
    h.tap("staff_sign_in")
    rig.to_pin(h, "guide")
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    assert session.identity is None
    h.tap("staff_sign_out")
    h.wait_screen("identify")
    assert h.journey.session is session and session.identity is None
    h.wait(lambda: h.has("retry"), "the citizen asked to read their card again")
    assert "工作人员登录期间未读取您的证件" in h.text_on_screen()
    h.kiosk.identity.present("resident")
    h.tap("retry")
    h.wait(lambda: h.has("next"), "the citizen's own card read")
    assert session.identity is not None and session.identity.id_number != PEOPLE["guide"][1]


def test_signing_out_leaves_a_hold_that_was_not_staffs(staffed: Harness,
                                                       rig: StaffRig) -> None:
    """A fleet's maintenance_on (the lifecycle's hold) outlives a staff visit, and a
    cancelled sign-in releases nothing."""
    h = staffed
    lifecycle = h.kiosk.lifecycle
    assert lifecycle.hold(h.ui.service.now())
    h.ui.service.request_staff_mode()
    h.wait_screen("staff_signin")
    h.tap("staff_cancel")
    h.wait_screen("attract")
    assert lifecycle.held
    rig.sign_in(h, "maint")
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    assert lifecycle.held and h.ui.service.state()[0] is KioskState.UNAVAILABLE


def test_assist_mid_typing_keeps_what_the_citizen_typed(staffed: Harness,
                                                        rig: StaffRig) -> None:
    """Staff called in the middle of typing a street: after sign-out the same screen shows
    the same region, street and keyboard."""
    h = staffed
    reach_delivery(h)
    h.tap("delivery_post_other")
    while not h.has("region_510000"):
        h.tap("region_more")
    h.tap("region_510000")
    h.tap("region_510800")
    h.tap("region_510802")
    h.type_keys("shili")
    h.tap("candidate_0")
    h.type_keys("100")
    before, screen = h.text_on_screen(), h.screen
    h.tap("call_staff")
    h.wait(lambda: h.has("staff_sign_in"), "the call dialog")
    h.tap("staff_sign_in")
    rig.to_pin(h, "guide")
    rig.type_pin(h)
    h.wait_screen("staff_menu")
    h.tap("staff_sign_out")
    h.wait_screen(screen)
    assert h.text_on_screen() == before and "100" in before


def test_a_remote_emergency_opening_signs_in_once_past_a_lock(staffed: Harness,
                                                              rig: StaffRig) -> None:
    """A signed staff_open command (kiosk/fleet: verified before it reaches the authority)
    grants g001 one opening: the sign-in screen offers it even while sign-in is locked."""
    h = staffed
    h.ui.service.request_staff_mode()
    rig.to_pin(h, "guide")
    for _ in range(5):
        rig.type_pin(h, "000000")
    assert "锁定" in str(h.find("staff_message").text) and not h.has("staff_emergency")
    h.tap("staff_cancel")
    h.wait_screen("attract")
    rig.authority.grant_emergency("g001", "cmd-0001", rig.clock())
    h.ui.service.request_staff_mode()
    h.wait_screen("staff_signin")
    shot(h, "signin-emergency")
    h.tap("staff_emergency")
    h.wait_screen("staff_menu")
    assert h.app.staff.session is not None and h.app.staff.session.staff_id == "g001"
    h.tap("staff_sign_out")
    h.wait_screen("attract")
    h.ui.service.request_staff_mode()                # used: not offered again
    h.wait_screen("staff_signin")
    assert not h.has("staff_emergency")
    opened = [e["after"]["result"] for e in rig.entries()
              if e["action"] == "staff.emergency_open"]
    assert opened == ["granted", "opened"]

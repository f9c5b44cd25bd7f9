"""Staff sign-in and sessions: card + PIN against the roster, typed results, the persisted
lock-out, expired and revoked staff, the emergency opening, the 120 s sign-out, and one
audit entry per attempt and per action — with nothing secret in the log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.staff.audit import LOG_NAME, AuditLog
from kiosk.staff.authority import Refused, SignedIn, StaffAuthority
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import PERMISSIONS, Action, Role
from kiosk.staff.roster import (
    ROSTER_FORMAT,
    Roster,
    StaffRecord,
    card_digest,
    hash_pin,
    read_roster,
)
from kiosk.staff.session import Mode, StaffSession
from kiosk.staff.verify import verify

SECRET = bytes(range(32))
GUIDE_CARD, SUPER_CARD, OLD_CARD = "11010119900307123X", "110101198001011234", "110101197001011237"
PIN = "135790"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _record(staff_id: str, card: str, roles: tuple[Role, ...], **extra: object) -> StaffRecord:
    return StaffRecord(id=staff_id, name="王小明", roles=roles, card=card_digest(SECRET, card),
                       pin=hash_pin(SECRET, PIN), valid_until=date(2027, 12, 31), **extra)


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster(format=ROSTER_FORMAT, hall="hall-1", staff=(
        _record("g001", GUIDE_CARD, (Role.GUIDE,)),
        _record("s001", SUPER_CARD, (Role.SUPERVISOR,)),
        _record("x001", OLD_CARD, (Role.GUIDE,), revoked=True)))


def _authority(tmp: Path, roster: Roster | None, clock: Clock,
               alerts: list[str] | None = None) -> StaffAuthority:
    audit = AuditLog(tmp / "staff", "110101-0001", clock)
    seen: list[str] = [] if alerts is None else alerts
    return StaffAuthority(tmp / "staff", lambda: roster, SECRET, audit, clock,
                          on_alert=lambda code, _d: seen.append(code))


def _entries(tmp: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp / "staff" / LOG_NAME).read_text().splitlines()]


def test_card_and_pin_sign_in_gives_a_session_with_the_roster_roles(tmp_path: Path,
                                                                    roster: Roster) -> None:
    result = _authority(tmp_path, roster, Clock()).sign_in(GUIDE_CARD.lower(), PIN, Mode.SERVICE)
    assert isinstance(result, SignedIn)
    assert result.session.staff_id == "g001" and result.session.roles == {Role.GUIDE}
    [entry] = _entries(tmp_path)
    assert entry["staff"] == "g001" and entry["action"] == "staff.sign_in"
    assert entry["after"] == {"result": "ok", "mode": "service"}


@pytest.mark.parametrize(("card", "pin", "code"), [
    (GUIDE_CARD, "000000", "wrong_pin"), ("110101200001011236", PIN, "unknown_card"),
    ("not a number", PIN, "unknown_card"), (OLD_CARD, PIN, "revoked"),
    (GUIDE_CARD, "12345", "wrong_pin")])
def test_refusals_are_typed_and_audited_once(tmp_path: Path, roster: Roster, card: str,
                                             pin: str, code: str) -> None:
    result = _authority(tmp_path, roster, Clock()).sign_in(card, pin, Mode.ASSIST)
    assert isinstance(result, Refused) and result.code == code and result.zh and result.en
    [entry] = _entries(tmp_path)
    assert entry["after"]["result"] == code


def test_expired_staff_is_refused(tmp_path: Path, roster: Roster) -> None:
    clock = Clock()
    clock.now = datetime(2028, 1, 1, 9, 0, tzinfo=UTC)
    result = _authority(tmp_path, roster, clock).sign_in(GUIDE_CARD, PIN, Mode.SERVICE)
    assert isinstance(result, Refused) and result.code == "expired"


def test_no_roster_means_unavailable_with_a_reason(tmp_path: Path) -> None:
    authority = _authority(tmp_path, None, Clock())
    reason = authority.unavailable()
    assert reason is not None and reason.code == "no_roster" and "名册" in reason.zh
    result = authority.sign_in(GUIDE_CARD, PIN, Mode.SERVICE)
    assert isinstance(result, Refused) and result.code == "no_roster"


def test_five_wrong_pins_lock_for_15_minutes_across_a_restart(tmp_path: Path,
                                                              roster: Roster) -> None:
    clock, alerts = Clock(), []
    authority = _authority(tmp_path, roster, clock, alerts)
    left = [authority.sign_in(GUIDE_CARD, "999999", Mode.SERVICE) for _ in range(5)]
    assert [r.attempts_left for r in left if isinstance(r, Refused)] == [4, 3, 2, 1, 0]
    assert isinstance(left[-1], Refused) and left[-1].code == "locked"
    assert alerts == ["staff_locked"]
    restarted = _authority(tmp_path, roster, clock)
    locked = restarted.sign_in(GUIDE_CARD, PIN, Mode.SERVICE)       # right PIN, still locked
    assert isinstance(locked, Refused) and locked.code == "locked"
    assert restarted.alert() is not None and restarted.alert()["code"] == "staff_locked"
    clock.now += timedelta(minutes=15, seconds=1)
    assert restarted.alert() is None
    assert isinstance(restarted.sign_in(GUIDE_CARD, PIN, Mode.SERVICE), SignedIn)
    assert len(_entries(tmp_path)) == 7 and verify(tmp_path / "staff").entries == 7


def test_a_right_pin_resets_the_count(tmp_path: Path, roster: Roster) -> None:
    authority = _authority(tmp_path, roster, Clock())
    for _ in range(4):
        authority.sign_in(GUIDE_CARD, "999999", Mode.SERVICE)
    assert isinstance(authority.sign_in(GUIDE_CARD, PIN, Mode.SERVICE), SignedIn)
    again = authority.sign_in(GUIDE_CARD, "999999", Mode.SERVICE)
    assert isinstance(again, Refused) and again.attempts_left == 4


def test_nothing_secret_reaches_the_audit_log(tmp_path: Path, roster: Roster) -> None:
    authority = _authority(tmp_path, roster, Clock())
    authority.sign_in(GUIDE_CARD, "246802", Mode.SERVICE)
    authority.sign_in(GUIDE_CARD, PIN, Mode.SERVICE)
    text = (tmp_path / "staff" / LOG_NAME).read_text()
    for secret in (GUIDE_CARD, GUIDE_CARD[:-1], PIN, "246802", roster.staff[0].card,
                   roster.staff[0].pin.hash, "王小明"):
        assert secret not in text
    assert "王小明" not in repr(roster.staff[0]) and roster.staff[0].card not in repr(roster)


def _session(tmp: Path, roster: Roster, clock: Clock, card: str = GUIDE_CARD) -> StaffSession:
    result = _authority(tmp, roster, clock).sign_in(card, PIN, Mode.ASSIST)
    assert isinstance(result, SignedIn)
    return result.session


def test_perform_checks_the_role_and_writes_exactly_one_entry(tmp_path: Path,
                                                              roster: Roster) -> None:
    clock = Clock()
    guide = _session(tmp_path, roster, clock)
    done = guide.perform(Action.VERIFY_ORIGINAL, lambda: {"material": "hukou"},
                         case="110101-0001-261207-0001-3", before={"state": "unverified"})
    assert done == {"material": "hukou"}
    with pytest.raises(StaffError) as info:
        guide.perform(Action.LEDGER_EXPORT_UNMASKED, lambda: pytest.fail("must not run"))
    assert info.value.code == "forbidden"
    with pytest.raises(KeyError):
        guide.perform(Action.REPRINT, lambda: {}["boom"])
    entries = _entries(tmp_path)[1:]
    assert [(e["action"], e["after"]["result"]) for e in entries] == [
        ("case.verify_original", "done"), ("ledger.export_unmasked", "forbidden"),
        ("case.reprint", "failed")]
    assert entries[0]["case"] == "110101-0001-261207-0001-3"


def test_idle_120s_signs_out_once_and_refuses_further_actions(tmp_path: Path,
                                                              roster: Roster) -> None:
    clock = Clock()
    session = _session(tmp_path, roster, clock)
    clock.now += timedelta(seconds=119)
    assert not session.idle_expired(clock.now)
    session.touch()
    clock.now += timedelta(seconds=120)
    assert session.idle_expired(clock.now)
    with pytest.raises(StaffError) as info:
        session.perform(Action.REPRINT, lambda: None)
    assert info.value.code == "idle" and session.ended == "idle"
    with pytest.raises(StaffError) as again:
        session.perform(Action.REPRINT, lambda: None)
    assert again.value.code == "signed_out"
    session.sign_out()
    actions = [e["action"] for e in _entries(tmp_path)]
    assert actions == ["staff.sign_in", "staff.sign_out"]


def test_permission_table_matches_the_issue() -> None:
    assert Action.APPROVE_RONGQUE in PERMISSIONS[Role.WINDOW]
    assert Action.APPROVE_RONGQUE not in PERMISSIONS[Role.GUIDE]
    only_super = [r for r, acts in PERMISSIONS.items() if Action.LEDGER_EXPORT_UNMASKED in acts]
    assert only_super == [Role.SUPERVISOR]
    assert {Action.SELF_TEST, Action.MAINTENANCE} <= PERMISSIONS[Role.MAINTAINER]
    assert Action.EXIT_TO_DESKTOP in PERMISSIONS[Role.SUPERVISOR]


def test_emergency_opening_once_past_a_lock_and_without_roster(tmp_path: Path,
                                                               roster: Roster) -> None:
    clock = Clock()
    authority = _authority(tmp_path, None, clock)
    authority.grant_emergency("m007", "cmd-1", clock.now)
    wrong = authority.open_emergency("g001", Mode.SERVICE)
    assert isinstance(wrong, Refused) and wrong.code == "no_grant"
    opened = authority.open_emergency("m007", Mode.SERVICE)
    assert isinstance(opened, SignedIn) and opened.session.roles == {Role.MAINTAINER}
    assert opened.session.emergency
    again = _authority(tmp_path, None, clock).open_emergency("m007", Mode.SERVICE)
    assert isinstance(again, Refused)                                   # once, across restarts
    with pytest.raises(StaffError):
        authority.grant_emergency("m007", "cmd-1", clock.now)           # a used command id


def test_emergency_grant_expires(tmp_path: Path, roster: Roster) -> None:
    clock = Clock()
    authority = _authority(tmp_path, roster, clock)
    authority.grant_emergency("g001", "cmd-2", clock.now)
    clock.now += timedelta(minutes=16)
    assert isinstance(authority.open_emergency("g001", Mode.SERVICE), Refused)


def test_roster_round_trips_and_refuses_damage(roster: Roster) -> None:
    assert read_roster(roster.to_bytes()) == roster
    doc = json.loads(roster.to_bytes())
    doc["staff"][0]["roles"] = ["janitor"]
    with pytest.raises(StaffError) as info:
        read_roster(json.dumps(doc).encode())
    assert info.value.code == "bad_roster"
    doc = json.loads(roster.to_bytes())
    doc["staff"].append(doc["staff"][0])
    with pytest.raises(StaffError):
        read_roster(json.dumps(doc).encode())
    with pytest.raises(StaffError):
        read_roster(b"x" * (2 << 20))


def test_report_for_the_heartbeat_carries_the_lock_and_the_audit_anchor(
        tmp_path: Path, roster: Roster) -> None:
    clock = Clock()
    authority = _authority(tmp_path, roster, clock)
    assert authority.report() == {"available": True, "reason": None, "locked_until": None,
                                  "audit": {"seq": 0, "hash": "0" * 64}}
    for _ in range(5):
        authority.sign_in(GUIDE_CARD, "999999", Mode.SERVICE)
    report = authority.report()
    assert datetime.fromisoformat(report["locked_until"]) == clock.now + timedelta(minutes=15)
    assert report["audit"]["seq"] == 5
    assert "g001" not in json.dumps(report)
    assert _authority(tmp_path, None, clock).report()["reason"] == "no_roster"

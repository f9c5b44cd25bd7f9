"""The guarded clock. The wall clock here is a fake one the test moves: jumping the real
clock needs root (CAP_SYS_TIME) and would move every other process on the machine, so a
fake wall clock is the only way to jump time in CI. The monotonic clock is faked with it so
the two can part as they do when someone sets the time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_citizen import confirmed_session

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.bus import EventBus
from kiosk.demo.hand import DemoHand
from kiosk.lifecycle import Lifecycle
from kiosk.ops.clock import GuardedClock, observe_signed_time, signed_timestamp_time
from kiosk.ops_settings import ClockSettings
from kiosk.service import KioskService
from kiosk.settings import Hours, load_settings

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass
class Clocks:
    """A wall clock and a monotonic one; ``tick`` moves both, ``jump`` the wall alone."""

    wall_at: datetime = START
    mono_at: float = 1000.0

    def wall(self) -> datetime:
        return self.wall_at

    def mono(self) -> float:
        return self.mono_at

    def tick(self, seconds: float) -> None:
        self.wall_at += timedelta(seconds=seconds)
        self.mono_at += seconds

    def jump(self, seconds: float) -> None:
        self.wall_at += timedelta(seconds=seconds)


def guarded(clocks: Clocks, lifecycle: Lifecycle | None = None) -> GuardedClock:
    return GuardedClock(ClockSettings(max_skew_s=300, jump_s=30), lifecycle, clocks.wall,
                        clocks.mono)


def test_follows_the_wall_clock_and_its_slews() -> None:
    clocks = Clocks()
    clock = guarded(clocks)
    clocks.tick(3600)
    clocks.jump(5)                                    # NTP slewing: seconds, not a jump
    assert clock.utcnow() == START + timedelta(seconds=3605)
    assert clock.report().jumps == 0


@pytest.mark.parametrize("jump", [-3 * 86400, -7200, 7200, 400 * 86400])
def test_a_jump_is_reported_once_and_case_times_carry_on(jump: float) -> None:
    clocks = Clocks()
    lifecycle = Lifecycle(EventBus(), Hours())
    clock = guarded(clocks, lifecycle)
    clocks.tick(60)
    clocks.jump(jump)
    clocks.tick(10)
    assert clock.utcnow() == START + timedelta(seconds=70)     # the monotonic clock's time
    clocks.tick(10)
    assert clock.utcnow() == START + timedelta(seconds=80)
    report = clock.report()
    assert report.jumps == 1 and round(report.offset_s) == jump
    assert [a["code"] for a in lifecycle.alerts] == ["clock_jump"]
    assert clock.now(UTC) == START + timedelta(seconds=80)


def test_trusted_time_settles_which_clock_is_right() -> None:
    clocks = Clocks()
    lifecycle = Lifecycle(EventBus(), Hours())
    clock = guarded(clocks, lifecycle)
    clocks.jump(7200)                                  # NTP corrects a clock two hours slow
    assert clock.utcnow() == START
    truth = START + timedelta(seconds=7200)
    assert clock.trusted(truth, "fleet command")       # the signed command's time agrees
    assert clock.utcnow() == truth and not clock.report().far_off

    clocks.jump(-3600)                                 # now wrong, and trusted time says so
    assert not clock.trusted(truth, "fleet command")
    assert clock.report().far_off
    clocks.tick(30)
    assert clock.utcnow() == truth + timedelta(seconds=30)
    assert [a["code"] for a in lifecycle.alerts] == ["clock_jump", "clock_far_off"]


def test_the_fleet_timestamp_is_a_lower_bound(tmp_path: Path) -> None:
    clocks = Clocks()
    clock = guarded(clocks)
    assert observe_signed_time(clock, tmp_path) is None           # none held yet
    signed_at = START + timedelta(days=2)                         # signed after "now"
    (tmp_path / "timestamp.json").write_text(json.dumps({"signed": {
        "_type": "timestamp", "expires": (signed_at + timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")}}))
    assert signed_timestamp_time(tmp_path) == signed_at
    assert observe_signed_time(clock, tmp_path) is False          # our clock is behind
    assert clock.report().far_off and clock.utcnow() == signed_at
    clocks.jump(2 * 86400 + 3600)                                 # set right (an hour on)
    assert observe_signed_time(clock, tmp_path) is True
    assert clock.utcnow() == clocks.wall_at


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path / "data")
    k = build_kiosk(settings)
    try:
        yield k
    finally:
        k.close()


def test_a_jump_back_mid_session_moves_no_deadline_and_no_case_date(kiosk: Kiosk) -> None:
    now = datetime.now(UTC)
    clocks = Clocks(wall_at=now)
    kiosk.clock = guarded(clocks, kiosk.lifecycle)
    service = KioskService(kiosk)                       # on the kiosk's guarded clock
    kiosk.open(service.now())
    session = confirmed_session(service, DemoHand.reach(kiosk.identity, kiosk.camera,
                                                        kiosk.printer))
    clocks.tick(120)
    clocks.jump(-3 * 86400)                            # the RTC is reset mid-session
    submitted = service.submit(session)
    entry = next(e for e in kiosk.outbox.entries() if e.package_id == submitted.package_id)
    hours = kiosk.settings.transfer.transfer_deadline_hours
    expected = now + timedelta(seconds=120, hours=hours)
    assert abs((entry.deadline - expected).total_seconds()) < 1     # not three days early
    day = (now + timedelta(seconds=120)).astimezone().strftime("%y%m%d")
    assert submitted.case_number.split("-")[2] == day
    assert submitted.transfer_numbers[0][-16:-8].endswith(day[2:]) or day in \
        submitted.transfer_numbers[0]
    assert "clock_jump" in [a["code"] for a in kiosk.lifecycle.alerts]
    session.finish()
    service.close()

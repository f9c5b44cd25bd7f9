"""Overdue alerts from the status the regions sent (or did not): no ``received`` within 2
hours of delivery (seed 002), a 补正 deadline passed, a result at the window not collected —
each raised once per transfer, through the real outbox and ledger files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from status_rig import HOME, Rig

from kiosk.casestatus.event import CaseState
from kiosk.casestatus.overdue import alert_overdue
from kiosk.transfer.outbox import Outbox, PackageMeta

MAX_AGE = timedelta(days=30)


class Clock(datetime):
    at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Clock:       # type: ignore[override]
        return cls.fromtimestamp(cls.at.timestamp(), tz)


def _delivered(folder: Path, case: str, at: datetime) -> Outbox:
    Clock.at = at
    outbox = Outbox(folder / "outbox", clock=Clock)
    meta = PackageMeta(package_id=f"p{case[-6:]}".replace("-", ""), case_number=case,
                       matter_code="M1", suite="x25519-chacha20", deadline=at)
    with outbox.spooling(meta, (HOME,)) as files:
        files[HOME].write(b"sealed")
    outbox.delivered(outbox.entries()[0])
    return outbox


def _overdue(rig: Rig, outbox: Outbox) -> list[str]:
    alert_overdue(rig.store, outbox, rig.alerts, rig.now, collect_days=14, max_age=MAX_AGE)
    return [a["code"] for a in rig.alerts.raised]


def test_no_received_within_two_hours_alerts_once(rig: Rig, tmp_path: Path) -> None:
    case = rig.send_case()
    outbox = _delivered(tmp_path, case, rig.now - timedelta(hours=1))
    assert _overdue(rig, outbox) == []                # within the 2 hours
    rig.now += timedelta(hours=2)
    assert _overdue(rig, outbox) == ["status_not_received"]
    assert _overdue(rig, outbox) == ["status_not_received"]     # not again
    outbox.close()


def test_received_in_time_raises_nothing(rig: Rig, tmp_path: Path) -> None:
    case = rig.send_case()
    outbox = _delivered(tmp_path, case, rig.now - timedelta(hours=3))
    rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED, at=rig.now - timedelta(hours=2)))
    assert _overdue(rig, outbox) == []
    outbox.close()


def test_a_passed_correction_deadline_alerts(rig: Rig, tmp_path: Path) -> None:
    case = rig.send_case()
    outbox = _delivered(tmp_path, case, rig.now - timedelta(days=5))
    rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED, at=rig.now - timedelta(days=5)))
    rig.receiver.apply(rig.event(case, 2, CaseState.CORRECTION_REQUIRED,
                                 at=rig.now - timedelta(days=4),
                                 details={"deadline": "2026-12-10", "items": ["户口簿"]}))
    assert _overdue(rig, outbox) == []
    rig.now = datetime(2026, 12, 11, 1, tzinfo=UTC)
    assert _overdue(rig, outbox) == ["correction_overdue"]
    outbox.close()


def test_a_result_not_collected_after_the_configured_days_alerts(rig: Rig,
                                                                  tmp_path: Path) -> None:
    case = rig.send_case()
    outbox = _delivered(tmp_path, case, rig.now - timedelta(days=9))
    steps = (CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.DECIDED,
             CaseState.DISPATCHED, CaseState.ARRIVED_AT_WINDOW)
    for seq, state in enumerate(steps, start=1):
        rig.receiver.apply(rig.event(case, seq, state,
                                     at=rig.now - timedelta(days=9 - seq)))
    assert _overdue(rig, outbox) == []
    rig.now += timedelta(days=11)          # 15 days at the window > 14
    assert _overdue(rig, outbox) == ["result_not_collected"]
    rig.receiver.apply(rig.event(case, 6, CaseState.COLLECTED, at=rig.now))
    rig.alerts.raised.clear()
    assert _overdue(rig, outbox) == []
    outbox.close()


def test_the_heartbeat_report_counts_outcomes_without_numbers(tmp_path: Path) -> None:
    from kiosk.casestatus.service import CaseStatusService
    from kiosk.paths import REPO
    from kiosk.settings import load_settings

    settings = load_settings(REPO / "config" / "demo.toml").with_data_dir(tmp_path / "data")
    rig = Rig(tmp_path / "rig")
    service = CaseStatusService(settings, rig.store, rig.directory, rig.alerts,
                                now=lambda: rig.now)
    case = rig.send_case()
    service.receiver.apply(rig.event(case, 1, CaseState.RECEIVED))
    service.receiver.apply(rig.event(case, 1, CaseState.RECEIVED))
    service.receiver.apply(rig.event(case, 3, CaseState.CORRECTION_REQUIRED))
    service.receiver.apply(b"{}")
    report = service.report()
    assert report == {"active": False, "feeds": 0, "held": 1,
                      "counts": {"applied": 1, "duplicate": 1, "held": 1,
                                 "rejected_malformed": 1}}
    assert case not in repr(report) and "XT" not in repr(report)
    rig.close()

"""日检: the reminder's rule (start and end of every day, non-working days included), the
records on disk (who, when, kind, each check), the one audit entry per recorded inspection,
the heartbeat's field and its alert once; and the checks themselves on a demo kiosk's
emulated devices (the printed target read by the camera, a test strip, faults failing)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from staff_kit import Clock, demo_kiosk, entries, session

from drivers.status import PaperLevel
from kiosk.fleet.status import OutboxHealth, build_status
from kiosk.ops.verdicts import FAIL, OK, WARN, Check
from kiosk.settings import Hours
from kiosk.staff import selftest
from kiosk.staff.errors import StaffError
from kiosk.staff.inspection import Inspection, InspectionStore, Kind, Missing, Reminder, due
from kiosk.staff.roles import Role

HALL = Hours(open=time(9), close=time(17), closed_weekdays=(5, 6))
DAY = date(2026, 12, 7)                       # a Monday


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute))


def test_start_of_day_is_due_an_hour_after_opening_until_recorded() -> None:
    assert due(HALL, at(9, 59), [], [Kind.END]) == []
    assert due(HALL, at(10, 0), [], [Kind.END]) == [Missing(Kind.START, DAY)]
    assert due(HALL, at(10, 0), [Kind.START], [Kind.END]) == []


def test_end_of_day_is_due_after_closing_and_stays_due_until_the_next_start() -> None:
    assert due(HALL, at(17, 59), [Kind.START], [Kind.END]) == []
    assert due(HALL, at(18, 0), [Kind.START], [Kind.END]) == [Missing(Kind.END, DAY)]
    tomorrow = date(2026, 12, 8)
    assert due(HALL, at(8, 0, tomorrow), [], [Kind.START]) == [Missing(Kind.END, DAY)]
    assert due(HALL, at(8, 0, tomorrow), [Kind.START], [Kind.START]) == []


def test_non_working_days_are_checked_too() -> None:
    saturday = date(2026, 12, 12)
    assert due(HALL, at(10, 30, saturday), [], [Kind.START, Kind.END]) == \
        [Missing(Kind.START, saturday)]


def test_a_round_the_clock_kiosk_is_checked_in_office_hours() -> None:
    always = Hours()
    assert due(always, at(2, 0), [], [Kind.END]) == []
    assert due(always, at(10, 0), [], [Kind.END]) == [Missing(Kind.START, DAY)]
    assert due(always, at(18, 30), [Kind.START], [Kind.END]) == [Missing(Kind.END, DAY)]


def _record(kind: Kind, finished: datetime, *checks: Check) -> Inspection:
    checks = checks or (Check("disk", OK, "好", "fine"),)
    return Inspection(kind, "M001", "510802-0001", finished, finished, checks)


def test_records_are_kept_listed_newest_first_and_damage_is_skipped(tmp_path: Path) -> None:
    store = InspectionStore(tmp_path)
    assert store.missing(HALL, at(12)) == [Missing(Kind.START, DAY)]   # no yesterday: new
    store.save(_record(Kind.START, at(9, 5)))
    store.save(_record(Kind.END, at(17, 20), Check("outbox", FAIL, "超时", "late")))
    (store.folder / "20261207-start-120000.json").write_text("{broken", encoding="utf-8")
    newest = store.recent()
    assert [r.kind for r in newest] == [Kind.END, Kind.START]
    assert newest[0].verdict == FAIL and newest[0].failed == ["outbox"]
    assert store.kinds_on(DAY) == {Kind.START, Kind.END}
    assert store.missing(HALL, at(19)) == []
    assert oct((store.folder).stat().st_mode & 0o777) == "0o700"


def test_the_reminder_alerts_once_per_missing_check(tmp_path: Path) -> None:
    store, clock, alerts = InspectionStore(tmp_path), Clock(at(8)), []
    store.save(_record(Kind.END, at(17, 30, date(2026, 12, 6))))
    reminder = Reminder(store, lambda: HALL, clock, lambda c, d: alerts.append((c, d)))
    assert reminder.report()["missing"] == [] and alerts == []
    clock.now = at(10, 30)
    assert reminder.report()["missing"] == [{"kind": "start", "day": "2026-12-07"}]
    reminder.report()
    assert [c for c, _ in alerts] == ["selftest_missing"]
    assert alerts[0][1]["zh"] == "12月7日的班前检查尚未完成"
    assert reminder.lines() == [("12月7日的班前检查尚未完成",
                                 "the start-of-day check of 2026-12-07 is missing")]


def test_the_heartbeat_status_carries_the_selftest_field(tmp_path: Path) -> None:
    store = InspectionStore(tmp_path)
    store.save(_record(Kind.START, at(9, 5), Check("camera", WARN, "模糊", "blurred")))
    field = store.report(HALL, at(12))
    status = build_status(kiosk_id="510802-0001", config={}, state="available", reason=None,
                          devices={}, outbox=OutboxHealth(0, None, 0), disk_mb=1, alerts={},
                          selftest=field)
    assert status["selftest"] == {"last": {"kind": "start", "at": "2026-12-07T09:05:00",
                                           "verdict": "warn", "failed": []}, "missing": []}
    assert "M001" not in json.dumps(status)            # no staff id off the machine


def test_recording_goes_through_perform_once_and_needs_the_maintainer(tmp_path: Path) -> None:
    store, clock = InspectionStore(tmp_path), Clock(at(9, 10))
    checks = (Check("disk", OK, "好", "fine"), Check("clock", FAIL, "时间不对", "clock off"))
    guide = session(tmp_path, Role.GUIDE, clock=clock, staff_id="G001")
    with pytest.raises(StaffError) as refused:
        selftest.record(guide, store, Kind.START, checks, at(9), at(9, 10))
    assert refused.value.code == "forbidden" and store.recent() == []
    maintainer = session(tmp_path, Role.MAINTAINER, clock=clock)
    made = selftest.record(maintainer, store, Kind.START, checks, at(9), at(9, 10))
    assert made.staff_id == "M001" and store.recent()[0].as_dict() == made.as_dict()
    done = entries(tmp_path)
    assert [(e["staff"], e["action"], e["after"]["result"]) for e in done] == [
        ("G001", "device.self_test", "forbidden"), ("M001", "device.self_test", "done")]
    assert done[1]["after"] == {"result": "done", "kind": "start", "verdict": "fail",
                                "failed": ["clock"]}


@pytest.fixture
def kiosk(tmp_path: Path):  # type: ignore[no-untyped-def]
    with demo_kiosk(tmp_path / "data") as made:
        yield made


def test_every_check_passes_on_a_well_kiosk_with_the_target_on_the_plate(kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk.camera.place("日检测试卡")
    checks = selftest.run_all(selftest.steps(kiosk, datetime.now))
    assert {c.name: c.verdict for c in checks} == {
        "identity_reader": OK, "document_camera": OK, "receipt_printer": OK,
        "network.directory_routes": OK, "clock": OK, "disk": OK, "outbox": OK}
    camera = next(c for c in checks if c.name == "document_camera")
    assert camera.detail["target_read"] and camera.detail["page_found"]
    strip = kiosk.printer.virtual.wait_for_jobs(1)                       # the test strip,
    assert any("日检测试条" in line for line in strip[0].transcript)      # on the real bytes


def test_another_page_is_not_the_target_and_no_page_fails(kiosk) -> None:  # type: ignore[no-untyped-def]
    assert selftest.check_camera(kiosk, timeout=0.2).verdict == FAIL      # nothing placed
    kiosk.camera.place("户口簿")
    other = selftest.check_camera(kiosk, timeout=1)
    assert other.verdict == WARN and other.detail["target_read"] is False
    kiosk.camera.place("日检测试卡")
    kiosk.camera.inject("blurred")
    assert selftest.check_camera(kiosk, timeout=1).verdict == FAIL


def test_the_test_card_is_read_and_nothing_of_it_is_kept(kiosk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kiosk.identity.present("resident")
    check = selftest.check_identity(kiosk, read_card=True, timeout=2)
    assert check.verdict == OK and check.detail["card_read"] is True
    record = Inspection(Kind.START, "M001", "510802-0001", at(9), at(9), (check,))
    text = json.dumps(record.as_dict(), ensure_ascii=False)
    for secret in ("张明华", "110101195803121237", "示例胡同"):
        assert secret not in text


def test_paper_out_fails_the_printer_check_and_prints_nothing(kiosk) -> None:  # type: ignore[no-untyped-def]
    kiosk.printer.set_paper(PaperLevel.OUT)
    check = selftest.check_printer(kiosk, datetime.now())
    assert check.verdict == FAIL and kiosk.printer.virtual.jobs == []
    kiosk.printer.set_paper(PaperLevel.LOW)
    assert selftest.check_printer(kiosk, datetime.now()).verdict == WARN

"""Kiosk lifecycle: INITIALIZE → UNAVAILABLE(reason) ⇄ AVAILABLE ⇄ ACTIVE, driven by devices
and service hours; matters whose devices are down are shown unavailable with the reason."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest

from drivers.status import DeviceState, DeviceStatus, PaperLevel
from kiosk.bus import EventBus
from kiosk.catalogue.model import Matter
from kiosk.devices.kinds import DeviceKind
from kiosk.errors import SessionError
from kiosk.lifecycle import LIFECYCLE_TOPIC, KioskState, Lifecycle, Reason
from kiosk.settings import Hours

HOURS = Hours(open=time(9, 0), close=time(17, 0), closed_weekdays=(6,),
              maintenance=("12:00-12:30",))
MONDAY_10 = datetime(2025, 3, 3, 10, 0)        # 2025-03-03 is a Monday
MONDAY_EARLY = datetime(2025, 3, 3, 8, 59)
MONDAY_LATE = datetime(2025, 3, 3, 17, 30)
MONDAY_MAINTENANCE = datetime(2025, 3, 3, 12, 10)
SUNDAY_10 = datetime(2025, 3, 9, 10, 0)

ONLINE_READER = DeviceStatus("identity.emulated", DeviceState.ONLINE)
ONLINE_CAMERA = DeviceStatus("camera.emulated", DeviceState.ONLINE)
ONLINE_PRINTER = DeviceStatus("printer.emulated", DeviceState.ONLINE, PaperLevel.FULL)


def matter(code: str, devices: list[str]) -> Matter:
    return Matter.model_validate({
        "code": code, "name": f"事项{code}", "department": "公安", "mode": "全程网办",
        "scope": {"kind": "跨省通办"},
        "handling_regions": [{"code": "500103", "name": "重庆市渝中区", "department": "分局"}],
        "time_limits": {"promised_days": 7}, "consultation_phone": "12345",
        "required_devices": devices,
        "situations": [{"code": "only", "name": "唯一情形",
                        "materials": [{"id": "application_form", "name": "申请表"}]}],
    })


NEEDS_PRINTER = matter("P-1", ["identity_reader", "document_camera", "receipt_printer"])
NO_PRINTER = matter("N-1", ["identity_reader", "document_camera"])


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[dict[str, Any]] = []
        bus.subscribe(LIFECYCLE_TOPIC, lambda _topic, payload: self.events.append(payload))

    @property
    def states(self) -> list[tuple[str, str | None]]:
        return [(e["state"], e["reason"]) for e in self.events]


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def recorder(bus: EventBus) -> Recorder:
    return Recorder(bus)


@pytest.fixture
def life(bus: EventBus) -> Lifecycle:
    return Lifecycle(bus, HOURS)


def all_online(life: Lifecycle, now: datetime = MONDAY_10) -> None:
    life.device_status(DeviceKind.IDENTITY_READER, ONLINE_READER, now)
    life.device_status(DeviceKind.DOCUMENT_CAMERA, ONLINE_CAMERA, now)
    life.device_status(DeviceKind.RECEIPT_PRINTER, ONLINE_PRINTER, now)


def test_initialize_then_available(life: Lifecycle, recorder: Recorder) -> None:
    assert life.state is KioskState.INITIALIZE
    assert recorder.events == []
    all_online(life)
    assert life.state is KioskState.AVAILABLE
    assert life.reason is None
    assert recorder.states == [("available", None)]   # one event: later updates change nothing
    assert life.matter_availability(NEEDS_PRINTER, MONDAY_10).available


def test_without_an_identity_reader_nothing_can_start(life: Lifecycle) -> None:
    assert life.evaluate(MONDAY_10) is KioskState.UNAVAILABLE
    assert life.reason is Reason.HARDWARE


@pytest.mark.parametrize(("now", "reason"), [
    (MONDAY_EARLY, Reason.OUTSIDE_HOURS),
    (MONDAY_LATE, Reason.OUTSIDE_HOURS),
    (SUNDAY_10, Reason.OUTSIDE_HOURS),
    (MONDAY_MAINTENANCE, Reason.MAINTENANCE),
], ids=["before_opening", "after_closing", "closed_weekday", "maintenance"])
def test_time_makes_the_kiosk_unavailable(life: Lifecycle, recorder: Recorder,
                                          now: datetime, reason: Reason) -> None:
    all_online(life, now)
    assert life.state is KioskState.UNAVAILABLE
    assert life.reason is reason
    assert recorder.events[-1] == {"state": "unavailable", "reason": reason.value}
    availability = life.matter_availability(NO_PRINTER, now)
    assert not availability.available
    assert availability.reason is reason
    assert availability.zh
    # back inside hours, the same devices make it available again
    assert life.evaluate(MONDAY_10) is KioskState.AVAILABLE
    assert recorder.events[-1] == {"state": "available", "reason": None}


def test_edges_of_the_maintenance_window(life: Lifecycle) -> None:
    all_online(life)
    assert life.evaluate(datetime(2025, 3, 3, 11, 59)) is KioskState.AVAILABLE
    assert life.evaluate(datetime(2025, 3, 3, 12, 0)) is KioskState.UNAVAILABLE
    assert life.evaluate(datetime(2025, 3, 3, 12, 30)) is KioskState.AVAILABLE


@pytest.mark.parametrize("state", [DeviceState.HARDWARE_ERROR, DeviceState.NO_DEVICE])
def test_identity_reader_fault_makes_the_kiosk_unavailable(
        life: Lifecycle, recorder: Recorder, state: DeviceState) -> None:
    all_online(life)
    life.device_status(DeviceKind.IDENTITY_READER, DeviceStatus("identity", state), MONDAY_10)
    assert life.state is KioskState.UNAVAILABLE
    assert life.reason is Reason.HARDWARE
    assert recorder.states == [("available", None), ("unavailable", "hardware")]
    availability = life.matter_availability(NO_PRINTER, MONDAY_10)
    assert not availability.available
    assert availability.reason is Reason.HARDWARE
    assert "身份证阅读器" in availability.zh
    life.device_status(DeviceKind.IDENTITY_READER, ONLINE_READER, MONDAY_10)
    assert life.state is KioskState.AVAILABLE


def test_paper_out_blocks_only_matters_that_print(life: Lifecycle) -> None:
    all_online(life)
    out = DeviceStatus("printer", DeviceState.ONLINE, PaperLevel.OUT)
    life.device_status(DeviceKind.RECEIPT_PRINTER, out, MONDAY_10)
    assert life.state is KioskState.AVAILABLE        # the kiosk as a whole still serves
    blocked = life.matter_availability(NEEDS_PRINTER, MONDAY_10)
    assert not blocked.available
    assert blocked.reason is Reason.CONSUMABLES
    assert "凭条打印机" in blocked.zh
    assert "纸" in blocked.zh
    assert "receipt_printer" in blocked.en
    assert life.matter_availability(NO_PRINTER, MONDAY_10).available


def test_broken_camera_is_hardware_not_consumables(life: Lifecycle) -> None:
    all_online(life)
    life.device_status(DeviceKind.DOCUMENT_CAMERA,
                       DeviceStatus("camera", DeviceState.OFFLINE), MONDAY_10)
    availability = life.matter_availability(NO_PRINTER, MONDAY_10)
    assert not availability.available
    assert availability.reason is Reason.HARDWARE
    assert "高拍仪" in availability.zh


def test_device_never_reported_makes_its_matters_unavailable(life: Lifecycle) -> None:
    life.device_status(DeviceKind.IDENTITY_READER, ONLINE_READER, MONDAY_10)
    life.device_status(DeviceKind.DOCUMENT_CAMERA, ONLINE_CAMERA, MONDAY_10)
    assert life.state is KioskState.AVAILABLE
    blocked = life.matter_availability(NEEDS_PRINTER, MONDAY_10)
    assert not blocked.available and blocked.reason is Reason.HARDWARE
    assert life.matter_availability(NO_PRINTER, MONDAY_10).available


def test_begin_session_from_available(life: Lifecycle, recorder: Recorder) -> None:
    all_online(life)
    life.begin_session(MONDAY_10)
    assert life.state is KioskState.ACTIVE
    assert recorder.states[-1] == ("active", None)


def test_begin_session_refused_when_unavailable(life: Lifecycle) -> None:
    all_online(life, MONDAY_EARLY)
    with pytest.raises(SessionError) as info:
        life.begin_session(MONDAY_EARLY)
    assert info.value.code == "kiosk_unavailable"
    assert "不在服务时间内" in info.value.zh
    assert life.state is KioskState.UNAVAILABLE


def test_begin_session_refused_without_devices(life: Lifecycle) -> None:
    with pytest.raises(SessionError) as info:
        life.begin_session(MONDAY_10)
    assert info.value.code == "kiosk_unavailable"
    assert life.state is KioskState.UNAVAILABLE


def test_begin_session_refused_while_active(life: Lifecycle) -> None:
    all_online(life)
    life.begin_session(MONDAY_10)
    with pytest.raises(SessionError) as info:
        life.begin_session(MONDAY_10)
    assert info.value.code == "kiosk_unavailable"
    assert life.state is KioskState.ACTIVE


def test_begin_session_refused_when_stopped(life: Lifecycle, recorder: Recorder) -> None:
    all_online(life)
    life.stop()
    assert recorder.states[-1] == ("stopped", None)
    with pytest.raises(SessionError) as info:
        life.begin_session(MONDAY_10)
    assert info.value.code == "kiosk_unavailable"
    assert life.state is KioskState.STOPPED
    life.device_status(DeviceKind.IDENTITY_READER, ONLINE_READER, MONDAY_10)
    assert life.state is KioskState.STOPPED


def test_active_session_is_not_interrupted(life: Lifecycle, recorder: Recorder) -> None:
    all_online(life)
    life.begin_session(MONDAY_10)
    events_before = list(recorder.events)
    broken = DeviceStatus("identity", DeviceState.HARDWARE_ERROR)
    life.device_status(DeviceKind.IDENTITY_READER, broken, MONDAY_10)
    assert life.state is KioskState.ACTIVE
    assert life.evaluate(MONDAY_LATE) is KioskState.ACTIVE    # closing time passes mid-session
    assert recorder.events == events_before
    # when the session ends the kiosk takes in what happened meanwhile
    life.end_session(MONDAY_10)
    assert life.state is KioskState.UNAVAILABLE
    assert life.reason is Reason.HARDWARE
    assert recorder.states[-1] == ("unavailable", "hardware")


def test_end_session_returns_to_available(life: Lifecycle, recorder: Recorder) -> None:
    all_online(life)
    life.begin_session(MONDAY_10)
    life.end_session(MONDAY_10)
    assert life.state is KioskState.AVAILABLE
    assert recorder.states == [("available", None), ("active", None),
                               ("initialize", None), ("available", None)]


def test_end_session_outside_an_active_session_changes_nothing(
        life: Lifecycle, recorder: Recorder) -> None:
    all_online(life)
    life.end_session(MONDAY_10)
    assert life.state is KioskState.AVAILABLE
    assert recorder.states == [("available", None)]

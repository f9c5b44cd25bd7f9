"""The one fault-injection helper every emulator uses: known faults only, one ``fault`` event
per change, one-shot faults taken once — and the emulators wired to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.camera.emulated import EmulatedCamera
from drivers.faults import Faults
from drivers.identity.emulated import EmulatedIdentityReader
from drivers.printer.emulated import EmulatedPrinter
from drivers.status import DeviceEvent, StatusReporter

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def _recorded() -> tuple[Faults, list[DeviceEvent]]:
    events: list[DeviceEvent] = []
    reporter = StatusReporter("thing", events.append)
    return Faults("thing", ("jam", "smoke"), reporter), events


def test_inject_list_and_clear_with_events() -> None:
    faults, events = _recorded()
    faults.inject("jam")
    faults.inject("jam")                          # already active: no second event
    faults.inject("smoke")
    assert faults.active == {"jam", "smoke"} and "jam" in faults
    faults.clear()
    assert faults.active == frozenset()
    assert [(e.kind, e.data["fault"], e.data["active"]) for e in events] == [
        ("fault", "jam", True), ("fault", "smoke", True),
        ("fault", "jam", False), ("fault", "smoke", False)]


def test_an_unknown_fault_is_refused_and_named() -> None:
    faults, events = _recorded()
    with pytest.raises(ValueError, match="unknown thing fault 'fire'; expected one of jam, smoke"):
        faults.inject("fire")
    assert not faults.active and not events


def test_a_one_shot_fault_is_taken_once() -> None:
    faults, _ = _recorded()
    faults.inject("jam")
    assert faults.consume("jam") and not faults.consume("jam") and "jam" not in faults


@pytest.mark.parametrize("device, fault, events_expected", [
    (lambda: EmulatedIdentityReader({}), "module_fault", False),    # status says it
    (lambda: EmulatedPrinter(), "cover_open", False),               # status says it
    (lambda: EmulatedCamera(ASSETS / "demo" / "pages",
                            ASSETS / "fonts" / "NotoSansSC-Regular.otf"), "unplugged", True),
])
def test_every_emulator_takes_its_faults_from_the_helper(device: Any, fault: str,
                                                         events_expected: bool) -> None:
    emulator = device()
    events: list[DeviceEvent] = []
    emulator.open(events.append)
    try:
        with pytest.raises(ValueError, match="expected one of"):
            emulator.inject("no_such_fault")
        emulator.inject(fault)
        assert emulator.status().state.value != "online"
        emulator.clear_faults()
        assert emulator.status().state.value == "online"
    finally:
        emulator.close()
    changes = [(e.data["fault"], e.data["active"]) for e in events if e.kind == "fault"]
    assert changes == ([(fault, True), (fault, False)] if events_expected else [])

"""A device kind the product does not have: a proximity sensor (a citizen walks up to the
kiosk). Defined here, in the tests, with nothing but its driver, one options model and one
registry entry, to show that this is all a new device takes."""

from __future__ import annotations

from pydantic import Field

from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter
from kiosk.devices.options import Options
from kiosk.devices.registry import Backend, Kind


class ProximityOptions(Options):
    range_cm: int = Field(80, gt=0)


class FakeProximitySensor:
    def __init__(self, range_cm: int) -> None:
        self.range_cm = range_cm
        self.closed = False
        self._status = StatusReporter("proximity")

    def open(self, sink: EventSink | None = None) -> None:
        self._status.set_sink(sink)
        self._status.update(DeviceState.ONLINE)

    def status(self) -> DeviceStatus:
        return self._status.status

    def someone_near(self) -> None:
        self._status.emit("presence", near=True)

    def close(self) -> None:
        self.closed = True


KIND = Kind("proximity_sensor", "人体感应器", "proximity sensor", "emulated")
BACKEND = Backend("proximity_sensor", "emulated", ProximityOptions,
                  lambda opts, ctx: FakeProximitySensor(opts.range_cm))



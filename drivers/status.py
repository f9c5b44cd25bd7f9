"""One status vocabulary for every device (after CEN XFS4IoT / IATA CUSS 2)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    BUSY = "busy"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    NO_DEVICE = "no_device"


class PaperLevel(StrEnum):
    FULL = "full"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeviceStatus:
    device: str
    state: DeviceState
    paper: PaperLevel | None = None
    detail: str = ""

    @property
    def usable(self) -> bool:
        """True when the device can serve a citizen now."""
        if self.state not in (DeviceState.ONLINE, DeviceState.BUSY):
            return False
        return self.paper is not PaperLevel.OUT


@dataclass(frozen=True)
class DeviceEvent:
    """Something a device reports, solicited or not (card inserted, paper out, ...)."""

    device: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[DeviceEvent], None]


class StatusReporter:
    """Holds a device's status and tells the sink when it changes.

    Backends embed one instead of each re-implementing change detection.
    """

    def __init__(self, device: str, sink: EventSink | None = None) -> None:
        self._lock = threading.Lock()
        self._status = DeviceStatus(device, DeviceState.OFFLINE)
        self._sink = sink

    @property
    def status(self) -> DeviceStatus:
        with self._lock:
            return self._status

    def set_sink(self, sink: EventSink | None) -> None:
        self._sink = sink

    def update(self, state: DeviceState, paper: PaperLevel | None = None, detail: str = "") -> None:
        new = DeviceStatus(self._status.device, state, paper, detail)
        with self._lock:
            changed = new != self._status
            self._status = new
        if changed:
            self.emit("status", state=state.value, paper=paper.value if paper else None,
                      detail=detail)

    def emit(self, kind: str, **data: Any) -> None:
        if self._sink is not None:
            self._sink(DeviceEvent(self._status.device, kind, data))

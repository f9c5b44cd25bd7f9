"""Kiosk lifecycle after CUSS 2: INITIALIZE → UNAVAILABLE(reason) ⇄ AVAILABLE ⇄ ACTIVE, STOPPED.

Driven by device status and service hours. Each matter declares the devices it needs, so
a matter whose devices are down is shown unavailable with the reason instead of failing
half way through a citizen's session.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from drivers.status import DeviceState, DeviceStatus, PaperLevel
from kiosk.bus import EventBus
from kiosk.catalogue.model import Matter
from kiosk.devices.kinds import LABELS, DeviceKind
from kiosk.errors import SessionError
from kiosk.hours import is_open
from kiosk.routing.fallback import fallback_chain
from kiosk.settings import Hours

LIFECYCLE_TOPIC = "kiosk.lifecycle"
HEALTH_TOPIC = "kiosk.health"          # alerts for hall staff and (later) the fleet heartbeat


class KioskState(StrEnum):
    INITIALIZE = "initialize"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"
    ACTIVE = "active"
    STOPPED = "stopped"


class Reason(StrEnum):
    OUTSIDE_HOURS = "outside_hours"
    MAINTENANCE = "maintenance"
    HARDWARE = "hardware"
    CONSUMABLES = "consumables"
    BACKEND = "backend"
    NO_ROUTE = "no_route"
    DISK_FULL = "disk_full"          # below the disk floor (kiosk/ops/disk.py)
    ON_BATTERY = "on_battery"        # the UPS runs on its battery (kiosk/ops/power.py)


REASON_TEXT = {
    Reason.OUTSIDE_HOURS: ("不在服务时间内", "Outside service hours"),
    Reason.MAINTENANCE: ("暂停服务，维护中", "Out of service: maintenance"),
    Reason.HARDWARE: ("设备故障，请联系工作人员", "A device is out of order: please call staff"),
    Reason.CONSUMABLES: ("打印纸已用完，请联系工作人员", "Out of paper: please call staff"),
    Reason.BACKEND: ("系统服务暂不可用", "Back-end service unavailable"),
    Reason.NO_ROUTE: ("本机尚未开通向办理地的材料递送，请到窗口办理",
                      "This kiosk cannot yet send papers to the handling region: "
                      "please go to a service window"),
    Reason.DISK_FULL: ("暂停服务：本机存储空间不足，请联系工作人员",
                       "Out of service: the kiosk's storage is nearly full, please call staff"),
    Reason.ON_BATTERY: ("暂停服务：本机停电，正在使用备用电源",
                        "Out of service: mains power is off, the kiosk runs on its battery"),
}
# conditions set from outside (disk, power), in the order their reason is shown
CONDITIONS = (Reason.ON_BATTERY, Reason.DISK_FULL)

BUILTIN_NAMES: dict[str, str] = {kind: zh for kind, (zh, _) in LABELS.items()}


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: Reason | None = None
    zh: str = ""
    en: str = ""


class Lifecycle:
    """Holds the kiosk state; publishes every change on the bus as ``kiosk.lifecycle``."""

    def __init__(self, bus: EventBus, hours: Hours, routed: frozenset[str] | None = None,
                 device_names: Mapping[str, str] = BUILTIN_NAMES) -> None:
        """``device_names``: each device kind's Chinese name, for the reason a matter is
        unavailable (the registry's, when a kiosk is composed)."""
        self._bus = bus
        self._device_names = device_names
        self._hours = hours
        self._routed = routed          # regions packages can be sent to; None: not checked
        self.alerts: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._devices: dict[str, DeviceStatus] = {}
        self._state = KioskState.INITIALIZE
        self._reason: Reason | None = None
        self._held = False             # maintenance by command, or a configuration swap
        self._conditions: set[Reason] = set()   # of CONDITIONS: disk below floor, on battery

    @property
    def state(self) -> KioskState:
        return self._state

    @property
    def reason(self) -> Reason | None:
        return self._reason

    def device_status(self, kind: str, status: DeviceStatus, now: datetime) -> None:
        with self._lock:
            self._devices[kind] = status
        self.evaluate(now)

    def evaluate(self, now: datetime) -> KioskState:
        """Re-derive the state; an ACTIVE session is never interrupted by it."""
        with self._lock:
            if self._state in (KioskState.STOPPED, KioskState.ACTIVE):
                return self._state
            reason = self._blocking_reason(now)
            state = KioskState.UNAVAILABLE if reason else KioskState.AVAILABLE
            changed = self._assign(state, reason)
        self._announce(changed)
        return state

    def hold(self, now: datetime) -> bool:
        """Stop new sessions (maintenance by a remote command, or a configuration swap).
        False while a citizen's session runs: it is never cut short."""
        with self._lock:
            if self._state is KioskState.ACTIVE:
                return False
            self._held = True
        self.evaluate(now)
        return True

    def release(self, now: datetime) -> None:
        with self._lock:
            self._held = False
        self.evaluate(now)

    @property
    def held(self) -> bool:
        return self._held

    def set_condition(self, reason: Reason, on: bool, now: datetime) -> bool:
        """A condition of the PC (one of CONDITIONS) begins or ends; like a hold, it stops
        new sessions and never cuts one short. True if it changed."""
        with self._lock:
            changed = (reason in self._conditions) != on
            (self._conditions.add if on else self._conditions.discard)(reason)
        self.evaluate(now)
        return changed

    def condition(self, reason: Reason) -> bool:
        return reason in self._conditions

    def begin_session(self, now: datetime) -> None:
        self.evaluate(now)
        with self._lock:     # checked and claimed at once: a hold() racing us sees ACTIVE
            ready = self._state is KioskState.AVAILABLE and not self._held
            changed = self._assign(KioskState.ACTIVE, None) if ready else False
            reason = self._reason
        if not ready:
            zh, en = REASON_TEXT[reason] if reason else ("暂停服务", "Not available")
            zh = zh if zh.startswith("暂停服务") else f"本机暂停服务：{zh}"
            raise SessionError(zh, en if en.startswith("Out of service") else
                               f"Kiosk unavailable: {en}",
                               code="kiosk_unavailable")
        self._announce(changed)

    def end_session(self, now: datetime) -> None:
        if self._state is KioskState.ACTIVE:
            self._set(KioskState.INITIALIZE, None)
            self.evaluate(now)

    def stop(self) -> None:
        self._set(KioskState.STOPPED, None)

    def alert(self, code: str, detail: dict[str, str]) -> None:
        """A health event that needs a person (e.g. a package late for its region)."""
        event = {"code": code, **detail}
        with self._lock:
            self.alerts.append(event)
        self._bus.publish(HEALTH_TOPIC, event)

    def matter_availability(self, matter: Matter, now: datetime) -> Availability:
        """Whether a citizen may start ``matter`` now, and why not."""
        with self._lock:
            reason = self._time_reason(now)
            if reason:
                return _availability(reason)
            if self._routed is not None and not self._fixed_parties_routed(matter):
                return _availability(Reason.NO_ROUTE)
            for kind in matter.required_devices:
                status = self._devices.get(kind)
                if status is None or not status.usable:
                    reason = (Reason.CONSUMABLES if status and status.paper is PaperLevel.OUT
                              else Reason.HARDWARE)
                    zh, en = REASON_TEXT[reason]
                    name = self._device_names.get(kind, kind)
                    return Availability(False, reason, f"{name}：{zh}", f"{kind}: {en}")
        return Availability(True)

    def _fixed_parties_routed(self, matter: Matter) -> bool:
        """Fixed parties are known before anyone is identified: each needs a route, its own
        or its city's or province's. The applicant's own regions are checked once the card
        is read (kiosk/routing/resolve.py), before any document is taken."""
        routed = self._routed or frozenset()
        return all(any(code in routed for _, code in fallback_chain(p.region.code))
                   for p in matter.handling if p.region is not None)

    def _blocking_reason(self, now: datetime) -> Reason | None:
        for condition in CONDITIONS:
            if condition in self._conditions:
                return condition
        if self._held:
            return Reason.MAINTENANCE
        reason = self._time_reason(now)
        if reason:
            return reason
        reader = self._devices.get(DeviceKind.IDENTITY_READER)
        if reader is None or reader.state in (DeviceState.HARDWARE_ERROR, DeviceState.NO_DEVICE):
            return Reason.HARDWARE   # no matter can start without identifying the applicant
        return None

    def _time_reason(self, now: datetime) -> Reason | None:
        clock = now.time()
        for window in self._hours.maintenance:
            start, end = (time.fromisoformat(t) for t in window.split("-"))
            if start <= clock < end:
                return Reason.MAINTENANCE
        if not is_open(self._hours, now):      # hours, weekdays, holidays, 调休 days
            return Reason.OUTSIDE_HOURS
        return None

    def _set(self, state: KioskState, reason: Reason | None) -> None:
        with self._lock:
            changed = self._assign(state, reason)
        self._announce(changed)

    def _assign(self, state: KioskState, reason: Reason | None) -> bool:
        """Under the lock: the new state; True if it changed."""
        changed = (state, reason) != (self._state, self._reason)
        self._state, self._reason = state, reason
        return changed

    def _announce(self, changed: bool) -> None:
        """Outside the lock (handlers may read the lifecycle): tell the bus."""
        if changed:
            reason = self._reason
            self._bus.publish(LIFECYCLE_TOPIC, {"state": self._state.value,
                                                "reason": reason.value if reason else None})


def _availability(reason: Reason) -> Availability:
    zh, en = REASON_TEXT[reason]
    return Availability(False, reason, zh, en)

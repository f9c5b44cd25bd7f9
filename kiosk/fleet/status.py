"""What a kiosk reports about itself: versions, lifecycle, devices, outbox, disk.

Only operational facts go in. No case numbers, names, ID numbers or package ids: the status
is retained on the broker and read by every operator console.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from drivers.status import DeviceStatus

STATUS_SCHEMA = 1


def app_version() -> str:
    try:
        return metadata.version("tongban-kiosk")
    except metadata.PackageNotFoundError:   # running from a tree that was never installed
        return "0+unknown"


@dataclass(frozen=True)
class OutboxHealth:
    depth: int                       # deliveries not yet acknowledged by their region
    oldest_age_s: float | None       # age of the oldest of them
    overdue: int                     # past their transfer deadline


def device_entry(status: DeviceStatus) -> dict[str, Any]:
    consumables = {"paper": status.paper.value} if status.paper is not None else {}
    return {"status": status.state.value, "consumables": consumables}


def disk_free_mb(path: Path) -> int:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free // (1024 * 1024)


def build_status(*, kiosk_id: str, config: dict[str, Any], state: str, reason: str | None,
                 devices: dict[str, DeviceStatus], outbox: OutboxHealth, disk_mb: int,
                 alerts: dict[str, int], at: datetime | None = None,
                 call: dict[str, Any] | None = None,
                 restart: dict[str, str | bool] | None = None,
                 ops: dict[str, Any] | None = None,
                 selftest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The retained status document (``config``: see ``agent.FleetAgent.config_report``;
    ``call``: the open staff call's id, step and state, see ``staffcall.StaffCall``;
    ``restart``: how the run before this one ended, see kiosk.supervision.runmarker;
    ``ops``: the PC's disk floor and reserve, and its clock, see kiosk/ops; ``selftest``:
    the last 日检 and the checks missing, see kiosk/staff/inspection.py)."""
    return {
        "schema": STATUS_SCHEMA,
        "kiosk": kiosk_id,
        "online": True,
        "at": (at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "app_version": app_version(),
        "config": config,
        "state": state,
        "reason": reason,
        "devices": {kind: device_entry(s) for kind, s in sorted(devices.items())},
        "outbox": {"depth": outbox.depth, "oldest_age_s": outbox.oldest_age_s,
                   "overdue": outbox.overdue},
        "disk_free_mb": disk_mb,
        "alerts": dict(sorted(alerts.items())),   # code → count since start (no details)
        "call": call,
        "restart": restart,
        "ops": ops or {},
        "selftest": selftest,
    }


def offline_status(kiosk_id: str) -> dict[str, Any]:
    """The last will: what the broker publishes, retained, when the kiosk vanishes."""
    return {"schema": STATUS_SCHEMA, "kiosk": kiosk_id, "online": False}


def sample_status(kiosk_id: str) -> dict[str, Any]:
    """A typical status of a working kiosk (benchmarks, documentation)."""
    from drivers.status import DeviceState, PaperLevel

    devices = {"identity_reader": DeviceStatus("identity", DeviceState.ONLINE),
               "document_camera": DeviceStatus("camera", DeviceState.ONLINE),
               "receipt_printer": DeviceStatus("printer", DeviceState.ONLINE, PaperLevel.LOW),
               "speaker": DeviceStatus("speaker", DeviceState.ONLINE)}
    return build_status(kiosk_id=kiosk_id,
                        config={"version": 12, "applied_at": "2026-11-22T08:00:00+00:00",
                                "pending": None, "error": None, "last_check": "ok"},
                        state="available", reason=None, devices=devices,
                        outbox=OutboxHealth(depth=2, oldest_age_s=340.0, overdue=0),
                        disk_mb=41230, alerts={"delivery_overdue": 1})

"""Staff mode's authority for one running kiosk: the roster of the configuration version it
runs (re-read at each sign-in: a swap may bring a new one), the hall key installed beside the
data, the audit log, lock-out alerts to the lifecycle (the heartbeat counts them) and the
fleet's ``staff_open`` command (kiosk/staff/authority.py). Here, not in kiosk/staff/: the
fleet package already reads the roster to check a bundle, and the import goes one way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kiosk.fleet.heartbeat import EMERGENCY_TOPIC
from kiosk.fleet.host import KioskHost
from kiosk.fleet.store import ConfigStore
from kiosk.settings import Settings
from kiosk.staff.audit import AuditLog
from kiosk.staff.authority import StaffAuthority
from kiosk.staff.errors import StaffError
from kiosk.staff.inspection import InspectionStore, Reminder
from kiosk.staff.roster import ROSTER_FILE, SECRET_FILE, Roster, load_roster, read_secret

log = logging.getLogger(__name__)
STAFF_DIR = "staff"


def staff_authority(local: Settings, host: KioskHost, store: ConfigStore | None,
                    clock: Callable[[], datetime]) -> StaffAuthority:
    folder = local.paths.data_dir / STAFF_DIR
    authority = StaffAuthority(
        folder, _roster_of(store), read_secret(folder / SECRET_FILE),
        AuditLog(folder, local.kiosk.id, lambda: clock().astimezone()), clock,
        on_alert=lambda code, detail: host.kiosk.lifecycle.alert(code, detail))
    host.bus.subscribe(EMERGENCY_TOPIC, authority.on_emergency_event)
    return authority


def selftest_reminder(local: Settings, host: KioskHost,
                      clock: Callable[[], datetime]) -> Reminder:
    """The 日检 reminder on this kiosk's records, with the hours of the configuration it
    runs and its alerts to the lifecycle (the heartbeat counts them)."""
    return Reminder(InspectionStore(local.paths.data_dir / STAFF_DIR),
                    lambda: host.kiosk.settings.hours, clock,
                    lambda code, detail: host.kiosk.lifecycle.alert(code, detail))


def _roster_of(store: ConfigStore | None) -> Callable[[], Roster | None]:
    def roster() -> Roster | None:
        current = store.state().current if store is not None else None
        if store is None or current is None:
            return None                   # no fleet configuration: no roster, no staff mode
        return _read(store.versions / str(current) / ROSTER_FILE)
    return roster


def _read(path: Path) -> Roster | None:
    try:
        return load_roster(path)
    except StaffError as exc:             # checked before the swap; damaged on disk since
        log.warning("staff roster unreadable: %s", exc.code)
        return None

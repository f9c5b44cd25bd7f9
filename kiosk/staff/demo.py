"""Staff mode on a kiosk without a fleet: no roster (staff mode says why it is unavailable),
or, in ``kiosk demo`` only, a fictional demo staff member so that staff mode can be shown.

The demo member: 周演示 (staff id ``demo01``), every role, the emulator's card ``staff_demo``
(assets/demo/identities.toml; the demo strip's 工作人员卡 button places it), PIN ``246810``.
The demo hall key below is public: `kiosk run` never uses this roster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime

from kiosk.lifecycle import Lifecycle
from kiosk.settings import Settings
from kiosk.staff.audit import AuditLog
from kiosk.staff.authority import StaffAuthority
from kiosk.staff.roles import Role
from kiosk.staff.roster import ROSTER_FORMAT, Roster, StaffRecord, card_digest, hash_pin

STAFF_DIR = "staff"
DEMO_CARD = "510802198506152726"          # 周演示, fictional (assets/demo/identities.toml)
DEMO_PIN = "246810"
DEMO_STAFF_ID = "demo01"
DEMO_SECRET = hashlib.sha256(b"tongban-kiosk demo hall key (public, demo only)").digest()


def demo_roster(secret: bytes = DEMO_SECRET) -> Roster:
    """One member with every role (scrypt once: ~50 ms)."""
    record = StaffRecord(id=DEMO_STAFF_ID, name="周演示", roles=tuple(Role),
                         card=card_digest(secret, DEMO_CARD), pin=hash_pin(secret, DEMO_PIN),
                         valid_until=date(2099, 12, 31))
    return Roster(format=ROSTER_FORMAT, hall="demo-hall", staff=(record,))


def local_authority(settings: Settings, lifecycle: Callable[[], Lifecycle], *,
                    demo: bool = False,
                    clock: Callable[[], datetime] = datetime.now) -> StaffAuthority:
    """A kiosk without a fleet repository: the audit log under ``<data_dir>/staff``; the demo
    roster and key when ``demo``, else none (staff mode unavailable: no roster)."""
    folder = settings.paths.data_dir / STAFF_DIR
    roster = demo_roster() if demo else None
    return StaffAuthority(
        folder, lambda: roster, DEMO_SECRET if demo else None,
        AuditLog(folder, settings.kiosk.id, lambda: clock().astimezone()), clock,
        on_alert=lambda code, detail: lifecycle().alert(code, detail))

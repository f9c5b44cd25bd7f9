"""Small shared pieces for the staff-function tests: a settable clock, a signed-in session
with given roles (made directly: sign-in itself is tested in test_signin.py), the audit
entries, a demo kiosk on emulated devices in a temporary data folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.paths import DEMO_SETTINGS
from kiosk.settings import load_settings
from kiosk.staff.audit import AuditLog
from kiosk.staff.roles import Role
from kiosk.staff.session import Mode, StaffSession

KIOSK_ID = "510802-0001"


class Clock:
    def __init__(self, start: datetime = datetime(2026, 12, 7, 9, 30)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def session(folder: Path, *roles: Role, clock: Clock | None = None,
            staff_id: str = "M001") -> StaffSession:
    clock = clock or Clock()
    audit = AuditLog(folder, KIOSK_ID, clock)
    return StaffSession(staff_id, "测试人员", frozenset(roles), Mode.SERVICE, audit, clock,
                        clock())


def entries(folder: Path) -> list[dict[str, Any]]:
    path = folder / "audit.log"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@contextmanager
def demo_kiosk(data: Path) -> Iterator[Kiosk]:
    settings = load_settings(DEMO_SETTINGS).with_data_dir(data)
    kiosk = build_kiosk(settings)
    kiosk.open(datetime.now())
    try:
        yield kiosk
    finally:
        kiosk.close()

"""Staff mode for UI tests: a test roster and hall key (built as tests/staff does), a
StaffAuthority on the test kiosk's data folder with a clock the test moves, the staff cards
as emulator identities, and the taps of a sign-in.

    rig = StaffRig(tmp_path)
    h = open_kiosk(tmp_path, artifacts, staff=rig.authority)
    rig.sign_in(h, "maint")          # card on the reader, PIN on the shuffled pad → menu
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from ui_harness import ROOT, Harness

from drivers.identity.emulated import load_identities
from kiosk.staff.audit import LOG_NAME, AuditLog
from kiosk.staff.authority import StaffAuthority
from kiosk.staff.roles import Role
from kiosk.staff.roster import ROSTER_FORMAT, Roster, StaffRecord, card_digest, hash_pin

SECRET = bytes(range(32))
PIN = "135790"
KIOSK_ID = "510802-0001"                  # config/demo.toml's
# who: (staff id, ID-card number (fictional, valid check digit), roles)
PEOPLE: dict[str, tuple[str, str, tuple[Role, ...]]] = {
    "guide": ("g001", "110101199003071233", (Role.GUIDE,)),
    "maint": ("m001", "110101198001011232", (Role.MAINTAINER,)),
    "super": ("s001", "110101197001011238", (Role.SUPERVISOR,)),
    "all": ("a001", "110101198506152719", tuple(Role)),
}


@cache
def roster() -> Roster:
    """Hashed once per test process (scrypt: tens of ms a PIN)."""
    pin = hash_pin(SECRET, PIN)
    return Roster(format=ROSTER_FORMAT, hall="test-hall", staff=tuple(
        StaffRecord(id=sid, name=f"测试{who}", roles=roles, card=card_digest(SECRET, number),
                    pin=pin, valid_until=date(2099, 12, 31))
        for who, (sid, number, roles) in PEOPLE.items()))


@dataclass
class StaffClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class StaffRig:
    def __init__(self, tmp_path: Path, with_roster: bool = True) -> None:
        self.folder = tmp_path / "data" / "staff"      # ui_harness.test_settings' data_dir
        self.clock = StaffClock()
        self.alerts: list[str] = []
        the_roster = roster() if with_roster else None
        self.authority = StaffAuthority(
            self.folder, lambda: the_roster, SECRET,
            AuditLog(self.folder, KIOSK_ID, self.clock), self.clock,
            on_alert=lambda code, _detail: self.alerts.append(code))

    # --- cards and taps ------------------------------------------------------------------
    @staticmethod
    def card(who: str) -> Any:
        """The staff member's card, as an emulator identity (a demo card renumbered)."""
        base = load_identities(ROOT / "assets" / "demo" / "identities.toml")["resident"]
        return replace(base, id_number=PEOPLE[who][1], name=f"测试{who}")

    def present(self, h: Harness, who: str) -> None:
        h.kiosk.identity.present(self.card(who))

    def to_pin(self, h: Harness, who: str) -> None:
        """On the sign-in screen: the card placed and read, the PIN pad up."""
        h.wait_screen("staff_signin")
        self.present(h, who)
        h.wait(lambda: h.has("pin_dots"), "the staff card read")
        h.kiosk.identity.remove()

    def type_pin(self, h: Harness, pin: str = PIN) -> None:
        h.type_digits(pin)
        h.tap("staff_pin_ok")

    def sign_in(self, h: Harness, who: str, pin: str = PIN) -> None:
        """From any citizen screen: ask for staff mode, sign in, land on the menu."""
        h.ui.service.request_staff_mode()
        h.wait_screen("staff_signin")
        self.to_pin(h, who)
        self.type_pin(h, pin)
        h.wait_screen("staff_menu")

    # --- what was recorded ---------------------------------------------------------------
    def entries(self) -> list[dict[str, Any]]:
        import json

        path = self.folder / LOG_NAME
        return [json.loads(line) for line in path.read_text().splitlines()] if \
            path.is_file() else []

    def verify_cli(self, data_dir: Path) -> subprocess.CompletedProcess[str]:
        """``kiosk audit verify`` as an operator runs it (a real subprocess)."""
        return subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify",
                               "--data-dir", str(data_dir)], capture_output=True, text=True,
                              timeout=120, check=False)

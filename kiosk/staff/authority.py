"""Staff sign-in: the staff member's own ID card (its number, HMAC'd under the hall secret,
looked up in the roster) plus a 6-digit PIN. Every attempt, success or not, writes exactly one
audit entry (``staff.sign_in``) holding the staff id when the card was known, and the result —
never the number, the PIN or their digests.

Lock-out: 5 wrong PINs in a row lock staff sign-in on this kiosk for 15 minutes, whoever's
card comes next (the PIN pad is the thing being guessed at). The count and the lock live in
``<data_dir>/staff/lockout.json`` (written atomically), so a restart does not reset them;
``on_alert("staff_locked", …)`` tells the lifecycle, whose alerts the heartbeat counts. A card
the roster does not know is refused and audited but not counted: guessing needs a known card.

Emergency: a signed fleet command ``staff_open`` names one staff id (kiosk/fleet/commands.py);
:meth:`StaffAuthority.grant_emergency` stores it in ``emergency.json``, and the next
:meth:`StaffAuthority.open_emergency` for that id opens one session without card or PIN,
past a lock-out and even with no roster — once, within 15 minutes of the command. Its roles
are the roster's for that person when the roster lists them as usable, else ``maintainer``
only (self-test and maintenance: enough to bring a kiosk back, no personal data).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.fsutil import write_atomic
from kiosk.staff.audit import AuditLog
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Role
from kiosk.staff.roster import (
    ROSTER_FILE,
    Roster,
    StaffRecord,
    card_digest,
    load_roster,
    pin_matches,
)
from kiosk.staff.session import Mode, StaffSession

log = logging.getLogger(__name__)
MAX_WRONG_PINS = 5
LOCK_FOR = timedelta(minutes=15)
EMERGENCY_VALID = timedelta(minutes=15)
SIGN_IN_ACTION, EMERGENCY_ACTION = "staff.sign_in", "staff.emergency_open"
LOCKOUT_FILE, EMERGENCY_FILE = "lockout.json", "emergency.json"

# code → (中文, English): why a sign-in was refused, for the screen
REASONS = {
    "no_roster": ("本终端尚未收到工作人员名册，暂不能进入工作人员模式",
                  "no staff roster has reached this kiosk: staff mode is unavailable"),
    "no_secret": ("本终端未安装大厅密钥，暂不能进入工作人员模式",
                  "the hall key is not installed on this kiosk: staff mode is unavailable"),
    "unknown_card": ("名册中没有这张证件", "this card is not on the staff roster"),
    "wrong_pin": ("PIN 不正确", "wrong PIN"),
    "expired": ("该工作人员的授权已过期", "this staff member's authorisation has expired"),
    "revoked": ("该工作人员的授权已撤销", "this staff member's authorisation was revoked"),
    "locked": ("PIN 错误次数过多，工作人员登录已锁定 15 分钟",
               "too many wrong PINs: staff sign-in is locked for 15 minutes"),
    "no_grant": ("没有给该工号的紧急开启指令，或已使用、已过期",
                 "no emergency opening for this staff id (or it was used, or expired)"),
}


@dataclass(frozen=True)
class SignedIn:
    session: StaffSession


@dataclass(frozen=True)
class Refused:
    code: str
    zh: str
    en: str
    attempts_left: int | None = None
    locked_until: datetime | None = None


SignInResult = SignedIn | Refused


class StaffAuthority:
    """``roster`` is asked at each attempt (a new bundle may have replaced it); ``secret`` is
    the hall key, None when not installed."""

    def __init__(self, folder: Path, roster: Callable[[], Roster | None], secret: bytes | None,
                 audit: AuditLog, clock: Callable[[], datetime],
                 on_alert: Callable[[str, dict[str, Any]], None] = lambda _c, _d: None) -> None:
        self.folder, self._roster, self._secret = folder, roster, secret
        self.audit, self._clock, self._on_alert = audit, clock, on_alert

    def unavailable(self) -> Refused | None:
        """Why staff mode cannot be entered at all now (the screens show it), or None."""
        if self._roster() is None:
            return _refused("no_roster")
        return _refused("no_secret") if self._secret is None else None

    def locked_until(self) -> datetime | None:
        when = _aware(self._lockout().get("locked_until"))
        return when if when is not None and when > self._now() else None

    def alert(self) -> dict[str, Any] | None:
        """For the heartbeat: the lock, while it holds."""
        until = self.locked_until()
        return {"code": "staff_locked", "until": until.isoformat()} if until else None

    def report(self) -> dict[str, Any]:
        """For the heartbeat's ``staff`` field: whether staff mode can be entered, the lock,
        and the audit anchor (seq and hash: the fleet sees a log cut short as a seq going
        back). No names, no ids."""
        blocked, until = self.unavailable(), self.locked_until()
        return {"available": blocked is None, "reason": blocked.code if blocked else None,
                "locked_until": until.isoformat() if until else None,
                "audit": self.audit.anchor().as_dict()}

    def sign_in(self, id_number: str, pin: str, mode: Mode) -> SignInResult:
        refused, record = self._check(id_number, pin)
        detail: dict[str, Any] = {"result": refused.code if refused else "ok",
                                  "mode": mode.value}
        if refused is not None and refused.attempts_left is not None:
            detail["attempts_left"] = refused.attempts_left
        self.audit.append(record.id if record else "", SIGN_IN_ACTION, after=detail)
        if refused is not None or record is None:
            return refused or _refused("unknown_card")
        return SignedIn(self._session(record.id, record.name, frozenset(record.roles), mode,
                                      False))

    def _check(self, id_number: str, pin: str) -> tuple[Refused | None, StaffRecord | None]:
        """(why refused or None, the card's roster entry if it has one)."""
        blocked = self.unavailable()
        if blocked is not None or self._secret is None:
            return blocked or _refused("no_secret"), None
        roster = self._roster()
        assert roster is not None
        try:
            record = roster.by_card(card_digest(self._secret, id_number))
        except StaffError:
            record = None
        if record is None:
            return _refused("unknown_card"), None
        until = self.locked_until()
        if until is not None:
            return _refused("locked", locked_until=until), record
        if record.revoked or not record.usable_on(self._now().date()):
            return _refused("revoked" if record.revoked else "expired"), record
        if not pin_matches(self._secret, pin, record.pin):
            return self._wrong_pin(), record
        self._save_lockout({"failures": 0, "locked_until": None})
        return None, record

    def _wrong_pin(self) -> Refused:
        failures = int(self._lockout().get("failures", 0)) + 1
        if failures < MAX_WRONG_PINS:
            self._save_lockout({"failures": failures, "locked_until": None})
            return _refused("wrong_pin", attempts_left=MAX_WRONG_PINS - failures)
        until = self._now() + LOCK_FOR
        self._save_lockout({"failures": 0, "locked_until": until.isoformat()})
        self._on_alert("staff_locked", {"until": until.isoformat()})
        return _refused("locked", attempts_left=0, locked_until=until)

    # --- emergency ---------------------------------------------------------------------
    def grant_emergency(self, staff_id: str, command_id: str, issued_at: datetime) -> None:
        """A verified ``staff_open`` command: the next :meth:`open_emergency` for ``staff_id``
        opens once. A command id already used is never granted again."""
        state = self._emergency()
        used = [str(u) for u in state.get("used", [])][-50:]
        if command_id in used:
            raise StaffError("该紧急开启指令已使用过", "this emergency opening was used",
                             code="replayed")
        expires = (issued_at.astimezone() + EMERGENCY_VALID).isoformat()
        write_atomic(self.folder / EMERGENCY_FILE, json.dumps(
            {"staff": staff_id, "command": command_id, "expires": expires, "used": used})
            .encode())
        self.audit.append(staff_id, EMERGENCY_ACTION, after={"result": "granted"})

    def on_emergency_event(self, _topic: str, payload: dict[str, Any]) -> None:
        """Subscribe to ``staff.emergency_open`` (the heartbeat publishes a verified command's
        staff id, id and time there)."""
        try:
            self.grant_emergency(str(payload["staff"]), str(payload["id"]),
                                 datetime.fromisoformat(str(payload["issued_at"])))
        except (StaffError, KeyError, ValueError) as exc:
            log.warning("emergency opening refused: %s", getattr(exc, "code", "malformed"))

    def pending_emergency(self) -> str | None:
        """The staff id a ``staff_open`` command granted an opening to, while it is valid
        (the sign-in screen offers it; nothing is audited until it is used)."""
        state = self._emergency()
        until = _aware(state.get("expires"))
        staff = state.get("staff")
        return str(staff) if staff and until is not None and until > self._now() else None

    def open_emergency(self, staff_id: str, mode: Mode) -> SignInResult:
        state = self._emergency()
        expires = state.get("expires")
        until = _aware(expires)
        valid = state.get("staff") == staff_id and until is not None and until > self._now()
        if not valid:
            self.audit.append("", EMERGENCY_ACTION, after={"result": "no_grant"})
            return _refused("no_grant")
        used = [*[str(u) for u in state.get("used", [])], str(state.get("command"))]
        write_atomic(self.folder / EMERGENCY_FILE, json.dumps({"used": used[-50:]}).encode())
        roster = self._roster()
        record = roster.by_id(staff_id) if roster else None
        usable = record is not None and record.usable_on(self._now().date())
        roles = frozenset(record.roles) if usable and record else frozenset({Role.MAINTAINER})
        name = record.name if record else staff_id
        self.audit.append(staff_id, EMERGENCY_ACTION, after={"result": "opened",
                                                             "mode": mode.value})
        return SignedIn(self._session(staff_id, name, roles, mode, True))

    # --- state files -------------------------------------------------------------------
    def _now(self) -> datetime:
        """Aware local time, whatever the clock gives: the stored times are aware, and a
        fleet command's time is UTC."""
        return self._clock().astimezone()

    def _session(self, staff_id: str, name: str, roles: frozenset[Role], mode: Mode,
                 emergency: bool) -> StaffSession:
        return StaffSession(staff_id, name, roles, mode, self.audit, self._clock,
                            self._clock(), emergency=emergency)

    def _lockout(self) -> dict[str, Any]:
        return _read_json(self.folder / LOCKOUT_FILE)

    def _save_lockout(self, state: dict[str, Any]) -> None:
        write_atomic(self.folder / LOCKOUT_FILE, json.dumps(state).encode())

    def _emergency(self) -> dict[str, Any]:
        return _read_json(self.folder / EMERGENCY_FILE)


def roster_in(bundle_folder: Path | None) -> Callable[[], Roster | None]:
    """The roster of the configuration version the kiosk runs (its unpacked bundle)."""
    return lambda: load_roster(bundle_folder / ROSTER_FILE) if bundle_folder else None


def _read_json(path: Path) -> dict[str, Any]:
    """A state file of ours. Damaged (not JSON): read as one wrong PIN short of the lock, so
    that breaking the lock-out file cannot reset the count."""
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read(1 << 16))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {"failures": MAX_WRONG_PINS - 1}      # damaged: one more wrong PIN locks
    return doc if isinstance(doc, dict) else {}


def _aware(text: object) -> datetime | None:
    """A stored time, aware (a naive one is read as local); None if absent or not a time."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).astimezone()
    except ValueError:
        return None


def _refused(code: str, **extra: Any) -> Refused:
    zh, en = REASONS[code]
    return Refused(code, zh, en, **extra)

"""One signed-in staff member: roles, the last touch, and the one door every staff function
goes through (:meth:`StaffSession.perform`: role check, then exactly one audit entry)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kiosk.staff.audit import AuditLog, Detail
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Action, Role, allowed

IDLE_SIGN_OUT = timedelta(seconds=120)
SIGN_OUT_ACTION = "staff.sign_out"
# The app's exit status after a supervisor's 退出到桌面: the systemd unit neither restarts on
# it nor counts it a failure (RestartPreventExitStatus=, SuccessExitStatus=); 75 is the
# nightly restart, 76 the UPS shut-down (docs/staff.md).
EXIT_TO_DESKTOP = 77


class Mode(StrEnum):
    SERVICE = "service"      # from idle: the kiosk shows 暂停服务，维护中 to the public
    ASSIST = "assist"        # over a citizen's session, which keeps its state


@dataclass
class StaffSession:
    """Made by :class:`kiosk.staff.authority.StaffAuthority` only. ``name`` is for the
    screen and the receipt's 经办人, never for a log; the audit log gets ``staff_id``."""

    staff_id: str
    name: str
    roles: frozenset[Role]
    mode: Mode
    audit: AuditLog
    clock: Callable[[], datetime]
    last_touch: datetime
    emergency: bool = False
    ended: str | None = field(default=None)       # why it ended: "signed_out", "idle"

    def __repr__(self) -> str:
        return (f"StaffSession({self.staff_id!r}, roles={sorted(self.roles)}, "
                f"mode={self.mode.value}, ended={self.ended})")

    def touch(self) -> None:
        """The staff member touched the screen: the 120 s start again."""
        self._check_open()
        self.last_touch = self.clock()

    def idle_expired(self, now: datetime) -> bool:
        """Pure: 120 s or more since the last touch (the navigator's idle tick asks)."""
        return now - self.last_touch >= IDLE_SIGN_OUT

    def may(self, action: Action) -> bool:
        """For the screens: show a function only to whom it is allowed."""
        return allowed(self.roles, action)

    def perform(self, action: Action, run: Callable[[], Detail | None] | None = None, *,
                case: str | None = None, before: Mapping[str, Any] | None = None) -> Detail | None:
        """Check the role, run ``run`` (which returns the small ``after`` detail), and write
        exactly one audit entry — done, refused or failed. Raises StaffError when refused
        (code ``forbidden``, ``signed_out`` or ``idle``) and re-raises what ``run`` raised."""
        self._check_open()
        if self.idle_expired(self.clock()):
            self.sign_out("idle")
            raise StaffError("已超过 120 秒未操作，已自动退出", "signed out after 120 s "
                             "without a touch", code="idle")
        if not self.may(action):
            self._audit(action, case, before, {"result": "forbidden"})
            raise StaffError("您的角色无权执行此操作", f"your roles may not do {action.value}",
                             code="forbidden")
        try:
            after = run() if run is not None else None
        except Exception as exc:
            code = _error_name(exc)
            self._audit(action, case, before, {"result": "failed", "error": code})
            raise
        self.last_touch = self.clock()
        self._audit(action, case, before, {"result": "done", **(after or {})})
        return after

    def sign_out(self, why: str = "signed_out") -> None:
        """End the session (the explicit sign-out, or ``idle``). Idempotent: a session ends
        once, with one audit entry."""
        if self.ended is not None:
            return
        self.ended = why
        self.audit.append(self.staff_id, SIGN_OUT_ACTION,
                          after={"reason": why, "mode": self.mode.value})

    def _check_open(self) -> None:
        if self.ended is not None:
            raise StaffError("工作人员已退出，请重新登录", "the staff member has signed out; "
                             "sign in again", code="signed_out")

    def _audit(self, action: Action, case: str | None, before: Mapping[str, Any] | None,
               after: Detail) -> None:
        if self.emergency:
            after = {**after, "emergency": True}
        self.audit.append(self.staff_id, action.value, case=case, before=before, after=after)


def _error_name(exc: BaseException) -> str:
    """A typed error's code, else the exception's class: letters only, so the entry is
    always writable (an error code never carries data)."""
    raw = str(getattr(exc, "code", "") or type(exc).__name__)
    return re.sub(r"[^A-Za-z_]", "", raw)[:40] or "error"

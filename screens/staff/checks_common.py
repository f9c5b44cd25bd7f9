"""What the 日检, consumables and 台账 screens share: the kiosk's staff desk
(kiosk/staff/desk.py, through the service) and ``attempt`` — a desk call that itself goes
through ``StaffSession.perform`` (one audit entry), with a refusal or failure shown the way
the frame's ``perform`` shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kiosk.errors import BilingualError
from kiosk.staff.desk import StaffDesk
from kiosk.staff.errors import StaffError
from screens.base import error_text
from screens.staff.frame import StaffScreen

T = TypeVar("T")
OK_MARK, WARN_MARK, FAIL_MARK = "✓", "!", "×"


def desk(screen: StaffScreen) -> StaffDesk:
    return screen.ui.service.staff_desk()


def attempt(screen: StaffScreen, call: Callable[[], T]) -> T | None:
    """``call()``'s result, or None after showing why it was refused or failed (an idle
    session ends staff mode, as the frame does)."""
    try:
        return call()
    except StaffError as exc:
        if exc.code in ("idle", "signed_out"):
            screen.staff.signed_out_elsewhere()
        else:
            screen.nav.show_error(exc.zh, exc.en)
    except BilingualError as exc:
        screen.nav.show_error(*error_text(exc))
    return None

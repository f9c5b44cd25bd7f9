"""Who may do what (issue 21, "Roles"): the permission table, in code, checked by
:meth:`kiosk.staff.session.StaffSession.perform` before anything is done.

Roles add up: a person may hold several. As the issue reads, ``window`` is a guide who may
also approve 容缺, and ``supervisor`` holds the hall's most sensitive functions; it is not
decided here that a supervisor may also do everything a guide does — the roster gives each
person every role they need.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    GUIDE = "guide"               # 导服人员
    WINDOW = "window"             # 窗口人员
    MAINTAINER = "maintainer"     # 运维人员
    SUPERVISOR = "supervisor"     # 负责人


class Action(StrEnum):
    """Every staff function; the audit log names it by its value."""

    ASSIST = "case.assist"                     # 帮办 / 代办 overlay on a citizen's session
    VERIFY_ORIGINAL = "case.verify_original"   # 原件核验
    VERIFY_FACE = "case.verify_face"           # 人证核验 by sight, after the kiosk's could not
    REPRINT = "case.reprint"                   # 补打
    CASE_LOOKUP = "case.lookup"
    RESULT_HANDOVER = "case.result_handover"   # 审批结果送达
    APPROVE_RONGQUE = "case.approve_rongque"   # 容缺受理
    LEDGER_VIEW = "ledger.view"
    LEDGER_EXPORT = "ledger.export"            # masked
    LEDGER_EXPORT_UNMASKED = "ledger.export_unmasked"
    SELF_TEST = "device.self_test"             # 日检
    CONSUMABLES = "device.consumables"
    MAINTENANCE = "kiosk.maintenance"          # on / off, with the public notice
    AUDIT_VIEW = "audit.view"
    EXIT_TO_DESKTOP = "kiosk.exit_to_desktop"  # with a reason


_GUIDE = frozenset({Action.ASSIST, Action.VERIFY_ORIGINAL, Action.VERIFY_FACE, Action.REPRINT,
                    Action.CASE_LOOKUP, Action.RESULT_HANDOVER, Action.LEDGER_VIEW,
                    Action.LEDGER_EXPORT})
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.GUIDE: _GUIDE,
    Role.WINDOW: _GUIDE | {Action.APPROVE_RONGQUE},
    Role.MAINTAINER: frozenset({Action.SELF_TEST, Action.CONSUMABLES, Action.MAINTENANCE}),
    Role.SUPERVISOR: frozenset({Action.LEDGER_VIEW, Action.LEDGER_EXPORT,
                                Action.LEDGER_EXPORT_UNMASKED, Action.AUDIT_VIEW,
                                Action.EXIT_TO_DESKTOP}),
}
# The 台账 in the masked form: the seeds make keeping it the window's duty (seed 000 §三(二)),
# and a guide stands in at a kiosk; no role may see the unmasked form but supervisor.


def allowed(roles: frozenset[Role], action: Action) -> bool:
    return any(action in PERMISSIONS[role] for role in roles)


def parse_roles(names: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """Role names from a roster or a command line; ValueError names an unknown one."""
    known = {r.value for r in Role}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(f"unknown or no roles: {', '.join(map(str, unknown[:4])) or '-'}; "
                         f"one or more of {', '.join(sorted(known))}")
    return frozenset(Role(n) for n in names)

"""Who in the handling department may make which move. The roles follow the stages of the
seeds' 审批流程登记卡 (seed 003 appendix D: 受理 → 审批 → 办结 → 送达) and GB/T 39046's
business actions (tables 6–8 受理/补正/办结, table 15 寄递):

- ``intake`` 受理人员: 受理, 补正 (required and received), 特别程序, 不予受理;
- ``approver`` 审批人员: 办结 (the decision), 特别程序, 不予许可 (refused);
- ``window`` 窗口人员 (and 寄递): dispatched, arrived at the window, collected;
- ``admin`` 管理员: every move, and 归档 (archived), which is theirs alone.

A staff member holds one or more roles. Staff recorded before roles existed became 管理员
when the database was upgraded (db.py), so nobody lost a move they had."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.casestatus.event import CaseState
from kiosk.errors import KioskError

_S = CaseState
ROLES: dict[str, tuple[str, frozenset[CaseState]]] = {
    "intake": ("受理人员", frozenset({_S.ACCEPTED, _S.CORRECTION_REQUIRED,
                                     _S.CORRECTION_RECEIVED, _S.SPECIAL_PROCEDURE,
                                     _S.REFUSED})),
    "approver": ("审批人员", frozenset({_S.DECIDED, _S.SPECIAL_PROCEDURE, _S.REFUSED})),
    "window": ("窗口人员", frozenset({_S.DISPATCHED, _S.ARRIVED_AT_WINDOW, _S.COLLECTED})),
    "admin": ("管理员", frozenset(CaseState) - {_S.RECEIVED}),
}
_BY_ZH = {zh: name for name, (zh, _) in ROLES.items()}
MAX_ROLES_TEXT = 100


class RoleError(KioskError):
    code = "bad_role"


def parse_role(text: str) -> str:
    """A role by its name (``intake``…) or its Chinese label (受理人员…); else RoleError."""
    if text in ROLES:
        return text
    if text in _BY_ZH:
        return _BY_ZH[text]
    choices = "、".join(f"{name}（{zh}）" for name, (zh, _) in ROLES.items())
    raise RoleError(f"没有这个岗位：{text[:40]!r}；可选 {choices}",
                    f"No such role: {text[:40]!r}; one of {', '.join(ROLES)}")


def encode(roles: Iterable[str]) -> str:
    """The roles as stored: known names, sorted, comma-separated, at least one."""
    names = sorted({parse_role(role) for role in roles})
    if not names:
        raise RoleError("至少要有一个岗位（--role）", "At least one role is needed (--role)")
    return ",".join(names)


def decode(stored: str | None) -> frozenset[str]:
    """The stored roles; anything unknown (a hand-edited row) grants nothing."""
    if not stored or len(stored) > MAX_ROLES_TEXT:
        return frozenset()
    return frozenset(name for name in stored.split(",") if name in ROLES)


def moves_for(roles: Iterable[str]) -> frozenset[CaseState]:
    return frozenset().union(*(ROLES[name][1] for name in roles if name in ROLES))


def labels(roles: Iterable[str]) -> str:
    return "、".join(ROLES[name][0] for name in sorted(roles) if name in ROLES)

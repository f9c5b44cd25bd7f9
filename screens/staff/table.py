"""The staff menu's table: one row per staff function. The menu shows a row only when the
signed-in roles allow its action (``StaffSession.may``) and the mode is one it works in;
the app adds each row's screen to the screen manager.

To add a function: write a :class:`screens.staff.frame.StaffScreen` subclass in its own
module under screens/staff/ (``screen_name`` starting with ``staff_``), and append a row
here. Rows may share a screen class only if they share its screen name.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.staff.roles import Action
from kiosk.staff.session import Mode
from screens.staff.agent import AgentScreen
from screens.staff.audit_view import AuditViewScreen
from screens.staff.consumables import ConsumablesScreen
from screens.staff.face import FaceCheckScreen
from screens.staff.frame import StaffScreen
from screens.staff.ledger import LedgerScreen
from screens.staff.maintenance import ExitScreen, MaintenanceScreen
from screens.staff.originals import OriginalsScreen
from screens.staff.reprint import ReprintScreen
from screens.staff.rongque import RongqueScreen
from screens.staff.selftest import SelfTestScreen

BOTH = frozenset({Mode.ASSIST, Mode.SERVICE})
SERVICE_ONLY = frozenset({Mode.SERVICE})
ASSIST_ONLY = frozenset({Mode.ASSIST})      # on a citizen's case


@dataclass(frozen=True)
class StaffFunction:
    action: Action                   # what StaffSession.may and perform check
    screen: str                      # its screen's name (``staff_…``)
    zh: str                          # the menu button's label, Chinese
    en: str                          # ... and English
    screen_class: type[StaffScreen]
    modes: frozenset[Mode] = BOTH    # SERVICE_ONLY: not over a citizen's session


FUNCTIONS: tuple[StaffFunction, ...] = (
    StaffFunction(Action.REPRINT, "staff_reprint", "补打回执", "Reprint a receipt",
                  ReprintScreen),
    StaffFunction(Action.MAINTENANCE, "staff_maintenance", "维护模式 开/关",
                  "Maintenance on / off", MaintenanceScreen, SERVICE_ONLY),
    StaffFunction(Action.AUDIT_VIEW, "staff_audit", "审计日志", "Audit log", AuditViewScreen),
    StaffFunction(Action.EXIT_TO_DESKTOP, "staff_exit", "退出到桌面", "Exit to the desktop",
                  ExitScreen, SERVICE_ONLY),
    # 日检 prints a strip and takes the camera: not over a citizen's session; a refill is
    # (the citizen may be waiting for their receipt); the 台账 shows other people's cases
    # (masked): not with a citizen at the screen
    StaffFunction(Action.SELF_TEST, "staff_selftest", "设备日检", "Daily self-test",
                  SelfTestScreen, SERVICE_ONLY),
    StaffFunction(Action.CONSUMABLES, "staff_consumables", "耗材管理", "Consumables",
                  ConsumablesScreen),
    StaffFunction(Action.LEDGER_VIEW, "staff_ledger", "台账查询", "Ledger", LedgerScreen,
                  SERVICE_ONLY),
    StaffFunction(Action.VERIFY_FACE, "staff_face", "人证核验", "Verify the person",
                  FaceCheckScreen, ASSIST_ONLY),
    StaffFunction(Action.VERIFY_ORIGINAL, "staff_originals", "原件核验", "Check the originals",
                  OriginalsScreen, ASSIST_ONLY),
    StaffFunction(Action.APPROVE_RONGQUE, "staff_rongque", "容缺受理",
                  "Accept with a material to follow", RongqueScreen, ASSIST_ONLY),
    StaffFunction(Action.ASSIST, "staff_agent", "帮办 / 代办", "Assisted or by an agent",
                  AgentScreen, ASSIST_ONLY),
    # other staff functions: append rows here
)

"""The 容缺 deadline watch: an item a window staff member let a case go without (容缺受理)
that is still owed after its 补交 deadline raises the alert ``rongque_overdue`` — through the
lifecycle, whose alerts the fleet heartbeat counts and the hall's screens show.

Once a day per item (the ledger keeps the day it last alerted), so a kiosk polled every few
seconds does not flood the alerts, and a restart on a later day reminds again.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from kiosk.ledger import Ledger

ALERT = "rongque_overdue"


class Alerts(Protocol):
    def alert(self, code: str, detail: dict[str, str]) -> None: ...


def alert_overdue(ledger: Ledger, alerts: Alerts, today: date) -> int:
    """Alert each overdue 容缺 item not alerted today; return how many."""
    found = ledger.overdue(today)
    for case_number, item in found:
        alerts.alert(ALERT, {
            "case_number": case_number, "requirement": item.requirement_id,
            "deadline": item.deadline.isoformat(),
            "zh": f"受理编号 {case_number} 的容缺材料“{item.material}”已超过补交期限"
                  f"（{item.deadline.isoformat()}）",
            "en": f"Case {case_number}: the 容缺 material {item.requirement_id} is past its "
                  f"deadline ({item.deadline.isoformat()})"})
        ledger.mark_alerted(case_number, item.requirement_id, today)
    return len(found)

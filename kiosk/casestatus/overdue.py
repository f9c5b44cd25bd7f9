"""Overdue cases, raised as alerts (counted in the fleet heartbeat, shown to the hall):

- ``status_not_received``: a package delivered to its handling region more than 2 hours ago
  (seed 002: 转交 within 2 hours) and no ``received`` from that region;
- ``correction_overdue``: a 补正 whose deadline has passed with no 补正材料 received;
- ``result_not_collected``: a result at the window for more than ``casestatus.collect_days``.

Each once per transfer (the store keeps what it alerted), so a poll every few seconds does
not flood. Only deliveries of the last ``max_age`` are looked at: a kiosk that starts taking
status events does not alert on its whole history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kiosk.casestatus.event import CaseState
from kiosk.casestatus.receiver import Alerts
from kiosk.casestatus.store import Applied, StatusStore
from kiosk.transfer.outbox import Outbox

RECEIVED_WITHIN = timedelta(hours=2)         # seed 002


def alert_overdue(store: StatusStore, outbox: Outbox, alerts: Alerts, now: datetime, *,
                  collect_days: int, max_age: timedelta) -> int:
    """Raise each overdue alert not raised before; return how many. ``now`` is aware."""
    found = _not_received(store, outbox, now, max_age) + _corrections(store, now) + \
        _uncollected(store, now, timedelta(days=collect_days))
    raised = 0
    for kind, transfer, case, zh, en in found:
        if store.first_alert(transfer, kind):
            alerts.alert(kind, {"case_number": case, "transfer_number": transfer,
                                "zh": f"受理编号 {case}：{zh}", "en": f"Case {case}: {en}"})
            raised += 1
    return raised


Found = list[tuple[str, str, str, str, str]]     # kind, transfer, case, zh, en


def _not_received(store: StatusStore, outbox: Outbox, now: datetime,
                  max_age: timedelta) -> Found:
    late: dict[str, set[str]] = {}
    for entry in outbox.entries():
        at = entry.delivered_at
        if at is not None and now - max_age < at < now - RECEIVED_WITHIN:
            late.setdefault(entry.case_number, set()).add(entry.region)
    out: Found = []
    for case, routes in late.items():
        transfers = store.find_transfers(case)
        # a route named by its region: that region's transfer; an exchange: all of them
        ours = [t for t in transfers
                if t[8:14] in routes or any(not r.isdigit() for r in routes)]
        heard = store.heard_from(ours) if ours else set()
        out += [("status_not_received", t, case, f"送达办理地 {t[8:14]} 已超过 2 小时仍未确认接收",
                 f"delivered to {t[8:14]} over 2 hours ago, not yet received")
                for t in ours if t not in heard]
    return out


def _corrections(store: StatusStore, now: datetime) -> Found:
    out: Found = []
    for event in store.latest((CaseState.CORRECTION_REQUIRED,)):
        deadline = _day(event.details.get("deadline"))
        if deadline is not None and deadline < now.astimezone(event.time.tzinfo).date():
            out.append(("correction_overdue", event.transfer_number, event.case_number,
                        f"补正期限 {deadline.isoformat()} 已过，未收到补正材料",
                        f"the 补正 deadline {deadline.isoformat()} has passed"))
    return out


def _uncollected(store: StatusStore, now: datetime, after: timedelta) -> Found:
    return [("result_not_collected", e.transfer_number, e.case_number,
             f"结果到窗口已超过 {after.days} 天未领取",
             f"the result has waited at the window over {after.days} days")
            for e in store.latest((CaseState.ARRIVED_AT_WINDOW,)) if _waited(e, now, after)]


def _waited(event: Applied, now: datetime, after: timedelta) -> bool:
    return now - event.time > after


def _day(value: object) -> date | None:
    """A deadline written as a date or a time; None when it cannot be read (not judged)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value).date() if "T" in value else \
            date.fromisoformat(value)
    except ValueError:
        return None

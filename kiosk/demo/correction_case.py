"""A case waiting for a 补正, for the touch demo (``kiosk demo --correction-case``) and the UI
tests: the scripted citizen (kiosk/demo/citizen.py) submits a real case with the demo's
resident card, then the demo region's signed status events — 办理地已接收 and 需补正 with
the items and a deadline — are applied through the kiosk's real receiver, verified with the
region's published demo status key (assets/demo/regions), so the ledger, the status events
and the applicant's keyed hash are exactly what a real one leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.casestatus.event import CaseState, StatusEvent, sign
from kiosk.casestatus.receiver import Outcome, Receiver
from kiosk.demo.citizen import Applicant, Scenario, _run
from kiosk.errors import KioskError
from kiosk.routing.directory_format import RegionKey
from kiosk.settings import Settings
from kiosk.transfer.keys import KeyFile, load

log = logging.getLogger(__name__)
DEMO_REGIONS = Path(__file__).resolve().parents[2] / "assets" / "demo" / "regions"
MATTER = "GA-HJZM-001"
ITEMS = ("居民户口簿原件扫描件不清晰，请重新扫描", "请补充近期一寸证件照")
NOTICE = "BZ-2026-0042"


class _DemoStatusKeys:
    """The demo region's status key, valid from 2020 to 2040, as a directory would give it."""

    def __init__(self, file: KeyFile) -> None:
        self.file = file

    def key(self, region: str, key_id: str, at: datetime) -> RegionKey | None:
        f = self.file
        if key_id != f.key_id:
            return None
        return RegionKey(f.suite, f.key_id, f.public, datetime(2020, 1, 1, tzinfo=UTC),
                         datetime(2040, 1, 1, tzinfo=UTC))


class _LoggedAlerts:
    def alert(self, code: str, detail: dict[str, str]) -> None:
        log.warning("demo status event refused: %s", code)


def seed(kiosk: Kiosk, out: Path, deadline: date, items: Sequence[str] = ITEMS,
         matter: str = MATTER) -> str:
    """Submit a case as the demo resident, then have its region ask for ``items`` by
    ``deadline``; returns the case number (its state is 需补正)."""
    out.mkdir(parents=True, exist_ok=True)
    done = _run(kiosk, matter, None, Scenario.COMPLETE, out, Applicant())
    row = kiosk.ledger.find(done.case_number or "")
    if done.outcome != "accepted" or row is None:
        raise KioskError("演示办件未能受理，无法准备补正演示", "The demo case was not accepted: "
                         "no 补正 case to show", code="demo_case")
    transfer = row.transfer_numbers.split(",")[0]
    region = transfer[8:14]
    suite = kiosk.settings.transfer.suite
    file = load(DEMO_REGIONS / f"region-{region}-status-{suite}.key")
    receiver = Receiver(kiosk.case_status.store, _DemoStatusKeys(file), _LoggedAlerts())
    at = datetime.now(UTC)
    moves: list[tuple[CaseState, dict[str, Any]]] = [
        (CaseState.RECEIVED, {}),
        (CaseState.CORRECTION_REQUIRED, {"items": list(items), "deadline": deadline.isoformat(),
                                         "notice_number": NOTICE})]
    for seq, (state, details) in enumerate(moves, start=1):
        event = StatusEvent(region, transfer, row.case_number, seq, state, at, file.suite,
                            file.key_id, details)
        outcome = receiver.apply(sign(event, file.private or b"")).outcome
        if outcome is not Outcome.APPLIED:
            raise KioskError("演示状态消息未能应用", "The demo status event was not applied",
                             code="demo_case")
    return row.case_number


def seed_demo(settings: Settings, out: Path, days: int = 30) -> str:
    """``kiosk demo --correction-case``: the case seeded into the demo's own data folder
    before the touch app opens it; returns its number."""
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(datetime.now())
        return seed(kiosk, out, date.today() + timedelta(days=days))
    finally:
        kiosk.close()


def told(number: str) -> str:
    """What the demo prints: the case and how to reach it on the screen."""
    return (f"待补正演示办件 {number}：进度查询 → 读取身份证（演示 放身份证）→ 提交补正材料\n"
            f"A case waiting for a 补正: {number} (进度查询 → read the demo card → "
            f"Submit the requested materials)")

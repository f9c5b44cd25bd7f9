"""The kiosk's status refresh (start-up, idle polls) runs the 容缺 deadline watch: an overdue
item becomes a lifecycle alert, which the fleet heartbeat counts by code."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from kiosk.assist import RONGQUE_STATE
from kiosk.bootstrap import build_kiosk
from kiosk.documents.model import LedgerRow
from kiosk.ledger import Owed
from kiosk.paths import DEMO_SETTINGS
from kiosk.rongque_watch import ALERT
from kiosk.settings import load_settings


def test_refresh_raises_the_overdue_alert(tmp_path: Path) -> None:
    kiosk = build_kiosk(load_settings(DEMO_SETTINGS).with_data_dir(tmp_path / "data"))
    try:
        kiosk.open(datetime(2026, 12, 5, 18, 0))
        kiosk.ledger.record(LedgerRow(
            case_number="510802-0001-261201-0001-7", time=datetime(2026, 12, 1, 10, 0),
            department="公安", matter_code="GA-HKQY-003", matter_name="夫妻投靠户口迁移",
            count=5, case_type="联办件", applicant_masked="张*华", phone_masked="",
            window="510802-0001", staff="周丽", state=RONGQUE_STATE, scope="跨省通办",
            regions="广元市利州区"),
            (Owed("spouse_household_register", "被投靠配偶居民户口簿（迁入地）",
                  date(2026, 12, 5)),))
        kiosk.refresh(datetime(2026, 12, 5, 18, 1))       # due today: not late
        assert [a for a in kiosk.lifecycle.alerts if a["code"] == ALERT] == []
        kiosk.refresh(datetime(2026, 12, 6, 8, 0))
        kiosk.refresh(datetime(2026, 12, 6, 8, 5))        # the next poll: not again today
        overdue = [a for a in kiosk.lifecycle.alerts if a["code"] == ALERT]
        assert len(overdue) == 1 and overdue[0]["case_number"] == "510802-0001-261201-0001-7"
    finally:
        kiosk.close()

"""Issue 26: the 一次性告知 slip of a matter this kiosk takes (printed while it is closed):
this kiosk's hours, when it opens, every material; refused at once when the paper is out,
like the referral slip; the referral slip of a matter done elsewhere is unchanged."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from drivers.status import PaperLevel
from kiosk.bootstrap import build_kiosk
from kiosk.errors import SessionError
from kiosk.hours import hours_text, opening_text
from kiosk.service import KioskService
from kiosk.settings import Hours, load_settings

ROOT = Path(__file__).resolve().parents[2]
WORKDAY = Hours(open=time(9), close=time(17, 30), closed_weekdays=(5, 6),
                closed_dates=(date(2026, 10, 1),))


def test_hours_text_says_times_weekdays_and_holidays() -> None:
    assert hours_text(WORKDAY) == "09:00–17:30；周六、周日不开放；法定节假日不开放"
    assert hours_text(Hours()) == "24小时"


@pytest.mark.parametrize(("now", "text"), [
    (datetime(2026, 12, 7, 10, 0), ""),                                   # open: no line
    (datetime(2026, 12, 7, 7, 30), "今天 09:00 开始服务"),
    (datetime(2026, 12, 4, 18, 0), "2026年12月7日 09:00 开始服务"),          # Friday evening
    (datetime(2026, 9, 30, 18, 0), "2026年10月2日 09:00 开始服务"),          # the holiday skipped
])
def test_opening_text_says_when_to_come_back(now: datetime, text: str) -> None:
    assert opening_text(WORKDAY, now) == text


def test_slip_of_a_matter_taken_here(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(datetime.now())
        service = KioskService(kiosk)
        matter = service.matter("GA-HJZM-001")
        kiosk.printer.set_paper(PaperLevel.OUT)
        with pytest.raises(SessionError) as refused:
            service.referral_slip(matter)
        assert refused.value.code == "slip_not_printed" and "打印纸" in refused.value.zh
        assert kiosk.printing.pending == []                  # not held for the refill
        kiosk.printer.set_paper(PaperLevel.FULL)
        assert service.referral_slip(matter).startswith(b"\x89PNG")
        service.referral_slip(service.matter("GA-SFZ-005"))   # a matter done elsewhere
        here, elsewhere = ("".join("".join(line.split()) for line in job.transcript)
                           for job in kiosk.printer.virtual.wait_for_jobs(2))
        assert "可在本自助终端办理" in here and "本机服务时间：24小时" in here
        assert "下次开始服务" not in here                     # open now: nothing to wait for
        assert "不能在本自助终端办理" in elsewhere and "本机服务时间" not in elsewhere
    finally:
        kiosk.close()

"""Issue 26: outside service hours the attract screen says when the kiosk opens again
(a holiday week skipped), and no session can start."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from kivy.core.window import Window
from ui_harness import FakeClock, Harness
from ui_harness import test_settings as demo_settings

from kiosk.bootstrap import build_kiosk
from screens.app import KioskApp


def test_closed_today_says_when_it_opens(tmp_path: Path) -> None:
    today = date.today()
    holidays = tuple(today + timedelta(days=n) for n in range(3))   # today and two more
    settings = demo_settings(tmp_path)
    hours = settings.hours.model_copy(update={"open": time(9), "close": time(17),
                                              "closed_dates": holidays})
    settings = settings.model_copy(update={"hours": hours})
    kiosk = build_kiosk(settings)
    kiosk.open(datetime.now())
    app = KioskApp(kiosk, clock=FakeClock())
    Window.add_widget(app.build())
    harness = Harness(app, kiosk, app.clock, tmp_path / "shots")
    try:
        harness.pump(3)
        opens = today + timedelta(days=3)
        text = harness.text_on_screen()
        assert "不在服务时间内" in text
        assert f"{opens.month}月{opens.day}日 09:00 开始服务" in text
        assert f"Opens {opens:%d %b} at 09:00" in text
        assert not harness.find("start").enabled
        harness.screenshot("closed")
    finally:
        harness.close()

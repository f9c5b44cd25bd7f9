"""Issue 26: outside service hours the attract screen offers the guides; a citizen reads a
matter's guide and prints its 一次性告知 slip (every material, this kiosk's hours, when it
opens) with no session — nothing read, captured or numbered — and the next citizen, once
the kiosk is open, starts as usual."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

from kivy.core.window import Window
from ui_harness import FakeClock, Harness
from ui_harness import test_settings as demo_settings

from kiosk.bootstrap import build_kiosk
from kiosk.catalogue.model import AlternativeGroup
from screens.app import KioskApp
from screens.citizen.journey import BROWSE_IDLE_S
from screens.dialogs import Dialog

MATTER = "GA-HJZM-001"          # 户籍类证明开具: a matter this kiosk takes
MONDAY = date(2026, 12, 7)


class HallTime(datetime):
    """The service's wall clock, moved on by the test (closing time, then the next morning)."""

    at: ClassVar[datetime]

    @classmethod
    def now(cls, tz: object = None) -> HallTime:     # type: ignore[override]
        return cls.at      # type: ignore[return-value]


def material_names(h: Harness) -> list[str]:
    matter = h.ui.service.matter(MATTER)
    names = []
    for situation in matter.situations:
        for req in situation.materials:
            options = req.options if isinstance(req, AlternativeGroup) else (req,)
            names += [m.name for m in options]
    return names


def closed_kiosk(tmp_path: Path) -> Harness:
    """Weekdays 09:00–17:00, and the hall's clock at 20:30 on a Monday."""
    settings = demo_settings(tmp_path)
    hours = settings.hours.model_copy(update={
        "open": time(9), "close": time(17), "closed_weekdays": (5, 6), "closed_dates": (),
        "open_dates": ()})
    settings = settings.model_copy(update={"hours": hours})
    HallTime.at = datetime.combine(MONDAY, time(20, 30))          # after closing
    kiosk = build_kiosk(settings)
    kiosk.open(HallTime.at)
    app = KioskApp(kiosk, clock=FakeClock())
    Window.add_widget(app.build())
    h = Harness(app, kiosk, app.clock, tmp_path / "shots")
    h.ui.service._clock = HallTime          # the hall's clock, not the machine's
    return h


def test_closed_kiosk_prints_the_guide_slip_and_opens_next_morning(tmp_path: Path) -> None:
    h = closed_kiosk(tmp_path)
    kiosk, monday = h.kiosk, MONDAY
    seen: list[str] = []
    h.nav.manager.bind(current=lambda _m, name: seen.append(name))
    try:
        h.pump(3)
        assert not h.find("start").enabled
        h.tap("browse_guides")
        h.wait_screen("matters")
        assert h.journey.session is None and h.journey.browsing
        h.tap("search")
        h.type_keys("hjzm")
        h.tap(f"matter_{MATTER}")
        h.wait_screen("guide")
        assert not h.has("next") and h.has("print_slip")       # no 开始办理 while closed
        assert "需要准备的材料" in h.text_on_screen()
        h.screenshot("guide-closed")
        h.tap("print_slip")
        h.wait(lambda: h.nav.dialog is not None, "the slip's 请取走 message")
        assert "本机服务时间内" in h.text_on_screen()
        (job,) = kiosk.printer.virtual.wait_for_jobs(1)
        slip = "".join("".join(line.split()) for line in job.transcript)
        assert "本机服务时间" in slip and "09:00–17:00" in slip and "周六、周日不开放" in slip
        assert "2026年12月8日09:00开始服务" in slip          # when to come back
        missing = [n for n in material_names(h) if "".join(n.split()) not in slip]
        assert not missing, f"materials not on the slip: {missing}"
        assert h.journey.session is None
        assert not {"identify", "capture", "review"} & set(seen)
        assert kiosk.printing.pending == []           # nothing owed, nothing numbered

        HallTime.at = datetime.combine(monday + timedelta(days=1), time(9, 5))   # next morning
        kiosk.refresh(HallTime.at)
        h.tap("ok")
        h.wait(lambda: not any(isinstance(c, Dialog) for c in Window.children),
               "the message's fade-out (it takes touches until gone)")
        h.tap("cancel")                               # the browse ends at once (no question)
        h.wait_screen("attract")
        assert not h.journey.browsing and not h.has("browse_guides")
        assert h.find("start").enabled
        h.tap("start")
        h.wait_screen("matters")
        assert h.journey.session is not None
        h.tap("search")
        h.type_keys("hjzm")
        h.tap(f"matter_{MATTER}")
        h.wait_screen("guide")
        assert h.has("next") and not h.has("print_slip")
    finally:
        h.close()


def test_guides_left_alone_go_back_to_the_attract_screen(tmp_path: Path) -> None:
    h = closed_kiosk(tmp_path)
    try:
        h.pump(3)
        h.tap("browse_guides")
        h.wait_screen("matters")
        h.clock.advance(BROWSE_IDLE_S)          # nobody touched the screen since
        h.wait_screen("attract")
        assert not h.journey.browsing and h.has("browse_guides")
    finally:
        h.close()

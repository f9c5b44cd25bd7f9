"""呼叫工作人员 (issue 20, item 3), tapped on the real app, headless: without a broker the
dialog sends the citizen to the guide desk with the hall's phone; with a real Mosquitto on
loopback the call reaches the hall, the hall console (its own process) lists and acknowledges
it and the dialog says someone is on the way; nobody answering turns into the phone number;
the session's end closes the call."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from kivy.core.window import Window
from ui_harness import ROOT, FakeClock, Harness
from ui_harness import test_settings as demo_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fleet"))   # the fleet rigs
from call_rig import HallListener, console, fleet_settings

from kiosk.bootstrap import build_kiosk
from kiosk.settings import Hall
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available
from screens.app import KioskApp

ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))
KIOSK = "510802-0001"
DESK_PHONE = "0839-3266100"


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    with MosquittoBroker() as running:
        yield running


@pytest.fixture
def hall(broker: MosquittoBroker) -> Iterator[HallListener]:
    listener = HallListener(broker)
    yield listener
    listener.close()


def _open(tmp_path: Path, name: str, broker: MosquittoBroker) -> Harness:
    """The demo kiosk with a broker in [fleet] and the guide desk's own phone in [hall]."""
    settings = demo_settings(tmp_path)
    settings = settings.model_copy(update={
        "fleet": fleet_settings(broker.url), "hall": Hall(call_wait_s=120, phone=DESK_PHONE),
        "ui": settings.ui.model_copy(update={"voice": True})})
    kiosk = build_kiosk(settings)
    kiosk.open(datetime.now())
    clock = FakeClock()
    app = KioskApp(kiosk, clock=clock)
    h = Harness(app, kiosk, clock, ARTIFACTS / name)
    try:
        Window.add_widget(app.build())
        h.pump(3)
        h.wait(lambda: h.ui.service.calls.connected, "the kiosk connected to the broker")
    except BaseException:
        h.close()            # its printer threads would keep the test process alive
        raise
    return h


def _message(h: Harness) -> str:
    dialog = h.nav.dialog
    assert dialog is not None and dialog.name == "staff_called", "the call's dialog"
    return str(dialog.message.text)


def _call_from_matters(h: Harness) -> None:
    h.tap("start")
    h.wait_screen("matters")
    h.tap("call_staff")


def test_without_a_broker_the_call_sends_the_citizen_to_the_guide_desk(
        harness: Harness) -> None:
    h = harness
    phone = h.kiosk.settings.kiosk.phone
    _call_from_matters(h)
    text = _message(h)
    assert "马上就到" not in text and "正在赶来" not in text       # nobody is coming
    assert "请到咨询台" in text and "Please go to the guide desk" in text and phone in text
    h.screenshot("call-no-broker")
    assert h.kiosk.speaker.chimes == 1                               # type: ignore[attr-defined]
    assert not h.journey.staff.awaited()          # nobody is coming: the idle timer runs on
    h.journey.ask_cancel()                            # another dialog over the call's ...
    h.pump(2)
    assert h.nav.dialog.name == "confirm_cancel"
    h.tap("keep")                                     # ... and the call's comes back
    h.wait(lambda: h.nav.dialog is not None and h.nav.dialog.name == "staff_called",
           "the call's dialog again")
    h.tap("close_call")
    assert h.nav.dialog is None and h.ui.service.staff_call() is None


def test_the_call_reaches_the_hall_and_the_citizen_sees_it_acknowledged(
        tmp_path: Path, broker: MosquittoBroker, hall: HallListener,
        request: pytest.FixtureRequest) -> None:
    h = _open(tmp_path, request.node.name, broker)
    try:
        _call_from_matters(h)
        h.wait(lambda: "已通知大厅工作人员" in _message(h), "the broker took the call")
        assert h.find("close_call").text.startswith("取消呼叫")
        session = h.journey.session
        idle_since = session._last_touch - 10_000      # untouched for hours, but waiting
        session._last_touch = idle_since               # for staff: the idle timer holds
        h.wait(lambda: session._last_touch > idle_since, "the journey's tick")
        assert h.journey.session is session and h.nav.dialog.name == "staff_called"
        h.screenshot("call-waiting")
        hall.until(lambda lst: bool(lst.calls()), "the call at the hall")
        call = hall.calls()[-1]
        assert (call.kiosk, call.step, call.state) == (KIOSK, "choose_matter", "open")

        listed = console(broker, "list", "--hall", "lizhou-zwzx")
        assert listed.returncode == 0 and call.id in listed.stdout, listed.stderr
        acked = console(broker, "ack", call.id, "--by", "导办台 王芳")
        assert acked.returncode == 0, acked.stderr

        h.wait(lambda: "工作人员已收到呼叫，正在赶来" in _message(h), "acknowledged on screen")
        text = _message(h)
        assert "A member of staff is on the way" in text and "王芳" not in text
        assert h.find("close_call").text.startswith("知道了")
        h.screenshot("call-acknowledged")
        h.tap("close_call")
        hall.until(lambda lst: lst.cleared(KIOSK), "the call closed at the hall")
        assert "no open calls" in console(broker, "list").stdout
    finally:
        h.close()


def test_nobody_answering_gives_the_phone_and_the_session_end_closes_the_call(
        tmp_path: Path, broker: MosquittoBroker, hall: HallListener,
        request: pytest.FixtureRequest) -> None:
    h = _open(tmp_path, request.node.name, broker)
    try:
        _call_from_matters(h)
        h.wait(lambda: "已通知大厅工作人员" in _message(h), "the broker took the call")
        h.clock.advance(120)                           # [hall] call_wait_s
        h.wait(lambda: "请到咨询台" in _message(h), "the guide desk after the wait")
        assert DESK_PHONE in _message(h) and "暂时无人应答" in _message(h)
        h.screenshot("call-nobody-answered")
        hall.until(lambda lst: bool(lst.calls()), "the call at the hall")
        assert not hall.cleared(KIOSK)                 # still open for the hall meanwhile
        h.journey.cancel()                             # the session ends
        hall.until(lambda lst: lst.cleared(KIOSK), "the call closed with the session")
        assert h.ui.service.staff_call() is None and h.screen == "attract"
    finally:
        h.close()

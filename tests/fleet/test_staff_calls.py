"""Staff calls (呼叫工作人员) between a kiosk and the hall console, on a real Mosquitto on
loopback: the call reaches the hall retained with QoS 1 and without personal data, the console
(its own process) lists it and acknowledges it, the kiosk follows; without a broker, with the
broker gone, or with nobody answering, the kiosk says so. The console's wrong arguments end as
typed bilingual errors with exit status 2."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from call_rig import DEMO_TREE, FLEET, WAIT, HallListener, console, fleet_settings
from fleet_rig import KIOSKS, Kiosks

from kiosk.bus import EventBus
from kiosk.fleet.calls import CALL_ID, ack_document
from kiosk.fleet.staffcall import CALL_EVENT, SEND_TIMEOUT_S, CallState, StaffCalls
from kiosk.service import KioskService
from rigs.mqtt_rig import MosquittoBroker

KIOSK = "510802-0001"          # hall lizhou-zwzx in the demo inventory
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hall(broker: MosquittoBroker) -> Iterator[HallListener]:
    listener = HallListener(broker)
    yield listener
    listener.close()


def _calls(broker: str, clock: Clock, bus: EventBus | None = None,
           wait_s: float = 120) -> StaffCalls:
    calls = StaffCalls(bus or EventBus(), KIOSK, wait_s, fleet_settings(broker), clock)
    _until(lambda: calls.connected, "connected")
    return calls


def _until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def _state(calls: StaffCalls, state: CallState) -> None:
    _until(lambda: (c := calls.current()) is not None and c.state is state, state.value)


def _bilingual(err: str) -> None:
    assert CJK.search(err) and re.search(r"[A-Za-z]{3,} [a-z]+", err) and "/ " in err, err
    assert "Traceback" not in err


def test_without_a_broker_the_call_goes_nowhere_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    bus, events = EventBus(), []
    bus.subscribe(CALL_EVENT, lambda _t, p: events.append(p))
    calls = StaffCalls(bus, KIOSK, 120, None, Clock())
    with caplog.at_level(logging.INFO, logger="kiosk.fleet.staffcall"):
        call = calls.open("capture", "s1")
    assert call.state is CallState.OFFLINE and CALL_ID.fullmatch(call.id)
    assert calls.open("capture", "s1") == call                  # a second tap: the same call
    bus.publish("session.ended", {"session": "s1", "reason": "cancelled"})
    assert calls.current() is None
    assert [e["state"] for e in events] == ["offline", "closed"]
    assert f"staff call {call.id} at step capture: offline" in caplog.text


def test_an_unreachable_broker_is_said_at_once() -> None:
    with socket.socket() as probe:            # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    calls = StaffCalls(EventBus(), KIOSK, 120, fleet_settings(f"mqtt://127.0.0.1:{port}"),
                       Clock())
    try:
        assert calls.open("guide").state is CallState.UNREACHABLE
    finally:
        calls.shutdown()


def test_the_call_reaches_the_hall_which_lists_and_acknowledges_it(
        broker: MosquittoBroker, hall: HallListener, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    calls = _calls(broker.url, clock)
    try:
        with caplog.at_level(logging.INFO):
            call = calls.open("capture", "s1")
            _state(calls, CallState.WAITING)
        hall.until(lambda h: any(c.id == call.id for c in h.calls()), "the call at the hall")
        late = HallListener(broker)               # a console that comes later still sees it
        late.until(lambda h: bool(h.calls()), "the retained call")
        late.close()
        topic, payload, qos, retained = next(m for m in late.messages if m[1])
        assert topic == f"tongban/{FLEET}/kiosk/{KIOSK}/call" and qos == 1 and retained
        doc = json.loads(payload)
        assert set(doc) == {"schema", "id", "kiosk", "step", "state", "at"}   # no citizen
        assert (doc["step"], doc["state"]) == ("capture", "open")

        listed = console(broker, "list")
        assert listed.returncode == 0, listed.stderr
        assert re.search(rf"{call.id}\s+{KIOSK}\s+lizhou-zwzx\s+step=capture", listed.stdout)
        other_hall = console(broker, "list", "--hall", "wuhou-zwzx")
        assert call.id not in other_hall.stdout and "no open calls" in other_hall.stdout

        acked = console(broker, "ack", call.id, "--by", "导办台 王芳")
        assert acked.returncode == 0, acked.stderr
        assert calls.current().state is CallState.ACKNOWLEDGED   # type: ignore[union-attr]
        again = console(broker, "ack", call.id, "--by", "李")
        assert again.returncode == 2 and "导办台 王芳" in again.stderr
        _bilingual(again.stderr)
        clock.now += 10_000                       # answered: it never turns into "expired"
        assert calls.current().state is CallState.ACKNOWLEDGED   # type: ignore[union-attr]
        assert "王芳" not in caplog.text          # the kiosk's log names nobody

        calls.close_call("closed by the citizen")
        hall.until(lambda h: h.cleared(KIOSK), "the call cleared")
        closed = console(broker, "ack", call.id, "--by", "李")
        assert closed.returncode == 2 and "no open call" in closed.stderr
        assert "no open calls" in console(broker, "list").stdout
    finally:
        calls.shutdown()


def test_nobody_answering_expires_and_a_late_answer_still_counts(
        broker: MosquittoBroker, hall: HallListener) -> None:
    clock = Clock()
    calls = _calls(broker.url, clock, wait_s=120)
    try:
        call = calls.open("review")
        _state(calls, CallState.WAITING)
        clock.now += 119
        assert calls.current().state is CallState.WAITING        # type: ignore[union-attr]
        clock.now += 1
        assert calls.current().state is CallState.EXPIRED        # type: ignore[union-attr]
        hall.client.publish(f"tongban/{FLEET}/kiosk/{KIOSK}/call/ack", b"{junk", qos=1)
        hall.client.publish(f"tongban/{FLEET}/kiosk/{KIOSK}/call/ack",
                            ack_document("00000000", "x", datetime.now(UTC)), qos=1)  # not ours
        hall.client.publish(f"tongban/{FLEET}/kiosk/{KIOSK}/call/ack",
                            ack_document(call.id, "王", datetime.now(UTC)), qos=1)
        _state(calls, CallState.ACKNOWLEDGED)
    finally:
        calls.shutdown()
    hall.until(lambda h: h.cleared(KIOSK), "the call cleared when the kiosk closes")


def test_a_call_the_broker_does_not_take_or_loses_says_go_to_the_desk(
        broker: MosquittoBroker) -> None:
    clock = Clock()
    calls = _calls(broker.url, clock)
    try:
        first = calls.open("identify")
        _state(calls, CallState.WAITING)
        broker.stop()                                    # the broker goes: the hall can't see it
        _state(calls, CallState.UNREACHABLE)
        broker.start()                                   # back, its retained calls lost
        _until(lambda: calls.connected, "reconnected")
        hall = HallListener(broker)
        hall.until(lambda h: [c.id for c in h.calls()] == [first.id], "the call republished")
        assert calls.current().state is CallState.UNREACHABLE    # type: ignore[union-attr]
        calls.close_call("cancelled")
        hall.until(lambda h: h.cleared(KIOSK), "the call cleared")
        hall.close()
        call = calls.open("identify")
        assert call.state is CallState.SENDING
        clock.now += SEND_TIMEOUT_S - 1
        _state(calls, CallState.WAITING)                 # PUBACK in time
    finally:
        calls.shutdown()


def test_fleet_status_shows_the_open_call(kiosks: Kiosks, broker: MosquittoBroker) -> None:
    node = kiosks.node(KIOSKS[0], broker=broker.url)
    node.start()
    service = KioskService(node.host.kiosk)
    try:
        _until(lambda: service.calls.connected, "connected")
        call = service.call_staff("capture")
        _until(lambda: (c := service.staff_call()) is not None
               and c.state is CallState.WAITING, "waiting")
        assert node.heartbeat is not None
        _until(lambda: (node.heartbeat.call or {}).get("state") == "waiting", "heartbeat")
        tree = kiosks.operator.tree_dir
        status = subprocess.run([sys.executable, "-m", "fleetops", "status", "--tree", str(tree),
                                 "--broker", broker.url, "--wait", "2"], capture_output=True,
                                text=True, timeout=120, check=False)
        assert status.returncode == 0, status.stderr
        assert f"呼叫/call={call.id}:waiting@capture" in status.stdout
    finally:
        service.close()


@pytest.mark.parametrize("args, says", [
    (["list"], "--broker"),
    (["ack", "--broker", "mqtt://127.0.0.1:1"], "CALL_ID"),
    (["ack", "1234abcd", "--broker", "mqtt://127.0.0.1:1"], "--by"),
    (["ack", "12-4", "--by", "x", "--broker", "mqtt://127.0.0.1:1"], "8 hex digits"),
    (["ack", "1234abcd", "--by", "a\tb", "--broker", "mqtt://127.0.0.1:1"], "--by must be"),
    (["ack", "1234abcd", "--by", "x" * 33, "--broker", "mqtt://127.0.0.1:1"], "--by must be"),
    (["list", "--broker", "http://example.org"], "mqtt://host"),
    (["list", "--broker", "mqtt://127.0.0.1:1", "--wait", "0"], "between 0 and 300"),
    (["list", "--broker", "mqtt://127.0.0.1:1", "--wait", "soon"], "not a number"),
    (["list", "--broker", "mqtt://127.0.0.1:1", "--kiosk", "999999-0001"], "999999-0001"),
    (["list", "--broker", "mqtt://127.0.0.1:1", "--tree", "/nonexistent"], "fleet.toml"),
    (["list", "--broker", "mqtt://127.0.0.1:1"], "broker unreachable"),
    (["shout"], "invalid choice"),
    ([], "required"),
])
def test_the_console_refuses_wrong_arguments_in_both_languages(
        capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:
    from fleetops.cli import main
    argv = ["calls", *args]
    if "--tree" not in argv and args[:1] in (["list"], ["ack"]) and "--broker" in argv:
        argv += ["--tree", str(DEMO_TREE)]
    with pytest.raises(SystemExit) as stopped:
        raise SystemExit(main(argv))
    err = capsys.readouterr().err
    assert stopped.value.code == 2, err
    assert says in err
    _bilingual(err)


"""``kiosk-region publish``: status events to the receiving kiosk's topic on a real Mosquitto
over MQTT 5, QoS 1; marked sent only on PUBACK, so with the broker down nothing is marked
and the next run sends it all; a kiosk offline with a persistent session gets them when it
comes back."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from region_rig import Fixture, Region, make_region, region_cli

from kiosk.casestatus.wire import status_root, status_topic
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto")]
FLEET = "demo"
ROOT_TOPIC = status_root(FLEET)     # what the kiosk of that fleet subscribes under
KIOSK = "510802-0001"
WAIT = 20.0


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Region:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    for seed in (1, 2, 3):
        package_id, data, _ = region.sealed(seed)
        region.put(data, f"u{seed}", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    return region


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    running = MosquittoBroker(persistence=True).start()
    try:
        yield running
    finally:
        running.stop()


class _Kiosk:
    """The receiving kiosk's side as the other helper builds it: a persistent session."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.broker = broker
        self.messages: queue.Queue[MQTTMessage] = queue.Queue()
        self.ready: queue.Queue[object] = queue.Queue()
        self.client = Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=f"kiosk-{KIOSK}", protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = lambda c, u, message: self.messages.put(message)
        self.client.on_subscribe = lambda c, u, mid, codes, props: self.ready.put(codes)
        self.client.on_connect = lambda c, u, flags, reason, props: self.ready.put(reason)

    def connect(self, subscribe: bool) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", self.broker.port, keepalive=30, clean_start=False,
                            properties=props)
        self.client.loop_start()
        self.ready.get(timeout=WAIT)
        if subscribe:
            self.client.subscribe(status_topic(ROOT_TOPIC, KIOSK), qos=1)
            self.ready.get(timeout=WAIT)

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def received(self, count: int) -> list[MQTTMessage]:
        return [self.messages.get(timeout=WAIT) for _ in range(count)]


def _publish(region: Region, port: int, *extra: str) -> tuple[int, str, str]:
    done = region_cli(["publish", "--db", str(region.db), "--broker", f"127.0.0.1:{port}",
                       "--fleet", FLEET, "--once", *extra])
    return done.returncode, done.stdout, done.stderr


def test_events_reach_the_kiosks_topic_and_are_marked_sent_on_puback(
        region: Region, broker: MosquittoBroker) -> None:
    kiosk = _Kiosk(broker)
    kiosk.connect(subscribe=True)
    try:
        code, out, err = _publish(region, broker.port)
        assert code == 0, err
        assert out.strip() == "sent 3"
        got = kiosk.received(3)
        wires = [bytes(r[0]) for r in region.rows("SELECT wire FROM outgoing ORDER BY id")]
        assert [m.payload for m in got] == wires
        assert {m.topic for m in got} == {status_topic(ROOT_TOPIC, KIOSK)}
        assert {m.qos for m in got} == {1}
        assert region.rows("SELECT COUNT(*) FROM outgoing WHERE sent_at IS NULL") == [(0,)]
        assert _publish(region, broker.port)[1].strip() == "sent 0"      # nothing again
        with pytest.raises(queue.Empty):
            kiosk.messages.get(timeout=1)
    finally:
        kiosk.disconnect()


def test_with_the_broker_down_nothing_is_marked_and_the_next_run_sends_it(
        region: Region, broker: MosquittoBroker) -> None:
    kiosk = _Kiosk(broker)
    kiosk.connect(subscribe=True)
    kiosk.disconnect()                       # offline, its session kept by the broker
    port = broker.port
    broker.stop()
    code, _, err = _publish(region, port, "--timeout", "3")
    assert code == 2 and "状态消息" in err and "acknowledged" in err
    assert region.rows("SELECT COUNT(*) FROM outgoing WHERE sent_at IS NULL") == [(3,)]
    broker.start()
    code, out, err = _publish(region, port)
    assert code == 0 and out.strip() == "sent 3", err
    kiosk.connect(subscribe=False)           # back: the queued events arrive
    try:
        assert len(kiosk.received(3)) == 3
    finally:
        kiosk.disconnect()


@pytest.mark.parametrize("argv", [["--broker", "127.0.0.1"], ["--broker", "host:99999"],
                                  ["--fleet", "a/#"], ["--fleet", "../x"], ["--fleet", ""]])
def test_bad_publish_arguments_are_refused(region: Region, argv: list[str]) -> None:
    base = {"--broker": "127.0.0.1:1883", "--fleet": FLEET}
    base[argv[0]] = argv[1]
    done = region_cli(["publish", "--db", str(region.db), "--once",
                       *[x for kv in base.items() for x in kv]])
    assert done.returncode == 2 and " / " in done.stderr and "Traceback" not in done.stderr


def test_a_puback_that_refuses_marks_nothing_sent(region: Region, tmp_path: Path) -> None:
    """Anonymous clients may write elsewhere but not to the kiosks' topics: the broker
    answers each PUBLISH with PUBACK 0x87 (not authorised), and nothing is marked sent."""
    acl = tmp_path / "acl"
    acl.write_text("topic write elsewhere/#\n")
    refusing = MosquittoBroker(acl_file=acl).start()
    try:
        code, _, err = _publish(region, refusing.port, "--timeout", "20")
    finally:
        refusing.stop()
    assert code == 2 and "拒收" in err and "refused 3" in err
    assert region.rows("SELECT COUNT(*) FROM outgoing WHERE sent_at IS NULL") == [(3,)]


def test_a_running_publisher_sends_events_as_they_are_written(
        region: Region, broker: MosquittoBroker) -> None:
    import subprocess
    import sys

    from region_rig import ROOT

    kiosk = _Kiosk(broker)
    kiosk.connect(subscribe=True)
    child = subprocess.Popen([sys.executable, "-m", "intake", "publish", "--db",
                              str(region.db), "--broker", f"127.0.0.1:{broker.port}",
                              "--fleet", FLEET], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=ROOT)
    try:
        assert len(kiosk.received(3)) == 3
        package_id, data, _ = region.sealed(4)
        region.put(data, "u4", package_id=package_id)
        assert region_cli(region.intake_argv()).returncode == 0
        [fourth] = kiosk.received(1)
        [(wire,)] = region.rows("SELECT wire FROM outgoing ORDER BY id DESC LIMIT 1")
        assert fourth.payload == bytes(wire)
    finally:
        child.terminate()
        child.communicate(timeout=10)
        kiosk.disconnect()
    code, _, err = _publish(region, broker.port)     # whatever a stop cut short, then none
    assert code == 0, err
    assert region.rows("SELECT COUNT(*) FROM outgoing WHERE sent_at IS NULL") == [(0,)]

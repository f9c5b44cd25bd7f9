"""A fleet kiosk takes case status events from its broker: FleetNode starts the persistent
subscription, the event reaches the running kiosk's receiver, and a refusal is an alert of
its lifecycle (what the heartbeat counts). Real Mosquitto, real fleet repository."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import paho.mqtt.client as mqtt
from fleet_rig import Kiosks
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.caseno import case_number, transfer_number
from kiosk.casestatus.event import CaseState, StatusEvent, sign
from kiosk.casestatus.receiver import ALERT
from kiosk.casestatus.wire import status_root, status_topic
from kiosk.transfer.keys import generate
from kiosk.transfer.suites import Role
from rigs.mqtt_rig import MosquittoBroker

KIOSK = "510802-0007"


def _event() -> bytes:
    key = generate("500103", Role.SIGN, "x25519-chacha20")   # in no directory
    day = date(2026, 12, 1)
    made = StatusEvent(region="500103", transfer_number=transfer_number(KIOSK, "500103", day, 1),
                       case_number=case_number(KIOSK, day, 1), seq=1,
                       state=CaseState.RECEIVED, time=datetime.now(UTC), suite=key.suite,
                       key_id=key.key_id)
    return sign(made, key.private or b"")


def test_a_fleet_kiosk_takes_status_events_from_its_broker(
        kiosks: Kiosks, broker: MosquittoBroker) -> None:
    node = kiosks.node(KIOSK, broker=broker.url)
    assert node.status_events is not None
    node.start()
    deadline = time.monotonic() + 60
    while not node.status_events.connected():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)                                   # the SUBACK
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    publisher.publish(status_topic(status_root("demo-sichuan"), KIOSK), _event(), qos=1
                      ).wait_for_publish(10)
    publisher.disconnect()
    publisher.loop_stop()
    lifecycle = node.host.kiosk.lifecycle
    while not any(a["code"] == ALERT for a in lifecycle.alerts):
        assert time.monotonic() < deadline, "the event never reached the kiosk"
        time.sleep(0.05)
    refused = [a for a in lifecycle.alerts if a["code"] == ALERT]
    assert [a["reason"] for a in refused] == ["unknown_key"]   # no directory holds its key
    assert node.status_events.received == 1

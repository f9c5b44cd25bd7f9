"""Status events over a real Mosquitto on loopback: the kiosk's persistent QoS 1 session
delivers what was published while it was off, in order, and the ledger follows; a message
delivered twice is applied once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from status_rig import KIOSK, STORY, Rig

from kiosk.casestatus.event import ZH
from kiosk.casestatus.wire import status_root, status_topic
from kiosk.fleet.broker import topic_root
from kiosk.fleet.status_events import StatusSubscriber
from kiosk.settings import Fleet
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available

CASES = 16                         # a week of a hall: 16 cases × 9 steps = 144 events


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    with MosquittoBroker() as running:
        yield running


def _fleet(broker: MosquittoBroker) -> Fleet:
    return Fleet(name="demo", repository="http://127.0.0.1:9/", broker=broker.url)


def _publisher(broker: MosquittoBroker) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="region-510802",
                         protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def _until(condition: object, limit_s: float = 60) -> None:
    """Wait for ``condition()`` (a generous limit: the machine is shared, nothing is timed)."""
    deadline = time.monotonic() + limit_s
    while not condition():      # type: ignore[operator]
        assert time.monotonic() < deadline, "the broker did not deliver in time"
        time.sleep(0.05)


def test_a_week_offline_catches_up_in_order(rig: Rig, broker: MosquittoBroker) -> None:
    fleet = _fleet(broker)
    subscriber = StatusSubscriber(fleet, KIOSK, rig.receiver.apply, 86400 * 14)
    subscriber.start()                      # the first connection makes the session
    _until(subscriber.connected)
    time.sleep(0.3)                         # let the SUBACK land before we go away
    subscriber.stop()
    cases = [rig.send_case(seq=n) for n in range(1, CASES + 1)]
    publisher = _publisher(broker)
    topic = status_topic(status_root(fleet.name), KIOSK)
    week_ago = rig.now - timedelta(days=7)
    for step, state in enumerate(STORY, start=1):   # in the region's order, cases interleaved
        for n, case in enumerate(cases):
            at = week_ago + timedelta(hours=step * 17, minutes=n)
            publisher.publish(topic, rig.event(case, step, state, at=at), qos=1
                              ).wait_for_publish(10)
    publisher.disconnect()
    publisher.loop_stop()
    assert rig.store.counts().get("applied", 0) == 0     # nothing reached the kiosk yet

    again = StatusSubscriber(fleet, KIOSK, rig.receiver.apply, 86400 * 14)
    again.start()
    try:
        _until(lambda: rig.store.counts().get("applied", 0) == CASES * len(STORY))
    finally:
        again.stop()
    for case in cases:
        assert rig.states(case) == ["已代收待流转", *(ZH[s] for s in STORY)]
    assert rig.store.held() == 0 and rig.alerts.raised == []


def test_a_redelivered_message_is_applied_once(rig: Rig, broker: MosquittoBroker) -> None:
    fleet = _fleet(broker)
    subscriber = StatusSubscriber(fleet, KIOSK, rig.receiver.apply, 3600)
    subscriber.start()
    try:
        _until(subscriber.connected)
        time.sleep(0.3)
        case = rig.send_case()
        raw = rig.event(case, 1, STORY[0])
        publisher = _publisher(broker)
        topic = status_topic(status_root(fleet.name), KIOSK)
        for _ in range(3):
            publisher.publish(topic, raw, qos=1).wait_for_publish(10)
        _until(lambda: subscriber.received == 3)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        subscriber.stop()
    assert rig.states(case) == ["已代收待流转", ZH[STORY[0]]]
    assert rig.store.counts() == {"applied": 1, "duplicate": 2}


def test_status_events_do_not_share_the_heartbeats_topic(rig: Rig) -> None:
    """The heartbeat keeps the kiosk's retained health status at tongban/<fleet>/kiosk/<id>/
    status: events there would be that document (refused as malformed, an alert each)."""
    fleet = Fleet(name="demo", repository="http://127.0.0.1:9/", broker="mqtt://127.0.0.1:9")
    subscriber = StatusSubscriber(fleet, KIOSK, rig.receiver.apply, 3600)
    assert subscriber.topic != f"{topic_root(fleet.name)}/kiosk/{KIOSK}/status"  # heartbeat's
    assert subscriber.topic == f"tongban/demo/case-status/kiosk/{KIOSK}/status"

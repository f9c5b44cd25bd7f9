"""Mosquitto as the rig runs it, driven by paho-mqtt over MQTT 5: retained messages, a restart
on the same port with clients reconnecting, persistence across it, and authentication and
ACLs from a password file. Waits have timeouts; no assertion depends on how fast anything
ran."""

from __future__ import annotations

import queue
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from rigs.mqtt_rig import (
    MosquittoBroker,
    make_password_file,
    mosquitto_available,
    mosquitto_passwd_path,
)

pytestmark = pytest.mark.integration

WAIT = 10.0
STATUS = "tongban/kiosk/440305-0001/status"


def _require_mosquitto() -> None:
    if not mosquitto_available():
        pytest.skip("needs the mosquitto broker (on PATH or /usr/sbin/mosquitto; "
                    "Debian: apt-get install mosquitto mosquitto-clients)")


def _require_passwd() -> None:
    if mosquitto_passwd_path() is None:
        pytest.skip("needs mosquitto_passwd (Debian: apt-get install mosquitto)")


class _Peer:
    """A paho client on its own loop thread; what happens to it lands in queues."""

    def __init__(self, client_id: str, *, username: str | None = None,
                 password: str | None = None, reconnect: bool = False) -> None:
        self.client = Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.connacks: queue.Queue[ReasonCode] = queue.Queue()
        self.messages: queue.Queue[MQTTMessage] = queue.Queue()
        self.disconnects: queue.Queue[ReasonCode] = queue.Queue()
        self.reconnect = reconnect
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: Client, userdata: Any, flags: ConnectFlags,
                    reason: ReasonCode, properties: Properties | None) -> None:
        self.connacks.put(reason)

    def _on_disconnect(self, client: Client, userdata: Any, flags: DisconnectFlags,
                       reason: ReasonCode, properties: Properties | None) -> None:
        self.disconnects.put(reason)
        if not self.reconnect:
            client.disconnect()         # a refused client must not retry in the background

    def connect(self, broker: MosquittoBroker) -> ReasonCode:
        self.client.connect("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()
        return self.connacks.get(timeout=WAIT)

    def subscribe(self, topic: str) -> None:
        done: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.client.on_subscribe = (lambda client, userdata, mid, codes, properties:
                                    done.put(codes))
        self.client.subscribe(topic, qos=1)
        codes = done.get(timeout=WAIT)
        assert not codes[0].is_failure, codes

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=WAIT)
        assert info.is_published()

    def message(self) -> MQTTMessage:
        return self.messages.get(timeout=WAIT)

    def close(self) -> None:
        self.reconnect = False
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def make_broker() -> Iterator[Callable[..., MosquittoBroker]]:
    """Started brokers, closed after the test's peers (``peers`` depends on this)."""
    _require_mosquitto()
    made: list[MosquittoBroker] = []

    def make(**options: Any) -> MosquittoBroker:
        made.append(MosquittoBroker(**options))
        return made[-1].start()

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def peers(make_broker: Callable[..., MosquittoBroker]) -> Iterator[list[_Peer]]:
    made: list[_Peer] = []
    yield made
    for peer in made:
        peer.close()


@pytest.fixture
def broker(make_broker: Callable[..., MosquittoBroker]) -> MosquittoBroker:
    return make_broker()


def _peer(peers: list[_Peer], client_id: str, **options: Any) -> _Peer:
    peer = _Peer(client_id, **options)
    peers.append(peer)
    return peer


def test_listens_on_loopback_only(broker: MosquittoBroker) -> None:
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}" and broker.port > 0
    assert broker.pid is not None
    assert f"listener {broker.port} 127.0.0.1" in broker.config_text()
    with socket.create_connection(("127.0.0.1", broker.port), timeout=WAIT):
        pass


def test_retained_message_reaches_a_later_subscriber(broker: MosquittoBroker,
                                                     peers: list[_Peer]) -> None:
    kiosk = _peer(peers, "kiosk-440305-0001")
    assert not kiosk.connect(broker).is_failure
    kiosk.publish(STATUS, b'{"online":true}', retain=True)
    kiosk.close()

    console = _peer(peers, "console")
    assert not console.connect(broker).is_failure
    console.subscribe("tongban/kiosk/+/status")
    got = console.message()
    assert (got.topic, got.payload, got.retain) == (STATUS, b'{"online":true}', True)


def test_restart_on_the_same_port_and_clients_reconnect(broker: MosquittoBroker,
                                                        peers: list[_Peer]) -> None:
    port, first_pid = broker.port, broker.pid
    kiosk = _peer(peers, "kiosk-440305-0001", reconnect=True)
    console = _peer(peers, "console", reconnect=True)
    for peer in (kiosk, console):
        assert not peer.connect(broker).is_failure

    broker.restart()
    assert broker.port == port and broker.url.endswith(f":{port}")
    assert broker.pid != first_pid
    for peer in (kiosk, console):
        peer.disconnects.get(timeout=WAIT)              # the restart cut it off
        assert not peer.connacks.get(timeout=WAIT).is_failure   # paho came back by itself

    console.subscribe("tongban/config/published")       # sessions were not persisted
    kiosk.publish("tongban/config/published", b"13")
    assert console.message().payload == b"13"


def test_persistence_keeps_retained_messages_across_a_restart(
        make_broker: Callable[..., MosquittoBroker], peers: list[_Peer]) -> None:
    broker = make_broker(persistence=True)
    kiosk = _peer(peers, "kiosk-440305-0001")
    assert not kiosk.connect(broker).is_failure
    kiosk.publish(STATUS, b'{"online":false}', retain=True)
    kiosk.close()
    broker.restart()
    assert (broker.root / "mosquitto.db").is_file()
    console = _peer(peers, "console")
    assert not console.connect(broker).is_failure
    console.subscribe(STATUS)
    assert console.message().payload == b'{"online":false}'


def test_without_persistence_a_restart_forgets_retained_messages(broker: MosquittoBroker,
                                                                 peers: list[_Peer]) -> None:
    kiosk = _peer(peers, "kiosk-440305-0001")
    assert not kiosk.connect(broker).is_failure
    kiosk.publish(STATUS, b"old", retain=True)
    kiosk.close()
    broker.restart()
    console = _peer(peers, "console")
    assert not console.connect(broker).is_failure
    console.subscribe("tongban/kiosk/+/status")
    console.publish(STATUS, b"new")                     # after the (absent) retained one
    got = console.message()
    assert (got.payload, got.retain) == (b"new", False)


def test_password_file_refuses_strangers_and_admits_users(
        tmp_path: Path, make_broker: Callable[..., MosquittoBroker],
        peers: list[_Peer]) -> None:
    _require_passwd()
    passwords = make_password_file(tmp_path / "passwd",
                                   {"kiosk-440305-0001": "s3cret", "console": "0ps"})
    assert passwords.read_text().count(":") >= 2 and "s3cret" not in passwords.read_text()
    broker = make_broker(password_file=passwords)
    assert "allow_anonymous false" in broker.config_text()
    anonymous = _peer(peers, "stranger").connect(broker)
    assert anonymous.is_failure and anonymous.getName() == "Not authorized"
    wrong = _peer(peers, "kiosk-440305-0001", username="kiosk-440305-0001",
                  password="guess").connect(broker)
    assert wrong.is_failure
    assert wrong.getName() in {"Bad user name or password", "Not authorized"}
    right = _peer(peers, "kiosk-440305-0001", username="kiosk-440305-0001",
                  password="s3cret").connect(broker)
    assert not right.is_failure


def test_acl_file_limits_what_a_user_may_publish(
        tmp_path: Path, make_broker: Callable[..., MosquittoBroker],
        peers: list[_Peer]) -> None:
    _require_passwd()
    passwords = make_password_file(tmp_path / "passwd", {"kiosk": "k", "console": "c"})
    acl = tmp_path / "acl"
    acl.write_text("user console\ntopic read tongban/#\n\n"
                   f"user kiosk\ntopic write {STATUS}\n", encoding="utf-8")
    broker = make_broker(password_file=passwords, acl_file=acl)
    console = _peer(peers, "console", username="console", password="c")
    kiosk = _peer(peers, "kiosk-440305-0001", username="kiosk", password="k")
    for peer in (console, kiosk):
        assert not peer.connect(broker).is_failure
    console.subscribe("tongban/#")
    kiosk.client.publish("tongban/config/published", b"forged", qos=1)  # denied
    kiosk.publish(STATUS, b"mine")                  # sent after it on the same connection
    assert console.message().payload == b"mine"
    assert console.messages.empty()


def test_a_taken_port_is_a_clear_error(broker: MosquittoBroker) -> None:
    other = MosquittoBroker(port=broker.port)
    try:
        with pytest.raises(RuntimeError, match="Address already in use"):
            other.start()
        assert other.pid is None and other.port == broker.port
    finally:
        other.close()
    assert not other.root.exists()


def test_a_broker_that_died_starts_again_on_its_port(broker: MosquittoBroker,
                                                     peers: list[_Peer]) -> None:
    port, process = broker.port, broker.process
    assert process is not None
    process.kill()
    process.wait(timeout=WAIT)
    broker.start()
    assert broker.port == port and broker.process is not process
    assert not _peer(peers, "console").connect(broker).is_failure

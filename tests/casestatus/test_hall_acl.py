"""The broker's ACL for the hall cards, exactly as docs/hall-cards.md gives it, on a real
Mosquitto with a password per kiosk: each kiosk writes only its own cards and reads its
hall's. Kiosk B receives A's card; a third kiosk of the hall may neither overwrite nor clear
A's card (the broker answers "not authorized" and A's card stays retained); a kiosk of
another hall receives none of this hall's cards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from status_rig import KIOSK, Alerts, Rig
from test_hall_index import HALL, KIOSK_B, _mirror, _registry, _until

from kiosk.hall.card import card_topic, cards_filter
from kiosk.settings import Fleet
from rigs.mqtt_rig import MosquittoBroker, make_password_file, mosquitto_available

ROGUE, ELSEWHERE = "371002-0003", "510802-0009"
NOT_AUTHORIZED = 135


def acl(fleet: str, halls: dict[str, str]) -> str:
    """docs/hall-cards.md's ACL: one pattern, and one read line per kiosk of its hall."""
    lines = ["pattern write tongban/+/hall/+/kiosk/%u/case/#"]
    for kiosk, hall in halls.items():
        lines += [f"user {kiosk}", f"topic read {cards_filter(fleet, hall)}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    users = {k: f"pw-{k}" for k in (KIOSK, KIOSK_B, ROGUE, ELSEWHERE)}
    passwords = make_password_file(tmp_path / "passwd", users)
    rules = tmp_path / "acl"
    rules.write_text(acl("demo", {KIOSK: HALL, KIOSK_B: HALL, ROGUE: HALL,
                                  ELSEWHERE: "other-hall"}))
    with MosquittoBroker(password_file=passwords, acl_file=rules) as running:
        yield running


def _fleet(broker: MosquittoBroker, kiosk: str, folder: Path) -> Fleet:
    secret = folder / f"{kiosk}.password"
    secret.write_text(f"pw-{kiosk}")
    return Fleet(name="demo", repository="http://127.0.0.1:9/", broker=broker.url,
                 username=kiosk, password_file=secret)


class Client:
    """A bare MQTT 5 client logged in as ``kiosk``, recording the broker's answers."""

    def __init__(self, broker: MosquittoBroker, kiosk: str) -> None:
        self.acks: dict[int, int] = {}
        self.granted: list[int] = []
        self.messages: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{kiosk}-bare",
                             protocol=mqtt.MQTTv5)
        self.c.username_pw_set(kiosk, f"pw-{kiosk}")
        self.c.on_publish = lambda _c, _u, mid, rc, _p: self.acks.__setitem__(mid, rc.value)
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = lambda _c, _u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
        self.granted = [code.value for code in codes]
        self.subscribed.set()

    def publish(self, topic: str, payload: bytes) -> int:
        info = self.c.publish(topic, payload, qos=1, retain=True)
        _until(lambda: info.mid in self.acks)
        return self.acks[info.mid]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_each_kiosk_writes_only_its_own_cards_and_reads_only_its_hall(
        rig: Rig, broker: MosquittoBroker, tmp_path: Path) -> None:
    case = rig.send_case(seq=1)
    registry = _registry(tmp_path)
    a = _mirror(rig, tmp_path / "a", KIOSK, _fleet(broker, KIOSK, tmp_path), registry,
                Alerts())
    b = _mirror(rig, tmp_path / "b", KIOSK_B, _fleet(broker, KIOSK_B, tmp_path), registry,
                Alerts())
    rogue, elsewhere = Client(broker, ROGUE), Client(broker, ELSEWHERE)
    try:
        a.start(background=False)
        b.start(background=False)
        _until(lambda: a.connected() and b.connected())
        a.source.backfill(rig.now)                            # the hall just enabled
        assert a.sync() == 1                                  # the broker took A's card
        _until(lambda: b.index.find(case, rig.now) is not None)
        topic = card_topic("demo", HALL, KIOSK, case)

        assert rogue.publish(topic, b'{"forged": true}') == NOT_AUTHORIZED
        assert rogue.publish(topic, b"") == NOT_AUTHORIZED     # may not clear it either
        assert rogue.publish(card_topic("demo", HALL, ROGUE, case.replace(KIOSK, ROGUE)),
                             b"{}") == 0                        # its own topic: allowed

        reader = Client(broker, KIOSK_B)                        # what the broker retains
        reader.c.subscribe(topic, qos=1)
        _until(lambda: reader.messages)
        assert reader.messages[0][1].startswith(b'{"card":')
        assert b'"kiosk":"371002-0001"' in reader.messages[0][1]
        reader.close()

        # another hall's kiosk: Mosquitto grants the subscription but delivers nothing the
        # ACL does not let it read. Its own retained probe, asked for in the same SUBSCRIBE
        # after this hall's filter, arrives after anything that filter would have sent.
        probe = card_topic("demo", "other-hall", ELSEWHERE, case.replace(KIOSK, ELSEWHERE))
        assert elsewhere.publish(probe, b"probe") < 0x80      # 16: no subscriber yet
        elsewhere.c.subscribe([(cards_filter("demo", HALL), 1),
                               (cards_filter("demo", "other-hall"), 1)])
        _until(lambda: any(topic == probe for topic, _ in elsewhere.messages))
        assert [topic for topic, _ in elsewhere.messages] == [probe]
    finally:
        rogue.close()
        elsewhere.close()
        for mirror in (a, b):
            mirror.stop()
            mirror.source.close()
            mirror.index.close()


def test_a_card_the_broker_refuses_stays_to_send_and_is_alerted(
        rig: Rig, broker: MosquittoBroker, tmp_path: Path) -> None:
    """A kiosk whose broker account does not match its id (a wrong ACL or password file):
    the broker refuses its cards; they stay marked to send, and the kiosk says so."""
    case = rig.send_case(seq=1)
    alerts = Alerts()
    a = _mirror(rig, tmp_path / "a", KIOSK, _fleet(broker, ROGUE, tmp_path),
                _registry(tmp_path), alerts)
    try:
        a.start(background=False)
        _until(a.connected)
        a.source.backfill(rig.now)
        assert a.sync() == 0
        assert [o.case_number for o in a.source.pending(rig.now)] == [case]
        assert [x["reason"] for x in alerts.raised] == ["broker_refused"]
    finally:
        a.stop()
        a.source.close()
        a.index.close()

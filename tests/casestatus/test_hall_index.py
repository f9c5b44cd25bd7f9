"""The hall case index over a real Mosquitto on loopback (kiosk/hall): kiosk B finds a case
kiosk A of the same hall received — by its number and by the applicant's keyed hash under
the hall secret — with the details of A's region-signed events, verified by B itself. A
forged card, another hall's, an oversize one and one carrying a forged region event are each
refused with an alert and change nothing; an archived case's card is cleared."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from status_rig import KIOSK, SUITE, Alerts, Rig

from drivers.identity import CardType, Identity
from kiosk.applicant_key import applicant_key
from kiosk.caseno import case_number
from kiosk.casestatus.event import CaseState, canonical
from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.hall.card import HallCard, card_topic, parse_card, sign_card
from kiosk.hall.index import HallIndex
from kiosk.hall.mirror import ALERT, HallMirror
from kiosk.hall.service import HallCases
from kiosk.hall.source import CardSource
from kiosk.ledger import Ledger
from kiosk.settings import Fleet
from kiosk.transfer.keys import DeviceKeys, KeyFile, Registry
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available

HALL = "weihai-main"
KIOSK_B = "371002-0002"
SECRET = bytes(range(32))
PERSON = Identity(CardType.RESIDENT, "张明华", "110101195803121237", date(1958, 3, 12),
                  None, None)
PRIVATE = ("张明华", "110101195803121237", "138****0000", "13800000000")


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    with MosquittoBroker() as running:
        yield running


def _until(condition: Any, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the broker did not deliver in time"
        time.sleep(0.05)


@dataclass
class Hall:
    rig: Rig
    a: HallMirror
    b: HallMirror
    b_cases: HallCases
    b_alerts: Alerts
    case: str
    folder: Path

    def close(self) -> None:
        for mirror in (self.a, self.b):
            mirror.stop()
            mirror.source.close()
            mirror.index.close()


def _mirror(rig: Rig, folder: Path, kiosk: str, fleet: Fleet, kiosks: Registry,
            alerts: Alerts, hall: str = HALL) -> HallMirror:
    folder.mkdir(exist_ok=True)
    source = CardSource(folder / "ledger.sqlite" if kiosk != KIOSK else rig.ledger_path,
                        fleet.name, hall, kiosk,
                        DeviceKeys(folder / "keys", kiosk).signer(SUITE), card_days=90)
    return HallMirror(fleet, hall, kiosk, source, HallIndex(folder / "hall-index.sqlite", 100),
                      kiosks, DirectoryStatusKeys(rig.directory), alerts, 90,
                      now=lambda: rig.now)


def _registry(folder: Path) -> Registry:
    keys = [DeviceKeys(folder / name / "keys", kiosk).key(SUITE)
            for name, kiosk in (("a", KIOSK), ("b", KIOSK_B))]
    return Registry([KeyFile(k.owner, k.role, k.suite, k.public) for k in keys])


@pytest.fixture
def hall(rig: Rig, broker: MosquittoBroker, tmp_path: Path) -> Iterator[Hall]:
    fleet = Fleet(name="demo", repository="http://127.0.0.1:9/", broker=broker.url)
    case = rig.send_case(seq=1)
    for seq, state, details in ((1, CaseState.RECEIVED, {}),
                                (2, CaseState.ACCEPTED, {"document_number": "利州受字第88号",
                                                         "promised_by": "2026-12-21"})):
        assert rig.receiver.apply(rig.event(case, seq, state, details=details)).applied == 1
    registry = _registry(tmp_path)
    a = _mirror(rig, tmp_path / "a", KIOSK, fleet, registry, Alerts())
    a.source.remember_key(case, applicant_key(SECRET, PERSON))
    b_alerts = Alerts()
    b = _mirror(rig, tmp_path / "b", KIOSK_B, fleet, registry, b_alerts)
    catalogue = SimpleNamespace(matter=lambda code: (_ for _ in ()).throw(KeyError(code)))
    b_cases = HallCases(SimpleNamespace(catalogue=catalogue), b, SECRET,   # type: ignore[arg-type]
                        now=lambda: rig.now)
    made = Hall(rig, a, b, b_cases, b_alerts, case, tmp_path)
    a.start(background=False)
    b.start(background=False)
    _until(lambda: a.connected() and b.connected())
    time.sleep(0.3)                                   # B's SUBACK before A publishes
    yield made
    made.close()


def _publish(broker_url: str, topic: str, payload: bytes) -> None:
    port = int(broker_url.rsplit(":", 1)[1])
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="intruder",
                         protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def _published(h: Hall) -> bytes:
    """A's card as it sits retained at the broker (A's own source builds the same)."""
    out = h.a.source.pending(h.rig.now)
    return (out[0].payload or b"") if out else b""


def test_kiosk_b_finds_kiosk_as_case_by_number_and_by_card(hall: Hall,
                                                           caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    h = hall
    assert h.b_cases.view(h.case) is None              # nothing mirrored yet
    payload = _published(h)
    assert h.a.sync() == 1
    _until(lambda: h.b_cases.view(h.case) is not None)
    view = h.b_cases.view(h.case)
    assert view is not None and view.kiosk == KIOSK
    assert view.state == "已受理" and view.applicant_masked == "张*"
    states = [s.state for s in view.steps]
    assert states == ["已代收待流转", "办理地已接收", "已受理"]
    accepted = next(s for s in view.steps if s.state == "已受理")
    assert "利州受字第88号" in accepted.detail_zh          # from A's region-signed event
    lines = h.b_cases.lines(PERSON)
    assert [(line.number, line.kiosk) for line in lines] == [(h.case, KIOSK)]
    other = replace(PERSON, id_number="110101195803121245")
    assert h.b_cases.lines(other) == []
    assert h.a.sync() == 0                               # nothing changed: nothing sent
    # privacy: no ID number, full name or phone in the card, B's index or any log line
    stored = (h.folder / "b" / "hall-index.sqlite").read_bytes()
    for text in PRIVATE:
        assert text.encode() not in payload and text.encode() not in stored
        assert text not in caplog.text


def _rejected(h: Hall, reason: str) -> None:
    _until(lambda: any(a["code"] == ALERT and a["reason"] == reason
                       for a in h.b_alerts.raised))      # raised after it is counted
    assert h.b.index.counts().get(f"rejected_{reason}", 0) == 1


def _kept(h: Hall) -> None:
    """Still exactly A's genuine card: the details of the verified events."""
    view = h.b_cases.view(h.case)
    assert view is not None and view.applicant_masked == "张*"
    accepted = next(s for s in view.steps if s.state == "已受理")
    assert "利州受字第88号" in accepted.detail_zh


def _resign(h: Hall, card: HallCard) -> bytes:
    return sign_card(card, DeviceKeys(h.folder / "a" / "keys", KIOSK).signer(SUITE))


def test_forged_foreign_oversize_and_lying_cards_are_refused(hall: Hall,
                                                             broker: MosquittoBroker) -> None:
    h = hall
    genuine = _published(h)
    h.a.sync()
    _until(lambda: h.b_cases.view(h.case) is not None)
    topic = card_topic("demo", HALL, KIOSK, h.case)
    card, _ = parse_card(genuine)
    outer = json.loads(genuine)

    # a forged card: A's signature over other words
    outer["card"]["applicant_masked"] = "李*"
    _publish(broker.url, topic, canonical(outer))
    _rejected(h, "forged")
    _kept(h)

    # a card of another hall, genuinely signed by A
    _publish(broker.url, topic, _resign(h, replace(card, hall="other-hall")))
    _rejected(h, "other_hall")
    _kept(h)

    # oversize
    _publish(broker.url, topic, b"{" + b" " * (40 << 10) + b"}")
    _rejected(h, "oversize")
    _kept(h)

    # A signs, but a region event inside says what the region never signed
    event = json.loads(card.events[-1])
    event["event"]["details"]["document_number"] = "伪造第1号"
    lying = replace(card, events=(*card.events[:-1], canonical(event).decode()),
                    applicant_masked="王*")
    _publish(broker.url, topic, _resign(h, lying))
    _rejected(h, "forged_event")
    _kept(h)
    assert h.b.index.size() == 1


def test_an_archived_case_is_removed(hall: Hall) -> None:
    h = hall
    h.a.sync()
    _until(lambda: h.b_cases.view(h.case) is not None)
    ledger = Ledger(h.rig.ledger_path)
    ledger.set_state(h.case, "已归档", "")
    ledger.close()
    assert [o.payload for o in h.a.source.pending(h.rig.now)] == [b""]
    assert h.a.sync() == 1
    _until(lambda: h.b_cases.view(h.case) is None)
    assert h.b.index.size() == 0


def test_a_correction_asked_of_another_kiosks_case_says_where_to_hand_it_in(
        hall: Hall) -> None:
    """The 补正 is sealed into the receiving kiosk's case: kiosk B offers none and says where."""
    h = hall
    items = {"items": ["户口簿首页复印件"], "deadline": "2027-01-05"}
    assert h.rig.receiver.apply(h.rig.event(h.case, 3, CaseState.CORRECTION_REQUIRED,
                                            details=items)).applied == 1
    assert h.a.sync() == 1
    _until(lambda: (v := h.b_cases.view(h.case)) is not None and v.state == "需补正")
    view = h.b_cases.view(h.case)
    assert view is not None and not view.correctable
    assert view.correction_closed is not None
    assert KIOSK in view.correction_closed[0] and KIOSK in view.correction_closed[1]
    wanted = next(s for s in view.steps if s.state == "需补正")
    assert "户口簿首页复印件" in wanted.detail_zh


HOSTILE = (
    b"\xff\xfe not utf-8",
    b"[" * 5000 + b"]" * 5000,                               # nested deep enough to blow a stack
    b'{"card": {}, "signature": "AAAA"}',
    b'{"card": 1, "signature": 2}',
    b'{"card": {"format": "tongban-hall-card"}, "signature": "!!"}',
    b'{"a": NaN}',
    b'{"card": {}, "card": {}, "signature": ""}',            # a duplicate key
)


def test_garbage_is_refused_with_a_reason_and_never_raises(hall: Hall) -> None:
    h = hall
    topic = card_topic("demo", HALL, KIOSK, h.case)
    genuine = _published(h)
    outer = json.loads(genuine)
    outer["card"]["events"] = ["\ud800"]                      # a lone surrogate, escaped
    odd = json.dumps(outer).encode()
    reasons = [h.b.take(topic, payload) for payload in (*HOSTILE, odd)]
    assert set(reasons) <= {"malformed", "forged", "forged_event"}, reasons
    assert h.b.index.size() == 0
    assert h.b.take("tongban/demo/hall/other/kiosk/x/case/y", genuine) == "ignored"
    assert h.b.take(topic.replace(KIOSK, KIOSK_B), genuine) == "ignored"   # "own" card
    assert h.b.take(topic, genuine) == "kept"


def test_a_status_event_with_a_lone_surrogate_is_rejected_not_raised(rig: Rig) -> None:
    """Found with the hall cards: canonical() could not encode it, so verifying raised out
    of Receiver.apply — the MQTT subscriber then left it unacknowledged, sent again forever."""
    case = rig.send_case(seq=1)
    event = json.loads(rig.event(case, 1, CaseState.ACCEPTED,
                                 details={"document_number": "x"}))
    event["event"]["details"]["document_number"] = "\ud800"
    result = rig.receiver.apply(json.dumps(event).encode())
    assert result.reason is not None and result.reason.value == "malformed"
    assert rig.alerts.reasons() == ["malformed"]


def test_a_case_never_sent_gets_no_card(hall: Hall) -> None:
    """A 一次性告知补正 notice (no transfer, no package) is not a case to track: nothing goes
    to the broker for it, and it is not left marked."""
    h = hall
    ledger = Ledger(h.rig.ledger_path)
    row = ledger.find(h.case)
    assert row is not None
    notice = replace(row, case_number=case_number(KIOSK, date(2026, 12, 1), 2),
                     transfer_numbers="", state="一次性告知补正")
    ledger.record(notice)
    ledger.close()
    assert {o.case_number: o.payload for o in h.a.source.pending(h.rig.now)}[
        notice.case_number] is None
    assert h.a.sync() == 1                                  # the sent case only
    assert h.a.source.pending(h.rig.now) == []


def test_a_submission_and_the_mirror_share_the_source_safely(rig: Rig, tmp_path: Path) -> None:
    """remember_key (a submission's thread) and pending/done (the mirror's) on one SQLite
    connection: without the source's lock one BEGIN lands inside the other's transaction."""
    case = rig.send_case(seq=1)
    source = CardSource(rig.ledger_path, "demo", HALL, KIOSK,
                        DeviceKeys(tmp_path / "keys", KIOSK).signer(SUITE), card_days=90)
    failures: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            for n in range(150):
                work(n)
        except BaseException as exc:           # the test reports it
            failures.append(exc)

    def mirror(_n: int) -> None:
        for outgoing in source.pending(rig.now):
            source.done(outgoing)

    threads = [threading.Thread(target=run, args=(lambda n: source.remember_key(
                   case, f"{n:064x}"),)), threading.Thread(target=run, args=(mirror,))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        source.close()
    assert failures == []

"""Staff mode on a fleet kiosk, end to end: the operator adds a person to the hall's roster
(``kiosk-fleet staff add``, number and PIN on standard input), publishes; the kiosk applies
the bundle and the person signs in with card and PIN; a kiosk of another hall stays without
staff mode; the fleet's emergency opening arrives over the kiosk's bus."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime

from fleet_rig import FLEET, Kiosks, Operator

from fleetops.console import send_command
from kiosk.fleet.heartbeat import EMERGENCY_TOPIC
from kiosk.staff.authority import Refused, SignedIn
from kiosk.staff.roles import Role
from kiosk.staff.session import Mode
from kiosk.staff.verify import verify
from rigs.mqtt_rig import MosquittoBroker

KIOSK, OTHER, HALL = "510802-0001", "510107-0001", "lizhou-zwzx"
CARD, PIN = "51080219850612003X", "482913"
WAIT = 60.0          # a bound for a hung test, far above the seconds it takes


def _add(operator: Operator) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fleetops", "staff", "add", "--tree", str(operator.tree_dir),
         "--hall", HALL, "--id", "w001", "--name", "李小红", "--roles", "window",
         "--valid-until", "2030-12-31"], input=f"{CARD}\n{PIN}\n{PIN}\n",
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _install_hall_key(operator: Operator, kiosks: Kiosks, kiosk_id: str) -> None:
    folder = kiosks.tmp / kiosk_id / "staff"
    folder.mkdir(parents=True)
    shutil.copy(operator.tree_dir / ".fleet" / "staff" / f"{HALL}.key", folder / "hall.key")


def test_roster_published_to_the_hall_lets_its_staff_sign_in(kiosks: Kiosks,
                                                             operator: Operator) -> None:
    _add(operator)
    _install_hall_key(operator, kiosks, KIOSK)
    node = kiosks.node(KIOSK)
    assert node.staff is not None and node.agent is not None
    before = node.staff.unavailable()
    assert before is not None and before.code == "no_roster"         # nothing applied yet
    operator.publish()
    node.agent.poll()
    assert node.staff.unavailable() is None
    result = node.staff.sign_in(CARD, PIN, Mode.SERVICE)
    assert isinstance(result, SignedIn) and result.session.roles == {Role.WINDOW}
    wrong = node.staff.sign_in(CARD, "000000", Mode.SERVICE)
    assert isinstance(wrong, Refused) and wrong.attempts_left == 4
    assert verify(kiosks.tmp / KIOSK / "staff").entries == 2

    other = kiosks.node(OTHER)
    assert other.agent is not None
    other.agent.poll()
    blocked = other.staff.unavailable() if other.staff else None
    assert blocked is not None and blocked.code == "no_roster"       # another hall


def test_emergency_opening_arrives_over_the_bus(kiosks: Kiosks, operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.staff is not None
    node.host.bus.publish(EMERGENCY_TOPIC, {
        "staff": "m007", "id": "c0ffee", "issued_at": datetime.now(UTC).isoformat()})
    opened = node.staff.open_emergency("m007", Mode.SERVICE)
    assert isinstance(opened, SignedIn) and opened.session.roles == {Role.MAINTAINER}


def test_staff_open_over_mqtt_is_acknowledged_and_opens_once(
        kiosks: Kiosks, operator: Operator, broker: MosquittoBroker) -> None:
    operator.publish()
    node = kiosks.node(KIOSK, broker=broker.url)
    node.start()
    assert node.heartbeat is not None and node.staff is not None
    key = operator.ws.command_keys()[0]
    deadline = time.monotonic() + WAIT
    while node.agent is not None and node.agent.store.state().current != 1:
        assert time.monotonic() < deadline          # the first poll applies v1 (its keys)
        time.sleep(0.1)
    ack = send_command(broker.url, FLEET, KIOSK, "staff_open", key, WAIT, staff="m007")
    assert ack["ok"] and ack["code"] == "granted", ack
    assert isinstance(node.staff.open_emergency("m007", Mode.SERVICE), SignedIn)
    assert isinstance(node.staff.open_emergency("m007", Mode.SERVICE), Refused)
    status = node.heartbeat.status()
    assert status["staff"]["audit"]["seq"] == 3           # granted, opened, refused
    assert status["staff"]["reason"] == "no_roster"

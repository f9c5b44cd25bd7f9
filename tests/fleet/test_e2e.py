"""End to end, on loopback: the operator publishes v2 (catalogue and routing changed) and
announces it over MQTT; three kiosks in different halls pick up exactly their layered result
after the pointer (their poll interval is an hour), apply it between sessions and report v2
in their retained heartbeats. Then commands, broker loss and the last will."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from fleet_rig import FLEET, KIOSKS, OPEN_HOURS, Kiosks, Operator
from paho.mqtt.enums import CallbackAPIVersion

from fleetops.console import announce, send_command
from rigs.mqtt_rig import MosquittoBroker

WAIT = 60.0          # a bound for a hung test, far above the few seconds it takes
ROUTE = "510107"


class Watcher:
    """Subscribes to every kiosk's status; keeps the newest per kiosk, and all payloads."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.payloads: list[bytes] = []
        self._changed = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe(f"tongban/{FLEET}/#", qos=1)
        self.client.loop_start()

    def _message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.payloads.append(bytes(message.payload))
            if message.topic.endswith("/status"):
                doc = json.loads(message.payload)
                self.latest[doc["kiosk"]] = doc
            self._changed.notify_all()

    def until(self, condition: Callable[[dict[str, dict[str, Any]]], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: condition(self.latest), WAIT), self.latest

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _all_on(version: int) -> Callable[[dict[str, dict[str, Any]]], bool]:
    return lambda latest: all(latest.get(k, {}).get("config", {}).get("version") == version
                              for k in KIOSKS)


def test_publish_v2_reaches_three_halls_through_the_pointer(
        kiosks: Kiosks, operator: Operator, broker: MosquittoBroker) -> None:
    operator.publish()
    watcher = Watcher(broker)
    nodes = {k: kiosks.node(k, broker=broker.url) for k in KIOSKS}
    for node in nodes.values():
        node.start()                           # first poll at once: v1
    watcher.until(_all_on(1))
    busy = nodes["510802-0001"].host.kiosk
    busy.lifecycle.begin_session(OPEN_HOURS)   # a citizen is being served here

    operator.edit("province/catalogue.yaml", "name: 户籍类证明开具", "name: 户籍类证明开具（跨省）")
    operator.edit("province/settings.toml", f'[transfer.routes.{ROUTE}]\ntransport = "directory"',
                  f'[transfer.routes.{ROUTE}]\ntransport = "tus"\n'
                  'endpoint = "https://gateway.example.cn/chengdu/wuhou/files"')
    version = operator.publish()
    announce(broker.url, FLEET, version)

    watcher.until(lambda latest: all(latest.get(k, {}).get("config", {}).get("version") == 2
                                     for k in KIOSKS if k != "510802-0001"))
    busy_node = nodes["510802-0001"]
    assert busy_node.host.kiosk is busy                    # never swapped mid-session
    watcher.until(lambda latest: latest["510802-0001"]["config"]["pending"] == 2)
    busy.lifecycle.end_session(OPEN_HOURS)
    # the session's end wakes the agent, which applies what it staged (no new poll needed)
    busy_node.host.bus.publish("session.ended", {"session": "s", "reason": "completed"})
    watcher.until(_all_on(2))

    for kiosk_id, node in nodes.items():
        settings = node.host.kiosk.settings
        expected = operator.ws.build(operator.ws.tree.inventory.kiosk(kiosk_id), 2)
        assert node.agent is not None
        applied = node.agent.store.versions / "2"
        for name, data in expected.files.items():
            assert (applied / name).read_bytes() == data, f"{kiosk_id}: {name}"
        matter_names = {m.name for m in node.host.kiosk.catalogue.matters}
        assert "户籍类证明开具（跨省）" in matter_names
        route = settings.transfer.routes[ROUTE]
        assert (route.transport, route.endpoint) == (
            "tus", "https://gateway.example.cn/chengdu/wuhou/files")
    assert nodes["510802-0002"].host.kiosk.settings.ui.orientation == "landscape"
    assert nodes["510107-0001"].host.kiosk.settings.kiosk.phone == "028-12345"
    status = watcher.latest["510802-0002"]
    assert status["devices"]["receipt_printer"]["status"] == "online"
    assert set(status["outbox"]) == {"depth", "oldest_age_s", "overdue"}
    assert status["app_version"] and status["disk_free_mb"] > 0
    assert status["ops"]["disk"]["reserve_held"] and status["ops"]["clock"]["jumps"] == 0
    assert status["selftest"]["last"] is None                 # no 日检 recorded on a new kiosk
    assert isinstance(status["selftest"]["missing"], list)
    watcher.close()


def test_commands_acknowledged_and_forgeries_refused(kiosks: Kiosks, operator: Operator,
                                                     broker: MosquittoBroker) -> None:
    operator.publish()
    node = kiosks.node("510802-0001", broker=broker.url)
    node.start()
    watcher = Watcher(broker)
    watcher.until(lambda latest: latest.get("510802-0001", {}).get("config", {})
                  .get("version") == 1)
    key = operator.ws.command_keys()[0]
    ack = send_command(broker.url, FLEET, "510802-0001", "maintenance_on", key, WAIT)
    assert ack["ok"] and ack["code"] == "done"
    watcher.until(lambda latest: latest["510802-0001"]["reason"] == "maintenance")
    ack = send_command(broker.url, FLEET, "510802-0001", "upload_diagnostics", key, WAIT)
    assert ack["ok"]
    with watcher._changed:          # the staff audit log goes with the diagnostics
        assert watcher._changed.wait_for(lambda: any(b'"audit":{"anchor"' in p
                                                     for p in watcher.payloads), WAIT)
    ack = send_command(broker.url, FLEET, "510802-0001", "maintenance_off", key, WAIT)
    watcher.until(lambda latest: latest["510802-0001"]["state"] == "available")
    ack = send_command(broker.url, FLEET, "510802-0001", "refresh_config", key, WAIT)
    assert ack["ok"] and ack["code"] == "refreshing"

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    forged = send_command(broker.url, FLEET, "510802-0001", "maintenance_on",
                          Ed25519PrivateKey.generate(), WAIT)
    assert not forged["ok"] and forged["code"] == "bad_signature"
    assert node.host.kiosk.lifecycle.state.value == "available"
    _no_personal_data(watcher.payloads)
    watcher.close()


def test_broker_down_kiosk_serves_broker_back_status_republished(
        kiosks: Kiosks, operator: Operator, broker: MosquittoBroker) -> None:
    operator.publish()
    node = kiosks.node("510802-0001", broker=broker.url)
    node.start()
    watcher = Watcher(broker)
    watcher.until(lambda latest: "510802-0001" in latest)
    watcher.close()
    broker.stop()
    node.host.kiosk.lifecycle.begin_session(OPEN_HOURS)      # serving without the broker
    node.host.kiosk.lifecycle.end_session(OPEN_HOURS)
    broker.start()                                           # same port; retained lost
    again = Watcher(broker)
    again.until(lambda latest: latest.get("510802-0001", {}).get("online") is True)
    again.close()


def test_last_will_says_offline_when_the_kiosk_dies(kiosks: Kiosks, operator: Operator,
                                                    broker: MosquittoBroker) -> None:
    operator.publish()
    local = kiosks.local("510802-0001", broker=broker.url)
    script = ("import sys, time; from kiosk.settings import Settings; "
              "from kiosk.fleet.node import FleetNode; "
              "n = FleetNode.build(Settings.model_validate_json(sys.stdin.read()), "
              "background=False); n.start(); print('up', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin and proc.stdout
    proc.stdin.write(local.model_dump_json())
    proc.stdin.close()
    watcher = Watcher(broker)
    try:
        watcher.until(lambda latest: latest.get("510802-0001", {}).get("online") is True)
    finally:
        proc.kill()                                           # kill -9: no goodbye
        proc.wait()
    watcher.until(lambda latest: latest["510802-0001"]["online"] is False)
    watcher.close()


def _no_personal_data(payloads: list[bytes]) -> None:
    from drivers.identity.emulated import load_identities
    from kiosk.paths import ASSETS

    people = load_identities(ASSETS / "demo" / "identities.toml")
    text = b"\n".join(payloads).decode()
    for person in people.values():
        assert person.name not in text and person.id_number not in text


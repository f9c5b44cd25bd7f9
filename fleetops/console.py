"""The operator's side of MQTT: announce a version, read the fleet's retained status, send a
signed command and wait for its acknowledgement."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.fleet.broker import read_document, topic_root
from kiosk.fleet.commands import sign_command
from kiosk.fleet.errors import FleetError


def connect(broker: str, on_message: Any = None) -> mqtt.Client:
    url = urlparse(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"console-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.scheme == "mqtts":
        client.tls_set()
    client.on_message = on_message
    try:
        client.connect(url.hostname or "localhost",
                       url.port or (8883 if url.scheme == "mqtts" else 1883), keepalive=30)
    except OSError as exc:
        raise FleetError("无法连接消息服务器", f"broker unreachable: {exc}",
                         code="unreachable") from None
    client.loop_start()
    return client


def announce(broker: str, fleet: str, version: int) -> None:
    """The retained pointer: every kiosk, connected now or later, checks at once."""
    client = connect(broker)
    try:
        client.publish(f"{topic_root(fleet)}/config/published",
                       json.dumps({"version": version}), qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def collect_status(broker: str, fleet: str, wait_s: float) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        doc = read_document(message.payload)
        if doc is not None and isinstance(doc.get("kiosk"), str):
            rows[doc["kiosk"]] = doc     # anything else is not a status document: skipped

    client = connect(broker, on_message)
    client.subscribe(f"{topic_root(fleet)}/kiosk/+/status", qos=1)
    threading.Event().wait(wait_s)       # retained messages arrive right after subscribing
    client.disconnect()
    client.loop_stop()
    return rows


def send_command(broker: str, fleet: str, kiosk: str, command: str, key: Ed25519PrivateKey,
                 wait_s: float, staff: str | None = None) -> dict[str, Any]:
    payload = sign_command(key, kiosk, command, staff=staff)
    command_id = json.loads(payload)["id"]
    got = threading.Event()
    ack: dict[str, Any] = {}

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        doc = read_document(message.payload)
        if doc is not None and doc.get("id") == command_id:
            ack.update(doc)
            got.set()

    client = connect(broker, on_message)
    base = f"{topic_root(fleet)}/kiosk/{kiosk}"
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.subscribe(f"{base}/ack", qos=1)
    subscribed.wait(5)                   # the ack must not arrive before we listen
    client.publish(f"{base}/cmd", payload, qos=1).wait_for_publish(10)
    try:
        if not got.wait(wait_s):
            raise FleetError(f"终端 {kiosk} 未应答", f"no acknowledgement from {kiosk} in "
                             f"{wait_s:g} s", code="no_ack")
        return ack
    finally:
        client.disconnect()
        client.loop_stop()

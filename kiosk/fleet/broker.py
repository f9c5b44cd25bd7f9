"""The kiosk's MQTT 5 clients (heartbeat, staff calls): one way to reach the fleet's broker
with the kiosk's credentials and TLS settings."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.settings import Fleet
from kiosk.untrusted import Untrusted, loads

MAX_PAYLOAD = 64 * 1024        # every document on the fleet's topics is far smaller


def read_document(payload: bytes | bytearray, limit: int = MAX_PAYLOAD) -> dict[str, Any] | None:
    """A JSON object from a message anyone with broker access may have written, or None:
    empty (a cleared retained topic), too large, not JSON, nested deep enough to blow the
    stack, or not an object. Nothing raised: an exception would end paho's network thread."""
    if not payload or len(payload) > limit:
        return None
    try:
        doc = loads(bytes(payload), "MQTT message")
    except Untrusted:
        return None
    return doc if isinstance(doc, dict) else None


def topic_root(fleet: str) -> str:
    return f"tongban/{fleet}"


def make_client(fleet: Fleet, client_id: str) -> mqtt.Client:
    """A client for ``fleet.broker`` (credentials, TLS), reconnecting by itself."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    if fleet.username:
        password = (fleet.password_file.read_text(encoding="utf-8").strip()
                    if fleet.password_file else None)
        client.username_pw_set(fleet.username, password)
    if urlparse(fleet.broker).scheme == "mqtts":
        client.tls_set(ca_certs=_str(fleet.ca_file), certfile=_str(fleet.cert_file),
                       keyfile=_str(fleet.key_file), cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(1, 60)
    return client


def connect_async(client: mqtt.Client, fleet: Fleet) -> None:
    """Connect and keep connecting on paho's own thread: nothing here waits on the network.
    Session expiry 0: what the broker holds for a kiosk is only worth having while it is
    connected."""
    url = urlparse(fleet.broker)
    port = url.port or (8883 if url.scheme == "mqtts" else 1883)
    client.connect_async(url.hostname or "localhost", port, keepalive=30, clean_start=True)
    client.loop_start()


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)

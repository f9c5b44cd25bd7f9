"""Case status events over MQTT 5 (kiosk/casestatus): the kiosk's persistent subscription to
its own status topic on the fleet's broker.

QoS 1 with clean start off and a session expiry (``casestatus.session_expiry_s``): the broker
keeps the subscription and queues the events published while the kiosk is off or away, and
delivers them when it reconnects. A message is acknowledged only after the receiver has
decided on it (applied, held, duplicate or rejected, each durable first), so a kill between
delivery and commit means the broker sends it again on the next connection — and applying
is idempotent. Its own client id (``kiosk-<id>-status``): the heartbeat's session is clean.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.casestatus.wire import status_root, status_topic
from kiosk.fleet.broker import make_client
from kiosk.settings import Fleet

log = logging.getLogger(__name__)


class StatusSubscriber:
    def __init__(self, fleet: Fleet, kiosk_id: str, apply: Callable[[bytes], object],
                 session_expiry_s: int) -> None:
        """``apply``: the running kiosk's receiver (``Receiver.apply``); it decides durably
        before it returns."""
        self.fleet, self.apply = fleet, apply
        self.topic = status_topic(status_root(fleet.name), kiosk_id)
        self.session_expiry_s = session_expiry_s
        self.received = 0                   # messages decided on (tests, diagnostics)
        self._client = make_client(fleet, f"kiosk-{kiosk_id}-status")
        self._client.manual_ack_set(True)   # acknowledged once the receiver has decided
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def start(self) -> None:
        url = urlparse(self.fleet.broker)
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry_s
        self._client.connect_async(url.hostname or "localhost", port, keepalive=30,
                                   clean_start=False, properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect, keeping the session: what comes next waits at the broker for us."""
        self._client.disconnect()
        self._client.loop_stop()

    def connected(self) -> bool:
        return bool(self._client.is_connected())

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the status connection: %s", reason)
            return
        client.subscribe(self.topic, qos=1)   # kept in the session; again does no harm

    def _on_message(self, client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        try:
            self.apply(bytes(message.payload))
        except Exception:                   # paho's network thread must not end
            # e.g. the disk refused the commit: not acknowledged, the broker sends it again
            log.exception("status event not applied; left for redelivery")
            return
        self.received += 1
        client.ack(message.mid, message.qos)

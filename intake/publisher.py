"""Status events to the receiving kiosks over MQTT 5: each unsent event in ``outgoing`` is
published with QoS 1 to its kiosk's topic (kiosk/casestatus/wire.py) and marked sent only
when the broker's PUBACK says it took it. A publisher killed or cut off before that leaves
the event unsent, and the next run (or the reconnect) sends it again: at least once, which
the kiosk makes exactly once (it applies each transfer number + sequence once).

paho's network loop runs on its own thread and only puts what happens on a queue; this
thread owns the database and decides what to send."""

from __future__ import annotations

import queue
import sqlite3
import ssl
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from intake.brokerauth import BrokerAuth, apply
from intake.db import transaction
from kiosk.casestatus.wire import status_topic
from kiosk.errors import KioskError

WINDOW = 100                     # events in flight at once
# CONNACK reason codes that another try with the same credentials cannot change
_REFUSED_LOGIN = {0x86: ("用户名或密码错误", "bad user name or password"),
                  0x87: ("未获授权", "not authorised"),
                  0x8C: ("认证方式不符", "bad authentication method")}


class PublishError(KioskError):
    code = "publish_failed"


class Publisher:
    def __init__(self, conn: sqlite3.Connection, host: str, port: int, root: str,
                 client_id: str, clock: Callable[[], datetime],
                 auth: BrokerAuth | None = None) -> None:
        self.conn, self.root, self.clock = conn, root, clock
        self.host, self.port = host, port
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.inflight: dict[int, int] = {}          # MQTT message id → outgoing row id
        self.refused: set[int] = set()     # PUBACK said no: not again on this connection
        self.connected = False
        self.sent = 0
        self.client = Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        apply(self.client, auth or BrokerAuth())
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def _on_connect(self, client: Client, userdata: Any, flags: ConnectFlags,
                    reason: ReasonCode, properties: Properties | None) -> None:
        self.events.put(("connected", (not reason.is_failure, reason.value)))

    def _on_disconnect(self, client: Client, userdata: Any, flags: DisconnectFlags,
                       reason: ReasonCode, properties: Properties | None) -> None:
        self.events.put(("disconnected", None))

    def _on_publish(self, client: Client, userdata: Any, mid: int, reason: ReasonCode,
                    properties: Properties | None) -> None:
        self.events.put(("acked", (mid, not reason.is_failure)))

    def run(self, *, once: bool, timeout: float, poll: float = 1.0) -> int:
        """Publish until stopped (or, ``once``, until nothing is unsent: PublishError if that
        takes longer than ``timeout`` seconds). Returns how many were acknowledged."""
        deadline = time.monotonic() + timeout
        try:
            self._connect()
            while True:
                self._handle_events(poll)
                if self.connected:
                    self._send_unsent()
                    if once and self.connected and not self.inflight:
                        self._check_done()
                        return self.sent
                if once and time.monotonic() > deadline:
                    raise PublishError(
                        f"{timeout:.0f} 秒内未能发送全部状态消息（已确认 {self.sent} 条）",
                        f"Not every status event was acknowledged within {timeout:.0f} s "
                        f"({self.sent} were)")
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def _connect(self) -> None:
        """The first connection in this thread, so a TLS failure (wrong CA, wrong host name)
        is told at once; a broker that is down is tried again on paho's thread."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except ssl.SSLError as exc:
            raise PublishError(f"与消息服务器的 TLS 连接失败（证书？）：{exc}",
                               f"TLS to the broker failed (certificate?): {exc}",
                               code="broker_tls") from None
        except OSError:
            self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def _check_done(self) -> None:
        """Nothing in flight: all sent, or the broker refused what is left."""
        left = len(self._unsent(WINDOW + len(self.refused)))
        if left:
            raise PublishError(f"消息服务器拒收了 {left} 条状态消息（权限？）",
                               f"The broker refused {left} status events (not authorised?)",
                               code="publish_refused")

    def _handle_events(self, wait: float) -> None:
        try:
            kind, data = self.events.get(timeout=wait)    # wakes at the first news
        except queue.Empty:
            return
        while True:
            self._handle(kind, data)
            try:
                kind, data = self.events.get_nowait()
            except queue.Empty:
                return

    def _handle(self, kind: str, data: Any) -> None:
        if kind == "connected":
            self.connected, reason = data
            if reason in _REFUSED_LOGIN:
                zh, en = _REFUSED_LOGIN[reason]
                raise PublishError(f"消息服务器拒绝登录：{zh}（请检查 --username 与 "
                                   "--password-file）", f"The broker refused the login: {en} "
                                   "(check --username and --password-file)",
                                   code="broker_login")
            self.inflight.clear()        # a new connection: what was in flight is resent
            self.refused.clear()
        elif kind == "disconnected":
            self.connected = False
        elif kind == "acked":
            mid, ok = data
            row = self.inflight.pop(mid, None)
            if row is not None and ok:
                self._mark_sent(row)
            elif row is not None:
                self.refused.add(row)

    def _mark_sent(self, row: int) -> None:
        with transaction(self.conn):
            done = self.conn.execute("UPDATE outgoing SET sent_at=? WHERE id=? AND "
                                     "sent_at IS NULL", (self.clock().isoformat(), row))
        self.sent += done.rowcount

    def _unsent(self, limit: int) -> list[tuple[int, str, bytes]]:
        return self.conn.execute("SELECT id, kiosk_id, wire FROM outgoing WHERE sent_at IS "
                                 "NULL ORDER BY id LIMIT ?", (limit,)).fetchall()

    def _send_unsent(self) -> None:
        flying = set(self.inflight.values())
        for row, kiosk_id, wire in self._unsent(WINDOW + len(flying)):
            if len(self.inflight) >= WINDOW:
                return
            if row in flying or row in self.refused:
                continue
            info = self.client.publish(status_topic(self.root, kiosk_id), bytes(wire), qos=1)
            if info.rc != 0:             # not connected after all: the next connect resends
                self.connected = False
                return
            self.inflight[info.mid] = row

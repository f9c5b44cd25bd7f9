"""Heartbeat and commands over MQTT 5 (paho-mqtt).

Topics, under ``tongban/<fleet>/``:
- ``kiosk/<id>/status``  retained status (kiosk.fleet.status); the last will, also retained,
  says ``online: false`` when the connection drops without a goodbye;
- ``config/published``   retained pointer from the operator: a newer version → check now;
- ``kiosk/<id>/cmd``     signed commands (kiosk.fleet.commands); ``kiosk/<id>/ack`` answers;
- ``kiosk/<id>/diagnostics``  what ``upload_diagnostics`` sends.
The status also carries the open staff call, if any (id, step, state: kiosk/fleet/staffcall.py).
``staff_open`` is handed to the bus as ``staff.emergency_open`` (kiosk/staff/authority.py).
The client reconnects by itself; while the broker is away nothing waits on it, and the next
connection republishes the status. Nothing here carries personal data.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.fleet.agent import CONFIG_TOPIC, FleetAgent
from kiosk.fleet.broker import connect_async, make_client, read_document, topic_root
from kiosk.fleet.commands import KEYS_FILE, Command, CommandVerifier
from kiosk.fleet.errors import FleetError
from kiosk.fleet.staffcall import CALL_EVENT
from kiosk.fleet.status import OutboxHealth, build_status, disk_free_mb, offline_status
from kiosk.lifecycle import HEALTH_TOPIC, LIFECYCLE_TOPIC
from kiosk.settings import Fleet
from kiosk.staff.audit_upload import STAFF_DIR, audit_for_diagnostics

log = logging.getLogger(__name__)
EMERGENCY_TOPIC = "staff.emergency_open"


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


class Heartbeat:
    def __init__(self, fleet: Fleet, kiosk_id: str, agent: FleetAgent) -> None:
        self.fleet, self.kiosk_id, self.agent = fleet, kiosk_id, agent
        base = f"{topic_root(fleet.name)}/kiosk/{kiosk_id}"
        self.status_topic, self.cmd_topic = f"{base}/status", f"{base}/cmd"
        self.ack_topic, self.diag_topic = f"{base}/ack", f"{base}/diagnostics"
        self.pointer_topic = f"{topic_root(fleet.name)}/config/published"
        self.verifier = CommandVerifier(kiosk_id)
        self.published = 0                  # status messages sent (tests, diagnostics)
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._client = self._make_client()
        self.call: dict[str, Any] | None = None     # the open staff call (id, step, state)
        # staff mode's report (kiosk/staff/authority.py StaffAuthority.report), if composed
        self.staff_report: Callable[[], dict[str, Any]] | None = None
        self.restart: dict[str, str | bool] | None = None   # how the last run ended
        # the 日检 reminder's report (kiosk/staff/inspection.py Reminder.report), if composed
        self.selftest_report: Callable[[], dict[str, Any]] | None = None
        bus = agent.host.bus
        for topic in (LIFECYCLE_TOPIC, HEALTH_TOPIC, CONFIG_TOPIC, "fleet.applied"):
            bus.subscribe(topic, lambda _t, _p: self._changed.set())
        bus.subscribe(CALL_EVENT, self._call_changed)

    # --- connection --------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = make_client(self.fleet, f"kiosk-{self.kiosk_id}")
        client.will_set(self.status_topic, _json(offline_status(self.kiosk_id)), qos=1,
                        retain=True)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        connect_async(self._client, self.fleet)
        threading.Thread(target=self._beat, name="heartbeat", daemon=True).start()

    def stop(self) -> None:
        """A goodbye: the retained status says offline (no will needed), then disconnect."""
        self._stop.set()
        self._changed.set()
        if self._client.is_connected():
            self._client.publish(self.status_topic, _json(offline_status(self.kiosk_id)),
                                 qos=1, retain=True).wait_for_publish(5)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        client.subscribe([(self.pointer_topic, 1), (self.cmd_topic, 1)])
        self._changed.set()                 # status republished on every (re)connection

    # --- status ------------------------------------------------------------------------
    def _call_changed(self, _topic: str, call: dict[str, Any]) -> None:
        self.call = None if call.get("state") == "closed" else dict(call)
        self._changed.set()

    def _beat(self) -> None:
        while not self._stop.is_set():
            self._changed.wait(self.fleet.heartbeat_s)
            self._changed.clear()
            if self._stop.is_set():
                return
            if self._client.is_connected():
                self.publish_status()

    def status(self) -> dict[str, Any]:
        with self.agent.host.lock:          # not a kiosk being closed by a swap
            return self._status()

    def _status(self) -> dict[str, Any]:
        kiosk = self.agent.host.kiosk
        now = datetime.now(UTC)
        depth, oldest, late = kiosk.outbox.backlog(now)
        lifecycle = kiosk.lifecycle
        alerts: dict[str, int] = {}
        for alert in lifecycle.alerts:
            alerts[alert["code"]] = alerts.get(alert["code"], 0) + 1
        devices = kiosk.devices.statuses()
        status = build_status(kiosk_id=self.kiosk_id, config=self.agent.config_report(),
                              state=lifecycle.state.value,
                              reason=lifecycle.reason.value if lifecycle.reason else None,
                              devices=devices, outbox=OutboxHealth(depth, oldest, late),
                              disk_mb=disk_free_mb(kiosk.settings.paths.data_dir),
                              alerts=alerts, at=now, call=self.call, restart=self.restart,
                              ops={"disk": kiosk.disk.report(),
                                   "clock": kiosk.clock.report().as_dict()},
                              selftest=self.selftest_report() if self.selftest_report else None)
        if self.staff_report is not None:
            status["staff"] = self.staff_report()
        status["casestatus"] = kiosk.case_status.report()   # status events from the regions
        return status

    def publish_status(self) -> None:
        self._client.publish(self.status_topic, _json(self.status()), qos=1, retain=True)
        self.published += 1

    # --- pointer and commands ----------------------------------------------------------
    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        if message.topic == self.pointer_topic:
            self._pointer(bytes(message.payload))
        elif message.topic == self.cmd_topic:
            self._command(bytes(message.payload))

    def _pointer(self, payload: bytes) -> None:
        doc = read_document(payload)
        try:
            version = int(doc["version"]) if doc is not None else -1
        except (ValueError, KeyError, TypeError):
            version = -1
        if version < 0:
            log.warning("config pointer not understood; ignored")
            return
        current = self.agent.store.state().current
        if current is None or version > current:
            self.agent.nudge()              # the pointer only wakes; TUF decides what is true

    def _command(self, payload: bytes) -> None:
        command_id = None
        try:
            current = self.agent.store.state().current
            keys = (self.agent.store.versions / str(current) / KEYS_FILE
                    if current is not None else None)
            command = self.verifier.verify(payload, keys)
            command_id = command.id
            self.agent.host.kiosk.clock.trusted(command.issued_at, "fleet command")   # signed
            code = (self._staff_open(command) if command.command == "staff_open"
                    else self._obey(command.command))
            self._ack(command_id, True, code, "已执行", "done")
        except FleetError as exc:
            log.warning("command refused: %s", exc.code)
            self._ack(command_id or _peek_id(payload), False, exc.code, exc.zh, exc.en)

    def _obey(self, command: str) -> str:
        if command == "refresh_config":
            self.agent.nudge()
            return "refreshing"
        if command in ("maintenance_on", "maintenance_off"):
            done = self.agent.set_maintenance(command == "maintenance_on")
            self._changed.set()
            return "done" if done else "after_session"
        self._client.publish(self.diag_topic, _json(self.diagnostics()), qos=1)
        return "sent"

    def _staff_open(self, command: Command) -> str:
        """The emergency opening: whoever holds the StaffAuthority grants it (once)."""
        self.agent.host.bus.publish(EMERGENCY_TOPIC, {
            "staff": command.staff, "id": command.id,
            "issued_at": command.issued_at.isoformat()})
        return "granted"

    def diagnostics(self) -> dict[str, Any]:
        """Status plus the configuration in use, as hall staff would read it: backends, hours,
        routes (region → transport and endpoint); and the staff audit log (anchor, check,
        newest entries: kiosk/staff/audit_upload.py). No keys, no personal data."""
        kiosk = self.agent.host.kiosk
        settings = kiosk.settings
        return {"status": self.status(),
                "backends": {kind: spec.backend.name for kind, spec in
                             kiosk.devices.specs.items()},
                "hours": settings.hours.model_dump(mode="json"),
                "routes": {code: {"transport": r.transport, "endpoint": r.endpoint}
                           for code, r in settings.transfer.routes.items()},
                "outbox": self.agent.host.kiosk.outbox.counts(),
                "matters": len(self.agent.host.kiosk.catalogue.matters),
                "devices": {kind: status.detail for kind, status in
                            kiosk.devices.statuses().items()},
                "audit": audit_for_diagnostics(settings.paths.data_dir / STAFF_DIR)}

    def _ack(self, command_id: str | None, ok: bool, code: str, zh: str, en: str) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.MessageExpiryInterval = 3600
        self._client.publish(self.ack_topic, _json({
            "id": command_id, "kiosk": self.kiosk_id, "ok": ok, "code": code, "zh": zh,
            "en": en, "at": datetime.now(UTC).isoformat(timespec="seconds")}), qos=1,
            properties=props)


def _peek_id(payload: bytes) -> str | None:
    doc = read_document(payload)
    value = doc.get("id") if doc is not None else None
    return str(value) if value is not None else None

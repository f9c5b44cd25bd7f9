"""Calls for hall staff over the fleet's MQTT broker: the topics and documents both sides
read (the kiosk, kiosk/fleet/staffcall.py; the hall console, fleetops/calls.py).

Under ``tongban/<fleet>/kiosk/<id>/`` (inside the ACL pattern each kiosk already has):
- ``call``      retained, QoS 1: the kiosk's open call, or nothing (an empty retained message
  clears it when the call is closed);
- ``call/ack``  QoS 1, from the console: "someone is coming", naming the call.
A call says where the citizen is in the journey (the step), never who they are.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.fleet.broker import read_document
from kiosk.fleet.errors import FleetError

CALL_SCHEMA = 1
MAX_DOCUMENT = 2048                   # bytes: a call or an ack is far smaller; more is hostile
CALL_ID = re.compile(r"[0-9a-f]{8}")
STEP = re.compile(r"[a-z_]{1,32}")
OPEN, ACKNOWLEDGED = "open", "acknowledged"
MAX_NAME = 32


def call_topic(root: str, kiosk: str) -> str:
    return f"{root}/kiosk/{kiosk}/call"


def ack_topic(root: str, kiosk: str) -> str:
    return f"{root}/kiosk/{kiosk}/call/ack"


def calls_filter(root: str) -> str:
    """Every kiosk's call (``+`` matches one level: ``…/call/ack`` is not included)."""
    return f"{root}/kiosk/+/call"


def new_call_id() -> str:
    return secrets.token_hex(4)


@dataclass(frozen=True)
class HallCall:
    """One call as the hall sees it."""

    id: str
    kiosk: str
    step: str
    state: str                        # OPEN or ACKNOWLEDGED
    at: str                           # when it was made (ISO 8601, UTC)
    by: str = ""                      # who acknowledged it (a staff name or desk)
    acked_at: str = ""

    def document(self) -> bytes:
        doc: dict[str, Any] = {"schema": CALL_SCHEMA, "id": self.id, "kiosk": self.kiosk,
                               "step": self.step, "state": self.state, "at": self.at}
        if self.state == ACKNOWLEDGED:
            doc.update(by=self.by, acked_at=self.acked_at)
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def read_call(payload: bytes) -> HallCall | None:
    """A call document, or None for anything else (a cleared topic, junk, a newer schema)."""
    doc = read_document(payload, MAX_DOCUMENT)
    if doc is None or doc.get("schema") != CALL_SCHEMA:
        return None
    try:
        call = HallCall(id=str(doc["id"]), kiosk=str(doc["kiosk"]), step=str(doc["step"]),
                        state=str(doc["state"]), at=str(doc["at"]),
                        by=str(doc.get("by", "")), acked_at=str(doc.get("acked_at", "")))
    except KeyError:
        return None
    fits = (CALL_ID.fullmatch(call.id) and STEP.fullmatch(call.step)
            and call.state in (OPEN, ACKNOWLEDGED) and len(call.by) <= MAX_NAME)
    return call if fits else None


def ack_document(call_id: str, by: str, at: datetime) -> bytes:
    return json.dumps({"id": call_id, "by": by, "at": at.isoformat(timespec="seconds")},
                      ensure_ascii=False, separators=(",", ":")).encode()


def read_ack(payload: bytes) -> tuple[str, str] | None:
    """(call id, by) of an acknowledgement, or None if it is not one."""
    doc = read_document(payload, MAX_DOCUMENT)
    if doc is None:
        return None
    call_id, by = doc.get("id"), doc.get("by")
    if not isinstance(call_id, str) or not CALL_ID.fullmatch(call_id):
        return None
    if not isinstance(by, str) or not _name_ok(by):
        return None
    return call_id, by


def check_call_id(text: str) -> str:
    if not CALL_ID.fullmatch(text):
        raise FleetError(f"呼叫编号 {text[:40]!r} 无效：应为 8 位十六进制数（见 calls list）",
                         f"call id {text[:40]!r} is not valid: 8 hex digits (see calls list)",
                         code="bad_call_id")
    return text


def check_staff_name(text: str) -> str:
    name = text.strip()
    if not _name_ok(name):
        raise FleetError(f"应答人须为 1–{MAX_NAME} 个字符的姓名或工位号，不含控制字符",
                         f"--by must be a name or desk of 1-{MAX_NAME} characters, "
                         "without control characters", code="bad_name")
    return name


def _name_ok(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and name.isprintable() and name.strip() == name



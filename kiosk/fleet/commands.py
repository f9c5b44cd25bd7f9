"""Operator commands over MQTT, signed with the fleet's command key (Ed25519).

The broker's ACLs decide who may publish where; the signature decides what a kiosk obeys, so
a leaked broker password cannot put a kiosk into maintenance. The public command keys travel
inside the TUF-signed bundle (``fleet-command-keys.json``): trust comes from the pinned root.
A command names its kiosk, carries a fresh id and its time, and is refused when replayed or
older than ``MAX_AGE``. ``staff_open`` (the emergency opening of staff mode, issue 21) also
names one staff id, inside what is signed.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.fleet.broker import read_document
from kiosk.fleet.errors import FleetError

COMMANDS = ("refresh_config", "maintenance_on", "maintenance_off", "upload_diagnostics",
            "staff_open")
STAFF_COMMANDS = ("staff_open",)          # these name a staff id, the others none
_STAFF_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{1,31}")     # as kiosk/staff/roster.py
KEYS_FILE = "fleet-command-keys.json"
MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class Command:
    id: str
    kiosk: str
    command: str
    issued_at: datetime
    staff: str | None = None


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_command(key: Ed25519PrivateKey, kiosk: str, command: str,
                 now: datetime | None = None, staff: str | None = None) -> bytes:
    if command not in COMMANDS:
        raise FleetError(f"未知命令 {command}", f"unknown command {command}; one of "
                         f"{', '.join(COMMANDS)}", code="bad_command")
    if not _staff_ok(command, staff):
        raise FleetError("staff_open 须指定一个工号（且只有它可以）", "staff_open needs one staff "
                         "id (--staff), and only staff_open takes one", code="bad_command")
    body = {"id": uuid.uuid4().hex, "kiosk": kiosk, "command": command,
            "issued_at": (now or datetime.now(UTC)).isoformat(timespec="seconds")}
    if staff is not None:
        body["staff"] = staff
    signature = base64.b64encode(key.sign(_canonical(body))).decode()
    return _canonical({**body, "sig": signature})


def keys_document(public_keys: list[Ed25519PublicKey]) -> bytes:
    """The bundle file a kiosk verifies commands against."""
    raw = [base64.b64encode(k.public_bytes_raw()).decode() for k in public_keys]
    return json.dumps({"ed25519": raw}, indent=1).encode()


class CommandVerifier:
    def __init__(self, kiosk: str) -> None:
        self.kiosk = kiosk
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, payload: bytes, keys_file: Path | None,
               now: datetime | None = None) -> Command:
        now = now or datetime.now(UTC)
        try:
            doc = read_document(payload)
            if doc is None:
                raise ValueError("not a JSON object of a bounded size and depth")
            signature = base64.b64decode(doc.pop("sig"), validate=True)
            staff = doc.get("staff")
            command = Command(str(doc["id"]), str(doc["kiosk"]), str(doc["command"]),
                              datetime.fromisoformat(doc["issued_at"]),
                              None if staff is None else str(staff))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _refused("命令格式错误", f"malformed command: {exc}", "bad_command") from None
        keys = _load_keys(keys_file)
        if not any(_verifies(key, signature, _canonical(doc)) for key in keys):
            raise _refused("命令签名无效", "command signature not valid", "bad_signature")
        if command.kiosk != self.kiosk:
            raise _refused("命令发给了其他终端", f"command is for {command.kiosk}",
                           "wrong_kiosk")
        if command.command not in COMMANDS or not _staff_ok(command.command, command.staff):
            raise _refused(f"未知命令 {command.command}", f"unknown command "
                           f"{command.command[:40]} (or a staff id where none belongs)",
                           "bad_command")
        if abs(now - command.issued_at) > MAX_AGE:
            raise _refused("命令已过期", "command too old (or the clocks differ)", "stale")
        with self._lock:
            if command.id in self._seen:
                raise _refused("重复的命令", "command replayed", "replayed")
            self._seen[command.id] = now
            while self._seen and now - next(iter(self._seen.values())) > 2 * MAX_AGE:
                self._seen.popitem(last=False)
        return command


def _staff_ok(command: str, staff: str | None) -> bool:
    if command in STAFF_COMMANDS:
        return staff is not None and bool(_STAFF_ID.fullmatch(staff))
    return staff is None


def _load_keys(path: Path | None) -> list[Ed25519PublicKey]:
    if path is None or not path.exists():
        raise _refused("本机尚无命令公钥（未应用过终端群配置）",
                       "no command keys (no fleet configuration applied yet)", "no_key")
    raw = json.loads(path.read_text(encoding="utf-8"))["ed25519"]
    return [Ed25519PublicKey.from_public_bytes(base64.b64decode(k)) for k in raw]


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
        return True
    except InvalidSignature:
        return False


def _refused(zh: str, en: str, code: str) -> FleetError:
    return FleetError(zh, en, code=code)

"""The hall's staff roster: who may sign in at its kiosks, with what card and PIN, and as what.

Delivered as ``staff-roster.json`` in the hall layer of the fleet configuration (fleetops
writes it: ``kiosk-fleet staff add|change|revoke|list``), so it arrives TUF-signed inside the
kiosk's bundle. A JSON file is not merged between layers: the hall's roster is the roster.

Nothing in it gives a credential away if the bundle leaks (bundles sit on a static web host):
- the ID-card number is kept as HMAC-SHA256 under the hall secret;
- the PIN as scrypt (n=2**14, r=8, p=1, 32 bytes; 16 MiB and tens of ms per try) over
  HMAC-SHA256(hall secret, PIN) with a per-person salt. A 6-digit PIN has only 10**6
  values, so scrypt alone would fall to an offline search; keyed by the hall secret it cannot
  be searched without it.
The hall secret (32 random bytes, hex) is never in a bundle: the operator keeps it in
``<tree>/.fleet/staff/<hall>.key`` and installs it on each kiosk of the hall as
``<data_dir>/staff/hall.key`` (0600), as fleet.root is installed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Role, parse_roles
from kiosk.untrusted import Untrusted, loads

ROSTER_FILE = "staff-roster.json"
SECRET_FILE = "hall.key"
ROSTER_FORMAT = 1
MAX_ROSTER_BYTES, MAX_STAFF = 1 << 20, 2000
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2 ** 14, 8, 1, 32
STAFF_ID = r"^[A-Za-z][A-Za-z0-9_-]{1,31}$"     # starts with a letter: never an ID number
_PIN = re.compile(r"\d{6}")
_ID_NUMBER = re.compile(r"\d{17}[\dX]|[A-Z0-9]{15}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PinHash(_Strict):
    salt: str = Field(pattern=r"^[A-Za-z0-9+/]{22}==$")          # 16 bytes, base64
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    n: int = Field(ge=2 ** 10, le=2 ** 15)    # maxmem below: 32 MiB at r=8
    r: int = Field(ge=1, le=32)
    p: int = Field(ge=1, le=4)


class StaffRecord(_Strict):
    id: str = Field(pattern=STAFF_ID)
    name: str = Field(min_length=1, max_length=40)
    roles: tuple[Role, ...] = Field(min_length=1, max_length=4)
    card: str = Field(pattern=r"^[0-9a-f]{64}$")                  # HMAC of the ID number
    pin: PinHash
    valid_until: date
    revoked: bool = False

    @field_validator("roles", mode="before")
    @classmethod
    def _known_roles(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            parse_roles([str(v) for v in value])
        return value

    def __repr__(self) -> str:      # the digests stay out of logs and tracebacks too
        return (f"StaffRecord(id={self.id!r}, roles={[r.value for r in self.roles]}, "
                f"valid_until={self.valid_until}, revoked={self.revoked})")

    __str__ = __repr__

    def usable_on(self, day: date) -> bool:
        return not self.revoked and day <= self.valid_until


class Roster(_Strict):
    format: int = Field(ge=ROSTER_FORMAT, le=ROSTER_FORMAT)
    hall: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    staff: tuple[StaffRecord, ...] = Field(max_length=MAX_STAFF)

    @field_validator("staff")
    @classmethod
    def _distinct(cls, value: tuple[StaffRecord, ...]) -> tuple[StaffRecord, ...]:
        ids = [s.id for s in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a staff id occurs twice")
        return value

    def by_id(self, staff_id: str) -> StaffRecord | None:
        return next((s for s in self.staff if s.id == staff_id), None)

    def by_card(self, digest: str) -> StaffRecord | None:
        return next((s for s in self.staff if hmac.compare_digest(s.card, digest)), None)

    def to_bytes(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1)
                + "\n").encode("utf-8")


def read_roster(data: bytes) -> Roster:
    """A roster from a bundle, bounded and strict, or StaffError(bad_roster)."""
    if len(data) > MAX_ROSTER_BYTES:
        raise _bad(f"larger than {MAX_ROSTER_BYTES} bytes")
    try:
        return Roster.model_validate(loads(data, ROSTER_FILE))
    except Untrusted as exc:
        raise _bad(exc.en) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise _bad(f"{exc.error_count()} problems; first at {where}: {first['msg']}") from None


def load_roster(path: Path) -> Roster | None:
    """None when there is no roster file (staff mode is then unavailable)."""
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        return read_roster(handle.read(MAX_ROSTER_BYTES + 1))


def normalize_id_number(text: str) -> str:
    number = text.strip().upper()
    if not _ID_NUMBER.fullmatch(number):
        raise StaffError("证件号码格式不对", "not an ID-card number (18 characters, or 15)",
                         code="bad_id_number")
    return number


def card_digest(secret: bytes, id_number: str) -> str:
    """HMAC-SHA256 of the card's number under the hall secret (``card:`` keeps it apart from
    the PIN's use of the same key)."""
    return hmac.new(secret, b"card:" + normalize_id_number(id_number).encode(),
                    hashlib.sha256).hexdigest()


def hash_pin(secret: bytes, pin: str, salt: bytes | None = None) -> PinHash:
    if not _PIN.fullmatch(pin):
        raise StaffError("PIN 须为 6 位数字", "the PIN must be 6 digits", code="bad_pin")
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(secret, pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return PinHash(salt=base64.b64encode(salt).decode(), hash=digest, n=SCRYPT_N, r=SCRYPT_R,
                   p=SCRYPT_P)


def pin_matches(secret: bytes, pin: str, stored: PinHash) -> bool:
    if not _PIN.fullmatch(pin):
        return False
    salt = base64.b64decode(stored.salt)
    return hmac.compare_digest(_scrypt(secret, pin, salt, stored.n, stored.r, stored.p),
                               stored.hash)


def _scrypt(secret: bytes, pin: str, salt: bytes, n: int, r: int, p: int) -> str:
    keyed = hmac.new(secret, b"pin:" + pin.encode(), hashlib.sha256).digest()
    return hashlib.scrypt(keyed, salt=salt, n=n, r=r, p=p, maxmem=64 << 20,
                          dklen=SCRYPT_LEN).hex()


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def read_secret(path: Path) -> bytes | None:
    """The hall secret (64 hex digits in a file), or None when absent or malformed."""
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        text = handle.read(200).decode("ascii", "replace").strip()
    return bytes.fromhex(text) if re.fullmatch(r"[0-9a-f]{64}", text) else None


def _bad(en: str) -> StaffError:
    return StaffError("工作人员名册无效", f"the staff roster is invalid: {en}",
                      code="bad_roster")

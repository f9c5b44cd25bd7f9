"""Key files: the kiosk's device keys, handling regions' keys, and registered kiosk keys.

One JSON file per key. A private file is created 0600 with O_EXCL and fsynced (a second
start never overwrites a key a region has registered); a public file is what gets handed
over: ``kiosk keys export`` for a region's registry, ``kiosk region keygen`` for the kiosk's
routing settings.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from kiosk.delivery.envelope import Recipient, Signer
from kiosk.delivery.suites import SUITE_NAMES, CryptoError, Role, key_id, suite
from kiosk.errors import KioskError
from kiosk.fsutil import fsync_dir

FORMAT = "tongban-kiosk key v1"


class KeyFileError(KioskError):
    code = "key_error"


def _bad_key(path: Path, why: str) -> KeyFileError:
    return KeyFileError(f"密钥文件无效：{path}（{why}）", f"Invalid key file: {path} ({why})",
                     code="bad_key")


@dataclass(frozen=True)
class KeyFile:
    owner: str                 # kiosk id or region code
    role: Role
    suite: str
    public: bytes
    private: bytes | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def public_record(self) -> dict[str, str]:
        return {"format": FORMAT, "owner": self.owner, "role": self.role.value,
                "suite": self.suite, "key_id": self.key_id, "public": self.public.hex()}

    def private_record(self) -> dict[str, str]:
        assert self.private is not None
        return self.public_record() | {"private": self.private.hex()}


def generate(owner: str, role: Role, suite_name: str) -> KeyFile:
    private, public = suite(suite_name).new_keypair(role)
    return KeyFile(owner, role, suite_name, public, private)


def write_private(path: Path, key: KeyFile) -> None:
    """0600 from the first byte (no window where another user could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"密钥文件已存在，不会覆盖：{path}",
                           f"Key file exists, not overwritten: {path}",
                           code="key_exists") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(key.private_record(), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)


def write_public(path: Path, key: KeyFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.public_record(), indent=2) + "\n")


def load(path: Path) -> KeyFile:
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        role, name, owner = Role(data["role"]), str(data["suite"]), str(data["owner"])
        s = suite(name)
        public = bytes.fromhex(data["public"])
        s.check_public(public, role)
        private = bytes.fromhex(data["private"]) if "private" in data else None
        if private is not None and s.public_of(private, role) != public:
            raise ValueError("private and public halves do not match")
        if data.get("key_id", key_id(public)) != key_id(public):
            raise ValueError("key_id does not match the public key")
    except OSError as exc:
        raise _bad_key(path, exc.strerror or str(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError, CryptoError) as exc:
        raise _bad_key(path, str(exc)) from None
    return KeyFile(owner, role, name, public, private)


class DeviceKeys:
    """The kiosk's signing keys, one per suite, under ``folder``; made on first use."""

    def __init__(self, folder: Path, kiosk_id: str) -> None:
        self.folder = folder
        self.kiosk_id = kiosk_id

    def path(self, suite_name: str) -> Path:
        return self.folder / f"device-{suite_name}.key"

    def key(self, suite_name: str) -> KeyFile:
        path = self.path(suite_name)
        if not path.exists():
            # another process may make it first: then use theirs
            with suppress(KeyFileError):
                write_private(path, generate(self.kiosk_id, Role.SIGN, suite_name))
        key = load(path)
        if key.private is None or key.role is not Role.SIGN:
            raise _bad_key(path, "not a private signing key")
        return key

    def signer(self, suite_name: str) -> Signer:
        key = self.key(suite_name)
        assert key.private is not None
        return Signer(self.kiosk_id, suite(suite_name), key.private, key.public)

    def all(self) -> list[KeyFile]:
        return [self.key(name) for name in SUITE_NAMES]


def recipient(path: Path, region: str, suite_name: str) -> Recipient:
    """A routing entry's region key, checked to be the right kind for the kiosk's suite."""
    key = load(path)
    if key.role is not Role.ENCRYPT:
        raise _bad_key(path, "not a region encryption key")
    if key.suite != suite_name:
        raise _bad_key(path, f"suite {key.suite}, but delivery.suite is {suite_name}")
    if key.owner != region:
        raise _bad_key(path, f"key of region {key.owner}, routed as {region}")
    return Recipient(region, key.public)


class Registry:
    """Kiosk public keys a region has registered: a folder of exported key files."""

    def __init__(self, keys: list[KeyFile]) -> None:
        self._keys = {(k.owner, k.key_id): k for k in keys if k.role is Role.SIGN}

    @classmethod
    def from_path(cls, path: Path) -> Registry:
        files = sorted(path.glob("*.json")) + sorted(path.glob("*.pub")) if path.is_dir() \
            else [path]
        return cls([load(f) for f in files])

    def public_key(self, kiosk_id: str, key_id_: str, suite_name: str) -> bytes:
        key = self._keys.get((kiosk_id, key_id_))
        if key is None or key.suite != suite_name:
            raise KeyFileError(f"自助终端 {kiosk_id} 的密钥 {key_id_} 未登记",
                            f"Kiosk {kiosk_id} key {key_id_} is not registered",
                            code="unknown_kiosk")
        return key.public

"""Key files: the kiosk's device keys, handling regions' keys, and registered kiosk keys.

One JSON file per key. A private file is created 0600 with O_EXCL and fsynced (a second
start never overwrites a key a region has registered); a public file is what gets handed
over: ``kiosk keys export`` for a region's registry, ``kiosk region keygen`` for the kiosk's
routing settings.
"""

from __future__ import annotations

import errno
import json
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.fileio import FileRefused, read_bounded, shown, write_file
from kiosk.errors import KioskError
from kiosk.fsutil import fsync_dir
from kiosk.transfer.envelope import Recipient, Signer
from kiosk.transfer.suites import SUITE_NAMES, CryptoError, Role, key_id, suite

FORMAT = "tongban-kiosk key v1"
MAX_KEY_BYTES = 64 << 10   # a key record is about 400 bytes


class KeyFileError(KioskError):
    code = "key_error"


def _bad_key(path: Path, zh_why: str, en_why: str) -> KeyFileError:
    return KeyFileError(f"密钥文件无效：{shown(path)}（{zh_why}）",
                        f"Invalid key file: {shown(path)} ({en_why})", code="bad_key")


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
    _make_folder(path, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"密钥文件已存在，不会覆盖：{shown(path)}",
                           f"Key file exists, not overwritten: {shown(path)}",
                           code="key_exists") from None
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with os.fdopen(fd, "w") as handle:
        json.dump(key.private_record(), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)


def write_public(path: Path, key: KeyFile) -> None:
    _make_folder(path, 0o777)
    try:
        write_file(path, (json.dumps(key.public_record(), indent=2) + "\n").encode())
    except FileRefused as exc:
        raise KeyFileError(exc.zh, exc.en, code="key_unwritable") from None


def _make_folder(path: Path, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=mode)
    except FileExistsError:        # a file stands where the folder should be
        raise _unwritable(path, NotADirectoryError(errno.ENOTDIR, "Not a directory")) from None
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError) -> KeyFileError:
    why = exc.strerror or type(exc).__name__
    return KeyFileError(f"无法写入密钥文件：{shown(path)}（{why}）",
                        f"Cannot write the key file {shown(path)}: {why}", code="key_unwritable")


def load(path: Path) -> KeyFile:
    try:
        raw = read_bounded(path, MAX_KEY_BYTES)
    except FileRefused as exc:
        raise KeyFileError(f"密钥文件无效：{exc.zh}", f"Invalid key file: {exc.en}",
                           code="bad_key") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad_key(path, "不是 JSON", "not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad_key(path, "不是本系统的密钥文件", f"format is not {FORMAT!r}")
    try:
        return _from_record(data)
    except _Damaged as exc:
        raise _bad_key(path, exc.zh, exc.en) from None
    except (ValueError, KeyError, TypeError, AttributeError, CryptoError) as exc:
        raise _bad_key(path, "字段缺失或取值无效", f"missing or invalid field: {exc}") from None


class _Damaged(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _from_record(data: dict[str, Any]) -> KeyFile:
    role, name, owner = Role(data["role"]), str(data["suite"]), str(data["owner"])
    try:
        s = suite(name)
    except CryptoError as exc:
        raise _Damaged(f"未知的密码套件 {name}", str(exc)) from None
    public = bytes.fromhex(data["public"])
    try:
        s.check_public(public, role)
    except CryptoError as exc:
        raise _Damaged("公钥无效", str(exc)) from None
    private = bytes.fromhex(data["private"]) if "private" in data else None
    try:
        matches = private is None or s.public_of(private, role) == public
    except (CryptoError, ValueError):
        matches = False
    if not matches:
        raise _Damaged("私钥与公钥不匹配", "private and public halves do not match")
    if data.get("key_id", key_id(public)) != key_id(public):
        raise _Damaged("key_id 与公钥不符", "key_id does not match the public key")
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
            raise _bad_key(path, "不是签名私钥", "not a private signing key")
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
        raise _bad_key(path, "不是办理地的加密密钥", "not a region encryption key")
    if key.private is not None:
        # the private half belongs at the region alone: a kiosk that holds it could open
        # every package it ever sent to that region
        raise _bad_key(path, "这是办理地的私钥，路由只配置其公钥 .pub 文件，私钥只留在办理地",
                       "this is the region's private key: route to its public key (the .pub "
                       "file) and keep the private key at the region")
    if key.suite != suite_name:
        raise _bad_key(path, f"密码套件为 {key.suite}，而 transfer.suite 为 {suite_name}",
                       f"suite {key.suite}, but transfer.suite is {suite_name}")
    if key.owner != region:
        raise _bad_key(path, f"这是办理地 {key.owner} 的密钥，却配置给 {region}",
                       f"key of region {key.owner}, routed as {region}")
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

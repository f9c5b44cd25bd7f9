"""What a handling region (or the provincial gateway) does with a package we sent: check who
sent it, decrypt, check every file against the manifest, unpack. ``kiosk region open``.

Nothing is written under the output folder until the signature and every hash have checked:
the plaintext goes to a scratch file beside it first, which is removed on any failure.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.delivery.envelope import SealError, open_sealed, read_header, tampered
from kiosk.delivery.keys import KeyFileError, Registry, load
from kiosk.delivery.suites import Role
from kiosk.fsutil import write_atomic
from kiosk.package import read_package


@dataclass(frozen=True)
class Opened:
    package_id: str
    kiosk_id: str
    suite: str
    folder: Path
    manifest: dict[str, Any]
    files: tuple[str, ...]


def open_package(package: Path, region_key: Path, registry: Registry, out: Path) -> Opened:
    key = load(region_key)
    if key.private is None or key.role is not Role.ENCRYPT:
        raise KeyFileError(f"{region_key} 不是办理地的私钥",
                           f"{region_key} is not a region's private key", code="bad_key")
    out.mkdir(parents=True, exist_ok=True)
    with open(package, "rb") as src:
        header, raw = read_header(src)
        if header.recipient_key_id != key.key_id:
            raise SealError(
                f"这个申请包是发给 {header.recipient} 的另一把密钥的，用这把密钥打不开",
                f"The package is sealed to another key of {header.recipient} "
                f"({header.recipient_key_id}), not {key.key_id}", code="wrong_key")
        kiosk_key = registry.public_key(header.kiosk_id, header.key_id, header.suite)
        fd, scratch = tempfile.mkstemp(prefix=".opening-", dir=out)
        try:
            with os.fdopen(fd, "w+b") as plain:
                open_sealed(src, plain, header, raw, key.private, kiosk_key)
                plain.seek(0)
                try:
                    manifest, files = read_package(plain)
                except (ValueError, KeyError, OSError) as exc:
                    raise tampered(f"contents: {exc}") from None
        finally:
            Path(scratch).unlink(missing_ok=True)
    _check_manifest(manifest, header.package_id, header.kiosk_id, header.key_id, header.suite)
    folder = out / header.package_id
    for name, data in files.items():
        write_atomic(folder / _safe(name), data)
    write_atomic(folder / "manifest.json", _manifest_bytes(manifest))
    return Opened(header.package_id, header.kiosk_id, header.suite, folder, manifest,
                  tuple(sorted(files)))


def _check_manifest(manifest: dict[str, Any], package_id: str, kiosk_id: str, key_id: str,
                    suite: str) -> None:
    seal = manifest.get("seal", {})
    if (manifest.get("package_id") != package_id or seal.get("kiosk_id") != kiosk_id
            or seal.get("key_id") != key_id or seal.get("suite") != suite):
        raise tampered("manifest does not match the envelope")


def _safe(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise tampered(f"unsafe file name {name!r}")
    return str(path)


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2).encode()

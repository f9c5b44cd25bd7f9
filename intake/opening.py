"""What a handling region (or the provincial gateway) does with a package we sent: check who
sent it, decrypt, check every file against the manifest, unpack. ``kiosk region open``.

A registered kiosk can be stolen, so a package that checks out is still hostile: the header
and the manifest are validated field by field before use, every name is untrusted (see
:mod:`kiosk.untrusted`), only files the manifest lists are written, and the decrypted copy,
the file count and the unpacked size are bounded. Nothing appears under ``out`` but one
hidden staging folder until everything has checked; the staging folder is then renamed to
``out/<package_id>`` in one step and removed on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from kiosk.errors import KioskError
from kiosk.fsutil import fsync_dir
from kiosk.manifest import Manifest
from kiosk.package import LIMITS, MANIFEST_FILE, listed_files, unpack_package
from kiosk.transfer.envelope import (
    MAX_PLAINTEXT_BYTES,
    Header,
    SealError,
    open_sealed,
    read_header,
    tampered,
)
from kiosk.transfer.keys import KeyFile, KeyFileError, Registry, load
from kiosk.transfer.suites import Role
from kiosk.untrusted import Limits, Untrusted

__all__ = ["MAX_PLAINTEXT_BYTES", "Opened", "RegionError", "load_region_key", "open_package"]
T = TypeVar("T")


class RegionError(KioskError):
    """The region's own side failed: the package file or the output folder."""

    code = "region_error"


@dataclass(frozen=True)
class Opened:
    package_id: str
    kiosk_id: str
    suite: str
    folder: Path
    manifest: dict[str, Any]
    files: tuple[str, ...]


def open_package(package: Path, region_key: Path, registry: Registry, out: Path,
                 limits: Limits = LIMITS) -> Opened:
    key = _region_key(region_key)
    private = key.private
    assert private is not None
    _out_call(out, lambda: out.mkdir(parents=True, exist_ok=True))
    with _open_package_file(package) as src:
        header, raw = read_header(src)
        if header.recipient_key_id != key.key_id:
            raise SealError(
                f"这个申请包是发给 {header.recipient} 的另一把密钥的，用这把密钥打不开",
                f"The package is sealed to another key of {header.recipient} "
                f"({header.recipient_key_id}), not {key.key_id}", code="wrong_key")
        kiosk_key = registry.public_key(header.kiosk_id, header.key_id, header.suite)
        staging = Path(_out_call(out, lambda: tempfile.mkdtemp(prefix=".opening-", dir=out)))
        try:
            with _out_call(out, lambda: open(staging / "plain", "w+b")) as plain:
                _io(lambda: open_sealed(src, plain, header, raw, private, kiosk_key,
                                        limit=MAX_PLAINTEXT_BYTES))
                manifest, model = _io(lambda: _unpack(plain, staging / "files", limits))
            _check_manifest(model, header)
            folder = out / header.package_id       # a uuid (the header is checked): one name
            _out_call(out, lambda: _publish(staging / "files", manifest, folder, staging))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Opened(header.package_id, header.kiosk_id, header.suite, folder, manifest,
                  tuple(sorted(listed_files(model))))


def load_region_key(path: Path) -> KeyFile:
    """The region's private (decryption) key, or KeyFileError."""
    return _region_key(path)


def _region_key(path: Path) -> KeyFile:
    key = load(path)
    if key.private is None or key.role is not Role.ENCRYPT:
        raise KeyFileError(f"{path} 不是办理地的私钥",
                           f"{path} is not a region's private key", code="bad_key")
    return key


def _out_call(out: Path, action: Callable[[], T]) -> T:
    """``action()``, with a failure of the output folder (a file there, no space, no
    permission) said as one."""
    try:
        return action()
    except OSError as exc:
        raise RegionError(f"无法使用输出文件夹 {out}：{exc.strerror or exc}",
                          f"Cannot use the output folder {out}: {exc.strerror or exc}",
                          code="bad_out") from None


def _io(action: Callable[[], T]) -> T:
    """``action()`` reading the package and writing scratch beside ``out``; a disk error
    (full, failing) said as one."""
    try:
        return action()
    except OSError as exc:
        raise RegionError(f"打开申请包时读写失败：{exc.strerror or exc}",
                          f"Reading the package or writing its scratch copy failed: "
                          f"{exc.strerror or exc}", code="io_error") from None


def _open_package_file(package: Path) -> BinaryIO:
    """The package, opened only if it is a regular file (a device or a pipe could block or
    never end)."""
    not_a_file = RegionError(f"申请包 {package} 不是普通文件",
                             f"The package {package} is not a regular file", code="no_package")
    try:
        # non-blocking: opening a pipe with no writer would otherwise wait for ever
        fd = os.open(package, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise RegionError(f"申请包不存在：{package}", f"No such package: {package}",
                          code="no_package") from None
    except IsADirectoryError:
        raise not_a_file from None
    except OSError as exc:
        raise RegionError(f"无法读取申请包 {package}：{exc.strerror or exc}",
                          f"Cannot read the package {package}: {exc.strerror or exc}",
                          code="no_package") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise not_a_file
    os.set_blocking(fd, True)
    return open(fd, "rb")


def _unpack(plain: BinaryIO, folder: Path, limits: Limits
            ) -> tuple[dict[str, Any], Manifest]:
    folder.mkdir()
    try:
        return unpack_package(plain, folder, limits)
    except Untrusted as exc:
        raise SealError(f"申请包内容不合规，不能打开：{exc.zh}",
                        f"The package's contents are refused: {exc.en}",
                        code=exc.code) from None


def _check_manifest(manifest: Manifest, header: Header) -> None:
    seal = manifest.seal
    if (manifest.package_id != header.package_id or manifest.kiosk_id != header.kiosk_id
            or seal.kiosk_id != header.kiosk_id or seal.key_id != header.key_id
            or seal.suite != header.suite):
        raise tampered("manifest does not match the envelope (package, kiosk or key)")


def _publish(unpacked: Path, manifest: dict[str, Any], folder: Path, staging: Path) -> None:
    """The checked files, and the manifest as checked, become ``folder`` in one rename; a
    copy opened before is replaced whole (set aside into staging, removed with it)."""
    data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    with open(unpacked / MANIFEST_FILE, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    for path in sorted(p for p in unpacked.rglob("*") if p.is_dir()):
        fsync_dir(path)
    fsync_dir(unpacked)
    if folder.exists() or folder.is_symlink():
        os.rename(folder, staging / "replaced")
    os.rename(unpacked, folder)
    fsync_dir(folder.parent)

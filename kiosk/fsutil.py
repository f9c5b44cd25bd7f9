"""Durable file writes: temp file, fsync, rename, fsync the folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, data: bytes) -> None:
    """After this returns, ``path`` holds ``data`` whole, even across a power cut."""
    _atomic(path, lambda handle: handle.write(data))


def copy_atomic(source: Path, path: Path) -> None:
    """:func:`write_atomic` for a file's contents, copied in blocks (packages are large)."""
    with open(source, "rb") as src:
        _atomic(path, lambda handle: shutil.copyfileobj(src, handle, 1 << 20))


def _atomic(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        fill(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (packages can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

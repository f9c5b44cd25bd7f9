"""Durable file writes (temp file, fsync, rename, fsync the folder) and owner-only files."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
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


def owner_only_dir(folder: Path) -> None:
    """``folder`` exists, mode 0700, and nothing under it is open to group or others: the
    data directory holds the ledger, the outbox, the log and the printed paper's images.
    Run at start-up, it also closes what an older version left 0644/0755. Symlinks are
    neither followed nor changed."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(folder)
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            _owner_only(Path(top, name))


def private_file(path: Path) -> Path:
    """``path`` exists and is 0600 (created empty if absent), before a library such as
    SQLite or logging opens it with the process's umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    _owner_only(path)
    return path


def _owner_only(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:   # gone since it was listed (a wiped session folder)
        return
    if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
        path.chmod(stat.S_IMODE(mode) & 0o700)

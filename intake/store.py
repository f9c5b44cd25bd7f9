"""Completed uploads in the tus server's file store, found by looking at the folder — the
intake needs no hook in the upload server and keeps working when that server is down.

Two layouts are read (``--store DIR``):

- @tus/file-store: ``<id>`` (the bytes) beside ``<id>.json`` (the upload's info: ``size``,
  ``metadata``; FileStore never updates an ``offset`` there, so an upload is complete when
  its file is exactly ``size`` bytes long — PATCHes append in order, so that length means
  every byte is in). ``DIR/uploads`` if it exists, else ``DIR`` itself.
- the reference server's ``DIR/delivered/<package_id>.<receiver>`` (rigs/tus-server: the
  first finished copy of each package, moved out of ``uploads/``).

Every name comes from outside: only names of the expected shape are looked at, symlinks and
anything not a regular file are passed over, the info file is read bounded, and nothing of
the upload's metadata is trusted (the package's signed header says what it is).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drivers.fileio import FileRefused, read_bounded, shown
from intake.source import PassedOver, StoreError, Upload

__all__ = ["FileStore", "StoreError", "Upload", "completed"]

MAX_INFO_BYTES = 64 << 10         # an info file is a few hundred bytes
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_DELIVERED = re.compile(r"[A-Za-z0-9-]{1,100}\.[A-Za-z0-9-]{1,100}")


@dataclass(frozen=True)
class FileStore:
    """The folder as an :class:`intake.source.UploadSource`: each upload is taken where it
    lies (``source`` is its name relative to the folder: "uploads/<id>", "delivered/<key>")."""

    root: Path

    def completed(self, done: Collection[str], passed_over: PassedOver) -> list[Upload]:
        return completed(self.root, done)      # odd names are passed over silently

    @contextmanager
    def fetched(self, upload: Upload, scratch: Path) -> Iterator[Path | None]:
        yield upload.path


def completed(store: Path, done: Collection[str] = ()) -> list[Upload]:
    """Every completed upload in ``store`` but those in ``done`` (not even their info file
    is read again), in a stable order (by source)."""
    if not store.is_dir():
        raise StoreError(f"上传存储文件夹不存在：{shown(store)}",
                         f"The upload store is not a folder: {shown(store)}")
    found = list(_delivered(store, done)) + list(_file_store(store, done))
    return sorted(found, key=lambda u: u.source)


def _delivered(store: Path, done: Collection[str]) -> Iterator[Upload]:
    folder = store / "delivered"
    for name in _names(folder):
        if f"delivered/{name}" in done:
            continue
        size = _regular_size(folder / name) if _DELIVERED.fullmatch(name) else None
        if size is not None:
            yield Upload(f"delivered/{name}", size, folder / name)


def _file_store(store: Path, done: Collection[str]) -> Iterator[Upload]:
    folder = store / "uploads" if (store / "uploads").is_dir() else store
    prefix = "uploads/" if folder != store else ""
    for name in _names(folder):
        upload_id = name.removesuffix(".json")
        if name == upload_id or not _UPLOAD_ID.fullmatch(upload_id) \
                or f"{prefix}{upload_id}" in done:
            continue
        size = _regular_size(folder / upload_id)
        if size is not None and size == _declared_size(folder / name):
            yield Upload(f"{prefix}{upload_id}", size, folder / upload_id)


def _names(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"无法读取上传存储文件夹 {shown(folder)}：{exc.strerror or exc}",
                         f"Cannot read the upload store {shown(folder)}: {exc.strerror or exc}"
                         ) from None


def _regular_size(path: Path) -> int | None:
    try:
        info = path.lstat()
    except OSError:
        return None          # gone meanwhile, or not ours to read: not a completed upload
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _declared_size(info: Path) -> int | None:
    """``size`` in a FileStore info file, or None (deferred length, unreadable, damaged)."""
    try:
        data = json.loads(read_bounded(info, MAX_INFO_BYTES))
    except (FileRefused, ValueError, RecursionError):
        return None
    size = data.get("size") if isinstance(data, dict) else None
    return size if type(size) is int and size >= 0 else None

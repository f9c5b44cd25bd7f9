"""A case's files for the back office to download. The link names a file by its row in the
``files`` table (``/cases/XT…/files/<id>``), never by a name: names come from the package and
are only ever shown, or sent as the download's suggested name. The row must belong to one of
that case's packages, and the file it names must resolve (symlinks followed) to a regular
file inside that package's folder; anything else is "no such file"."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from intake.db import transaction

FILE_ID = re.compile(r"[1-9][0-9]{0,11}")
_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CaseFile:
    file_id: int
    name: str              # from the package: text, never a path of ours
    path: Path             # resolved, inside the package's folder
    package_id: str


def find(conn: sqlite3.Connection, transfer: str, file_id: str) -> CaseFile | None:
    """The file ``file_id`` of the case ``transfer`` names, or None (not its, not there, not
    inside its folder, not a regular file)."""
    if not FILE_ID.fullmatch(file_id):
        return None
    row = conn.execute(
        "SELECT f.name, p.folder, p.package_id FROM files f JOIN packages p USING (package_id) "
        "JOIN transfers t ON t.case_number = p.case_number "
        "WHERE f.rowid = ? AND t.transfer_number = ?", (int(file_id), transfer)).fetchone()
    if row is None:
        return None
    name, folder_text, package_id = row
    try:
        folder = Path(folder_text).resolve(strict=True)
        path = (folder / name).resolve(strict=True)
    except (OSError, RuntimeError):       # gone, or a symlink loop
        return None
    if not path.is_relative_to(folder) or path == folder:
        return None
    return CaseFile(int(file_id), str(name), path, str(package_id))


def open_regular(path: Path) -> tuple[BinaryIO, int] | None:
    """``path`` opened for reading with its size, if it is (still) a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb"), info.st_size


def disposition(name: str) -> str:
    """``attachment`` with a plain ASCII fallback name and the real one as RFC 5987
    ``filename*`` (UTF-8, percent-encoded): no quote, semicolon, slash or control character
    of the package's name reaches the header as itself."""
    base = name.rsplit("/", 1)[-1]
    fallback = _ASCII_SAFE.sub("_", base).strip("._")[:100] or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def audit_download(conn: sqlite3.Connection, now: datetime, staff_id: str, transfer: str,
                   found: CaseFile) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO audit (at, staff_id, action, transfer_number, details) "
                     "VALUES (?, ?, 'file_download', ?, ?)",
                     (now.isoformat(), staff_id, transfer,
                      json.dumps({"file_id": found.file_id, "package_id": found.package_id,
                                  "name": found.name}, ensure_ascii=False)))

"""The newest entries of the audit log, for the supervisor's audit view: bounded (at most
``count`` entries, read from the end of the file), parsed, and never trusted for more than
showing — :func:`kiosk.staff.verify.verify` is what says whether the chain holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kiosk.staff.audit import LOG_NAME, MAX_LINE

SHOWN = 20


def last_entries(folder: Path, count: int = SHOWN) -> list[dict[str, Any]]:
    """Up to ``count`` of the newest entries, newest first; a line that is not an entry
    (torn, damaged) is shown as ``{"damaged": True}`` rather than skipped."""
    path = folder / LOG_NAME
    if not path.is_file():
        return []
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        start = max(0, size - (count + 1) * (MAX_LINE + 1))
        handle.seek(start)
        data = handle.read(size - start)
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]                 # the first one is cut by where we started
    entries = [_entry(line) for line in lines if line.strip()]
    return entries[-count:][::-1]


def _entry(line: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except ValueError:
        return {"damaged": True}
    return doc if isinstance(doc, dict) else {"damaged": True}

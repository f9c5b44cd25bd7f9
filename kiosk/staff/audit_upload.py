"""The audit log in the diagnostics (issue 21): what the nightly job and the fleet's
``upload_diagnostics`` command send about the staff audit log — its anchor, whether it
verifies (or the first bad entry), and its newest entries as the exact lines on disk.

Why the exact lines: the fleet can re-hash them (kiosk/staff/audit.py ``entry_hash``) and
chain them to the entries of the previous upload, so a log rewritten on the kiosk between two
uploads shows there even though the kiosk's own chain has no key. Bounded: the newest
``MAX_BYTES`` of the log (about 2,000 entries, a fortnight of a busy hall), whole lines only;
``first_seq`` says where the slice starts and ``truncated`` that older entries were left out
(they went in earlier uploads). Entries hold no personal data by construction (check_detail).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kiosk.staff.audit import LOG_NAME, read_anchor
from kiosk.staff.errors import AuditError
from kiosk.staff.verify import verify

STAFF_DIR = "staff"              # under paths.data_dir (kiosk/fleet/staffmode.py)
MAX_BYTES = 512 * 1024


def audit_for_diagnostics(staff_folder: Path, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    try:
        done = verify(staff_folder)
        check: dict[str, Any] = {"ok": True, "entries": done.entries,
                                 "torn_cuts": list(done.torn_cuts)}
    except AuditError as exc:
        check = {"ok": False, "code": exc.code, "seq": exc.seq}
    try:
        anchor = read_anchor(staff_folder)
    except AuditError:
        anchor = None
    lines, truncated = _tail_lines(staff_folder / LOG_NAME, max_bytes)
    return {"anchor": anchor.as_dict() if anchor else None, "verify": check,
            "first_seq": _seq(lines[0]) if lines else None, "truncated": truncated,
            "entries": lines}


def _tail_lines(path: Path, max_bytes: int) -> tuple[list[str], bool]:
    """The whole lines in the last ``max_bytes`` of the log (a torn last line left out)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - max_bytes)
            handle.seek(start)
            block = handle.read(max_bytes)
    except FileNotFoundError:
        return [], False
    parts = block.split(b"\n")
    whole = parts[1:-1] if start > 0 else parts[:-1]     # cut the partial first and last
    return [p.decode("utf-8", "replace") for p in whole], start > 0


def _seq(line: str) -> int | None:
    try:
        value = json.loads(line).get("seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None

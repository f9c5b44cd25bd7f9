"""The staff audit log (§9 of issue 21): append-only JSON lines, each entry chained to the one
before it by its hash, under ``<data_dir>/staff/``.

```
audit.log     one canonical JSON object per line: seq, time, staff, action, case, before,
              after, kiosk, prev (the previous entry's hash; 64 zeros for the first), hash
audit.anchor  {"seq", "hash"} of the newest entry, written atomically after each append:
              removing entries from the end leaves the log shorter than its anchor
audit.torn    torn line tails cut at open (below), kept byte for byte
```
``hash`` = sha256 over the canonical encoding (sorted keys, no spaces, UTF-8) of every other
field, ``prev`` included: changing any byte of an entry, removing one or swapping two breaks
the chain at the first entry concerned. The chain has no secret: whoever can write the data
folder can rewrite it whole, anchor included. What catches that is off the machine — the
heartbeat reports the anchor, so the fleet sees a sequence number go backwards.

Durability: one ``write`` of one whole line to a file opened for appending, then fsync, then
the anchor (write_atomic). Appends from two processes (the app and ``kiosk ledger export``)
take an exclusive ``flock`` and read the true tail each time. A power cut mid-write can leave
a torn last line. Decided: ``verify`` reports it as a failure (code ``torn_tail``); the next
append cuts the torn bytes off, keeps them in ``audit.torn`` and writes an entry
``audit.torn_tail_cut`` saying how many bytes were cut — recorded in the chain, never silent.

What an entry may hold: no credential, PIN, ID number, name or phone. ``before``/``after`` are
small flat objects of state names, material ids, counts and flags (:func:`check_detail`): at
most 8 keys, short strings with no run of 6 or more digits (so no ID or phone number can be
written by mistake); the case number has its own checked field.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from kiosk.fsutil import fsync_dir, write_atomic
from kiosk.staff.errors import AuditError

LOG_NAME, ANCHOR_NAME, TORN_NAME = "audit.log", "audit.anchor", "audit.torn"
GENESIS = "0" * 64
MAX_LINE = 4096                  # an entry is a few hundred bytes; a longer line is damage
MAX_DETAIL_KEYS, MAX_TEXT, MAX_LIST = 8, 64, 20
TORN_ACTION = "audit.torn_tail_cut"
FIELDS = ("seq", "time", "staff", "action", "case", "before", "after", "kiosk", "prev", "hash")

_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_DIGIT_RUN = re.compile(r"\d{6,}")
STAFF_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,31})?")       # "" when nobody is known
ACTION_FIELD = re.compile(r"[a-z][a-z0-9_.]{0,47}")
CASE_FIELD = re.compile(r"\d{6}-\d{4}-\d{6}-\d{4}-\d")
KIOSK_FIELD = re.compile(r"\d{6}-\d{4}")
HEX64 = re.compile(r"[0-9a-f]{64}")

Detail = dict[str, Any]


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


@dataclass(frozen=True)
class Verified:
    """An intact log: how many entries, its anchor, and the torn tails cut (their seqs)."""

    entries: int
    anchor: Anchor
    torn_cuts: tuple[int, ...]


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(body: Mapping[str, Any]) -> str:
    """sha256 of every field but ``hash`` (``prev`` included: that is the chain)."""
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "hash"})).hexdigest()


def check_detail(detail: Mapping[str, Any] | None, what: str = "detail") -> Detail | None:
    """``detail`` as it may be written, or AuditError naming the offending key."""
    if detail is None:
        return None
    if not isinstance(detail, Mapping) or len(detail) > MAX_DETAIL_KEYS:
        raise _refused(f"{what} 须为不超过 {MAX_DETAIL_KEYS} 项的对象",
                       f"{what} must be an object of at most {MAX_DETAIL_KEYS} keys")
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise _refused(f"{what} 的键名不合规", f"{what}: key {str(key)[:40]!r} refused")
        if not _allowed_value(value):
            raise _refused(f"{what}.{key} 的值不允许写入审计日志（疑似个人信息或过长）",
                           f"{what}.{key}: value refused (too long, or a run of 6+ digits "
                           "that could be an ID or phone number)")
    return dict(detail)


def _allowed_value(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 100_000
    if isinstance(value, str):
        return (len(value) <= MAX_TEXT and not _DIGIT_RUN.search(value)
                and value.isprintable())
    if isinstance(value, list):
        return len(value) <= MAX_LIST and all(isinstance(v, str) and _allowed_value(v)
                                              for v in value)
    return False


class AuditLog:
    """The kiosk's audit log. ``append`` is the only way in; nothing here rewrites an entry."""

    def __init__(self, folder: Path, kiosk_id: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not KIOSK_FIELD.fullmatch(kiosk_id):
            raise _refused("终端编号格式不对", f"kiosk id {kiosk_id[:20]!r} is not NNNNNN-NNNN")
        self.folder, self.kiosk_id, self._clock = folder, kiosk_id, clock
        self.path, self.anchor_path = folder / LOG_NAME, folder / ANCHOR_NAME

    def append(self, staff: str, action: str, *, case: str | None = None,
               before: Mapping[str, Any] | None = None,
               after: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write one entry durably and return it (with its seq and hash)."""
        body = self._body(staff, action, case, before, after)
        with self._locked() as handle:
            seq, prev, cut = _tail(handle, self.folder)
            if cut:                                    # a torn tail was cut: say so first
                torn = self._body("", TORN_ACTION, None, None, {"torn_bytes": min(cut, 99_999)})
                seq, prev = self._write(handle, {**torn, "seq": seq + 1, "prev": prev})
            seq, digest = self._write(handle, {**body, "seq": seq + 1, "prev": prev})
        return {**body, "seq": seq, "prev": prev, "hash": digest}

    def anchor(self) -> Anchor:
        """What the heartbeat reports: the newest entry's seq and hash (seq 0: empty)."""
        return read_anchor(self.folder) or Anchor(0, GENESIS)

    def _body(self, staff: str, action: str, case: str | None,
              before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Detail:
        if not STAFF_FIELD.fullmatch(staff) or not ACTION_FIELD.fullmatch(action):
            raise _refused("工号或操作名不合规", "staff id or action name refused")
        if case is not None and not CASE_FIELD.fullmatch(case):
            raise _refused("受理编号格式不对", "case number is not a kiosk case number")
        return {"time": self._clock().isoformat(timespec="seconds"), "staff": staff,
                "action": action, "case": case, "before": check_detail(before, "before"),
                "after": check_detail(after, "after"), "kiosk": self.kiosk_id}

    def _write(self, handle: BinaryIO, body: Detail) -> tuple[int, str]:
        digest = entry_hash(body)
        line = canonical({**body, "hash": digest}) + b"\n"
        if len(line) > MAX_LINE:
            raise _refused("审计记录过长", f"audit entry longer than {MAX_LINE} bytes")
        os.write(handle.fileno(), line)               # one write of one whole line
        os.fsync(handle.fileno())
        write_atomic(self.anchor_path, canonical({"seq": body["seq"], "hash": digest}))
        return int(body["seq"]), digest

    @contextmanager
    def _locked(self) -> Iterator[BinaryIO]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b", buffering=0) as handle:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


def _tail(handle: BinaryIO, folder: Path) -> tuple[int, str, int]:
    """(seq, hash) of the last whole entry and how many torn bytes were cut off the end
    (kept in audit.torn) before it could be read."""
    cut = 0
    while True:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return 0, GENESIS, cut
        handle.seek(max(0, size - 2 * MAX_LINE))
        block = handle.read()
        if block.endswith(b"\n"):
            break
        torn = block[block.rfind(b"\n") + 1:]
        _keep_torn(folder, torn)
        os.ftruncate(handle.fileno(), size - len(torn))
        os.fsync(handle.fileno())
        cut += len(torn)
    last = block[:-1].rsplit(b"\n", 1)[-1]
    try:
        doc = json.loads(last)
        return int(doc["seq"]), str(doc["hash"]), cut
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError("审计日志末条记录已损坏，请先执行 kiosk audit verify",
                         f"the audit log's last entry is damaged ({type(exc).__name__}); "
                         "run `kiosk audit verify`", code="damaged") from None


def _keep_torn(folder: Path, data: bytes) -> None:
    fd = os.open(folder / TORN_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(folder)


def read_anchor(folder: Path) -> Anchor | None:
    path = folder / ANCHOR_NAME
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read(MAX_LINE))       # bounded: a huge file is damage
        seq, digest = doc["seq"], doc["hash"]
        if type(seq) is not int or seq < 0 or not HEX64.fullmatch(str(digest)):
            raise ValueError("fields")
        return Anchor(seq, str(digest))
    except (ValueError, KeyError, TypeError):
        raise AuditError("审计日志锚点文件已损坏", f"{ANCHOR_NAME} is damaged",
                         code="bad_anchor") from None


def _refused(zh: str, en: str) -> AuditError:
    return AuditError(zh, en, code="entry_refused")

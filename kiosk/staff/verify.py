"""``kiosk audit verify``: read the whole audit log once, in bounded lines, and either return
what an intact log holds or raise AuditError naming the first bad entry (its line number,
which is its seq in an intact log). See kiosk/staff/audit.py for the format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiosk.staff.audit import (
    ACTION_FIELD,
    CASE_FIELD,
    FIELDS,
    GENESIS,
    HEX64,
    KIOSK_FIELD,
    LOG_NAME,
    MAX_LINE,
    STAFF_FIELD,
    TORN_ACTION,
    Anchor,
    Verified,
    canonical,
    check_detail,
    entry_hash,
    read_anchor,
)
from kiosk.staff.errors import AuditError


def verify(folder: Path) -> Verified:
    anchor = read_anchor(folder)
    path = folder / LOG_NAME
    seq, prev, at_anchor, cuts = 0, GENESIS, None, []
    if path.is_file():
        with open(path, "rb") as handle:
            while line := handle.readline(MAX_LINE + 1):
                seq += 1
                if not line.endswith(b"\n"):
                    raise _bad(seq, "不完整（断电时写了一半，或被截断）", "is torn (a power cut "
                               "mid-write, or cut short); the next append cuts and records it",
                               "torn_tail")
                prev = check_line(line, seq, prev)
                if anchor is not None and seq == anchor.seq:
                    at_anchor = prev
                if b'"action":"' + TORN_ACTION.encode() + b'"' in line:
                    cuts.append(seq)
    return Verified(seq, _check_anchor(anchor, seq, prev, at_anchor), tuple(cuts))


def check_line(line: bytes, seq: int, prev: str) -> str:
    """The hash of entry ``seq`` if ``line`` is it, whole and chained to ``prev``."""
    try:
        doc = json.loads(line)
    except ValueError:   # also UnicodeDecodeError
        raise _bad(seq, "无法解析", "is not valid JSON", "damaged") from None
    if not isinstance(doc, dict) or tuple(sorted(doc)) != tuple(sorted(FIELDS)):
        raise _bad(seq, "字段不全或多余", "lacks or adds fields", "damaged")
    _check_fields(doc, seq)
    if doc["seq"] != seq:
        raise _bad(seq, f"序号为 {doc['seq']}（记录被删除、插入或调换）",
                   f"has seq {doc['seq']} (an entry was removed, inserted or moved)", "order")
    if doc["prev"] != prev:
        raise _bad(seq, "与上一条记录的哈希链断开", "does not chain to the entry before it",
                   "chain")
    if doc["hash"] != entry_hash(doc) or canonical(doc) + b"\n" != line:
        raise _bad(seq, "内容已被改动（哈希不符）", "was changed (hash mismatch)", "changed")
    return str(doc["hash"])


def _check_fields(doc: dict[str, Any], seq: int) -> None:
    try:
        ok = (type(doc["seq"]) is int and isinstance(doc["time"], str)
              and isinstance(doc["staff"], str) and bool(STAFF_FIELD.fullmatch(doc["staff"]))
              and isinstance(doc["action"], str) and bool(ACTION_FIELD.fullmatch(doc["action"]))
              and (doc["case"] is None or (isinstance(doc["case"], str)
                                           and bool(CASE_FIELD.fullmatch(doc["case"]))))
              and isinstance(doc["kiosk"], str) and bool(KIOSK_FIELD.fullmatch(doc["kiosk"]))
              and all(isinstance(doc[k], str) and bool(HEX64.fullmatch(doc[k]))
                      for k in ("prev", "hash")))
        check_detail(doc["before"], "before")
        check_detail(doc["after"], "after")
    except AuditError:
        ok = False
    if not ok:
        raise _bad(seq, "字段值不合规", "has a field of the wrong type or form", "damaged")


def _check_anchor(anchor: Anchor | None, last: int, last_hash: str,
                  at_anchor: str | None) -> Anchor:
    """The log must reach the anchor. One entry past it is a power cut between the entry's
    fsync and the anchor's rename, and is accepted; more is not."""
    if anchor is None:
        if last:
            raise AuditError("审计日志的锚点文件丢失，无法确认末尾是否被删",
                             "audit.anchor is missing: removal of the newest entries cannot "
                             "be ruled out", code="no_anchor")
        return Anchor(0, GENESIS)
    if last < anchor.seq:
        raise _bad(last + 1, f"缺失（日志只有 {last} 条，锚点为第 {anchor.seq} 条）",
                   f"is missing (the log ends at {last}, its anchor says {anchor.seq})",
                   "truncated")
    if anchor.seq and at_anchor != anchor.hash:
        raise _bad(anchor.seq, "与锚点记录的哈希不符", "differs from the anchor's hash",
                   "anchor_mismatch")
    if last > anchor.seq + 1:
        raise AuditError(f"锚点落后 {last - anchor.seq} 条", f"the anchor is "
                         f"{last - anchor.seq} entries behind the log", code="anchor_behind",
                         seq=anchor.seq + 1)
    return Anchor(last, last_hash)


def _bad(seq: int, zh: str, en: str, code: str) -> AuditError:
    return AuditError(f"审计日志第 {seq} 条记录{zh}", f"audit log entry {seq} {en}",
                      code=code, seq=seq)

"""Status events: what a handling region tells the receiving kiosk or hall about a case.

One event per step the handling department takes (受理, 补正, 办结, 寄递, …), signed with the
region's status key from the region directory and carrying the transfer number (业务协同编号,
one per receiving region) and a per-transfer sequence (1, 2, 3, … with no gaps), so the
receiving side applies each exactly once and in order. This module is the format both ends
share — the region's intake writes it (intake/), the kiosk reads it (kiosk/casestatus/) — and
nothing else: no transport, no storage, no policy on stale or foreign events.

Wire form (UTF-8 JSON, at most ``MAX_EVENT_BYTES``)::

    {"event": {"format": "tongban-case-status", "schema": 1, "region": "440305",
               "transfer_number": "XT…", "case_number": "510802-0001-…", "seq": 3,
               "state": "accepted", "time": "2026-12-07T10:02:00+08:00",
               "details": {"document_number": "…", "promised_by": "2026-12-21"},
               "suite": "x25519-chacha20", "key_id": "0123456789abcdef"},
     "signature": "<base64 of the suite's signature over canonical(event)>"}

``canonical`` is the event object as JSON with sorted keys, no spaces, UTF-8: the bytes
signed. Field names follow GB/T 39046-2020 tables 6–9 and 15 where they exist (see DETAILS).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.errors import KioskError
from kiosk.transfer.suites import SUITE_NAMES, CryptoError, suite
from kiosk.untrusted import Untrusted, loads

FORMAT = "tongban-case-status"
SCHEMA = 1
MAX_EVENT_BYTES = 16 << 10
MAX_SEQ = 10_000                 # a case that moves more often than this is not a case
MAX_TEXT = 500
MAX_ITEMS = 50                   # 补正 items in one notice
REGION_CODE = re.compile(r"[1-9]\d{5}")
TRANSFER_NUMBER = re.compile(r"XT\d{6}\d{6}\d{8}\d{4}\d{4}")
CASE_NUMBER = re.compile(r"\d{6}-\d{4}-\d{6}-\d{4}-\d")
KEY_ID = re.compile(r"[0-9a-f]{16}")
_EVENT_FIELDS = {"format", "schema", "region", "transfer_number", "case_number", "seq",
                 "state", "time", "details", "suite", "key_id"}


class CaseState(StrEnum):
    """What the handling region did; the value is the wire code, ZH the ledger's 办理状态."""

    RECEIVED = "received"                      # the package is in the region's intake
    ACCEPTED = "accepted"                      # 受理 (GB/T 39046 table 6)
    CORRECTION_REQUIRED = "correction_required"   # 补正 (table 7, 业务动作 退回)
    CORRECTION_RECEIVED = "correction_received"   # the 补正 package arrived
    SPECIAL_PROCEDURE = "special_procedure"    # 特别程序 (table 7)
    REFUSED = "refused"                        # 不予受理
    DECIDED = "decided"                        # 办结 (table 8)
    DISPATCHED = "dispatched"                  # 寄递 (table 15)
    ARRIVED_AT_WINDOW = "arrived_at_window"    # 结果已到收件窗口
    COLLECTED = "collected"                    # 已领取
    ARCHIVED = "archived"                      # 已归档


ZH = {
    CaseState.RECEIVED: "办理地已接收",
    CaseState.ACCEPTED: "已受理",
    CaseState.CORRECTION_REQUIRED: "需补正",
    CaseState.CORRECTION_RECEIVED: "补正材料已接收",
    CaseState.SPECIAL_PROCEDURE: "特别程序",
    CaseState.REFUSED: "不予受理",
    CaseState.DECIDED: "已办结",
    CaseState.DISPATCHED: "结果已寄出",
    CaseState.ARRIVED_AT_WINDOW: "结果已到窗口待领取",
    CaseState.COLLECTED: "已领取",
    CaseState.ARCHIVED: "已归档",
}

# the moves a handling department may make; both ends check them (the region before it
# signs, the kiosk before it applies), so a buggy or hostile region cannot un-decide a case
NEXT: dict[CaseState | None, frozenset[CaseState]] = {
    None: frozenset({CaseState.RECEIVED}),
    CaseState.RECEIVED: frozenset({CaseState.ACCEPTED, CaseState.CORRECTION_REQUIRED,
                                   CaseState.REFUSED}),
    CaseState.ACCEPTED: frozenset({CaseState.CORRECTION_REQUIRED, CaseState.SPECIAL_PROCEDURE,
                                   CaseState.DECIDED, CaseState.REFUSED}),
    CaseState.CORRECTION_REQUIRED: frozenset({CaseState.CORRECTION_RECEIVED,
                                              CaseState.REFUSED}),
    CaseState.CORRECTION_RECEIVED: frozenset({CaseState.ACCEPTED,
                                              CaseState.CORRECTION_REQUIRED,
                                              CaseState.DECIDED, CaseState.REFUSED}),
    CaseState.SPECIAL_PROCEDURE: frozenset({CaseState.ACCEPTED, CaseState.DECIDED,
                                            CaseState.REFUSED}),
    CaseState.REFUSED: frozenset({CaseState.ARCHIVED}),
    CaseState.DECIDED: frozenset({CaseState.DISPATCHED, CaseState.ARCHIVED}),
    CaseState.DISPATCHED: frozenset({CaseState.ARRIVED_AT_WINDOW, CaseState.COLLECTED}),
    CaseState.ARRIVED_AT_WINDOW: frozenset({CaseState.COLLECTED}),
    CaseState.COLLECTED: frozenset({CaseState.ARCHIVED}),
    CaseState.ARCHIVED: frozenset(),
}

# details each state may carry (all optional strings unless listed in LIST_DETAILS); the
# names are GB/T 39046's where it has one: 受理文书编号, 承诺办结时间, 补正材料/期限, 不予受理
# 理由, 特别程序 种类/理由, 结果证照名称/编号, 物流单号, 寄送目的地 (applicant | window)
DETAILS: dict[CaseState, frozenset[str]] = {
    CaseState.RECEIVED: frozenset(),
    CaseState.ACCEPTED: frozenset({"document_number", "promised_by", "department"}),
    CaseState.CORRECTION_REQUIRED: frozenset({"items", "deadline", "notice_number"}),
    CaseState.CORRECTION_RECEIVED: frozenset({"version"}),
    CaseState.SPECIAL_PROCEDURE: frozenset({"kind", "reason", "until"}),
    CaseState.REFUSED: frozenset({"reason"}),
    CaseState.DECIDED: frozenset({"result", "certificate_name", "certificate_number"}),
    CaseState.DISPATCHED: frozenset({"tracking_number", "carrier", "destination", "window"}),
    CaseState.ARRIVED_AT_WINDOW: frozenset({"window", "collect_until", "hours"}),
    CaseState.COLLECTED: frozenset(),
    CaseState.ARCHIVED: frozenset(),
}
LIST_DETAILS = frozenset({"items"})
DESTINATIONS = frozenset({"applicant", "window"})


class EventError(KioskError):
    """A status event that cannot be used (malformed, unsigned, forged); ``where`` names why."""

    code = "invalid_status_event"


def _bad(zh: str, en: str) -> EventError:
    return EventError(f"办件状态消息无效：{zh}", f"Invalid case status event: {en}")


@dataclass(frozen=True)
class StatusEvent:
    region: str
    transfer_number: str
    case_number: str
    seq: int
    state: CaseState
    time: datetime                      # aware
    suite: str
    key_id: str
    details: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT, "schema": SCHEMA, "region": self.region,
                "transfer_number": self.transfer_number, "case_number": self.case_number,
                "seq": self.seq, "state": self.state.value, "time": self.time.isoformat(),
                "details": self.details, "suite": self.suite, "key_id": self.key_id}


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign(event: StatusEvent, private: bytes) -> bytes:
    """The wire form of ``event``, signed with the region's private status key."""
    check(event)
    body = event.body()
    signature = suite(event.suite).sign(private, canonical(body))
    return canonical({"event": body, "signature": base64.b64encode(signature).decode()})


def parse(raw: bytes) -> tuple[StatusEvent, bytes]:
    """The event and its signature, read strictly and bounded — not yet verified."""
    if len(raw) > MAX_EVENT_BYTES:
        raise _bad(f"超过 {MAX_EVENT_BYTES} 字节", f"larger than {MAX_EVENT_BYTES} bytes")
    try:
        outer = loads(raw, "status event")
    except Untrusted as exc:
        raise _bad("不是有效的 JSON", f"not valid JSON ({exc.en})") from None
    if not isinstance(outer, dict) or set(outer) != {"event", "signature"}:
        raise _bad("应只有 event 和 signature", "expected exactly event and signature")
    body, signature = outer["event"], outer["signature"]
    if not isinstance(signature, str) or len(signature) > 200:
        raise _bad("签名格式错误", "malformed signature")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("签名不是 base64", "signature is not base64") from None
    event = _event(body)
    check(event)
    try:
        canonical(event.body())
    except UnicodeEncodeError:      # a lone surrogate ("\ud800"): the signature can't be checked
        raise _bad("含有无法编码的字符", "text that is not valid Unicode") from None
    return event, raw_signature


def verify(event: StatusEvent, signature: bytes, public: bytes) -> None:
    """Raise EventError unless ``signature`` is ``public``'s over the event's canonical form."""
    try:
        suite(event.suite).verify(public, canonical(event.body()), signature)
    except CryptoError:
        raise _bad("签名验证失败", "the signature does not verify") from None


def _event(body: Any) -> StatusEvent:
    if not isinstance(body, dict) or set(body) != _EVENT_FIELDS:
        raise _bad("字段不符", "unexpected or missing fields")
    if body["format"] != FORMAT or body["schema"] != SCHEMA:
        raise _bad("格式或版本不支持", "unsupported format or schema")
    try:
        state = CaseState(body["state"])
    except ValueError:
        raise _bad("未知的办件状态", "unknown state") from None
    when = body["time"]
    if not isinstance(when, str) or len(when) > 40:
        raise _bad("时间格式错误", "malformed time")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        raise _bad("时间格式错误", "malformed time") from None
    seq = body["seq"]
    if type(seq) is not int:
        raise _bad("序号应为整数", "seq must be an integer")
    texts = {k: body[k] for k in ("region", "transfer_number", "case_number", "suite",
                                   "key_id")}
    if not all(isinstance(v, str) for v in texts.values()):
        raise _bad("字段类型错误", "a field has the wrong type")
    return StatusEvent(region=texts["region"], transfer_number=texts["transfer_number"],
                       case_number=texts["case_number"], seq=seq, state=state, time=at,
                       suite=texts["suite"], key_id=texts["key_id"], details=body["details"])


def check(event: StatusEvent) -> None:
    """Every field within its shape and bounds (both ends call it)."""
    shapes = ((REGION_CODE, event.region, "region"),
              (TRANSFER_NUMBER, event.transfer_number, "transfer_number"),
              (CASE_NUMBER, event.case_number, "case_number"),
              (KEY_ID, event.key_id, "key_id"))
    for pattern, value, name in shapes:
        if not pattern.fullmatch(value):
            raise _bad(f"{name} 格式错误", f"malformed {name}")
    if event.suite not in SUITE_NAMES:
        raise _bad("未知的算法套件", "unknown crypto suite")
    if not 1 <= event.seq <= MAX_SEQ:
        raise _bad("序号超出范围", "seq out of range")
    if event.time.tzinfo is None:
        raise _bad("时间缺少时区", "time has no zone")
    _check_details(event.state, event.details)


def _check_details(state: CaseState, details: Any) -> None:
    if not isinstance(details, dict) or not set(details) <= DETAILS[state]:
        raise _bad(f"{ZH[state]} 不能带这些信息", f"details not allowed for {state.value}")
    for name, value in details.items():
        values = value if name in LIST_DETAILS else [value]
        if name in LIST_DETAILS and (not isinstance(value, list) or len(value) > MAX_ITEMS):
            raise _bad(f"{name} 应为不超过 {MAX_ITEMS} 项的列表",
                       f"{name} must be a list of at most {MAX_ITEMS}")
        if not all(isinstance(v, str) and 0 < len(v) <= MAX_TEXT for v in values):
            raise _bad(f"{name} 应为不超过 {MAX_TEXT} 字的文字",
                       f"{name} must be text of at most {MAX_TEXT} characters")
    if state is CaseState.DISPATCHED and details.get("destination", "applicant") not in \
            DESTINATIONS:
        raise _bad("寄送目的地应为 applicant 或 window",
                   "destination must be applicant or window")


def may_follow(previous: CaseState | None, state: CaseState) -> bool:
    return state in NEXT[previous]

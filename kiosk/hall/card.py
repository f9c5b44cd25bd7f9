"""A hall case card: what one kiosk tells the other kiosks of its hall about a case it
received, so 进度查询 at any of them finds it (docs/progress-lookup.md, Hall-wide).

Retained, QoS 1, on ``tongban/<fleet>/hall/<hall>/kiosk/<kiosk>/case/<case number>``: the
publishing kiosk's id is in the topic, so the broker's ACL can let each kiosk write only its
own cards (docs/hall-cards.md). An empty retained message clears a card (archived).

Wire form (UTF-8 JSON, at most ``MAX_CARD_BYTES``)::

    {"card": {"format": "tongban-hall-card", "schema": 1, "fleet": "demo", "hall": "H1",
              "kiosk": "510802-0001", "case_number": "510802-0001-261207-0001-5",
              "matter_code": "…", "matter_name": "…", "case_type": "承诺件",
              "applicant_masked": "张*华", "regions": "…", "received_at": "2026-12-07T09:00:00",
              "states": [["已代收待流转", "2026-12-07T09:00:00"], …],
              "events": ["<a region-signed status event, its wire form>", …],
              "applicant_key": "<HMAC under the hall secret, or empty>",
              "published_at": "…+00:00", "expires_at": "…+00:00",
              "suite": "x25519-chacha20", "key_id": "0123456789abcdef"},
     "signature": "<base64 of the kiosk's device key signature over canonical(card)>"}

Nothing personal beyond what the status screen shows (the masked name): no ID number, no
phone, no full name. The states are the publishing kiosk's word (it signs them); the details
of a region's state come only from the region-signed events inside, which every reader
verifies with the region keys of its own region directory (kiosk/hall/verify.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.casestatus.event import CASE_NUMBER, canonical
from kiosk.errors import KioskError
from kiosk.transfer.envelope import Signer
from kiosk.transfer.suites import SUITE_NAMES
from kiosk.untrusted import Untrusted, loads

FORMAT = "tongban-hall-card"
SCHEMA = 1
MAX_CARD_BYTES = 32 << 10        # a card with a dozen region events is ~6 KiB
MAX_EVENTS = 16                  # one per region state (11) and room for a second transfer
MAX_STATES = 64
MAX_TEXT = 200
HALL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
KIOSK_ID = re.compile(r"\d{6}-\d{4}")
KEY_HEX = re.compile(r"([0-9a-f]{64})?")
KEY_ID = re.compile(r"[0-9a-f]{16}")
_TEXTS = ("fleet", "hall", "kiosk", "case_number", "matter_code", "matter_name", "case_type",
          "applicant_masked", "regions", "received_at", "applicant_key", "published_at",
          "expires_at", "suite", "key_id")
_FIELDS = {"format", "schema", "states", "events", *_TEXTS}


class CardError(KioskError):
    """A card that cannot be used; ``reason`` is the alert's reason code."""

    code = "invalid_hall_card"

    def __init__(self, reason: str, zh: str, en: str) -> None:
        super().__init__(f"大厅办件卡无效：{zh}", f"Invalid hall case card: {en}")
        self.reason = reason


def cards_root(fleet: str, hall: str) -> str:
    return f"tongban/{fleet}/hall/{hall}"


def card_topic(fleet: str, hall: str, kiosk: str, case_number: str) -> str:
    return f"{cards_root(fleet, hall)}/kiosk/{kiosk}/case/{case_number}"


def cards_filter(fleet: str, hall: str) -> str:
    """Every kiosk's cards of the hall (``+``: one level each)."""
    return f"{cards_root(fleet, hall)}/kiosk/+/case/+"


def topic_names(topic: str, fleet: str, hall: str) -> tuple[str, str] | None:
    """(kiosk, case number) of a card topic of this hall, or None."""
    prefix = cards_root(fleet, hall) + "/kiosk/"
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix):].split("/")
    if len(parts) != 3 or parts[1] != "case" or not KIOSK_ID.fullmatch(parts[0]) \
            or not CASE_NUMBER.fullmatch(parts[2]):
        return None
    return parts[0], parts[2]


@dataclass(frozen=True)
class HallCard:
    fleet: str
    hall: str
    kiosk: str
    case_number: str
    matter_code: str
    matter_name: str
    case_type: str
    applicant_masked: str
    regions: str
    received_at: str                          # the ledger's local time, ISO 8601
    states: tuple[tuple[str, str], ...]       # (ledger state, local time), oldest first
    events: tuple[str, ...]                   # region-signed status events, wire form
    applicant_key: str
    published_at: str                         # aware ISO 8601
    expires_at: str
    suite: str = ""
    key_id: str = ""

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT, "schema": SCHEMA, "fleet": self.fleet, "hall": self.hall,
                "kiosk": self.kiosk, "case_number": self.case_number,
                "matter_code": self.matter_code, "matter_name": self.matter_name,
                "case_type": self.case_type, "applicant_masked": self.applicant_masked,
                "regions": self.regions, "received_at": self.received_at,
                "states": [list(s) for s in self.states], "events": list(self.events),
                "applicant_key": self.applicant_key, "published_at": self.published_at,
                "expires_at": self.expires_at, "suite": self.suite, "key_id": self.key_id}


def sign_card(card: HallCard, signer: Signer) -> bytes:
    """The wire form of ``card``, signed with the kiosk's device key."""
    body = {**card.body(), "suite": signer.suite.name, "key_id": signer.key_id}
    signature = signer.suite.sign(signer.private_key, canonical(body))
    return canonical({"card": body, "signature": base64.b64encode(signature).decode()})


def parse_card(raw: bytes) -> tuple[HallCard, bytes]:
    """The card and its signature, read strictly and bounded — not yet verified."""
    if len(raw) > MAX_CARD_BYTES:
        raise CardError("oversize", f"超过 {MAX_CARD_BYTES} 字节",
                        f"larger than {MAX_CARD_BYTES} bytes")
    try:
        outer = loads(raw, "hall card")
    except Untrusted as exc:
        raise CardError("malformed", "不是有效的 JSON", f"not valid JSON ({exc.en})") from None
    if not isinstance(outer, dict) or set(outer) != {"card", "signature"}:
        raise _malformed("应只有 card 和 signature", "expected exactly card and signature")
    signature = outer["signature"]
    if not isinstance(signature, str) or len(signature) > 200:
        raise _malformed("签名格式错误", "malformed signature")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("签名不是 base64", "signature is not base64") from None
    card = _card(outer["card"])
    try:
        canonical(card.body())
    except UnicodeEncodeError:      # a lone surrogate from a JSON escape: nothing to verify
        raise _malformed("含有无法编码的字符", "text that is not valid Unicode") from None
    return card, raw_signature


def _card(body: Any) -> HallCard:
    if not isinstance(body, dict) or set(body) != _FIELDS:
        raise _malformed("字段不符", "unexpected or missing fields")
    if body["format"] != FORMAT or body["schema"] != SCHEMA:
        raise _malformed("格式或版本不支持", "unsupported format or schema")
    if not all(isinstance(body[k], str) and len(body[k]) <= MAX_TEXT for k in _TEXTS):
        raise _malformed("文字字段类型或长度不符", "a text field has the wrong type or length")
    states, events = body["states"], body["events"]
    if not (isinstance(states, list) and 0 < len(states) <= MAX_STATES and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, str) and
                                                        0 < len(v) <= 40 for v in s)
            for s in states)):
        raise _malformed("状态列表格式错误", "malformed states")
    if not (isinstance(events, list) and len(events) <= MAX_EVENTS
            and all(isinstance(e, str) for e in events)):
        raise _malformed("状态消息列表格式错误", "malformed events")
    card = HallCard(**{k: body[k] for k in _TEXTS},
                    states=tuple((s[0], s[1]) for s in states), events=tuple(events))
    _check_shapes(card)
    return card


def _check_shapes(card: HallCard) -> None:
    shapes = ((HALL_ID, card.hall, "hall"), (KIOSK_ID, card.kiosk, "kiosk"),
              (CASE_NUMBER, card.case_number, "case_number"),
              (KEY_HEX, card.applicant_key, "applicant_key"), (KEY_ID, card.key_id, "key_id"))
    for pattern, value, name in shapes:
        if not pattern.fullmatch(value):
            raise _malformed(f"{name} 格式错误", f"malformed {name}")
    if card.suite not in SUITE_NAMES:
        raise _malformed("未知的算法套件", "unknown crypto suite")
    if not card.case_number.startswith(card.kiosk + "-"):
        raise _malformed("受理编号不属于该终端", "the case number is not the kiosk's")
    for text in (card.received_at, *(t for _, t in card.states)):
        _local_time(text)
    for text in (card.published_at, card.expires_at):
        if aware(text) is None:
            raise _malformed("时间缺少时区", "time without a zone")


def _local_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _malformed("时间格式错误", "malformed time") from None


def aware(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _malformed(zh: str, en: str) -> CardError:
    return CardError("malformed", zh, en)

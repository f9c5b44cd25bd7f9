"""Checking a hall case card another kiosk published, before anything of it is kept.

In order: bounded strict parse (kiosk/hall/card.py) → the card is of this fleet and hall, and
of the kiosk its topic names (not this kiosk) → the publishing kiosk's device key, by (kiosk,
key_id), from the hall's registered kiosk keys (``[hall] kiosk_keys``, the same exported key
files a region registers) → its signature → not expired, not from the future → every region
event inside: parsed, of this case, its transfer one of this case's, handled by the event's
region, signed by that region's status key in *this* kiosk's region directory (valid at the
event's time, not revoked), and its state one the card lists. One bad part refuses the card.
The details a peer shows come from those events only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.casestatus.event import ZH, EventError, StatusEvent, canonical, parse, verify
from kiosk.casestatus.receiver import StatusKeys
from kiosk.errors import KioskError
from kiosk.hall.card import CardError, HallCard, aware, parse_card
from kiosk.transfer.keys import Registry
from kiosk.transfer.suites import CryptoError, suite

MAX_AHEAD = timedelta(minutes=10)        # the publisher's clock ahead of ours by more: refused


@dataclass(frozen=True)
class Verified:
    card: HallCard
    details: dict[str, dict[str, Any]]   # ledger state → its newest verified event's details
    published: datetime
    expires: datetime


@dataclass(frozen=True)
class Expect:
    """What a card must match: this kiosk's fleet, hall and id, and the topic it came on."""

    fleet: str
    hall: str
    me: str
    topic_kiosk: str
    topic_case: str


def check_card(raw: bytes, expect: Expect, kiosks: Registry, keys: StatusKeys,
               now: datetime) -> Verified:
    """The card verified, or CardError naming the reason (the alert's)."""
    card, signature = parse_card(raw)
    _addressed(card, expect)
    _signed(card, signature, kiosks)
    published, expires = aware(card.published_at), aware(card.expires_at)
    assert published is not None and expires is not None        # parse_card checked
    if published > now + MAX_AHEAD or expires <= now:
        raise CardError("stale", "办件卡已过期或时间在未来", "the card expired or is dated ahead")
    return Verified(card, _events(card, keys), published, expires)


def _addressed(card: HallCard, expect: Expect) -> None:
    if card.fleet != expect.fleet or card.hall != expect.hall:
        raise CardError("other_hall", "办件卡属于其他大厅", "the card is of another hall")
    if card.kiosk != expect.topic_kiosk or card.case_number != expect.topic_case:
        raise CardError("wrong_topic", "办件卡与其主题不符", "the card does not match its topic")
    if card.kiosk == expect.me:
        raise CardError("own_card", "本机的办件卡", "this kiosk's own card")


def _signed(card: HallCard, signature: bytes, kiosks: Registry) -> None:
    try:
        public = kiosks.public_key(card.kiosk, card.key_id, card.suite)
    except KioskError:
        raise CardError("unknown_kiosk", "该终端的签名密钥未在本大厅登记",
                        "the kiosk's signing key is not registered in this hall") from None
    body = card.body()
    try:
        suite(card.suite).verify(public, canonical(body), signature)
    except CryptoError:
        raise CardError("forged", "终端签名验证失败", "the kiosk signature does not verify"
                        ) from None


def _events(card: HallCard, keys: StatusKeys) -> dict[str, dict[str, Any]]:
    listed = {state for state, _ in card.states}
    newest: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    for raw in card.events:
        event = _event(raw.encode("utf-8"), card, keys)
        state = ZH[event.state]
        if state not in listed:
            raise _forged_event("状态不在办件卡的状态中", "its state is not among the card's")
        if state not in newest or newest[state][0] <= event.time:
            newest[state] = (event.time, event.details)
    return {state: dict(details) for state, (_, details) in newest.items()}


def _event(raw: bytes, card: HallCard, keys: StatusKeys) -> StatusEvent:
    try:
        event, signature = parse(raw)
    except EventError as exc:
        raise _forged_event("无法读取", exc.en) from None
    if event.case_number != card.case_number or not transfer_of(card.case_number,
                                                                 event.transfer_number):
        raise _forged_event("不属于该办件", "not of this case")
    if event.transfer_number[8:14] != event.region:
        raise _forged_event("办理地与业务协同编号不符", "the region does not handle the transfer")
    key = keys.key(event.region, event.key_id, event.time)
    if key is None or key.suite != event.suite:
        raise _forged_event("地区目录中没有有效的状态签名密钥", "no valid status key of the region")
    try:
        verify(event, signature, key.public)
    except EventError:
        raise _forged_event("办理地签名验证失败", "the region's signature does not verify"
                            ) from None
    return event


def transfer_of(case_number: str, transfer: str) -> bool:
    """Whether ``transfer`` (XT + sender + receiver + YYYYMMDD + serial + seq) was given out
    with ``case_number`` (region-serial-YYMMDD-seq-check) by the same kiosk (kiosk/caseno.py)."""
    region, serial, day, seq, _ = case_number.split("-")
    return (transfer[2:8] == region and transfer[16:22] == day and transfer[22:26] == serial
            and transfer[26:30] == seq)


def _forged_event(zh: str, en: str) -> CardError:
    return CardError("forged_event", f"办件卡中的办理地状态消息无效（{zh}）",
                     f"a region event in the card is not valid ({en})")

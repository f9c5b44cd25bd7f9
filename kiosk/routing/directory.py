"""The signed region directory answering for a handling region (kiosk/routing/lookup.py).

Fallback: the region's own entry → its city (first 4 digits + 00) → its province (first 2 +
0000) → the exchange route for its province → the national exchange. The first entry found
answers, and it answers *whole*: an entry whose keys are all expired or revoked makes the
region unavailable (with that entry's phone) instead of sending the package one level up.
A region that runs its own endpoint has said where its applicants' packages go; sealing them
to its city or the exchange instead would hand them to a party it did not choose, and would
hide a lapsed key until someone wonders why nothing arrives. docs/region-directory.md.

Key choice within the entry: the keys of the kiosk's suite valid at ``at`` (not_before ≤ at
< not_after) and not revoked, newest not_before first — during a rotation both keys are
valid and the new one is used as soon as it starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from kiosk.routing.directory_format import (
    REGION_CODE,
    Directory,
    Entry,
    RegionKey,
    Revocation,
)
from kiosk.routing.lookup import Fallback, RegionRoute, RegionUnavailable, Transport
from kiosk.transfer.envelope import Recipient


class RegionDirectory:
    """One verified directory (plus any revocations published apart), for one suite."""

    def __init__(self, directory: Directory, suite: str,
                 revoked: Iterable[Revocation] = ()) -> None:
        self.directory = directory
        self.suite = suite
        self.revoked = frozenset(r.key_id for r in (*directory.revoked, *revoked))

    @property
    def version(self) -> int:
        return self.directory.version

    def lookup(self, region: str, category: str, at: datetime
               ) -> RegionRoute | RegionUnavailable:
        found = self.entry_for(region) if REGION_CODE.fullmatch(region) else None
        if found is None:
            return no_route(region)
        fallback, entry = found
        return self._answer(region, category, _aware(at), fallback, entry)

    def entry_for(self, region: str) -> tuple[Fallback, Entry] | None:
        """The entry that serves ``region`` and how it was reached, or None (no route)."""
        for fallback, code in _candidates(region):
            entry = self.directory.regions.get(code)
            if entry is not None:
                return fallback, entry
        exchanges = sorted(self.directory.exchanges.values(), key=lambda e: e.code)
        provincial = [e for e in exchanges if region[:2] in e.provinces]
        national = [e for e in exchanges if not e.provinces]
        chosen = provincial or national
        return ("exchange", chosen[0]) if chosen else None

    def _answer(self, region: str, category: str, at: datetime, fallback: Fallback,
                entry: Entry) -> RegionRoute | RegionUnavailable:
        key = self.newest_valid(entry, at)
        if isinstance(key, str):
            return _unavailable(region, entry, key)
        department = entry.departments.get(category) or entry.departments[""]
        transport: Transport = "tus" if entry.transport == "tus" else "directory"
        return RegionRoute(region=region, served_by=entry.code, fallback=fallback,
                           department=department, phone=entry.phone, transport=transport,
                           endpoint=entry.endpoint, key_id=key.key_id,
                           # the asked region is the handling region in the header; the key
                           # is the serving entry's (the exchange opens and passes it on)
                           recipient=Recipient(region, key.public))

    def newest_valid(self, entry: Entry, at: datetime) -> RegionKey | str:
        """The key to seal with, or why there is none: "revoked" when a key would be in its
        validity but is revoked and no other is valid, else "no_valid_key"."""
        ours = [k for k in entry.keys if k.suite == self.suite]
        current = [k for k in ours if k.not_before <= at < k.not_after]
        usable = [k for k in current if k.key_id not in self.revoked]
        if usable:
            return max(usable, key=lambda k: (k.not_before, k.not_after, k.key_id))
        return "revoked" if current else "no_valid_key"


def no_route(region: str) -> RegionUnavailable:
    shown = region if REGION_CODE.fullmatch(region) else "?"
    return RegionUnavailable(
        region=shown, reason="no_route", phone="",
        zh=f"地区 {shown} 尚未开通跨地区通办收件渠道，本机暂不能为其受理，请咨询大厅工作人员",
        en=f"Region {shown} has no route for cross-region applications yet: this kiosk "
           "cannot take the matter; please ask the hall staff")


def _unavailable(region: str, entry: Entry, reason: str) -> RegionUnavailable:
    call_zh = f"，咨询电话 {entry.phone}" if entry.phone else ""
    call_en = f"; phone {entry.phone}" if entry.phone else ""
    if reason == "revoked":
        return RegionUnavailable(
            region=region, reason="revoked", phone=entry.phone,
            zh=f"{entry.name}的收件密钥已被吊销，暂不能受理此事项{call_zh}",
            en=f"The receiving key of {entry.name} has been revoked: the matter cannot be "
               f"taken now{call_en}")
    return RegionUnavailable(
        region=region, reason="no_valid_key", phone=entry.phone,
        zh=f"{entry.name}没有当前有效的收件密钥，暂不能受理此事项{call_zh}",
        en=f"{entry.name} has no receiving key valid now: the matter cannot be taken now"
           f"{call_en}")


def _candidates(region: str) -> Iterator[tuple[Fallback, str]]:
    steps: tuple[tuple[Fallback, str], ...] = (
        ("own", region), ("city", region[:4] + "00"), ("province", region[:2] + "0000"))
    seen = set()
    for fallback, code in steps:
        if code not in seen:        # a city's own code is its own entry, not its fallback
            seen.add(code)
            yield fallback, code


def _aware(at: datetime) -> datetime:
    """In UTC, as the keys' times are; a naive time is the kiosk's local time (its clocks
    are ``datetime.now``)."""
    return at.astimezone(UTC)

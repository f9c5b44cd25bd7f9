"""The guarded clock: wall time that does not jump with the PC's clock.

Case numbers (their date), hop deadlines, receipts and the ledger take their time from
:meth:`GuardedClock.now`. It follows the wall clock while the wall clock runs with the
monotonic clock (NTP's slewing included). When the two part by more than ``clock.jump_s``
(someone set the time, NTP stepped it, a dead RTC battery at boot) the jump is reported
(``clock_jump`` alert: the heartbeat counts it) and the guarded clock carries on from where
it was by the monotonic clock, until trusted time says which one is right:

- trusted time is what the kiosk can check: the fleet's signed TUF timestamp (signed at
  ``expires`` minus its lifetime, so the true time cannot be earlier than that) and the
  signed ``issued_at`` of a broker command (fresh within minutes);
- a trusted time that agrees with the wall clock (within ``clock.max_skew_s``) makes the
  wall clock right again, jump or not; one that does not is "far off" (``clock_far_off``
  alert, ``kiosk doctor`` fails) and the guarded clock takes the trusted time instead.

Expiry checks (TUF metadata, signed commands) stay on the wall clock, on purpose: python-tuf
reads it itself, and a wrong clock there refuses (freezes on the last-known-good
configuration, refuses a command as stale) rather than accepts — the safe side. A wall clock
far behind could accept expired metadata; that is why "far off" is reported and fails the
doctor. Across a restart the guarded clock starts from the wall clock: nothing better is
known until trusted time arrives.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from kiosk.lifecycle import Lifecycle
from kiosk.ops_settings import ClockSettings

TIMESTAMP_LIFETIME = timedelta(days=1)     # fleetops/repo.py signs timestamp.json for a day
MAX_METADATA = 64 * 1024
log = logging.getLogger(__name__)


class NowSource(Protocol):
    """``datetime`` itself, or a :class:`GuardedClock`."""

    def now(self, tz: tzinfo | None = None) -> datetime: ...


def _wall() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClockReport:
    offset_s: float            # wall clock minus guarded clock (0: they agree)
    jumps: int                 # jumps seen since start
    far_off: bool              # the last trusted time disagreed with the wall clock
    trusted_source: str        # "" until trusted time was seen
    trusted_skew_s: float | None   # wall minus trusted, when last seen

    def as_dict(self) -> dict[str, object]:
        return {"offset_s": round(self.offset_s, 1), "jumps": self.jumps,
                "far_off": self.far_off, "trusted_source": self.trusted_source,
                "trusted_skew_s": None if self.trusted_skew_s is None
                else round(self.trusted_skew_s, 1)}


class GuardedClock:
    """``now(tz)`` like ``datetime.now``; ``wall`` and ``mono`` are injected (tests jump a
    fake wall clock: setting the real one needs root)."""

    def __init__(self, settings: ClockSettings, lifecycle: Lifecycle | None = None,
                 wall: Callable[[], datetime] = _wall,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self._settings, self._lifecycle = settings, lifecycle
        self._wall, self._mono = wall, mono
        self._lock = threading.Lock()
        self._anchor, self._anchor_mono = wall(), mono()
        self.jumps = 0
        self.far_off = False
        self._source: str = ""
        self._skew: float | None = None
        self._last_apart_was_small = True     # a jump is counted once, not on every look

    def now(self, tz: tzinfo | None = None) -> datetime:
        guarded = self.utcnow()
        return guarded.astimezone(tz) if tz is not None else \
            guarded.astimezone().replace(tzinfo=None)

    def utcnow(self) -> datetime:
        with self._lock:
            wall, mono = self._wall(), self._mono()
            guarded = self._anchor + timedelta(seconds=mono - self._anchor_mono)
            apart = (wall - guarded).total_seconds()
            if abs(apart) <= self._settings.jump_s and not self.far_off:
                self._anchor, self._anchor_mono = wall, mono    # following, slews included
                return wall
            if abs(apart) > self._settings.jump_s and not self.far_off and \
                    self._last_apart_was_small:
                self.jumps += 1
                self._jumped(apart)
            self._last_apart_was_small = abs(apart) <= self._settings.jump_s
            return guarded

    def _jumped(self, apart: float) -> None:
        log.warning("wall clock jumped by %.0f s; case times follow the monotonic clock",
                    apart)
        if self._lifecycle is not None:
            self._lifecycle.alert("clock_jump", {
                "seconds": f"{apart:.0f}", "zh": f"系统时间跳变 {apart:.0f} 秒",
                "en": f"the wall clock jumped by {apart:.0f} s"})

    def trusted(self, moment: datetime, source: str, not_before: bool = False) -> bool:
        """Trusted time seen now; ``not_before``: only a lower bound (a TUF timestamp's
        signing time). True when the wall clock agrees with it."""
        with self._lock:
            wall, mono = self._wall(), self._mono()
            skew = (wall - moment).total_seconds()
            agrees = skew >= -self._settings.max_skew_s if not_before else \
                abs(skew) <= self._settings.max_skew_s
            self._source, self._skew = source, skew
            was_far = self.far_off
            self.far_off = not agrees
            if agrees:
                self._anchor, self._anchor_mono = wall, mono
                self._last_apart_was_small = True
            else:
                self._anchor, self._anchor_mono = moment, mono
        if not agrees and not was_far:
            log.warning("wall clock %.0f s off %s", skew, source)
            if self._lifecycle is not None:
                self._lifecycle.alert("clock_far_off", {
                    "seconds": f"{skew:.0f}", "source": source,
                    "zh": f"系统时间与可信时间相差 {skew:.0f} 秒",
                    "en": f"the wall clock is {skew:.0f} s off {source}"})
        return agrees

    def report(self) -> ClockReport:
        guarded = self.utcnow()
        return ClockReport((self._wall() - guarded).total_seconds(), self.jumps, self.far_off,
                           self._source, self._skew)


def signed_timestamp_time(tuf_dir: Path) -> datetime | None:
    """When the fleet's timestamp metadata the kiosk holds was signed (its expiry minus its
    lifetime): the true time is not earlier. python-tuf verified the file before keeping it;
    None without one."""
    path = tuf_dir / "timestamp.json"
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_METADATA + 1)
        if len(raw) > MAX_METADATA:
            return None
        expires = json.loads(raw)["signed"]["expires"]
        return datetime.fromisoformat(str(expires).replace("Z", "+00:00")) - \
            TIMESTAMP_LIFETIME
    except (OSError, ValueError, KeyError, TypeError):
        return None


def observe_signed_time(clock: GuardedClock, tuf_dir: Path) -> bool | None:
    """After a verified refresh of the fleet's metadata: check the wall clock against the
    timestamp's signing time. None: no timestamp held yet."""
    signed = signed_timestamp_time(tuf_dir)
    return None if signed is None else clock.trusted(signed, "fleet timestamp",
                                                      not_before=True)

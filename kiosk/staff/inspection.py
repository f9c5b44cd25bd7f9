"""日检 records (issue 21): who checked the kiosk's devices, when, at the start or the end of
the day, and each check's result — kept under ``<data_dir>/staff/inspections/``, one JSON
file per inspection (``YYYYMMDD-<kind>-HHMMSS.json``, written atomically, owner-only).

Hall rules for 24-hour zones (DOMAIN §9): devices and consumables are checked before and
after work, non-working days included, and the checks recorded. So a reminder is due every
day, open or closed:
- the start-of-day check is missing from ``START_GRACE`` after the staffed day begins until
  one is recorded that day;
- the end-of-day check is missing from ``END_GRACE`` after the staffed day ends, and stays
  missing (as yesterday's) until the next day's start-of-day check is recorded.
The staffed day is the hall's hours (``[hours] open`` … ``close``); a 24-hour kiosk has no
such edge, so its staff's day is taken as ``STAFFED_24H`` (decided: a hall that runs the
zone round the clock still checks it in office hours).

What a record may hold: check names, verdicts, both sentences, small details (state names,
measures), the staff id — no name, no card data, no case number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.fsutil import owner_only_dir, write_atomic
from kiosk.ops.verdicts import FAIL, OK, WARN, Check
from kiosk.settings import Hours

FOLDER = "inspections"
KEEP_DAYS = 400                     # a year of records and a margin, then pruned
MAX_RECORD = 64 * 1024              # a record is ~2 KB; a bigger file is damage
START_GRACE = timedelta(hours=1)
END_GRACE = timedelta(hours=1)
STAFFED_24H = (time(9, 0), time(17, 30))
_NAME = re.compile(r"(\d{8})-(start|end)-(\d{6})\.json")


class Kind(StrEnum):
    START = "start"          # 班前检查
    END = "end"              # 班后检查


KIND_TEXT = {Kind.START: ("班前检查", "start-of-day check"),
             Kind.END: ("班后检查", "end-of-day check")}


@dataclass(frozen=True)
class Inspection:
    kind: Kind
    staff_id: str
    kiosk_id: str
    started_at: datetime
    finished_at: datetime
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> str:
        verdicts = {c.verdict for c in self.checks}
        return FAIL if FAIL in verdicts else WARN if WARN in verdicts else OK

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.verdict == FAIL]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "staff": self.staff_id, "kiosk": self.kiosk_id,
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "finished_at": self.finished_at.isoformat(timespec="seconds"),
                "verdict": self.verdict, "checks": [c.as_dict() for c in self.checks]}

    def summary(self) -> dict[str, Any]:
        """For the heartbeat: when, which kind, the verdict and what failed (no staff id)."""
        return {"kind": self.kind.value, "at": self.finished_at.isoformat(timespec="seconds"),
                "verdict": self.verdict, "failed": self.failed}


@dataclass(frozen=True)
class Missing:
    """A check that should have been recorded: the reminder's line."""

    kind: Kind
    day: date

    @property
    def zh(self) -> str:
        return f"{self.day.month}月{self.day.day}日的{KIND_TEXT[self.kind][0]}尚未完成"

    @property
    def en(self) -> str:
        return f"the {KIND_TEXT[self.kind][1]} of {self.day.isoformat()} is missing"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "day": self.day.isoformat()}


def parse_record(doc: dict[str, Any]) -> Inspection:
    """A stored record back (ValueError/KeyError/TypeError when it is not one)."""
    checks = tuple(Check(str(c["check"]), str(c["verdict"]), str(c["zh"]), str(c["en"]),
                         dict(c.get("detail") or {})) for c in doc["checks"])
    return Inspection(Kind(doc["kind"]), str(doc["staff"]), str(doc["kiosk"]),
                      datetime.fromisoformat(doc["started_at"]),
                      datetime.fromisoformat(doc["finished_at"]), checks)


class InspectionStore:
    """The records of one kiosk. Times are the kiosk's local time (aware or naive, as the
    clock gives them: the file name uses the wall reading)."""

    def __init__(self, staff_folder: Path) -> None:
        self.folder = staff_folder / FOLDER

    def save(self, record: Inspection) -> Path:
        owner_only_dir(self.folder)
        at = record.finished_at
        path = self.folder / f"{at:%Y%m%d}-{record.kind.value}-{at:%H%M%S}.json"
        write_atomic(path, json.dumps(record.as_dict(), ensure_ascii=False, indent=1).encode())
        self._prune(at.date())
        return path

    def _names(self) -> list[tuple[date, Kind, Path]]:
        """Every record's day, kind and file, oldest first (by the time in the name: the
        kind sits between date and time, so the plain name does not sort)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _NAME.fullmatch(path.name)
            if match:
                day = datetime.strptime(match[1], "%Y%m%d").date()
                found.append((match[1] + match[3], day, Kind(match[2]), path))
        return [(day, kind, path) for _key, day, kind, path in sorted(found)]

    def kinds_on(self, day: date) -> set[Kind]:
        return {kind for d, kind, _ in self._names() if d == day}

    def recent(self, limit: int = 20) -> list[Inspection]:
        """The newest records first; a damaged file is skipped (the rest still show)."""
        records = []
        for _day, _kind, path in reversed(self._names()):
            record = _read(path)
            if record is not None:
                records.append(record)
            if len(records) >= limit:
                break
        return records

    def missing(self, hours: Hours, now: datetime) -> list[Missing]:
        """What the reminder says now (oldest first); empty when all is recorded. A kiosk
        with no record at all is not told about yesterday (it was not installed yet)."""
        yesterday = now.date() - timedelta(days=1)
        before = set(Kind) if not self._names() else self.kinds_on(yesterday)
        return due(hours, now, self.kinds_on(now.date()), before)

    def report(self, hours: Hours, now: datetime) -> dict[str, Any]:
        """The heartbeat's ``selftest`` field: the last record's summary and what is due."""
        last = self.recent(1)
        return {"last": last[0].summary() if last else None,
                "missing": [m.as_dict() for m in self.missing(hours, now)]}

    def _prune(self, today: date) -> None:
        for day, _kind, path in self._names():
            if (today - day).days > KEEP_DAYS:
                path.unlink(missing_ok=True)


class Reminder:
    """The missing-check reminder: :meth:`report` (the heartbeat's ``selftest`` field, asked
    every beat) raises the ``selftest_missing`` alert once per missing check; :meth:`lines`
    is the staff menu's line. ``hours`` is asked each time (a new configuration may bring
    new hours)."""

    def __init__(self, store: InspectionStore, hours: Callable[[], Hours],
                 clock: Callable[[], datetime],
                 alert: Callable[[str, dict[str, str]], None]) -> None:
        self.store, self._hours, self._clock, self._alert = store, hours, clock, alert
        self._told: set[Missing] = set()

    def lines(self) -> list[tuple[str, str]]:
        return [(m.zh, m.en) for m in self.store.missing(self._hours(), self._clock())]

    def report(self) -> dict[str, Any]:
        now = self._clock()
        done = self.store.report(self._hours(), now)
        for missing in self.store.missing(self._hours(), now):
            if missing not in self._told:
                self._told.add(missing)
                self._alert("selftest_missing", {**missing.as_dict(), "zh": missing.zh,
                                                 "en": missing.en})
        return done


def staffed_day(hours: Hours) -> tuple[time, time]:
    round_the_clock = hours.open == time(0) and hours.close >= time(23, 59)
    return STAFFED_24H if round_the_clock else (hours.open, hours.close)


def due(hours: Hours, now: datetime, today: Iterable[Kind],
        yesterday: Iterable[Kind]) -> list[Missing]:
    """Pure: the checks missing at ``now`` given the kinds recorded today and yesterday.
    Every day counts, service day or not (the hall rule includes non-working days)."""
    begin, end = staffed_day(hours)
    done_today, done_yesterday = set(today), set(yesterday)
    moment = now.replace(tzinfo=None)
    day = moment.date()
    missing = []
    if Kind.END not in done_yesterday and Kind.START not in done_today:
        missing.append(Missing(Kind.END, day - timedelta(days=1)))
    if moment >= datetime.combine(day, begin) + START_GRACE and Kind.START not in done_today:
        missing.append(Missing(Kind.START, day))
    if moment >= datetime.combine(day, end) + END_GRACE and Kind.END not in done_today:
        missing.append(Missing(Kind.END, day))
    return missing


def _read(path: Path) -> Inspection | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RECORD + 1)
        if len(raw) > MAX_RECORD:
            return None
        return parse_record(json.loads(raw))
    except (OSError, ValueError, KeyError, TypeError):
        return None

"""Service hours as a hall keeps them: daily opening and closing times, weekdays with no
service, public holidays (closed whatever the weekday) and 调休 working days (open on a
weekday otherwise closed), from ``[hours]`` in the settings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from kiosk.settings import Hours

SEARCH_DAYS = 400       # the next opening is looked for this far ahead (a year's holidays)
WEEKDAY_ZH = "一二三四五六日"


def open_on(hours: Hours, day: date) -> bool:
    """Whether ``day`` is a service day at all."""
    if day in hours.open_dates:
        return True
    return day not in hours.closed_dates and day.weekday() not in hours.closed_weekdays


def in_window(window: str, clock: time) -> bool:
    """``clock`` within "HH:MM-HH:MM" (start included, end excluded)."""
    start, end = (time.fromisoformat(t) for t in window.split("-"))
    return start <= clock < end


def is_open(hours: Hours, now: datetime) -> bool:
    return open_on(hours, now.date()) and hours.open <= now.time() <= hours.close


def next_opening(hours: Hours, now: datetime) -> datetime | None:
    """When service next begins after ``now``, for a kiosk that is closed now (None: not
    within SEARCH_DAYS, e.g. every weekday closed)."""
    for offset in range(SEARCH_DAYS):
        day = now.date() + timedelta(days=offset)
        start = datetime.combine(day, hours.open, now.tzinfo)
        if start > now and open_on(hours, day):
            return start
    return None


def hours_text(hours: Hours) -> str:
    """本机服务时间 as a guide slip prints it: daily times, weekdays off, holidays."""
    if hours.open == time(0) and hours.close >= time(23, 59):
        parts = ["24小时"]
    else:
        parts = [f"{hours.open:%H:%M}–{hours.close:%H:%M}"]
    if hours.closed_weekdays:
        parts.append("、".join("周" + WEEKDAY_ZH[d] for d in sorted(hours.closed_weekdays))
                     + "不开放")
    if hours.closed_dates:
        parts.append("法定节假日不开放")
    return "；".join(parts)


def opening_text(hours: Hours, now: datetime) -> str:
    """When to come back, for a slip printed now: "" while open, else the next opening."""
    if is_open(hours, now):
        return ""
    when = next_opening(hours, now)
    if when is None:
        return "开放时间请咨询大厅"
    day = "今天" if when.date() == now.date() else f"{when.year}年{when.month}月{when.day}日"
    return f"{day} {when:%H:%M} 开始服务"

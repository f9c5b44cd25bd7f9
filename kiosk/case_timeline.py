"""A case's life after the receipt, as the kiosk knows it: the ledger's states in order, each
delivery to a handling region, and the citizen's rating — for `kiosk ledger show` (JSON) and
`kiosk status` (a person reading it), and the kiosk's 进度查询 screen. Masked: no name, ID
number or phone is in any of it. What a handling region said with a state (受理文书编号,
补正 items, 物流单号, where to collect …) is kept elsewhere (the status events' store) and
passed in as ``details``: each step then carries a short line of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.evaluation.record import Evaluation
from kiosk.evaluation.store import EvaluationStore
from kiosk.ledger import Ledger
from kiosk.transfer.outbox import Outbox, OutboxEntry

# what each state means to the applicant, in both languages
MEANING = {
    "受理中": ("正在受理", "being received"),
    "已代收待流转": ("材料已收取，等待转送办理地", "materials received, to be sent to the "
                                                  "handling region"),
    "一次性告知补正": ("已一次性告知需补正的材料", "told at once what to correct"),
    "受理中断": ("受理中断，未提交", "interrupted before it was submitted"),
    "容缺待补": ("容缺受理，待补交材料", "accepted pending materials still owed"),
    # the handling region's states (kiosk/casestatus/event.py ZH), as the applicant reads them
    "办理地已接收": ("办理地已收到您的材料", "the handling region has your materials"),
    "已受理": ("办理地已受理，正在办理", "accepted by the handling region, in progress"),
    "需补正": ("需要补正材料，请按通知补交", "more materials are needed: see the notice"),
    "补正已提交": ("补正材料已在本机提交，正在送往办理地",
                  "the added materials were handed in here and are on their way"),
    "补正材料已接收": ("补正材料已收到，继续办理", "the added materials arrived; work goes on"),
    "特别程序": ("进入特别程序（如检验、公示），时间另计",
             "in a special procedure (e.g. inspection, notice period), timed apart"),
    "不予受理": ("不予受理", "not accepted by the handling region"),
    "已办结": ("已办结，结果已出", "decided: the result is ready"),
    "结果已寄出": ("结果已寄出", "the result has been sent"),
    "结果已到窗口待领取": ("结果已到窗口，请来领取", "the result is at the window: please "
                                                   "collect it"),
    "已领取": ("结果已领取", "the result has been collected"),
    "已归档": ("已归档，办理结束", "archived: the case is closed"),
}
# the states from which the case is decided (办结): a second rating may be given
DECIDED = frozenset({"已办结", "结果已寄出", "结果已到窗口待领取", "已领取", "已归档"})
PICKUP = "结果已到窗口待领取"
DETAIL_MAX = 120          # characters of a detail line: a line, not a letter


@dataclass(frozen=True)
class Step:
    time: datetime
    state: str
    zh: str
    en: str
    detail_zh: str = ""       # a short line of what came with the state ("" when nothing)
    detail_en: str = ""


Details = Mapping[str, Mapping[str, Any]]      # ledger state → its newest event's details


def timeline(ledger: Ledger, case_number: str, outbox: Outbox | None = None,
             details: Details | None = None) -> list[Step]:
    given = details or {}
    steps = [Step(at, state, *MEANING.get(state, (state, state)),
                  *detail_line(state, given.get(state, {})))
             for state, at in ledger.states(case_number)]
    for entry in _deliveries(outbox, case_number):
        if entry.delivered_at is not None:
            steps.append(Step(_local(entry.delivered_at), "已送达办理地",
                              f"已送达办理地 {entry.region}",
                              f"delivered to the handling region {entry.region}"))
    return sorted(steps, key=lambda s: s.time)


def _local(at: datetime) -> datetime:
    """The outbox keeps aware times, the ledger the hall's local ones: compare as local."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo else at


def _deliveries(outbox: Outbox | None, case_number: str) -> list[OutboxEntry]:
    if outbox is None:
        return []
    return [e for e in outbox.entries() if e.case_number == case_number]


def ratings(store_path: Path, number: str) -> list[Evaluation]:
    """The case's ratings, when this data folder keeps any (read, never created)."""
    if not store_path.is_file():
        return []
    store = EvaluationStore(store_path)
    try:
        return store.for_number(number)
    finally:
        store.close()


def detail_line(state: str, details: Mapping[str, Any]) -> tuple[str, str]:
    """The state's details in a line each language (field names: kiosk/casestatus/event.py
    DETAILS); unknown fields are not shown, everything is bounded."""
    d = {k: _text(v) for k, v in details.items()}
    parts: list[tuple[str, str]] = []

    def add(key: str, zh: str, en: str) -> None:
        if d.get(key):
            parts.append((zh.format(d[key]), en.format(d[key])))

    add("document_number", "受理文书编号 {}", "document no. {}")
    add("promised_by", "承诺办结时间 {}", "promised by {}")
    add("items", "需补正：{}", "to add: {}")
    add("deadline", "补正期限 {}", "by {}")
    add("reason", "原因：{}", "reason: {}")
    add("until", "预计至 {}", "until {}")
    add("certificate_name", "结果：{}", "result: {}")
    add("carrier", "{}", "{}")
    add("tracking_number", "物流单号 {}", "tracking no. {}")
    if state != PICKUP:       # the pickup's window and hours get their own panel (pickup())
        add("window", "寄往 {}", "to {}")
    zh, en = "；".join(p[0] for p in parts), "; ".join(p[1] for p in parts)
    return zh[:DETAIL_MAX], en[:DETAIL_MAX]


def pickup(details: Mapping[str, Any]) -> tuple[str, str]:
    """Where and when a result waiting at the window is collected, as the region said it
    (the kiosk's own hours are not the window's: without them, the hall's hours are meant)."""
    window = _text(details.get("window"))
    hours = _text(details.get("hours"))
    until = _text(details.get("collect_until"))
    zh = (f"请到 {window or '本大厅综合窗口'} 领取结果，"
          + (f"办理时间 {hours}" if hours else "请在大厅工作时间内领取")
          + (f"，请于 {until} 前领取" if until else ""))
    en = (f"Collect it at {window or 'the service window of this hall'}, "
          + (f"open {hours}" if hours else "during the hall's opening hours")
          + (f", by {until}" if until else ""))
    return zh[:DETAIL_MAX * 2], en[:DETAIL_MAX * 2]


def _text(value: Any) -> str:
    """A detail as one short line (a list of 补正 items joined)."""
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value[:20])
    return " ".join(str(value).split())[:DETAIL_MAX] if value is not None else ""

"""Consumables (issue 21): a paper refill confirmed, a jam cleared, a part changed (paper
roll, ribbon, A4 paper, toner) — each recorded with who and when in
``<data_dir>/staff/consumables.jsonl`` (one JSON object per line, appended and fsynced) and
audited once through :meth:`StaffSession.perform`.

A refill is confirmed against the printer, not taken on the staff member's word: the
printer's own paper sensor is read after the refill, and a printer that still reports paper
out or low refuses the confirmation (``still_out`` / ``still_low``: the roll is not seated, or
the near-end sensor sees an almost empty core). A printer without a paper sensor reports no
level; the refill then stands as recorded (``paper: unknown``). Likewise a jam is confirmed
cleared only when the printer is back online. After a confirmed refill ``after_refill`` runs
(the kiosk's status refresh: the lifecycle leaves 缺纸 and a held receipt prints, once).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from drivers.status import DeviceState, DeviceStatus, PaperLevel
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Action
from kiosk.staff.session import StaffSession

FILE = "consumables.jsonl"
READ_TAIL = 256 * 1024              # the newest records only: ~2,000 lines


class Item(StrEnum):
    PAPER_ROLL = "paper_roll"
    RIBBON = "ribbon"
    A4_PAPER = "a4_paper"
    TONER = "toner"


class Change(StrEnum):
    REFILL = "refill"                # 补充纸卷, confirmed by the paper sensor
    JAM_CLEARED = "jam_cleared"      # 清除卡纸, confirmed by the printer being online
    REPLACED = "replaced"            # 更换耗材 (a part), on the staff member's word


ITEM_TEXT = {Item.PAPER_ROLL: ("热敏纸卷", "receipt paper roll"),
             Item.RIBBON: ("色带", "ribbon"),
             Item.A4_PAPER: ("A4 纸", "A4 paper"),
             Item.TONER: ("墨粉盒", "toner cartridge")}
CHANGE_TEXT = {Change.REFILL: ("补充纸卷", "paper refilled"),
               Change.JAM_CLEARED: ("清除卡纸", "jam cleared"),
               Change.REPLACED: ("更换", "replaced")}


@dataclass(frozen=True)
class Record:
    at: datetime
    staff_id: str
    change: Change
    item: Item
    paper: str = ""              # the printer's paper level read after a refill

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds"), "staff": self.staff_id,
                "change": self.change.value, "item": self.item.value, "paper": self.paper}

    @property
    def zh(self) -> str:
        return f"{self.at:%m-%d %H:%M} {CHANGE_TEXT[self.change][0]}（{ITEM_TEXT[self.item][0]}）"

    @property
    def en(self) -> str:
        return f"{self.at:%m-%d %H:%M} {CHANGE_TEXT[self.change][1]} ({ITEM_TEXT[self.item][1]})"


class Consumables:
    def __init__(self, staff_folder: Path, printer_status: Callable[[], DeviceStatus],
                 clock: Callable[[], datetime],
                 after_refill: Callable[[], object] = lambda: None) -> None:
        self.path = staff_folder / FILE
        self._status, self._clock, self._after_refill = printer_status, clock, after_refill
        self._last: Record | None = None

    def confirm_refill(self, session: StaffSession) -> Record:
        def run() -> dict[str, Any]:
            level = _paper_after_refill(self._status())
            made = self._append(session, Change.REFILL, Item.PAPER_ROLL, level)
            self._after_refill()
            return {"change": made.change.value, "item": made.item.value, "paper": level}
        return self._done(session, run)

    def clear_jam(self, session: StaffSession) -> Record:
        def run() -> dict[str, Any]:
            status = self._status()
            if status.state not in (DeviceState.ONLINE, DeviceState.BUSY):
                raise StaffError(f"打印机仍未就绪（{status.state.value}），请检查卡纸和舱盖",
                                 f"the printer is still not ready ({status.state.value}): "
                                 "check for paper and the cover", code="still_jammed")
            made = self._append(session, Change.JAM_CLEARED, Item.PAPER_ROLL, "")
            self._after_refill()
            return {"change": made.change.value, "item": made.item.value}
        return self._done(session, run)

    def record_change(self, session: StaffSession, item: Item) -> Record:
        def run() -> dict[str, Any]:
            made = self._append(session, Change.REPLACED, item, "")
            return {"change": made.change.value, "item": made.item.value}
        return self._done(session, run)

    def recent(self, limit: int = 20) -> list[Record]:
        """The newest records first (a damaged line is skipped)."""
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - READ_TAIL))
                lines = handle.read().splitlines()[1 if size > READ_TAIL else 0:]
        except FileNotFoundError:
            return []
        records = []
        for line in reversed(lines):
            record = _parse(line)
            if record is not None:
                records.append(record)
            if len(records) >= limit:
                break
        return records

    def _done(self, session: StaffSession, run: Callable[[], dict[str, Any]]) -> Record:
        self._last = None
        session.perform(Action.CONSUMABLES, run)
        assert self._last is not None          # perform returned: run appended it
        return self._last


    def _append(self, session: StaffSession, change: Change, item: Item, paper: str) -> Record:
        made = Record(self._clock(), session.staff_id, change, item, paper)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = json.dumps(made.as_dict(), ensure_ascii=False).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)            # one write of one whole line
            os.fsync(fd)
        finally:
            os.close(fd)
        self._last = made
        return made


def _paper_after_refill(status: DeviceStatus) -> str:
    """The level to record, or StaffError when the sensor contradicts the refill."""
    if status.state in (DeviceState.OFFLINE, DeviceState.NO_DEVICE,
                        DeviceState.HARDWARE_ERROR):
        raise StaffError(f"打印机不可用（{status.state.value}），无法确认补纸",
                         f"the printer is not usable ({status.state.value}): the refill "
                         "cannot be confirmed", code="printer_down")
    if status.paper is PaperLevel.OUT:
        raise StaffError("打印机仍报告缺纸：请检查纸卷是否装好、舱盖是否合上",
                         "the printer still reports no paper: check the roll is seated and "
                         "the cover closed", code="still_out")
    if status.paper is PaperLevel.LOW:
        raise StaffError("打印机仍报告纸将用完：请换上新纸卷",
                         "the printer still reports paper low: load a new roll",
                         code="still_low")
    return status.paper.value if status.paper is not None else PaperLevel.UNKNOWN.value


def _parse(line: bytes) -> Record | None:
    try:
        doc = json.loads(line)
        return Record(datetime.fromisoformat(doc["at"]), str(doc["staff"]),
                      Change(doc["change"]), Item(doc["item"]), str(doc.get("paper", "")))
    except (ValueError, KeyError, TypeError):
        return None

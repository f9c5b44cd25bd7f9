"""Consumables: a refill is confirmed only when the printer's paper sensor agrees (out or low
refuse it, no sensor records "unknown"), a jam only when the printer is back online, a part
change on the word of the staff member; each with who and when, one audit entry each, and
maintainer only. On the demo kiosk's loopback printer (the real ESC/POS status path) a
confirmed refill also prints the receipt that paper-out held, once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from staff_kit import Clock, demo_kiosk, entries, session

from drivers.status import DeviceState, DeviceStatus, PaperLevel
from kiosk.documents.blocks import Paragraph
from kiosk.staff.consumables import FILE, Change, Consumables, Item
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Role


class Printer:
    def __init__(self) -> None:
        self.status = DeviceStatus("printer", DeviceState.ONLINE, PaperLevel.FULL)

    def __call__(self) -> DeviceStatus:
        return self.status


def _kit(tmp: Path) -> tuple[Consumables, Printer, list[int]]:
    printer, refreshed = Printer(), []
    return (Consumables(tmp, printer, Clock(), lambda: refreshed.append(1)), printer,
            refreshed)


@pytest.mark.parametrize(("paper", "code"), [(PaperLevel.OUT, "still_out"),
                                             (PaperLevel.LOW, "still_low")])
def test_a_refill_the_sensor_contradicts_is_refused_and_audited(tmp_path: Path,
                                                                paper: PaperLevel,
                                                                code: str) -> None:
    stock, printer, refreshed = _kit(tmp_path)
    printer.status = DeviceStatus("printer", DeviceState.ONLINE, paper)
    with pytest.raises(StaffError) as refused:
        stock.confirm_refill(session(tmp_path, Role.MAINTAINER))
    assert refused.value.code == code and "纸" in refused.value.zh
    assert stock.recent() == [] and refreshed == []
    assert [e["after"] for e in entries(tmp_path)] == [{"result": "failed", "error": code}]


def test_a_confirmed_refill_records_who_when_and_the_level(tmp_path: Path) -> None:
    stock, printer, refreshed = _kit(tmp_path)
    made = stock.confirm_refill(session(tmp_path, Role.MAINTAINER))
    assert (made.staff_id, made.change, made.item, made.paper) == (
        "M001", Change.REFILL, Item.PAPER_ROLL, "full")
    assert made.at == datetime(2026, 12, 7, 9, 30) and refreshed == [1]
    printer.status = DeviceStatus("printer", DeviceState.ONLINE, None)     # no sensor
    assert stock.confirm_refill(session(tmp_path, Role.MAINTAINER)).paper == "unknown"
    assert [r.paper for r in stock.recent()] == ["unknown", "full"]
    assert [e["after"]["result"] for e in entries(tmp_path)] == ["done", "done"]
    assert oct((tmp_path / FILE).stat().st_mode & 0o777) == "0o600"


def test_a_jam_is_cleared_only_when_the_printer_is_online(tmp_path: Path) -> None:
    stock, printer, _ = _kit(tmp_path)
    printer.status = DeviceStatus("printer", DeviceState.USER_ERROR, PaperLevel.FULL)
    with pytest.raises(StaffError) as refused:
        stock.clear_jam(session(tmp_path, Role.MAINTAINER))
    assert refused.value.code == "still_jammed"
    printer.status = DeviceStatus("printer", DeviceState.ONLINE, PaperLevel.FULL)
    assert stock.clear_jam(session(tmp_path, Role.MAINTAINER)).change is Change.JAM_CLEARED


def test_a_part_change_is_recorded_and_only_a_maintainer_may(tmp_path: Path) -> None:
    stock, _, _ = _kit(tmp_path)
    with pytest.raises(StaffError) as refused:
        stock.record_change(session(tmp_path, Role.WINDOW, staff_id="W001"), Item.RIBBON)
    assert refused.value.code == "forbidden"
    made = stock.record_change(session(tmp_path, Role.MAINTAINER), Item.RIBBON)
    assert made.zh == "12-07 09:30 更换（色带）" and made.en == "12-07 09:30 replaced (ribbon)"
    assert [(e["staff"], e["after"]["result"]) for e in entries(tmp_path)] == [
        ("W001", "forbidden"), ("M001", "done")]


def test_damaged_lines_are_skipped_and_the_read_is_bounded(tmp_path: Path) -> None:
    stock, _, _ = _kit(tmp_path)
    stock.record_change(session(tmp_path, Role.MAINTAINER), Item.TONER)
    with open(tmp_path / FILE, "ab") as handle:
        handle.write(b"{not json\n" + b"x" * (300 * 1024) + b"\n")
    stock.record_change(session(tmp_path, Role.MAINTAINER), Item.A4_PAPER)
    assert [r.item for r in stock.recent()] == [Item.A4_PAPER]     # the toner is past the tail


def test_on_the_loopback_printer_a_refill_prints_the_held_receipt_once(tmp_path: Path) -> None:
    with demo_kiosk(tmp_path / "data") as kiosk:
        printer = kiosk.printer
        printer.set_paper(PaperLevel.OUT)
        job = kiosk.printing.job("receipt-1", "receipt", [Paragraph("受理回执 测试")])
        assert kiosk.printing.print(job) is False and kiosk.printing.pending
        stock = Consumables(tmp_path, printer.status, datetime.now,
                            lambda: kiosk.refresh(datetime.now()))
        with pytest.raises(StaffError):                # nobody loaded paper yet
            stock.confirm_refill(session(tmp_path, Role.MAINTAINER))
        assert printer.virtual.jobs == []
        printer.refill()                               # the roll goes in
        assert stock.confirm_refill(session(tmp_path, Role.MAINTAINER)).paper == "full"
        printed = printer.virtual.wait_for_jobs(1)
        assert len(printed) == 1 and kiosk.printing.pending == []
        assert any("受理回执" in line for line in printed[0].transcript)

"""What the 日检, consumables and 台账 screens call, in one small object made from the running
kiosk: the screens stay Kivy only, and every staff action still goes through the signed-in
session's ``perform`` (one audit entry each).

Decided: the kiosk has no A4 printer (DESIGN §3: "later"), so a case's 登记卡 or 转办单 is
shown as a picture and saved as PDF under ``<data_dir>/staff/forms/`` (owner-only), and the
screen says where; the receipt printer's 80 mm paper is no place for an A4 form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.fsutil import owner_only_dir, write_atomic
from kiosk.ops.verdicts import Check
from kiosk.staff import selftest
from kiosk.staff.audit_upload import STAFF_DIR
from kiosk.staff.consumables import Consumables, Item, Record
from kiosk.staff.inspection import Inspection, InspectionStore, Kind
from kiosk.staff.ledger_export import Exported, Format, Layout, export_ledger
from kiosk.staff.ledger_view import (
    FORM_TITLES,
    Filter,
    Form,
    Hall,
    ViewPage,
    card_blocks,
    card_pdf,
    find_case,
    view_as,
)
from kiosk.staff.roles import Action
from kiosk.staff.session import StaffSession

if TYPE_CHECKING:
    from kiosk.bootstrap import Kiosk

FORMS_DIR = "forms"
EXPORTS_DIR = "exports"
STATE_ZH = {"online": "在线", "offline": "离线", "busy": "忙", "hardware_error": "故障",
            "user_error": "需处理（舱盖或卡纸）", "no_device": "未连接"}


class StaffDesk:
    def __init__(self, kiosk: Kiosk, clock: Callable[[], datetime] = datetime.now) -> None:
        self.kiosk, self.clock = kiosk, clock
        self.folder = kiosk.settings.paths.data_dir / STAFF_DIR
        self.inspections = InspectionStore(self.folder)
        self.consumables = Consumables(self.folder, kiosk.printer.status, clock,
                                       lambda: kiosk.refresh(clock()))

    # --- 日检 ------------------------------------------------------------------------------
    def check_steps(self, read_card: bool = False) -> dict[str, selftest.Step]:
        return selftest.steps(self.kiosk, self.clock, read_card=read_card)

    def record_inspection(self, session: StaffSession, kind: Kind, checks: tuple[Check, ...],
                          started_at: datetime) -> Inspection:
        return selftest.record(session, self.inspections, kind, checks, started_at,
                               self.clock())

    def reminder_lines(self) -> list[tuple[str, str]]:
        """The staff menu's line: what is missing now (Chinese, English)."""
        return [(m.zh, m.en) for m in self.inspections.missing(self.kiosk.settings.hours,
                                                               self.clock())]

    def default_kind(self) -> Kind:
        """Before noon the start-of-day check, after it the end-of-day one."""
        return Kind.START if self.clock().hour < 12 else Kind.END

    # --- consumables -----------------------------------------------------------------------
    def refill(self, session: StaffSession) -> Record:
        return self.consumables.confirm_refill(session)

    def clear_jam(self, session: StaffSession) -> Record:
        return self.consumables.clear_jam(session)

    def replaced(self, session: StaffSession, item: Item) -> Record:
        return self.consumables.record_change(session, item)

    def paper_text(self) -> tuple[str, str]:
        """The printer's state and paper, in words, for the consumables screen."""
        status = self.kiosk.printer.status()
        paper = status.paper.value if status.paper is not None else "unknown"
        zh = {"full": "纸充足", "low": "纸将用完", "out": "缺纸"}.get(paper, "无纸量传感器")
        state = STATE_ZH.get(status.state.value, status.state.value)
        return (f"打印机：{state}，{zh}",
                f"printer: {status.state.value}, paper {paper}")

    # --- 台账 ------------------------------------------------------------------------------
    def view(self, session: StaffSession, flt: Filter) -> ViewPage:
        return view_as(session, self.kiosk.ledger, flt)

    def hall(self) -> Hall:
        settings = self.kiosk.settings
        return Hall(settings.kiosk.id, settings.kiosk.department,
                    {m.code: m for m in self.kiosk.catalogue.matters})

    def form_png(self, session: StaffSession, form: Form, case: str) -> bytes:
        """The form as a picture for the preview (audited like the PDF: it shows the case)."""
        row = find_case(self.kiosk.ledger, case)
        shown: list[bytes] = []

        def run() -> dict[str, str]:
            blocks = card_blocks(form, row, self.hall(), self.kiosk.outbox.entries(),
                                 self.clock())
            shown.append(self.kiosk.renderer.png(blocks, dpi=100))
            return {"form": form.value, "as": "preview"}
        session.perform(Action.LEDGER_VIEW, run, case=row.case_number)
        return shown[0]

    def save_form(self, session: StaffSession, form: Form, case: str) -> Path:
        """The form as PDF in ``<data_dir>/staff/forms/<case>-<form>.pdf``; its path."""
        row = find_case(self.kiosk.ledger, case)       # a checked number: safe as a name
        path = self.folder / FORMS_DIR / f"{row.case_number}-{form.value}.pdf"

        def run() -> dict[str, str]:
            owner_only_dir(path.parent)
            write_atomic(path, card_pdf(self.kiosk.renderer, form, row, self.hall(),
                                        self.kiosk.outbox.entries(), self.clock()))
            return {"form": form.value, "as": "pdf"}
        session.perform(Action.LEDGER_VIEW, run, case=row.case_number)
        return path

    def export(self, session: StaffSession, flt: Filter, layout: Layout) -> Exported:
        """The 台账 of the filter's dates in ``layout`` as XLSX (masked, the seed's columns),
        in ``<data_dir>/staff/exports/`` (owner-only): one ``ledger.export`` audit entry.
        The whole period, as the seed tables are kept: the state and scope filters only
        narrow the screen's list."""
        path = (self.folder / EXPORTS_DIR /
                f"ledger-{layout.value}-{flt.first:%Y%m%d}-{flt.last:%Y%m%d}.xlsx")
        done: list[Exported] = []

        def run() -> dict[str, str | int]:
            owner_only_dir(path.parent)
            done.append(export_ledger(self.kiosk.ledger, layout, Format.XLSX, flt.first,
                                      flt.last, path))
            return {"layout": layout.value, "format": "xlsx", "from": flt.first.isoformat(),
                    "to": flt.last.isoformat(), "rows": min(done[0].rows, 99_999)}
        session.perform(Action.LEDGER_EXPORT, run)
        return done[0]


__all__ = ["FORM_TITLES", "Filter", "Form", "Item", "Kind", "Layout", "StaffDesk"]

"""The staff screens' desk on a demo kiosk: a case's form previewed and saved as PDF (no A4
printer: the path is said), each one audit entry; the reminder line; the default kind."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from staff_kit import Clock, demo_kiosk, entries, session

from kiosk.caseno import case_number
from kiosk.documents.model import LedgerRow
from kiosk.staff.desk import Form, Kind, StaffDesk
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Role


def test_forms_are_previewed_and_saved_where_the_screen_says(tmp_path: Path) -> None:
    with demo_kiosk(tmp_path / "data") as kiosk:
        matter = kiosk.catalogue.matters[0]
        number = case_number(kiosk.settings.kiosk.id, date(2026, 12, 7), 5)
        kiosk.ledger.record(LedgerRow(
            case_number=number, time=datetime(2026, 12, 7, 9, 5), department=matter.department,
            matter_code=matter.code, matter_name=matter.name, count=1, case_type="承诺件",
            applicant_masked="张*华", phone_masked="138****5678",
            window=kiosk.settings.kiosk.id, staff="自助终端", state="已代收待流转",
            scope="跨省通办", regions="重庆市渝中区", transfer_numbers=""))
        desk = StaffDesk(kiosk, Clock(datetime(2026, 12, 7, 15)))
        staff = tmp_path / "data" / "staff"
        guide = session(staff, Role.GUIDE, staff_id="G001")
        assert desk.form_png(guide, Form.REGISTRATION, number).startswith(b"\x89PNG")
        with pytest.raises(StaffError) as untransferred:
            desk.save_form(guide, Form.TRANSFER, number)
        assert untransferred.value.code == "no_transfer"
        path = desk.save_form(guide, Form.REGISTRATION, number.replace("-", ""))
        assert path == staff / "forms" / f"{number}-registration.pdf"
        assert path.read_bytes().startswith(b"%PDF") and path.parent.stat().st_mode & 0o077 == 0
        with pytest.raises(StaffError):
            desk.save_form(guide, Form.TRANSFER, "../../etc/passwd")
        assert [(e["case"], e["after"]) for e in entries(staff)] == [
            (number, {"result": "done", "form": "registration", "as": "preview"}),
            (number, {"result": "failed", "error": "no_transfer"}),
            (number, {"result": "done", "form": "registration", "as": "pdf"})]
        assert desk.default_kind() is Kind.END
        assert desk.reminder_lines() == [("12月7日的班前检查尚未完成",
                                          "the start-of-day check of 2026-12-07 is missing")]

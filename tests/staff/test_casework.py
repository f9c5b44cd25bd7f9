"""Staff functions on a citizen's case (issue 21): 帮办 / 代办, 原件核验, 容缺 approval — each
through StaffSession.perform with exactly one audit entry — and what they change: the check,
the receipt and notice (受理人 / 经办人, 原件已核验 / 原件待核验, the 容缺 deadline), the ledger
row (容缺待补) with its overdue alert, and the manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from drivers.camera import CapturedPage, PageQuality
from drivers.identity import Identity
from drivers.identity.emulated import load_identities
from kiosk import submission
from kiosk.assist import ORIGINAL_CHECKED, ORIGINAL_PENDING, RONGQUE_STATE, AssistKind
from kiosk.bus import EventBus
from kiosk.catalogue.model import DeliveryOption, Matter
from kiosk.documents.blocks import Grid
from kiosk.documents.forms import slip_blocks
from kiosk.documents.model import Office
from kiosk.ledger import Ledger, Owed
from kiosk.manifest import Header
from kiosk.recovery import INTERRUPTED_STATE, close_interrupted_cases
from kiosk.rongque_watch import ALERT, alert_overdue
from kiosk.session import Contact, Session, Step
from kiosk.settings import KioskIdentity
from kiosk.staff import casework
from kiosk.staff.audit import AuditLog
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import Role
from kiosk.staff.session import Mode, StaffSession
from kiosk.staff.verify import verify
from kiosk.tempstore import SessionStore
from kiosk.transfer.outbox import Outbox

IDENTITIES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "identities.toml"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OFFICE = Office("广元市利州区政务服务中心", "0839-3266123", "自助终端", "510802-0001")
KIOSK_ID = "510802-0001"
KIOSK = KioskIdentity(id=KIOSK_ID, name="利州区政务服务中心 1 号机", department=OFFICE.department,
                      phone=OFFICE.phone, org_code="11510802MB0000000X")
MATTER = Matter.model_validate({
    "code": "T-002", "name": "测试事项", "department": "公安", "mode": "异地代收代办",
    "scope": {"kind": "跨省通办"},
    "handling_regions": [{"code": "500103", "name": "重庆市渝中区",
                          "department": "重庆市公安局渝中区分局"}],
    "time_limits": {"promised_days": 7}, "consultation_phone": "12345",
    "situations": [{"code": "first", "name": "情形一", "materials": [
        {"id": "application_form", "name": "申请表", "original": "原件"},
        {"id": "photo_copy", "name": "户口簿复印件", "original": "复印件"},
        {"id": "spouse_register", "name": "配偶户口簿", "original": "原件",
         "rongque": {"supply_within_days": 10, "commitment": "本人承诺限期补交配偶户口簿原件"}},
    ]}],
})


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def identities() -> dict[str, Identity]:
    return load_identities(IDENTITIES)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(tmp_path: Path, clock: Clock) -> AuditLog:
    return AuditLog(tmp_path / "staff", KIOSK_ID, clock)


def staff(audit: AuditLog, clock: Clock, *roles: Role, name: str = "周丽") -> StaffSession:
    return StaffSession("g-zhouli", name, frozenset(roles or (Role.GUIDE, Role.WINDOW)),
                        Mode.ASSIST, audit, clock, clock())


@pytest.fixture
def session(tmp_path: Path, identities: dict[str, Identity]) -> Iterator[Session]:
    s = Session(EventBus(), SessionStore(tmp_path / "tmp"), lambda: 0.0, 120, 30)
    s.choose_matter(MATTER)
    s.start_identify()
    s.identified(identities["resident"], NOW.date())
    s.add_page("application_form", _page())
    s.add_page("photo_copy", _page())
    yield s
    s.cancel()


def _page() -> CapturedPage:
    return CapturedPage(jpeg=b"\xff\xd8page\xff\xd9", width=10, height=10, dpi=150,
                        quality=PageQuality())


def _entries(audit: AuditLog) -> list[dict[str, object]]:
    path = audit.folder / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _assisted_app(session: Session, guide: StaffSession, clock: Clock) -> None:
    casework.begin_assist(guide, session, AssistKind.HELP)
    casework.verify_original(guide, session, "application_form")
    session.review()
    casework.approve_rongque(guide, session, "spouse_register", date(2026, 12, 17))
    session.commit_rongque("spouse_register", clock())
    assert session.recheck().accepted
    session.confirm(DeliveryOption.PICKUP, Contact("13800138000"))


# --- one audit entry per action, roles ----------------------------------------------------

def test_each_action_writes_exactly_one_audit_entry_and_the_chain_verifies(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    guide = staff(audit, clock)
    _assisted_app(session, guide, clock)
    guide.sign_out()
    actions = [e["action"] for e in _entries(audit)]
    assert actions == ["case.assist", "case.verify_original", "case.approve_rongque",
                       "staff.sign_out"]
    assert verify(audit.folder).entries == 4
    text = (audit.folder / "audit.log").read_text(encoding="utf-8")
    assert "周丽" not in text and "110101195803121237" not in text   # ids only, no names


def test_a_guide_without_the_window_role_may_not_approve_rongque(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    guide = staff(audit, clock, Role.GUIDE)
    casework.begin_assist(guide, session, AssistKind.HELP)
    with pytest.raises(StaffError) as info:
        casework.approve_rongque(guide, session, "spouse_register", date(2026, 12, 17))
    assert info.value.code == "forbidden"
    assert session.assist is not None and session.assist.rongque == ()
    assert _entries(audit)[-1]["after"] == {"result": "forbidden"}


@pytest.mark.parametrize(("rid", "deadline", "code"), [
    ("application_form", date(2026, 12, 17), "not_rongque"),     # not marked 可容缺
    ("photo_copy", date(2026, 12, 17), "not_rongque"),
    ("spouse_register", date(2026, 12, 7), "bad_deadline"),      # today
    ("spouse_register", date(2027, 2, 6), "bad_deadline"),       # 61 days
    ("nothing_such", date(2026, 12, 17), "unknown_material"),
])
def test_rongque_is_refused_off_the_catalogue_or_out_of_bounds(
        session: Session, audit: AuditLog, clock: Clock, rid: str, deadline: date,
        code: str) -> None:
    guide = staff(audit, clock)
    casework.begin_assist(guide, session, AssistKind.HELP)
    with pytest.raises(StaffError) as info:
        casework.approve_rongque(guide, session, rid, deadline)
    assert info.value.code == code
    assert _entries(audit)[-1]["after"] == {"result": "failed", "error": code}


def test_originals_only_where_the_catalogue_asks_and_only_once_scanned(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    guide = staff(audit, clock)
    with pytest.raises(StaffError) as info:          # not assisting yet
        casework.verify_original(guide, session, "application_form")
    assert info.value.code == "not_assisting"
    casework.begin_assist(guide, session, AssistKind.HELP)
    with pytest.raises(StaffError) as info:
        casework.verify_original(guide, session, "photo_copy")
    assert info.value.code == "no_original"
    with pytest.raises(StaffError) as info:
        casework.verify_original(guide, session, "spouse_register")
    assert info.value.code == "not_captured"
    assert [r.id for r in casework.needs_original(session)] == ["application_form",
                                                                "spouse_register"]
    casework.verify_original(guide, session, "application_form", "  与原件一致  ")
    assert session.assist is not None
    check = session.assist.original("application_form")
    assert check is not None and check.staff_name == "周丽" and check.note == "与原件一致"
    casework.verify_original(guide, session, "application_form", verified=False)
    assert session.assist.original("application_form") is None


# --- the check: approval AND commitment ----------------------------------------------------

def test_the_review_accepts_a_rongque_item_only_with_approval_and_commitment(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    result = session.review()
    assert not result.accepted
    assert "可请窗口工作人员审批容缺受理" in result.problems[0].zh
    session.commit_deferral("spouse_register")       # the citizen alone cannot defer it
    assert not session.recheck().accepted
    with pytest.raises(Exception, match="未经工作人员审批"):
        session.commit_rongque("spouse_register", clock())
    guide = staff(audit, clock)
    casework.begin_assist(guide, session, AssistKind.HELP)
    casework.approve_rongque(guide, session, "spouse_register", date(2026, 12, 17))
    session.commitments.clear()
    assert not session.recheck().accepted             # approved, not yet committed
    session.commit_rongque("spouse_register", clock())
    result = session.recheck()
    assert result.accepted and [i.requirement_id for i in result.deferred] == [
        "spouse_register"]


# --- receipt, notice, ledger, manifest ------------------------------------------------------

def test_the_receipt_names_the_staff_member_and_says_which_originals_were_checked(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    _assisted_app(session, staff(audit, clock), clock)
    app = session.application
    assert app is not None
    numbers = submission.Numbers("510802-0001-261207-0001-7", ("XT" + "0" * 28,))
    receipt = submission.receipt(app, OFFICE, numbers, NOW)
    assert receipt.office.staff == "周丽（帮办）"
    notes = {m.name: m.note for m in receipt.materials}
    assert notes == {"申请表": ORIGINAL_CHECKED, "户口簿复印件": "",
                     "配偶户口簿": "容缺，限2026年12月17日前补交"}
    assert receipt.deferred == ("配偶户口簿（2026年12月17日前）",)
    assert not receipt.remarks                        # nothing left to check: no 待核验 line


def test_an_unassisted_receipt_says_the_originals_are_still_to_be_checked(
        session: Session) -> None:
    session.add_page("spouse_register", _page())    # no staff: the citizen scans it
    assert session.review().accepted
    session.confirm(DeliveryOption.PICKUP, Contact("13800138000"))
    assert session.application is not None
    receipt = submission.receipt(session.application, OFFICE,
                                 submission.Numbers("510802-0001-261207-0001-7",
                                                    ("XT" + "0" * 28,)), NOW)
    assert receipt.office.staff == "自助终端"
    assert [m.note for m in receipt.materials] == [ORIGINAL_PENDING, "", ORIGINAL_PENDING]
    assert any("原件待核验" in r for r in receipt.remarks)


def test_the_correction_notice_names_the_assisting_staff_member(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    casework.begin_assist(staff(audit, clock), session, AssistKind.HELP)
    session.review()
    notice = submission.notice(session.correction(), OFFICE, "510802-0001-261207-0002-5", NOW)
    assert notice.office.staff == "周丽（帮办）"


def test_ledger_row_and_manifest_agree_on_staff_originals_and_rongque(
        session: Session, audit: AuditLog, clock: Clock, tmp_path: Path) -> None:
    _assisted_app(session, staff(audit, clock), clock)
    app = session.application
    assert app is not None
    kiosk = KIOSK
    row = submission.ledger_row(app, kiosk, "510802-0001-261207-0001-7", (),
                                submission.committed_state(app), NOW)
    assert (row.staff, row.state) == ("周丽", RONGQUE_STATE)
    assert "容缺：配偶户口簿，限2026-12-17补交" in row.note and "原件已核验1项" in row.note
    header = submission.manifest_header(app, kiosk, submission.Numbers(
        "510802-0001-261207-0001-7", ("XT" + "0" * 28,)))
    data = header.model_dump(mode="json", exclude_none=True)   # as the package writes it
    assistance = data["assistance"]
    assert assistance["kind"] == "帮办" and assistance["staff_name"] == "周丽"
    assert [o["requirement_id"] for o in assistance["original_checks"]] == ["application_form"]
    assert assistance["rongque"][0]["deadline"] == "2026-12-17"
    assert "agent" not in assistance
    assert Header.model_validate(data) == header     # the region reads it back


def test_a_proxy_case_records_the_agent_and_the_mandate(
        session: Session, audit: AuditLog, clock: Clock,
        identities: dict[str, Identity]) -> None:
    guide = staff(audit, clock)
    casework.begin_assist(guide, session, AssistKind.PROXY)
    with pytest.raises(StaffError) as info:      # the applicant's own card is no agent
        casework.record_agent(guide, session, identities["resident"])
    assert info.value.code == "agent_is_applicant"
    casework.record_agent(guide, session, identities["resident_young"])
    assert session.add_mandate_page(_page()) == 1
    session.add_page("spouse_register", _page())
    assert session.review().accepted
    session.confirm(DeliveryOption.PICKUP, Contact("13800138000"))
    app = session.application
    assert app is not None and len(app.mandate) == 1
    kiosk = KIOSK
    header = submission.manifest_header(app, kiosk, submission.Numbers(
        "510802-0001-261207-0001-7", ("XT" + "0" * 28,)))
    assert header.assistance is not None and header.assistance.agent is not None
    assert header.assistance.agent.id_number == identities["resident_young"].id_number
    receipt = submission.receipt(app, OFFICE, submission.Numbers(
        "510802-0001-261207-0001-7", ("XT" + "0" * 28,)), NOW)
    assert receipt.office.staff == "周丽（代办）"
    assert any(identities["resident_young"].name in r and "委托书已扫描" in r
               for r in receipt.remarks)
    slip = next(iter(submission.transfer_slips(app, KIOSK, OFFICE, submission.Numbers(
        "510802-0001-261207-0001-7", ("XT" + "0" * 28,)), NOW).values()))
    signed = "".join(c.text for block in slip_blocks(slip) if isinstance(block, Grid)
                     for row in block.rows for c in row)
    assert f"代办人：{identities['resident_young'].name}（受申请人委托" in signed
    assert identities["resident_young"].id_number not in (
        audit.folder / "audit.log").read_text(encoding="utf-8")


def test_no_mandate_without_a_proxy(session: Session, audit: AuditLog, clock: Clock) -> None:
    casework.begin_assist(staff(audit, clock), session, AssistKind.HELP)
    with pytest.raises(Exception, match="代办"):
        session.add_mandate_page(_page())


def test_the_assist_record_is_wiped_with_the_session(
        session: Session, audit: AuditLog, clock: Clock) -> None:
    casework.begin_assist(staff(audit, clock), session, AssistKind.HELP)
    session.cancel()
    assert session.step is Step.ENDED and session.assist is None
    assert not session.applicant_data_present()


# --- the overdue alert ---------------------------------------------------------------------

class Alerts:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []

    def alert(self, code: str, detail: dict[str, str]) -> None:
        self.seen.append((code, detail))


def test_an_overdue_rongque_item_raises_an_alert_once_a_day(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    row = submission.LedgerRow(
        case_number="510802-0001-261207-0001-7", time=NOW.replace(tzinfo=None),
        department="公安", matter_code="T-002", matter_name="测试事项", count=2,
        case_type="承诺件", applicant_masked="张*华", phone_masked="138****8000",
        window=KIOSK_ID, staff="周丽", state=RONGQUE_STATE, scope="跨省通办",
        regions="重庆市渝中区")
    ledger.record(row, (Owed("spouse_register", "配偶户口簿", date(2026, 12, 17)),))
    alerts = Alerts()
    assert alert_overdue(ledger, alerts, date(2026, 12, 17)) == 0     # due today: not late
    assert alert_overdue(ledger, alerts, date(2026, 12, 18)) == 1
    assert alert_overdue(ledger, alerts, date(2026, 12, 18)) == 0     # once that day
    assert alert_overdue(ledger, alerts, date(2026, 12, 19)) == 1     # and again the next
    code, detail = alerts.seen[0]
    assert code == ALERT and detail["case_number"] == row.case_number
    assert "补交期限" in detail["zh"] and detail["deadline"] == "2026-12-17"
    ledger.close()


def test_the_catalogue_refuses_rongque_on_a_material_that_is_not_required() -> None:
    data = MATTER.model_dump(mode="json")
    data["situations"][0]["materials"][1]["necessity"] = "非必要"
    data["situations"][0]["materials"][1]["rongque"] = {"supply_within_days": 5,
                                                       "commitment": "承诺补交材料"}
    with pytest.raises(ValidationError, match="rongque"):
        Matter.model_validate(data)
    data["situations"][0]["materials"][1]["necessity"] = "必要"
    data["situations"][0]["materials"][1]["rongque"]["supply_within_days"] = 0
    with pytest.raises(ValidationError, match="supply_within_days"):
        Matter.model_validate(data)


def test_deadline_default_comes_from_the_catalogue(session: Session) -> None:
    assert casework.default_deadline(session, "spouse_register", date(2026, 12, 7)) == \
        date(2026, 12, 7) + timedelta(days=10)


def test_a_rongque_row_without_its_package_is_closed_as_interrupted(tmp_path: Path) -> None:
    """The 容缺待补 row is written before the commit, like 已代收待流转: a crash between the
    two must not leave a case that looks owed but has no package."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    row = submission.LedgerRow(
        case_number="510802-0001-261207-0001-7", time=NOW.replace(tzinfo=None),
        department="公安", matter_code="T-002", matter_name="测试事项", count=2,
        case_type="承诺件", applicant_masked="张*华", phone_masked="", window=KIOSK_ID,
        staff="周丽", state=RONGQUE_STATE, scope="跨省通办", regions="重庆市渝中区",
        package_id="6f1c1f8e-0000-4000-8000-000000000001")
    ledger.record(row, (Owed("spouse_register", "配偶户口簿", date(2026, 12, 17)),))
    assert close_interrupted_cases(Outbox(tmp_path / "outbox"), ledger, NOW) == [
        row.case_number]
    found = ledger.find(row.case_number)
    assert found is not None and found.state == INTERRUPTED_STATE
    assert ledger.owed(row.case_number) == []       # and no overdue alert for it later
    ledger.close()

"""补正 into the same case (issue 24 point 5), without Kivy: a real demo kiosk submits a case,
the region's ``correction_required`` is applied through the real receiver (the demo
region's status key), and the correction goes out as version 2 of the same case."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from drivers.status import PaperLevel
from intake.opening import open_package
from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.casestatus.event import CaseState, StatusEvent, sign
from kiosk.casestatus.receiver import Outcome, Receiver
from kiosk.correction import FREE_ITEM, SUBMITTED_STATE, WAITING_STATE
from kiosk.demo.citizen import Applicant, Scenario, _run
from kiosk.demo.correction_case import ITEMS as DEMO_ITEMS
from kiosk.demo.correction_case import seed_demo
from kiosk.demo.hand import DemoHand
from kiosk.errors import SessionError
from kiosk.package import SCHEMA_PATH
from kiosk.paths import DEMO_SETTINGS
from kiosk.routing.directory_format import RegionKey
from kiosk.service import KioskService
from kiosk.settings import load_settings
from kiosk.transfer.keys import DeviceKeys, KeyFile, Registry, load

ROOT = Path(__file__).resolve().parent.parent
REGION_KEYS = ROOT / "assets" / "demo" / "regions"
MATTER = "GA-HJZM-001"
ITEMS = ["居民户口簿原件扫描件不清晰，请重新扫描", "请补充近期一寸证件照"]
DEMO_ID = "110101195803121237"          # assets/demo/identities.toml: resident


class _Keys:
    """The demo region's status keys, as the directory would give them."""

    def __init__(self, region: str) -> None:
        self.file = load(REGION_KEYS / f"region-{region}-status-x25519-chacha20.key")

    def key(self, region: str, key_id: str, at: datetime) -> RegionKey | None:
        f = self.file
        return RegionKey(f.suite, f.key_id, f.public, datetime(2020, 1, 1, tzinfo=UTC),
                         datetime(2040, 1, 1, tzinfo=UTC)) if key_id == f.key_id else None


class _Alerts:
    def __init__(self) -> None:
        self.raised: list[dict[str, str]] = []

    def alert(self, code: str, detail: dict[str, str]) -> None:
        self.raised.append(detail)


class Hall:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.kiosk = self._open()
        self.service = KioskService(self.kiosk)
        self.hand = DemoHand.reach(self.kiosk.identity, self.kiosk.camera, self.kiosk.printer)
        (folder / "out").mkdir()
        done = _run(self.kiosk, MATTER, None, Scenario.COMPLETE, folder / "out", Applicant())
        assert done.outcome == "accepted", done
        assert done.case_number is not None
        self.case = done.case_number
        self.original_package = done.package_id
        [self.transfer] = self.kiosk.ledger.find(self.case).transfer_numbers.split(",")
        self.region = self.transfer[8:14]
        self.signer: KeyFile = _Keys(self.region).file
        self.alerts = _Alerts()
        self.receiver = Receiver(self.kiosk.case_status.store, _Keys(self.region), self.alerts)
        self.seq = 0

    def _open(self) -> Kiosk:
        settings = load_settings(DEMO_SETTINGS).with_data_dir(self.folder / "data")
        kiosk = build_kiosk(settings)
        kiosk.open(datetime.now())
        return kiosk

    def event(self, state: CaseState, **details: Any) -> Outcome:
        self.seq += 1
        made = StatusEvent(self.region, self.transfer, self.case, self.seq, state,
                           datetime.now(UTC) - timedelta(minutes=5), self.signer.suite,
                           self.signer.key_id, details)
        return self.receiver.apply(sign(made, self.signer.private or b"")).outcome

    def ask(self, deadline: str = "2099-01-01", items: list[str] | None = None) -> None:
        assert self.event(CaseState.RECEIVED) is Outcome.APPLIED
        assert self.event(CaseState.CORRECTION_REQUIRED, items=items or ITEMS,
                          deadline=deadline, notice_number="BZ-2026-0042") is Outcome.APPLIED

    def state(self) -> str:
        row = self.kiosk.ledger.find(self.case)
        assert row is not None
        return row.state

    def close(self) -> None:
        self.kiosk.close()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    made = Hall(tmp_path)
    yield made
    made.close()


def _started(hall: Hall, card: str = "resident") -> Any:
    session = hall.service.start_correction(hall.case)
    hall.hand.present_card(card)
    hall.service.corrections.identify(session)
    return session


def _capture_all(hall: Hall, session: Any) -> None:
    for item in session.case.items:
        hall.hand.place_page(item.name)
        hall.service.corrections.capture(session, item.item_id)


def test_the_session_holds_exactly_the_requested_items(hall: Hall) -> None:
    hall.ask()
    assert hall.state() == WAITING_STATE
    session = hall.service.start_correction(hall.case)
    items = session.case.items
    assert [i.text for i in items] == ITEMS
    assert (items[0].item_id, items[0].name) == ("household_register", "居民户口簿")
    assert (items[1].item_id, items[1].name) == ("correction_2", FREE_ITEM)
    assert session.case.version == 2 and session.case.notice_number == "BZ-2026-0042"


def test_a_case_not_waiting_for_correction_is_refused(hall: Hall) -> None:
    hall.event(CaseState.RECEIVED)
    with pytest.raises(SessionError) as info:
        hall.service.start_correction(hall.case)
    assert info.value.code == "not_waiting"
    with pytest.raises(SessionError) as unknown:
        hall.service.start_correction("999999-2026-000000-0000-0")
    assert unknown.value.code == "case_not_found"


def test_a_passed_deadline_is_refused(hall: Hall) -> None:
    hall.ask(deadline="2020-01-01")
    with pytest.raises(SessionError) as info:
        hall.service.start_correction(hall.case)
    assert info.value.code == "deadline_passed"


def test_another_persons_card_is_refused(hall: Hall) -> None:
    hall.ask()
    session = hall.service.start_correction(hall.case)
    hall.hand.present_card("resident_neimenggu")
    with pytest.raises(SessionError) as info:
        hall.service.corrections.identify(session)
    assert info.value.code == "wrong_applicant" and not session.verified
    hall.hand.place_page("居民户口簿")
    with pytest.raises(SessionError):        # no page before the right card
        hall.service.corrections.capture(session, "household_register")


def test_only_requested_items_are_accepted(hall: Hall) -> None:
    hall.ask(items=[ITEMS[0]])
    session = _started(hall)
    hall.hand.place_page("居民身份证")
    with pytest.raises(SessionError) as info:
        hall.service.corrections.capture(session, "id_card")
    assert info.value.code == "not_requested" and session.pages == {}
    with pytest.raises(SessionError) as early:
        hall.service.corrections.submit(session)
    assert early.value.code == "items_missing"


def test_the_follow_up_package_is_version_2_of_the_same_case(hall: Hall) -> None:
    hall.ask()
    session = _started(hall)
    _capture_all(hall, session)
    done = hall.service.corrections.submit(session)
    assert (done.case_number, done.version, done.printed) == (hall.case, 2, True)
    assert hall.state() == SUBMITTED_STATE
    assert list((hall.folder / "data" / "tmp").iterdir()) == [], "scratch not wiped"
    paper = "".join(p.read_text(encoding="utf-8") for p in hall.folder.rglob("paper/*.txt")
                    if "补正" in p.read_text(encoding="utf-8"))
    assert "补正材料已提交" in paper and hall.case in paper and "第2版" in paper
    assert "BZ-2026-0042" in paper and ITEMS[1] in paper
    manifest = _opened(hall, done.package_id)
    assert manifest["case_number"] == hall.case and manifest["version"] == 2
    assert manifest["correction_of"] == hall.original_package
    assert manifest["notice_number"] == "BZ-2026-0042"
    assert manifest["correction_items"] == ITEMS
    assert [r["transfer_number"] for r in manifest["receivers"]] == [hall.transfer]
    assert [m["name"] for m in manifest["materials"]] == ["居民户口簿", FREE_ITEM]
    # the region's own event still applies over the kiosk's 补正已提交
    assert hall.event(CaseState.CORRECTION_RECEIVED, version="2") is Outcome.APPLIED
    assert hall.state() == "补正材料已接收" and hall.alerts.raised == []
    with pytest.raises(SessionError):          # and a second 补正 is not open any more
        hall.service.start_correction(hall.case)


def test_no_plain_id_number_in_the_data_folder(hall: Hall) -> None:
    hall.ask()
    session = _started(hall)
    _capture_all(hall, session)
    hall.service.corrections.submit(session)
    with sqlite3.connect(hall.folder / "data" / "ledger.sqlite") as conn:
        dump = "\n".join(conn.iterdump())
    assert "correction_refs" in dump and DEMO_ID not in dump


def test_a_crash_after_the_commit_loses_nothing(hall: Hall) -> None:
    """The package is in the outbox before the receipt prints; a kiosk reopened on the same
    data folder (the one that crashed never uploaded) delivers it."""
    hall.ask()
    session = _started(hall)
    _capture_all(hall, session)
    done = hall.service.corrections.submit(session)
    hall.kiosk.close()                         # no upload ran: the crash
    hall.kiosk = hall._open()
    pending = [e.package_id for e in hall.kiosk.outbox.entries()]
    assert done.package_id in pending
    assert done.package_id in KioskService(hall.kiosk).deliver()
    assert _opened(hall, done.package_id)["version"] == 2


def _opened(hall: Hall, package_id: str) -> dict[str, Any]:
    KioskService(hall.kiosk).deliver()
    data = hall.folder / "data"
    kiosk_key = DeviceKeys(data / "keys", hall.kiosk.settings.kiosk.id).key("x25519-chacha20")
    region = hall.region
    opened = open_package(data / "region" / region / f"{package_id}.tbk",
                          REGION_KEYS / f"region-{region}-x25519-chacha20.key",
                          Registry([kiosk_key]), hall.folder / "opened" / package_id)
    jsonschema.validate(opened.manifest, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return dict(opened.manifest)


def test_a_second_request_gets_version_3(hall: Hall) -> None:
    hall.ask(items=[ITEMS[0]])
    first = _started(hall)
    _capture_all(hall, first)
    hall.service.corrections.submit(first)
    assert hall.event(CaseState.CORRECTION_RECEIVED, version="2") is Outcome.APPLIED
    assert hall.event(CaseState.CORRECTION_REQUIRED, items=[ITEMS[1]],
                      deadline="2099-01-01") is Outcome.APPLIED
    second = _started(hall)
    assert [i.text for i in second.case.items] == [ITEMS[1]]
    assert second.case.notice_number == ""          # this request gave none
    _capture_all(hall, second)
    done = hall.service.corrections.submit(second)
    manifest = _opened(hall, done.package_id)
    assert done.version == 3 and manifest["version"] == 3 and "notice_number" not in manifest


def test_a_receipt_owed_across_a_crash_reprints_as_the_correction_receipt(hall: Hall) -> None:
    """The 补正 committed, its receipt not printed (no paper), then the kiosk stops: the
    kiosk reopened on the same data folder reprints it as 补正材料接收凭证 (补打), not as
    the case's first receipt."""
    hall.ask()
    session = _started(hall)
    _capture_all(hall, session)
    hall.hand.set_paper(PaperLevel.OUT)
    done = hall.service.corrections.submit(session)
    assert not done.printed
    assert [e.package_id for e in hall.kiosk.outbox.owed_receipts()] == [done.package_id]
    hall.kiosk.close()                         # the crash: the held job goes with it
    hall.kiosk = hall._open()                  # start-up reprints what is owed
    assert hall.kiosk.outbox.owed_receipts() == []
    reprints = [p.read_text(encoding="utf-8") for p in hall.folder.rglob("paper/*.txt")
                if "补打" in p.read_text(encoding="utf-8")]
    assert len(reprints) == 1
    assert "补正材料接收凭证" in reprints[0] and hall.case in reprints[0]
    assert "受理(代收)回执" not in reprints[0] and DEMO_ID not in reprints[0]


def test_the_demo_leaves_a_case_waiting_for_a_correction(tmp_path: Path) -> None:
    """``kiosk demo --correction-case``: a real case in the data folder, 需补正, that the
    kiosk opened afterwards on the same folder can start a 补正 for."""
    settings = load_settings(DEMO_SETTINGS).with_data_dir(tmp_path / "data")
    number = seed_demo(settings, tmp_path / "out")
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(datetime.now())
        row = kiosk.ledger.find(number)
        assert row is not None and row.state == WAITING_STATE
        session = KioskService(kiosk).start_correction(number)
        assert [i.text for i in session.case.items] == list(DEMO_ITEMS)
        assert session.case.deadline is not None and session.case.deadline > datetime.now().date()
    finally:
        kiosk.close()


def test_a_page_is_retaken_in_place_and_removed(hall: Hall) -> None:
    """The capture screen's retake and 删除上一页重拍 on a 补正's pages."""
    hall.ask()
    session = _started(hall)
    item = session.case.items[0].item_id
    for _ in range(2):
        hall.hand.place_page(session.case.items[0].name)
        hall.service.corrections.capture(session, item)
    first, second = session.pages[item]
    hall.hand.place_page(session.case.items[0].name)
    assert hall.service.corrections.capture(session, item, replace=1) == 1
    assert session.pages[item][1] is second and session.pages[item][0] is not first
    session.remove_page(item, 2)
    assert len(session.pages[item]) == 1
    assert session.missing() == [session.case.items[1]]

"""进度查询's core without Kivy: the receipt's code read strictly, a person's cases found by
the keyed hash of their card (never the number itself), the timeline with the region's
details, the pickup, and the second rating kept once."""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.applicant_key import SECRET_FILE, load_secret
from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.case_timeline import detail_line
from kiosk.caseno import damm
from kiosk.cli import main
from kiosk.documents.model import LedgerRow
from kiosk.errors import KioskError
from kiosk.ledger import Ledger
from kiosk.progress import ProgressDesk, ProgressError, case_in_code
from kiosk.rating import Rating
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.toml"
ID_NUMBER = "110101195803121237"          # the emulated resident card (assets/demo)
START = datetime(2026, 12, 7, 9, 0)


def number(seq: int, kiosk: str = "5108020001") -> str:
    first = f"{kiosk}261207{seq:04d}"
    digits = first + str(damm(first))
    return f"{digits[:6]}-{digits[6:10]}-{digits[10:16]}-{digits[16:20]}-{digits[20]}"


def row(case: str, at: datetime = START) -> LedgerRow:
    return LedgerRow(case_number=case, time=at, department="利州区政务服务中心",
                     matter_code="GA-HJZM-001", matter_name="户籍类证明开具", count=1,
                     case_type="承诺件", applicant_masked="张*华", phone_masked="138****0000",
                     window="510802-0001", staff="自助终端", state="已代收待流转",
                     scope="省内通办", regions="四川省成都市", package_id=f"pkg-{case}")


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    k = build_kiosk(load_settings(DEMO).with_data_dir(tmp_path / "data"))
    k.open(datetime.now())
    try:
        yield k
    finally:
        k.close()


class Given:
    def __init__(self, found: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.found = found

    def details(self, case_number: str) -> dict[str, dict[str, Any]]:
        return self.found.get(case_number, {})


def test_only_a_receipts_own_code_is_a_case() -> None:
    good = number(1)
    assert case_in_code(good) == good
    assert case_in_code(good.replace("-", "")) == good          # the CODE128 form
    assert case_in_code(f" {good}\n") == good
    wrong_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    for foreign in (wrong_digit, f"https://example.gov.cn/track?case={good}", f"{good}x",
                    "6901234567892", "", "1" * 5000, good.replace("-", "/")):
        assert case_in_code(foreign) is None, foreign


def test_a_foreign_code_and_an_unknown_case_are_told_apart(kiosk: Kiosk) -> None:
    desk = ProgressDesk(kiosk, datetime.now)
    with pytest.raises(ProgressError) as foreign:
        desk.by_code("https://pay.example.com/qr/123")
    assert foreign.value.code == "foreign_code" and foreign.value.en
    with pytest.raises(ProgressError) as other:
        desk.by_code(number(1, kiosk="5108020002"))
    assert other.value.code == "other_kiosk"
    with pytest.raises(ProgressError) as unknown:
        desk.by_code(number(9))
    assert unknown.value.code == "unknown_case"


def test_the_timeline_reads_the_regions_states_with_their_details(kiosk: Kiosk) -> None:
    case = number(1)
    kiosk.ledger.record(row(case))
    for minutes, state in ((60, "办理地已接收"), (120, "已受理"), (24 * 60, "已办结"),
                           (25 * 60, "结果已到窗口待领取")):
        kiosk.ledger.set_state(case, state, "", START + timedelta(minutes=minutes))
    details = {case: {"已受理": {"document_number": "SL-2026-0042", "promised_by": "2026-12-21"},
                      "结果已到窗口待领取": {"window": "3号窗口", "collect_until": "2027-01-06",
                                        "hours": "工作日 9:00–17:00"}}}
    desk = ProgressDesk(kiosk, datetime.now, Given(details))
    view = desk.by_code(case)
    assert [s.state for s in view.steps] == ["已代收待流转", "办理地已接收", "已受理", "已办结",
                                             "结果已到窗口待领取"]
    accepted = view.steps[2]
    assert accepted.zh == "办理地已受理，正在办理" and accepted.en.startswith("accepted")
    assert "SL-2026-0042" in accepted.detail_zh and "2026-12-21" in accepted.detail_en
    assert view.pickup is not None
    zh, en = view.pickup
    assert "3号窗口" in zh and "2027-01-06" in zh and "9:00" in zh and "2027-01-06" in en
    assert view.can_rate and view.rating is None
    assert view.applicant_masked == "张*华"


def test_no_pickup_panel_before_the_result_is_at_the_window(kiosk: Kiosk) -> None:
    case = number(2)
    kiosk.ledger.record(row(case))
    kiosk.ledger.set_state(case, "已受理", "")
    view = ProgressDesk(kiosk, datetime.now).view(case)
    assert view.pickup is None and not view.can_rate


def test_detail_lines_are_bounded_and_show_only_known_fields() -> None:
    zh, en = detail_line("需补正", {"items": ["户口簿", "结婚证"] * 50, "deadline": "2026-12-20",
                                   "secret_field": "不应显示"})
    assert zh.startswith("需补正：户口簿、结婚证") and "不应显示" not in zh
    assert len(zh) <= 120 and len(en) <= 120


def test_the_second_rating_is_kept_once_as_round_two(kiosk: Kiosk) -> None:
    case = number(3)
    kiosk.ledger.record(row(case))
    desk = ProgressDesk(kiosk, datetime.now)
    with pytest.raises(ProgressError) as early:
        desk.rate(case, Rating.SATISFIED)
    assert early.value.code == "not_decided"
    kiosk.ledger.set_state(case, "已办结", "")
    after = desk.rate(case, Rating.SATISFIED)
    assert after.rating == "满意" and not after.can_rate
    with pytest.raises(ProgressError) as again:
        desk.rate(case, Rating.VERY_DISSATISFIED)
    assert again.value.code == "already_rated"
    kept = kiosk.evaluations.for_number(case)
    assert [(e.round, e.level, e.outcome) for e in kept] == [(2, "满意", "received")]
    (queued,) = kiosk.evaluations.due(datetime.now() + timedelta(days=1))
    assert queued.evaluation.rating_id.endswith(f"{case}-2")


def test_a_card_finds_the_persons_cases_and_no_others(kiosk: Kiosk) -> None:
    desk = ProgressDesk(kiosk, datetime.now)
    kiosk.identity.present("resident")          # type: ignore[attr-defined]
    mine = kiosk.identity.read(5)
    kiosk.ledger.record(row(number(4)), applicant_key=desk.applicant_key(mine))
    kiosk.ledger.record(row(number(5)), applicant_key="0" * 64)     # somebody else's
    kiosk.ledger.record(row(number(6)))                              # none kept (older)
    kiosk.identity.present("resident")          # type: ignore[attr-defined]
    found = desk.cases_of_card()
    assert [c.number for c in found] == [number(4)]


def test_a_card_with_no_cases_here_is_told_so(kiosk: Kiosk) -> None:
    kiosk.identity.present("resident")          # type: ignore[attr-defined]
    with pytest.raises(ProgressError) as none:
        ProgressDesk(kiosk, datetime.now).cases_of_card()
    assert none.value.code == "no_cases" and "窗口" in none.value.zh


def test_the_secret_is_owner_only_made_once_and_refused_when_damaged(tmp_path: Path) -> None:
    first = load_secret(tmp_path)
    assert load_secret(tmp_path) == first and len(first) == 32
    mode = stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]     # no temp file left
    (tmp_path / SECRET_FILE).write_bytes(b"short")
    with pytest.raises(KioskError):
        load_secret(tmp_path)


def test_a_submission_keeps_the_keyed_hash_and_never_the_number(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["demo", "--headless", "--out", str(out), "--scenario", "complete"]) == 0
    data = out / "data"
    secret = (data / SECRET_FILE).read_bytes()
    expected = hmac.new(secret, f"CHN|{ID_NUMBER}".encode(), hashlib.sha256).hexdigest()
    ledger = Ledger(data / "ledger.sqlite")
    try:
        (case,) = ledger.cases_of(expected)
    finally:
        ledger.close()
    assert case.package_id
    for path in data.glob("ledger.sqlite*"):
        assert ID_NUMBER.encode() not in path.read_bytes()


def test_a_pickup_without_the_regions_details_names_no_invented_hours(kiosk: Kiosk) -> None:
    case = number(7)
    kiosk.ledger.record(row(case))
    kiosk.ledger.set_state(case, "结果已到窗口待领取", "")
    view = ProgressDesk(kiosk, datetime.now).view(case)
    assert view.pickup is not None
    zh, en = view.pickup
    assert "本大厅综合窗口" in zh and "大厅工作时间" in zh and "24小时" not in zh
    assert "opening hours" in en


def test_only_a_bad_second_rating_takes_reasons(kiosk: Kiosk) -> None:
    from kiosk.rating import RatingReason
    good, bad = number(8), number(9)
    desk = ProgressDesk(kiosk, datetime.now)
    for case, level in ((good, Rating.VERY_SATISFIED), (bad, Rating.VERY_DISSATISFIED)):
        kiosk.ledger.record(row(case))
        kiosk.ledger.set_state(case, "已办结", "")
        desk.rate(case, level)
    with pytest.raises(ProgressError):
        desk.explain(good, (RatingReason.TOO_SLOW,), True)
    desk.explain(bad, (RatingReason.TOO_SLOW, RatingReason.TOO_SLOW, RatingReason.NO_HELP), False)
    (kept,) = kiosk.evaluations.for_number(bad)
    assert kept.reasons == ("too_slow", "no_help") and kept.staff_may_contact is False


def test_the_second_rating_reaches_the_evaluation_endpoint_as_round_two(tmp_path: Path) -> None:
    """The existing uploader's thread, woken by the rating, to a real loopback endpoint."""
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from kiosk.settings import EvaluationSettings

    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = load_settings(DEMO).with_data_dir(tmp_path / "data")
    url = f"http://127.0.0.1:{server.server_address[1]}/ratings"
    k = build_kiosk(settings.model_copy(update={"evaluation": EvaluationSettings(endpoint=url)}))
    k.open(datetime.now())
    k.start_uploader()
    try:
        case = number(10)
        k.ledger.record(row(case))
        k.ledger.set_state(case, "已办结", "")
        ProgressDesk(k, datetime.now).rate(case, Rating.BASICALLY_SATISFIED)
        deadline = time.monotonic() + 60        # a bound on waiting, not a speed assertion
        while not bodies and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        k.close()
        server.shutdown()
        server.server_close()
    (body,) = bodies
    assert body["round"] == 2 and body["caseNumber"] == case
    assert body["satisfaction"] == "3" and body["channel"] == "政务大厅自助终端"


def test_a_card_read_while_staff_signed_in_is_not_the_citizens(kiosk: Kiosk) -> None:
    kiosk.identity.present("resident")          # type: ignore[attr-defined]
    with pytest.raises(ProgressError) as staff:
        ProgressDesk(kiosk, datetime.now, staff_present=lambda: True).cases_of_card()
    assert staff.value.code == "staff_card"


def test_the_details_come_from_the_status_events_applied(kiosk: Kiosk) -> None:
    """The receiver's store (kiosk/casestatus/store.py) is the default source of details."""
    from kiosk.casestatus.event import CaseState, StatusEvent

    case = number(11)
    kiosk.ledger.record(row(case))
    store = kiosk.case_status.store
    moves = ((CaseState.RECEIVED, "办理地已接收", {}),
             (CaseState.ACCEPTED, "已受理",
              {"document_number": "SL-7", "promised_by": "2026-12-21"}),
             (CaseState.DECIDED, "已办结", {}),
             (CaseState.DISPATCHED, "结果已寄出", {"tracking_number": "SF123", "carrier": "顺丰",
                                               "destination": "window", "window": "3号窗口"}),
             (CaseState.ARRIVED_AT_WINDOW, "结果已到窗口待领取",
              {"window": "3号窗口", "collect_until": "2027-01-06"}))
    for seq, (state, zh, details) in enumerate(moves, start=1):
        at = (START + timedelta(hours=seq)).astimezone()
        event = StatusEvent(region="440305", transfer_number="XT510802440305202612070001" "0001",
                            case_number=case, seq=seq, state=state, time=at,
                            suite="x25519-chacha20", key_id="0123456789abcdef",
                            details=details)
        with store.changing() as conn:
            store.add(conn, event, b"", at.replace(tzinfo=None))
        kiosk.ledger.set_state(case, zh, "", at.replace(tzinfo=None))
    view = ProgressDesk(kiosk, datetime.now).view(case)
    lines = {s.state: s.detail_zh for s in view.steps}
    assert "SL-7" in lines["已受理"] and "SF123" in lines["结果已寄出"]
    assert view.pickup is not None
    assert "3号窗口" in view.pickup[0] and "2027-01-06" in view.pickup[0]

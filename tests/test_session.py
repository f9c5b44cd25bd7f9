"""The citizen's session: its steps, its refusals, its idle timeout and the wipe at the end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from drivers.camera import CapturedPage, PageQuality
from drivers.identity import Identity
from drivers.identity.emulated import load_identities
from kiosk.bus import ALL, EventBus
from kiosk.catalogue.model import DeliveryOption, Matter, Situation
from kiosk.errors import SessionError
from kiosk.session import (
    NEXT,
    Contact,
    EndReason,
    Rating,
    RatingReason,
    RatingRecord,
    Session,
    Step,
)
from kiosk.tempstore import SessionStore, sweep_interrupted

IDENTITIES = Path(__file__).resolve().parents[1] / "assets" / "demo" / "identities.toml"
TODAY = date(2025, 3, 1)
TIMEOUT, WARNING = 120.0, 30.0
SECRET = b"\xff\xd8PLAINTEXT-PAGE-IMAGE-OF-AN-APPLICANT\xff\xd9"
CONTACT = Contact("13800138000", "四川省广元市利州区示例路1号", "628000")

MATTER = Matter.model_validate({
    "code": "T-001",
    "name": "测试事项",
    "department": "公安",
    "mode": "全程网办",
    "scope": {"kind": "跨省通办"},
    "handling_regions": [{"code": "500103", "name": "重庆市渝中区",
                          "department": "重庆市公安局渝中区分局"}],
    "time_limits": {"promised_days": 7},
    "consultation_phone": "12345",
    "delivery_options": ["窗口自取", "邮寄"],
    "situations": [
        {"code": "first", "name": "情形一", "materials": [
            {"id": "application_form", "name": "申请表"},
            {"id": "household_register", "name": "居民户口簿", "pages": {"min": 1, "max": 2}},
        ]},
        {"code": "second", "name": "情形二", "materials": [
            {"id": "application_form", "name": "申请表"},
        ]},
    ],
})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A session on a fresh bus and store, recording every event."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = FakeClock()
        self.bus = EventBus()
        self.events: list[tuple[str, Any]] = []
        self.bus.subscribe(ALL, lambda topic, payload: self.events.append((topic, payload)))
        self.store = SessionStore(root)
        self.session = Session(self.bus, self.store, self.clock, TIMEOUT, WARNING)

    def topics(self, topic: str) -> list[Any]:
        return [payload for t, payload in self.events if t == topic]


@pytest.fixture
def identities() -> dict[str, Identity]:
    return load_identities(IDENTITIES)


@pytest.fixture
def make(tmp_path: Path) -> Callable[[], Harness]:
    counter = iter(range(1000))
    return lambda: Harness(tmp_path / f"tmp{next(counter)}")


@pytest.fixture
def h(make: Callable[[], Harness]) -> Harness:
    return make()


def page(data: bytes = SECRET, quality: PageQuality | None = None) -> CapturedPage:
    return CapturedPage(jpeg=data, width=10, height=10, dpi=150,
                        quality=quality or PageQuality())


def to_capture(h: Harness, identity: Identity) -> Session:
    s = h.session
    s.choose_matter(MATTER)
    s.start_identify()
    s.identified(identity, TODAY)
    return s


def capture_all(s: Session) -> None:
    s.add_page("application_form", page())
    s.add_page("household_register", page())


def assert_wiped(h: Harness) -> None:
    s = h.session
    assert s.step is Step.ENDED
    assert not s.applicant_data_present()
    assert s.identity is None
    assert s.matter is None and s.situation is None
    assert s.pages == {}
    assert s.commitments == set()
    assert s.contact is None and s.delivery is None
    assert s.result is None
    assert s.case_number is None and s.transfer_number is None
    assert not h.store.path.exists()
    assert h.store.wiped
    assert [p for p in h.root.rglob("*") if p.is_file()] == []
    assert list(h.root.iterdir()) == []


# --- the two journeys and the back steps ------------------------------------------------

def walked(h: Harness) -> set[tuple[Step, Step]]:
    """The (from, to) steps the session announced on the bus."""
    pairs, current = set(), Step.CHOOSE_MATTER
    for topic, payload in h.events:
        if topic == "session.step":
            new = Step(payload["step"])
        elif topic == "session.ended":
            new = Step.ENDED
        else:
            continue
        pairs.add((current, new))
        current = new
    return pairs


def accepted_journey(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    assert s.step is Step.CAPTURE and s.identity is identities["resident"]
    capture_all(s)
    result = s.review()
    assert result.accepted and s.step is Step.REVIEW
    s.confirm(DeliveryOption.POST, CONTACT)
    assert s.step is Step.CONFIRM and s.delivery is DeliveryOption.POST
    s.submitted("510802-0001-250301-0001-3", "XT51080250010320250301000100001")
    assert s.step is Step.SUBMITTED and s.case_number == "510802-0001-250301-0001-3"
    s.receipt_printed()
    assert s.step is Step.RECEIPT
    s.rate(Rating.SATISFIED)
    assert s.step is Step.RATING and s.rating.level is Rating.SATISFIED
    s.finish()
    assert s.end_reason is EndReason.COMPLETED
    assert s.rating.level is Rating.SATISFIED   # the rating is not applicant data
    assert_wiped(h)
    assert [p["reason"] for p in h.topics("session.ended")] == ["completed"]


def incomplete_journey(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("application_form", page())
    result = s.review()
    assert not result.accepted
    s.notice_issued()
    assert s.step is Step.NOTICE
    s.rate(Rating.BASICALLY_SATISFIED)
    s.finish()
    assert s.end_reason is EndReason.COMPLETED
    assert_wiped(h)


def back_steps(h: Harness, identities: dict[str, Identity]) -> None:
    s = h.session
    s.choose_matter(MATTER, "second")
    assert s.situation is not None and s.situation.code == "second"
    s.back_to_matters()
    assert s.step is Step.CHOOSE_MATTER
    assert s.matter is None and s.situation is None
    s.choose_matter(MATTER)
    s.choose_situation("second")
    assert s.situation is not None and s.situation.code == "second"
    s.start_identify()
    s.back_to_guide()
    assert s.step is Step.GUIDE
    s.start_identify()
    s.identified(identities["resident"], TODAY)
    s.add_page("application_form", page())
    assert s.review().accepted
    s.back_to_capture()
    assert s.step is Step.CAPTURE
    s.remove_page("application_form", 1)
    assert not s.review().accepted
    s.back_to_capture()
    s.add_page("application_form", page())
    s.review()
    s.confirm(DeliveryOption.PICKUP, CONTACT)
    assert s.review().accepted            # confirm → review: the citizen looks again
    assert s.step is Step.REVIEW


def test_accepted_journey(h: Harness, identities: dict[str, Identity]) -> None:
    accepted_journey(h, identities)


def test_incomplete_journey(h: Harness, identities: dict[str, Identity]) -> None:
    incomplete_journey(h, identities)


def test_back_steps(h: Harness, identities: dict[str, Identity]) -> None:
    back_steps(h, identities)


def test_every_transition_in_the_table_is_walked(
        make: Callable[[], Harness], identities: dict[str, Identity]) -> None:
    runs = [make() for _ in range(3)]
    accepted_journey(runs[0], identities)
    incomplete_journey(runs[1], identities)
    back_steps(runs[2], identities)
    table = {(a, b) for a, targets in NEXT.items() for b in targets}
    walked_pairs = set().union(*(walked(r) for r in runs))
    assert table <= walked_pairs
    # finishing goes to ENDED from RATING (in the table) and the session walked nothing else
    assert walked_pairs - table == set()


# --- refused steps -----------------------------------------------------------------------

def drive_to(step: Step, h: Harness, identities: dict[str, Identity]) -> Session:
    s = h.session
    if step is Step.CHOOSE_MATTER:
        return s
    s.choose_matter(MATTER)
    if step is Step.GUIDE:
        return s
    s.start_identify()
    if step is Step.IDENTIFY:
        return s
    s.identified(identities["resident"], TODAY)
    if step is Step.CAPTURE:
        return s
    if step is Step.NOTICE:
        s.review()
        s.notice_issued()
        return s
    capture_all(s)
    s.review()
    if step is Step.REVIEW:
        return s
    s.confirm(DeliveryOption.PICKUP, CONTACT)
    if step is Step.CONFIRM:
        return s
    s.submitted("510802-0001-250301-0001-3", "XT1")
    if step is Step.SUBMITTED:
        return s
    s.receipt_printed()
    if step is Step.RECEIPT:
        return s
    s.rate(Rating.SATISFIED)
    if step is Step.RATING:
        return s
    s.finish()
    assert step is Step.ENDED
    return s


MOVES: dict[Step, Callable[[Session], object]] = {
    Step.CHOOSE_MATTER: lambda s: s.back_to_matters(),
    Step.GUIDE: lambda s: s.choose_matter(MATTER),
    Step.IDENTIFY: lambda s: s.start_identify(),
    Step.CAPTURE: lambda s: s.back_to_capture(),
    Step.REVIEW: lambda s: s.review(),
    Step.CONFIRM: lambda s: s.confirm(DeliveryOption.PICKUP, CONTACT),
    Step.SUBMITTED: lambda s: s.submitted("510802-0001-250301-0001-3", "XT1"),
    Step.RECEIPT: lambda s: s.receipt_printed(),
    Step.NOTICE: lambda s: s.notice_issued(),
    Step.RATING: lambda s: s.rate(Rating.SATISFIED),
}
DISALLOWED = [(a, b) for a in Step for b in MOVES if b not in NEXT[a]]


@pytest.mark.parametrize(("start", "target"), DISALLOWED, ids=lambda s: s.value)
def test_disallowed_transition_is_refused(start: Step, target: Step, h: Harness,
                                          identities: dict[str, Identity]) -> None:
    s = drive_to(start, h, identities)
    with pytest.raises(SessionError):
        MOVES[target](s)
    assert s.step is start


@pytest.mark.parametrize(("start", "target"), [
    (Step.CHOOSE_MATTER, Step.REVIEW), (Step.GUIDE, Step.CAPTURE),
    (Step.CAPTURE, Step.SUBMITTED), (Step.REVIEW, Step.RECEIPT),
    (Step.SUBMITTED, Step.RATING), (Step.ENDED, Step.GUIDE), (Step.CAPTURE, Step.IDENTIFY),
], ids=lambda s: s.value)
def test_disallowed_transition_code_is_bad_step(start: Step, target: Step, h: Harness,
                                                identities: dict[str, Identity]) -> None:
    s = drive_to(start, h, identities)
    with pytest.raises(SessionError) as info:
        MOVES[target](s)
    assert info.value.code == "bad_step"
    assert s.step is start


def test_pages_only_at_capture(h: Harness, identities: dict[str, Identity]) -> None:
    s = h.session
    s.choose_matter(MATTER)
    with pytest.raises(SessionError) as info:
        s.add_page("application_form", page())
    assert info.value.code == "bad_step"
    assert s.pages == {}


def test_finish_before_the_end_is_refused(h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.CONFIRM, h, identities)
    with pytest.raises(SessionError) as info:
        s.finish()
    assert info.value.code == "bad_step"
    assert s.step is Step.CONFIRM


def test_expired_identity_is_refused(h: Harness, identities: dict[str, Identity]) -> None:
    s = h.session
    s.choose_matter(MATTER)
    s.start_identify()
    with pytest.raises(SessionError) as info:
        s.identified(identities["resident_expired"], TODAY)
    assert info.value.code == "document_expired"
    assert "有效期" in info.value.zh
    assert s.step is Step.IDENTIFY
    assert s.identity is None
    s.identified(identities["resident"], TODAY)   # a valid card still works afterwards
    assert s.step is Step.CAPTURE


def test_card_valid_on_its_last_day(h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.IDENTIFY, h, identities)
    s.identified(identities["resident_expired"], date(2024, 6, 30))
    assert s.step is Step.CAPTURE


def test_confirm_refuses_an_incomplete_application(
        h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.CAPTURE, h, identities)
    s.add_page("application_form", page())
    assert not s.review().accepted
    with pytest.raises(SessionError) as info:
        s.confirm(DeliveryOption.PICKUP, CONTACT)
    assert info.value.code == "incomplete"
    assert s.step is Step.REVIEW
    assert s.delivery is None and s.contact is None


def test_confirm_refuses_a_delivery_the_matter_does_not_offer(
        h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.REVIEW, h, identities)
    with pytest.raises(SessionError) as info:
        s.confirm(DeliveryOption.ELECTRONIC, CONTACT)
    assert info.value.code == "bad_delivery"
    assert s.step is Step.REVIEW and s.delivery is None


def test_confirm_refuses_post_without_an_address(
        h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.REVIEW, h, identities)
    with pytest.raises(SessionError) as info:
        s.confirm(DeliveryOption.POST, Contact("13800138000"))
    assert info.value.code == "address_required"
    assert s.step is Step.REVIEW and s.contact is None
    s.confirm(DeliveryOption.PICKUP, Contact("13800138000"))   # pickup needs no address
    assert s.step is Step.CONFIRM


def test_one_rating_only(h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.RECEIPT, h, identities)
    s.rate(Rating.VERY_SATISFIED)
    with pytest.raises(SessionError) as info:
        s.rate(Rating.VERY_DISSATISFIED)
    assert info.value.code == "already_rated"
    assert s.rating.level is Rating.VERY_SATISFIED
    assert s.step is Step.RATING


def test_a_bad_rating_keeps_its_reasons_after_the_end(h: Harness,
                                                      identities: dict[str, Identity]) -> None:
    s = drive_to(Step.RECEIPT, h, identities)
    with pytest.raises(SessionError):
        s.explain_rating((RatingReason.TOO_SLOW,))          # nothing rated yet
    s.rate(Rating.VERY_DISSATISFIED)
    s.explain_rating((RatingReason.TOO_SLOW, RatingReason.NO_HELP), " 等了很久 ", True)
    s.finish()
    assert s.rating == RatingRecord(Rating.VERY_DISSATISFIED,
                                    (RatingReason.TOO_SLOW, RatingReason.NO_HELP), "等了很久", True)


def test_a_good_rating_takes_no_reasons(h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.RECEIPT, h, identities)
    s.rate(Rating.SATISFIED)
    with pytest.raises(SessionError):
        s.explain_rating((RatingReason.TOO_SLOW,))
    assert s.rating == RatingRecord(Rating.SATISFIED)


def test_notice_needs_an_incomplete_result(h: Harness, identities: dict[str, Identity]) -> None:
    s = drive_to(Step.REVIEW, h, identities)
    with pytest.raises(SessionError) as info:
        s.notice_issued()
    assert info.value.code == "no_notice"
    assert s.step is Step.REVIEW


# --- sealed pages ------------------------------------------------------------------------

def test_pages_are_sealed_on_disk(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    assert s.add_page("household_register", page(SECRET)) == 1
    assert s.add_page("household_register", page(SECRET + b"2")) == 2
    files = [p for p in h.store.path.iterdir() if p.is_file()]
    assert len(files) == 2
    for f in files:
        blob = f.read_bytes()
        assert SECRET not in blob
        assert b"PLAINTEXT" not in blob
    stored = s.pages["household_register"]
    assert s.page_image(stored[0]) == SECRET
    assert s.page_image(stored[1]) == SECRET + b"2"
    assert (stored[0].width, stored[0].height, stored[0].dpi) == (10, 10, 150)


def test_sweep_removes_only_the_folders_sessions_left(tmp_path: Path) -> None:
    """What a kill leaves (a session folder whose key died with the process) goes at start-up;
    anything else in the scratch folder stays, and a link is not followed."""
    root = tmp_path / "tmp"
    left = [SessionStore(root) for _ in range(3)]
    for store in left:
        store.put(SECRET)                          # then the process is "killed": no wipe
    (root / "notes").mkdir()
    (root / "session-0123456789abcdef.txt").write_text("a file, not a session folder")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("kept")
    (root / "session-fedcba9876543210").symlink_to(elsewhere)
    assert sweep_interrupted(root) == 3
    assert sorted(p.name for p in root.iterdir()) == [
        "notes", "session-0123456789abcdef.txt", "session-fedcba9876543210"]
    assert (elsewhere / "keep").read_text() == "kept"
    assert sweep_interrupted(tmp_path / "never-made") == 0


def test_page_quality_reaches_the_check(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("application_form", page())
    s.add_page("household_register", page(quality=PageQuality(reasons=("blurred",))))
    result = s.review()
    assert not result.accepted
    assert [p.requirement_id for p in result.problems] == ["household_register"]


def test_removing_a_page(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("household_register", page(b"one"))
    s.add_page("household_register", page(b"two"))
    s.remove_page("household_register", 1)
    assert [s.page_image(p) for p in s.pages["household_register"]] == [b"two"]
    s.remove_page("household_register", 1)
    assert "household_register" not in s.pages


def test_deferral_commitment_reaches_the_check(h: Harness,
                                               identities: dict[str, Identity]) -> None:
    matter = MATTER.model_copy(update={"situations": (
        Situation.model_validate({"code": "d", "name": "容缺", "materials": [
            {"id": "application_form", "name": "申请表"},
            {"id": "residence_permit", "name": "居住证", "necessity": "容缺",
             "commitment": "承诺补交"},
        ]}),)})
    s = h.session
    s.choose_matter(matter)
    s.start_identify()
    s.identified(identities["resident"], TODAY)
    s.add_page("application_form", page())
    assert not s.review().accepted
    s.back_to_capture()
    s.commit_deferral("residence_permit")
    result = s.review()
    assert result.accepted
    assert [i.requirement_id for i in result.deferred] == ["residence_permit"]


# --- idle timeout and cancel: both end in a wipe ------------------------------------------

def test_idle_warning_then_timeout_wipes(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("household_register", page())
    start = h.clock.now
    h.clock.now = start + TIMEOUT - 1
    assert s.tick() is None
    assert h.topics("session.idle_warning") == []
    h.clock.now = start + TIMEOUT + 5
    assert s.tick() == pytest.approx(WARNING - 5)
    h.clock.now = start + TIMEOUT + 20
    assert s.tick() == pytest.approx(WARNING - 20)
    warnings = h.topics("session.idle_warning")
    assert len(warnings) == 1
    assert warnings[0]["seconds_left"] == pytest.approx(WARNING - 5)
    assert s.step is Step.CAPTURE and s.applicant_data_present()
    h.clock.now = start + TIMEOUT + WARNING
    assert s.tick() is None
    assert s.end_reason is EndReason.TIMEOUT
    assert_wiped(h)
    assert [p["reason"] for p in h.topics("session.ended")] == ["timeout"]
    assert s.tick() is None   # an ended session stays ended
    assert len(h.topics("session.ended")) == 1


def test_timeout_from_a_late_tick_still_wipes(h: Harness,
                                              identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("application_form", page())
    h.clock.now += 10 * (TIMEOUT + WARNING)
    assert s.tick() is None
    assert s.end_reason is EndReason.TIMEOUT
    assert h.topics("session.idle_warning") == []
    assert_wiped(h)


def test_cancel_at_capture_wipes(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    s.add_page("application_form", page())
    s.commit_deferral("whatever")
    assert s.applicant_data_present()
    s.cancel()
    assert s.end_reason is EndReason.CANCELLED
    assert_wiped(h)
    s.cancel()   # cancelling twice is harmless and does not end twice
    assert s.end_reason is EndReason.CANCELLED
    assert len(h.topics("session.ended")) == 1


def test_touch_resets_the_idle_timer(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    start = h.clock.now
    h.clock.now = start + TIMEOUT - 10
    s.touch()
    h.clock.now = start + TIMEOUT + WARNING + 1   # would have ended without the touch
    assert s.tick() is None
    assert s.step is Step.CAPTURE
    assert h.topics("session.idle_warning") == []


def test_touch_after_a_warning_allows_a_new_warning(
        h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    h.clock.now += TIMEOUT + 1
    assert s.tick() is not None
    s.touch()
    assert s.tick() is None
    h.clock.now += TIMEOUT + 2
    assert s.tick() == pytest.approx(WARNING - 2)
    assert len(h.topics("session.idle_warning")) == 2
    assert s.step is Step.CAPTURE


def test_actions_count_as_activity(h: Harness, identities: dict[str, Identity]) -> None:
    s = to_capture(h, identities["resident"])
    h.clock.now += TIMEOUT - 1
    s.add_page("application_form", page())
    h.clock.now += TIMEOUT - 1
    assert s.tick() is None
    assert s.step is Step.CAPTURE

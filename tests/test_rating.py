"""好差评 records (kiosk/rating.py): a bad rating keeps its reasons and the call-back answer."""

from __future__ import annotations

import pytest

from kiosk.rating import COMMENT_MAX, Rating, RatingReason, RatingRecord


def test_only_the_two_lowest_levels_are_bad() -> None:
    assert [r for r in Rating if r.is_bad] == [Rating.DISSATISFIED, Rating.VERY_DISSATISFIED]


def test_reasons_keep_their_order_once_and_the_comment_is_bounded() -> None:
    record = RatingRecord(Rating.DISSATISFIED).explained(
        (RatingReason.TOO_SLOW, RatingReason.GUIDE_UNCLEAR, RatingReason.TOO_SLOW),
        "  " + "慢" * (COMMENT_MAX + 50) + "  ", True)
    assert record.level is Rating.DISSATISFIED
    assert record.reasons == (RatingReason.TOO_SLOW, RatingReason.GUIDE_UNCLEAR)
    assert record.comment == "慢" * COMMENT_MAX
    assert record.staff_may_contact is True


def test_a_new_record_has_no_answers_yet() -> None:
    record = RatingRecord(Rating.VERY_SATISFIED)
    assert record.reasons == () and record.comment == "" and record.staff_may_contact is None


@pytest.mark.parametrize("reason", list(RatingReason))
def test_reason_codes_are_stable_identifiers(reason: RatingReason) -> None:
    assert reason.value.isascii() and reason.value == reason.value.lower()

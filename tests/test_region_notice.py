"""kiosk/region_notice.py: the handling region's 补正通知书 relayed on paper (seed 004 (三))."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.documents import forms
from kiosk.documents.blocks import Paragraph
from kiosk.documents.model import CorrectionNotice, Office
from kiosk.region_notice import relayed_notice, requested

HALL = Office("广元市利州区政务服务中心", "0839-3266123", "自助终端", "510802-0001")
CASE = "510802-0001-261207-0001-7"
ASKED = {"items": ["户口簿首页复印件", "近期一寸证件照"], "deadline": "2027-01-05",
         "notice_number": "BZ-2026-0042"}


def _notice(details: dict[str, Any]) -> CorrectionNotice | None:
    return relayed_notice(CASE, "户籍类证明开具", "张*华", date(2026, 12, 7), details, HALL,
                          date(2026, 12, 9))


def _text(notice: CorrectionNotice) -> str:
    return "\n".join(b.text for b in forms.notice_blocks(notice) if isinstance(b, Paragraph))


def test_the_regions_items_deadline_and_number_are_on_the_paper() -> None:
    notice = _notice({"需补正": ASKED, "已受理": {"department": "北京市东城区公安分局"}})
    assert notice is not None and notice.number == "BZ-2026-0042"
    text = _text(notice)
    assert "一、户口簿首页复印件" in text and "二、近期一寸证件照" in text
    assert "请于2027-01-05前补正" in text and CASE in text and "请在期限内补正" in text
    assert "北京市东城区公安分局" in text and "转达单位：广元市利州区政务服务中心" in text
    assert "2026年12月9日" in text and "办理地出具" in text and "张*华（申请人）" in text


def test_without_the_accepted_department_or_number_it_says_what_it_knows() -> None:
    notice = _notice({"需补正": {"items": ["身份证复印件"]}})
    assert notice is not None and notice.number == CASE
    text = _text(notice)
    assert "办理地审批部门" in text and "请于" not in text


@pytest.mark.parametrize("asked", [{}, {"items": []}, {"items": ["", "  "]},
                                   {"deadline": "2027-01-05"}, {"items": None}])
def test_no_item_named_is_no_notice(asked: dict[str, Any]) -> None:
    assert requested({"需补正": asked}) is None and _notice({"需补正": asked}) is None
    assert _notice({}) is None


def test_the_kiosks_own_notice_is_unchanged() -> None:
    own = CorrectionNotice("510802-0001-261207-0002-5", date(2026, 12, 7), "户籍类证明开具",
                           "张*华", ("身份证",), ("户口簿",), HALL, date(2026, 12, 7))
    text = _text(own)
    assert "经 办 人：自助终端" in text and "请补全后再次申请" in text
    assert "转达" not in text and "请于" not in text and forms.NOTICE_COPIES in text


@given(st.dictionaries(st.sampled_from(["items", "deadline", "notice_number", "x"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=600),
                                 st.lists(st.text(max_size=600), max_size=80))))
def test_any_details_make_a_bounded_notice_or_none(asked: dict[str, Any]) -> None:
    notice = _notice({"需补正": asked})
    if notice is not None:
        assert 0 < len(notice.items) <= 50 and all(len(i) <= 200 for i in notice.items)
        assert len(notice.deadline) <= 200 and len(notice.number) <= 200
        forms.notice_blocks(notice)

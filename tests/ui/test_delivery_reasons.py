"""Delivery (issue 20, medium): the province picker's 完成 waits for a whole choice, and a
disabled 下一步 says what it is waiting for."""

from __future__ import annotations

from test_journey import (
    reach_delivery,
    shot,
)
from ui_harness import Harness


def waiting_for(h: Harness) -> str:
    return str(h.find("waiting_for").text) if h.has("waiting_for") else ""


def test_done_and_next_say_what_they_wait_for(harness: Harness) -> None:
    h = harness
    reach_delivery(h)
    assert not h.find("next").enabled
    assert "请先选择领取方式" in waiting_for(h)
    h.tap("delivery_post_other")                   # the province picker opens
    assert not h.find("done_editing").enabled
    assert "请选到区县一级" in waiting_for(h)
    shot(h, "delivery-region-empty")
    h.tap("done_editing")                          # an empty choice is not accepted
    assert h.nav.current.editing == "region" and not h.nav.current.region
    h.tap("region_110000")                         # 北京市: still not a district
    assert not h.find("done_editing").enabled
    h.tap("back")                                  # a way out without choosing
    assert h.nav.current.editing == ""
    assert not h.find("next").enabled
    assert "请先填写 11 位手机号码" in waiting_for(h)
    h.tap("delivery_pickup")                       # the phone is still missing: keypad
    h.type_digits("13800")
    h.tap("done_editing")
    assert not h.find("next").enabled and "手机号码" in waiting_for(h)
    shot(h, "delivery-phone-missing")
    h.tap("field_phone")
    h.type_digits("138000")
    h.tap("done_editing")
    assert h.find("next").enabled and not h.has("waiting_for")

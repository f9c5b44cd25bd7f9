"""暂停服务 on the attract screen while it is up: the disk floor or the UPS stops new
sessions (kiosk/ops), the screen says why at once and 开始办理 is disabled; back in
service, it is enabled again."""

from __future__ import annotations

from datetime import datetime

import pytest
from ui_harness import Harness

from kiosk.lifecycle import Reason


@pytest.mark.parametrize("reason", [Reason.DISK_FULL, Reason.ON_BATTERY])
def test_attract_shows_out_of_service_while_it_is_up(harness: Harness, reason: Reason) -> None:
    h = harness
    h.wait_screen("attract")
    assert h.find("start").enabled and "暂停服务" not in h.text_on_screen()
    h.kiosk.lifecycle.set_condition(reason, True, datetime.now())
    h.wait(lambda: "暂停服务" in h.text_on_screen(), "暂停服务 on the attract screen")
    assert not h.find("start").enabled
    h.screenshot(f"out-of-service-{reason.value}")
    h.kiosk.lifecycle.set_condition(reason, False, datetime.now())
    h.wait(lambda: "暂停服务" not in h.text_on_screen(), "back in service")
    assert h.find("start").enabled

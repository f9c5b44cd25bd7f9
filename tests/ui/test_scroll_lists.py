"""Scrolling lists (issue 20, medium): the scroll bar lies beside the rows, not over their
right edge, and scrolled to the end the last row shows whole (guide, checklist, English)."""

from __future__ import annotations

import pytest
from kivy.core.window import Window
from kivy.uix.scrollview import ScrollView
from test_journey import identify, start_matter
from ui_harness import Harness

MODES = [pytest.param("standard", marks=pytest.mark.kiosk(), id="standard"),
         pytest.param("elder", marks=pytest.mark.kiosk(elder=True), id="elder"),
         pytest.param("english", marks=pytest.mark.kiosk(language="en"), id="english")]
OUTLINE = 2.0          # px: a row's outline is drawn on its edge, half outside it


def check_lists(h: Harness, where: str) -> None:
    views = [w for w in h.nav.current.walk(restrict=True) if isinstance(w, ScrollView)]
    assert views, f"no scrolling list on {where}"
    for view in views:
        content = view.children[0]
        bar_left = view.to_window(view.right - view.bar_width - view.bar_margin, view.y)[0]
        assert bar_left + view.bar_width <= Window.width, f"{where}: bar off screen"
        for row in content.children:
            row_right = row.to_window(row.right, row.y)[0]
            assert row_right + OUTLINE <= bar_left, (
                f"{where}: the bar covers {type(row).__name__} by "
                f"{row_right + OUTLINE - bar_left:.0f} px")
        view.scroll_y = 0                               # scrolled to the end
        h.pump(3)
        last = min(content.children, key=lambda w: w.y)
        bottom = last.to_window(last.x, last.y)[1]
        view_bottom = view.to_window(view.x, view.y)[1]
        assert bottom - OUTLINE >= view_bottom, (
            f"{where}: the last row is cut by {view_bottom - bottom + OUTLINE:.0f} px")
        h.screenshot(f"{where}-end")


@pytest.mark.parametrize("mode", MODES)
def test_lists_leave_room_for_the_bar_and_show_their_last_row(harness: Harness,
                                                               mode: str) -> None:
    h = harness
    start_matter(h)
    check_lists(h, f"guide-{mode}")
    identify(h)
    h.pump(3)
    check_lists(h, f"checklist-{mode}")

"""The capture step files only what this citizen laid down, for the material they meant, and
lets them look at every page large before they confirm (issue 20, items 1, 2 and 8).

The citizen's hands are the emulated camera's scripting calls. "Not shot" is shown by waiting
until the page has lain still on the plate for longer than the hold (by the camera's own frame
times) — a condition to wait for, never a timed assertion.
"""

from __future__ import annotations

from typing import Any

import pytest
from kivy.core.window import Window
from test_journey import identify, shot, start_matter
from ui_harness import Harness

HOLD_MARGIN_S = 1.0        # past the hold by this much of the camera's time: it would have shot


def rested_past_the_hold(h: Harness, state: str) -> Any:
    """A condition: the newest view says ``state`` and has said so for longer than the hold
    (and a page has been seen all that time)."""
    dwell = h.kiosk.settings.session.capture_dwell_s
    since: list[float] = []

    def done() -> bool:
        feed = h.nav.current.feed
        view = feed.latest() if feed is not None else None
        if view is None or view.advice.state.value != state:
            since.clear()
            return False
        since[:1] = since[:1] or [view.frame.timestamp]
        return view.frame.timestamp - since[0] >= dwell + HOLD_MARGIN_S
    return done


def pages(h: Harness, material_id: str) -> list[Any]:
    return list(h.journey.session.pages.get(material_id, []))


def wait_shot(h: Harness, material_id: str, count: int) -> None:
    h.wait(lambda: len(pages(h, material_id)) >= count, f"{material_id} page {count}")
    h.wait(lambda: not h.nav.current.shooting, "the shot to finish")


def plate_clear(h: Harness) -> None:
    """Wait for the plate to be seen empty (a feed without that notion: at once)."""
    h.wait(lambda: h.nav.current.feed is not None
           and getattr(h.nav.current.feed, "plate_clear", True), "the plate seen empty")


def test_a_page_left_by_the_last_citizen_is_not_filed_for_the_next(harness: Harness) -> None:
    h = harness
    start_matter(h)
    identify(h)
    h.kiosk.camera.place("常住人口登记卡", 1)           # the first citizen's page ...
    h.tap("cancel")
    h.tap("confirm")                                    # ... left on the plate
    h.wait_screen("attract")
    start_matter(h)                                     # the next citizen
    identify(h)
    session = h.journey.session
    stale = rested_past_the_hold(h, "stale")
    h.wait(lambda: session.pages or stale(), "the stale page")
    assert not session.pages, "the last citizen's page was filed for this one"
    shot(h, "capture-stale-page")
    shown = h.text_on_screen()
    assert "请先取走拍摄区上的材料" in shown and "Please remove" in shown
    h.tap("shoot")                                      # the button does not take it either
    h.wait(lambda: h.ui.bridge.pending == 0, "the button's work")
    assert not session.pages and not h.nav.current.shooting
    h.kiosk.camera.remove()                             # taken away: seen empty ...
    plate_clear(h)
    h.kiosk.camera.place("居民身份证", 1)               # ... then this citizen's own page
    wait_shot(h, "id_card", 1)
    assert len(pages(h, "id_card")) == 1


def test_a_new_material_does_not_take_the_page_still_on_the_plate(harness: Harness) -> None:
    h = harness
    start_matter(h)
    identify(h)
    plate_clear(h)
    h.kiosk.camera.place("居民身份证", 1)
    wait_shot(h, "id_card", 1)
    h.tap("material_application_form")                  # the ID card is still on the plate
    taken = rested_past_the_hold(h, "duplicate")
    h.wait(lambda: pages(h, "application_form") or taken(), "the page at rest")
    assert not pages(h, "application_form"), "the ID card was filed as the application form"
    assert "这一页已经拍过了" in h.text_on_screen()
    shot(h, "capture-taken-page")
    h.tap("shoot")                      # the citizen insists: asked first, then taken
    assert h.nav.dialog is not None and h.nav.dialog.name == "reuse"
    shot(h, "capture-reuse-asked")
    h.tap("reuse_cancel")
    assert not pages(h, "application_form")
    # as before the first tap: the page at rest is recognised as taken (under load the newest
    # view can still be a frame from before the dialog closed)
    h.wait(rested_past_the_hold(h, "duplicate"), "the taken page at rest again")
    h.tap("shoot")
    assert h.nav.dialog is not None and h.nav.dialog.name == "reuse"
    h.tap("reuse_confirm")
    wait_shot(h, "application_form", 1)
    assert len(pages(h, "id_card")) == 1


def test_every_page_opens_large_and_one_page_is_retaken_in_place(harness: Harness) -> None:
    h = harness
    start_matter(h)
    identify(h)
    plate_clear(h)
    h.kiosk.camera.place("居民身份证", 1)
    wait_shot(h, "id_card", 1)
    h.kiosk.camera.place("居民身份证", 2)               # the card turned over
    wait_shot(h, "id_card", 2)
    first, second = pages(h, "id_card")
    h.tap("material_id_card")                           # complete: the checklist moved on
    h.tap("page_id_card_1")                             # its thumbnail
    viewer = h.nav.dialog
    assert viewer is not None and viewer.name == "page_viewer"
    assert viewer.picture.width >= 0.7 * Window.width   # large, not a thumbnail
    shot(h, "viewer-capture")
    assert "第 1 页" in viewer.caption.text
    h.tap("viewer_next")
    assert "第 2 页" in viewer.caption.text
    h.tap("viewer_previous")
    h.tap("viewer_retake")                              # retake page 1 only
    assert h.nav.dialog is None and h.screen == "capture"
    assert "重拍" in h.text_on_screen()
    h.kiosk.camera.place("居民身份证", 1)               # the same side laid again
    h.wait(lambda: pages(h, "id_card")[0].ref != first.ref, "page 1 replaced")
    h.wait(lambda: not h.nav.current.shooting, "the shot to finish")
    now = pages(h, "id_card")
    assert len(now) == 2 and now[1].ref == second.ref   # page 2 untouched, none added


def test_review_opens_each_page_and_sends_a_retake_back_to_capture(harness: Harness) -> None:
    h = harness
    start_matter(h)
    identify(h)
    plate_clear(h)
    h.kiosk.camera.place("居民身份证", 1)
    wait_shot(h, "id_card", 1)
    h.tap("review")
    h.wait_screen("review")
    h.tap("page_id_card_1")
    viewer = h.nav.dialog
    assert viewer is not None and viewer.name == "page_viewer"
    assert viewer.picture.width >= 0.7 * Window.width
    shot(h, "viewer-review")
    h.tap("viewer_close")
    assert h.nav.dialog is None and h.screen == "review"
    h.tap("page_id_card_1")
    h.tap("viewer_retake")
    h.wait_screen("capture")
    assert "重拍" in h.text_on_screen()


@pytest.mark.kiosk(elder=True)
def test_elder_view_shows_the_page_large_with_large_buttons(harness: Harness) -> None:
    h = harness
    start_matter(h)
    identify(h)
    plate_clear(h)
    h.kiosk.camera.place("居民身份证", 1)
    wait_shot(h, "id_card", 1)
    shot(h, "capture-elder-thumbnail")
    h.tap("page_id_card_1")
    viewer = h.nav.dialog
    assert viewer is not None and viewer.picture.width >= 0.7 * Window.width
    shot(h, "viewer-elder")                 # targets ≥ 18 mm, nothing spills out
    h.tap("viewer_close")

"""The matter-choice screen (issue 20, medium items): pages filled to the footer in every
mode, a search field that opens the keyboard when touched and shows typed text in the text
colour, and the catalogue's own words first in the candidate bar."""

from __future__ import annotations

from itertools import pairwise

import pytest
from ui_harness import Harness

MODES = [pytest.param("standard", marks=pytest.mark.kiosk(), id="standard"),
         pytest.param("elder", marks=pytest.mark.kiosk(elder=True), id="elder"),
         pytest.param("english", marks=pytest.mark.kiosk(language="en"), id="english")]


def open_matters(h: Harness) -> None:
    h.tap("start")
    h.wait_screen("matters")
    h.pump(3)


def matter_buttons(h: Harness) -> list[object]:
    shown = [w for w in h.nav.current.walk(restrict=True)
             if str(getattr(w, "name", "")).startswith("matter_")]
    return sorted(shown, key=lambda w: -w.to_window(*w.pos)[1])      # top to bottom


def bottom_of(widget: object) -> float:
    return float(widget.to_window(*widget.pos)[1])                 # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_every_page_is_filled_down_to_the_footer(harness: Harness, mode: str) -> None:
    """A page ends only where the next matter would not fit above the page buttons; every
    matter is on exactly one page, in catalogue order."""
    h = harness
    open_matters(h)
    gap = h.ui.theme.gap
    pages: list[tuple[list[str], float, float]] = []      # names, free height, first height
    while True:
        buttons = matter_buttons(h)
        assert buttons, f"page {len(pages) + 1} is empty"
        footer_top = h.find("next_page").to_window(*h.find("next_page").pos)[1] + \
            h.find("next_page").height
        free = bottom_of(buttons[-1]) - footer_top
        assert free >= 0, f"page {len(pages) + 1} runs {-free:.0f} px into the footer"
        pages.append(([str(b.name) for b in buttons], free, float(buttons[0].height)))
        h.screenshot(f"matters-page-{len(pages)}-{mode}")
        if not h.find("next_page").enabled:
            break
        h.tap("next_page")
    for number, ((_, free, _), (_, _, next_height)) in enumerate(pairwise(pages), 1):
        # the list's bottom is the body's; the root's spacing (2 gaps) lies above the footer
        assert free < next_height + gap * 3, (
            f"page {number} leaves {free:.0f} px empty, room for a {next_height:.0f} px matter")
    shown = [name for names, _, _ in pages for name in names]
    catalogue = [f"matter_{m.code}" for m in h.ui.service.all_matters()]
    assert shown == catalogue


@pytest.mark.kiosk(elder=True)
def test_going_back_from_a_guide_keeps_the_page(harness: Harness) -> None:
    h = harness
    open_matters(h)
    h.tap("next_page")
    first = str(matter_buttons(h)[0].name)
    h.tap(first)
    h.wait_screen("guide")
    h.tap("back")
    h.wait_screen("matters")
    h.pump(3)
    assert str(matter_buttons(h)[0].name) == first


@pytest.mark.parametrize("mode", MODES)
def test_touching_the_search_field_opens_the_keyboard(harness: Harness, mode: str) -> None:
    h = harness
    open_matters(h)
    screen = h.nav.current
    palette = h.ui.theme.palette
    assert tuple(screen.search_text.color) == palette.muted        # the hint, in grey
    h.tap("search_field")
    assert screen.keyboard is not None and h.has("key_h")
    h.type_keys("hj")
    assert "hj" in screen.search_text.text
    assert tuple(screen.search_text.color) == palette.text         # typed: the text colour
    h.tap("key_clear")
    assert tuple(screen.search_text.color) == palette.muted


def test_the_catalogue_words_come_first_in_the_candidate_bar(harness: Harness) -> None:
    h = harness
    open_matters(h)
    h.tap("search_field")
    h.type_keys("hjzm")
    assert h.find("candidate_0").text == "户籍证明"         # a keyword of 户籍类证明开具
    h.tap("candidate_0")
    assert h.nav.current.query == "户籍证明"
    assert str(matter_buttons(h)[0].name) == "matter_GA-HJZM-001"
    h.tap("key_clear")
    h.type_keys("wf")                                     # first syllables: whole words offered
    offered = [h.find(f"candidate_{i}").text for i in range(3)]
    assert offered[0] == "无犯罪记录证明", offered

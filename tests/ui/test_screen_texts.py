"""Text on the screens as a reader meets it: lines broken by 避头尾 rules, words kept whole,
English written as English, the progress bar telling the path taken, the printing screen
saying what happened, and the demo strip beside the kiosk, not over it."""

from __future__ import annotations

from datetime import datetime

import pytest
from kivy.core.text import DEFAULT_FONT
from kivy.uix.label import Label
from test_journey import (
    reach_delivery,
    reach_review_missing,
    shot,
    start_matter,
)
from ui_harness import Harness

from drivers.status import PaperLevel
from kiosk.interaction.linebreak import CLOSING, OPENING
from kiosk.paths import ASSETS
from screens.app import register_font
from screens.citizen.printing import BusySpinner
from screens.demo_panel import DemoPanel
from screens.theme import Theme
from screens.widgets import KioskButton, Text
from screens.wrapping import text_width

REASON = ("[b]原因[/b]：须男女双方共同到婚姻登记机关办理结婚登记手续，不能代办（委托）。"
          "请到户籍所在地的婚姻登记处，带好身份证、户口簿，周一至周五上午九点到下午五点。")
FULL_WIDTH = "，、；：（）。"


def drawn_lines(label: Label) -> list[str]:
    """The lines Kivy actually laid out (its core label's words, joined)."""
    label.texture_update()
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


@pytest.mark.parametrize("elder", [False, True])
def test_no_drawn_line_starts_with_closing_or_ends_with_opening_punctuation(elder: bool) -> None:
    register_font(ASSETS)
    text = Text(Theme(dpi=96, elder=elder), REASON)
    for width in range(160, 1000, 9):
        text.text_size = (width, None)
        lines = [line for line in drawn_lines(text) if line.strip()]
        assert len(lines) > 1 or width > 700
        for line in lines:
            assert line[0] not in CLOSING, (width, lines)
            assert line.rstrip()[-1] not in OPENING, (width, lines)


def test_a_button_label_is_shrunk_to_fit_not_broken() -> None:
    register_font(ASSETS)
    theme = Theme(dpi=96, elder=True)
    button = KioskButton(theme, "收起键盘", None, size_hint_x=None, width=theme.mm(40))
    button.text_size = (button.width - theme.gap * 2, None)
    assert [line for line in drawn_lines(button) if line] == ["收起键盘"]
    assert button.texture_size[0] <= button.text_size[0]


@pytest.mark.kiosk(demo=True)
def test_the_demo_strip_covers_no_footer_button(harness: Harness) -> None:
    h = harness
    panel = next(w for w in h.widgets() if isinstance(w, DemoPanel))

    def check() -> None:
        h.pump(3)
        top = panel.to_window(panel.x, panel.top)[1]
        below = [(w.name, round(w.to_window(w.x, w.y)[1]))
                 for w in h.nav.current.walk(restrict=True)
                 if isinstance(w, KioskButton) and w.to_window(w.x, w.y)[1] < top - 0.5]
        assert not below, f"under the demo strip (top {top:.0f}) on {h.screen}: {below}"

    check()
    shot(h, "attract-demo")
    h.tap("start")
    h.wait_screen("matters")
    check()
    shot(h, "matters-demo")


def notice_printed(h: Harness) -> None:
    reach_review_missing(h)
    h.tap("notice")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the notice to print")


def test_a_correction_notice_shows_the_skipped_steps_and_the_printed_title(
        harness: Harness) -> None:
    h = harness
    notice_printed(h)
    shot(h, "printing-notice-steps")
    names = h.names()
    assert {"step_6_skipped", "step_7_skipped", "step_5_done"} <= names, sorted(names)
    assert "step_6_done" not in names and "step_7_done" not in names
    shown = h.text_on_screen()
    assert "打印完成" in shown and "打印回执" in shown      # the title; the step's name
    h.tap("next")
    h.wait_screen("rating")
    assert {"step_6_skipped", "step_7_skipped"} <= h.names()


def test_printing_shows_a_turning_spinner_while_it_works(harness: Harness) -> None:
    h = harness
    h.tap("start")
    h.wait_screen("matters")
    printing = h.nav.screen("printing")
    printing.wipe_state()                         # working: what the citizen sees first
    h.nav.go("printing")
    h.pump(2)
    spinner = next(w for w in printing.walk(restrict=True) if isinstance(w, BusySpinner))
    start = spinner.angle
    h.wait(lambda: spinner.angle != start, "the spinner to turn")
    assert "打印" in h.text_on_screen()


@pytest.mark.kiosk(language="en")
def test_english_guide_reads_as_english(harness: Harness) -> None:
    h = harness
    start_matter(h)
    primary = [str(w.text).split("\n[size=")[0] for w in h.nav.current.walk(restrict=True)
               if isinstance(w, Label) and w.text]
    facts = "\n".join(primary)
    # the rule before anyone is identified, not somebody else's district (issue 23)
    assert "[/b]: the public security of your registered residence" in facts
    assert "Yuzhong" not in facts
    assert "Electronic, By post" in facts and "7 working days" in facts
    assert "(original, 1 copy, 1–2 pages)" in facts
    assert "(s)" not in facts and "(ies)" not in facts
    english = [line for line in primary if "Handled by" in line or "copy" in line]
    assert english and not any(mark in line for line in english for mark in FULL_WIDTH)


@pytest.mark.kiosk(language="en")
def test_english_chips_are_as_wide_as_their_labels(harness: Harness) -> None:
    h = harness
    h.tap("start")
    h.wait_screen("matters")
    h.tap("browse_department")
    h.pump(3)
    chips = [w for w in h.nav.current.walk(restrict=True) if isinstance(w, KioskButton)
             and str(w.name).startswith(("scope_", "browse_", "facet_"))]
    assert any(str(w.name).startswith("facet_") for w in chips)
    theme = h.ui.theme
    for chip in chips:
        label = chip.text.split("\n")[0]
        drawn = text_width(label, DEFAULT_FONT, chip.font_size)
        assert chip.width <= max(drawn + theme.gap * 2 + theme.mm(5), theme.target + 1), \
            (chip.name, label, chip.width, drawn)
    assert "Public Security" in h.text_on_screen()              # department names translated


def test_the_phone_row_and_the_province_prompt_carry_english(harness: Harness) -> None:
    h = harness
    reach_delivery(h)
    assert "Mobile number" in h.find("field_phone").text
    h.tap("delivery_pickup")                      # the keypad opens under the phone row
    h.type_digits("138")
    shot(h, "delivery-phone-english")
    assert "Mobile number" in h.find("field_phone").text     # also while typing
    h.tap("done_editing")
    h.tap("delivery_post_other")                  # the province picker
    shot(h, "delivery-province")
    assert "Choose a province" in h.text_on_screen()


def test_a_notice_the_printer_could_not_print_is_on_screen_and_never_printed_later(
        harness: Harness) -> None:
    """Paper out at the notice: the next citizen must not be handed this one's notice after
    the refill, so it is not held; its items are on the screen and read out instead."""
    h = harness
    reach_review_missing(h)
    h.kiosk.printer.set_paper(PaperLevel.OUT)
    h.tap("notice")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the notice's outcome")
    shot(h, "printing-notice-no-paper")
    shown = h.text_on_screen()
    assert "通知书未能打印" in shown and "补正通知书未能打印" in shown
    assert "&bl;" not in shown                   # markup drawn as markup, not as text
    for problem in h.journey.session.result.problems:       # every item, where it can be noted
        assert problem.zh.split("（")[0] in shown
    assert h.kiosk.printing.pending == []
    h.kiosk.printer.refill()
    h.kiosk.refresh(datetime.now())
    assert h.kiosk.printer.virtual.jobs == []                # nothing comes out for the next one

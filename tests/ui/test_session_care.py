"""Issue 20, items 5, 6, 9 and 10, as a citizen meets them: the next citizen starts in the
default language and mode; the kiosk reads out what a citizen who cannot read the screen needs;
a bad rating asks why; the ID card reminder comes when the card is read and at the receipt.

Speech is checked on the emulated speaker, which records every prompt it was given.
"""

from __future__ import annotations

import re

from test_journey import (
    lay_pages,
    reach_delivery,
    reach_review_missing,
    required_materials,
    shot,
    start_matter,
)
from ui_harness import Harness

from kiosk.rating import RatingReason
from kiosk.session import Rating
from screens.citizen.journey import ATTRACT_RESET_S


def spoken(h: Harness) -> list[str]:
    return [text for text, _lang in h.kiosk.speaker.spoken]


def said_since(h: Harness, mark: int) -> str:
    return "\n".join(spoken(h)[mark:])


def print_notice(h: Harness) -> None:
    h.tap("notice")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the notice to print")


def test_an_elder_session_leaves_the_next_citizen_the_standard_view(harness: Harness) -> None:
    h = harness
    h.tap("elder")                                 # on the attract screen
    assert h.ui.theme.elder
    reach_review_missing(h)
    print_notice(h)
    h.tap("next")
    h.wait_screen("rating")
    h.tap("back")                                  # 不评价，结束
    h.wait_screen("done")
    h.tap("home")
    h.wait_screen("attract")
    shot(h, "attract-after-elder-session")
    assert not h.ui.theme.elder, "the next citizen starts in the standard view"
    assert "长辈版" in h.find("elder").text


def test_a_cancelled_english_session_leaves_chinese(harness: Harness) -> None:
    h = harness
    h.tap("language")                              # on the attract screen
    assert h.ui.tr.lang == "en"
    h.tap("start")
    h.wait_screen("matters")
    h.tap("cancel")
    h.tap("confirm")
    h.wait_screen("attract")
    shot(h, "attract-after-english-cancel")
    assert h.ui.tr.lang == "zh_CN"
    assert "开始办理" in h.find("start").text


def test_language_mode_and_voice_switch_on_any_screen_and_reset(harness: Harness) -> None:
    h = harness
    start_matter(h)                                # on the guide
    h.tap("tool_language")
    assert h.ui.tr.lang == "en" and "Service guide" in h.text_on_screen()
    h.tap("tool_elder")
    assert h.ui.theme.elder and h.screen == "guide"
    shot(h, "guide-english-elder")
    h.tap("tool_voice")                            # voice off for this citizen
    assert not h.ui.voice.enabled
    mark = len(spoken(h))
    h.tap("next")
    h.wait_screen("identify")
    assert len(spoken(h)) == mark, "nothing is said with voice off"
    h.tap("read_aloud")                            # ... unless the citizen asks for it
    assert len(spoken(h)) == mark + 1
    h.tap("cancel")
    h.tap("confirm")
    h.wait_screen("attract")
    assert h.ui.tr.lang == "zh_CN" and not h.ui.theme.elder and h.ui.voice.enabled


def test_read_aloud_reads_the_guides_key_facts(harness: Harness) -> None:
    h = harness
    start_matter(h)
    matter = h.journey.session.matter
    mark = len(spoken(h))
    h.tap("read_aloud")
    text = said_since(h, mark)
    assert matter.name in text
    assert "户籍所在地" in text          # the rule, not somebody else's district (issue 23)
    assert f"{matter.time_limits.promised_days}个工作日" in text or "当场办结" in text
    assert "不收费" in text or "元" in text
    count = len(h.journey.session.situation.materials)
    assert f"{count}项材料" in text


def test_missing_items_and_the_card_reminder_are_read_out(harness: Harness) -> None:
    h = harness
    start_matter(h)
    h.tap("next")
    h.wait_screen("identify")
    mark = len(spoken(h))
    h.kiosk.identity.present("resident")
    h.wait(lambda: h.has("next"), "the card to be read")
    shot(h, "identify-read-reminder")
    assert h.has("card_reminder"), "a visible reminder to take the card back"
    assert "请取回您的身份证" in said_since(h, mark)
    h.tap("next")
    h.wait_screen("capture")
    first_id, first_pages = required_materials(h)[0]
    lay_pages(h, first_id, first_pages)
    mark = len(spoken(h))
    h.tap("review")
    h.wait_screen("review")
    text = said_since(h, mark)
    problems = h.journey.session.result.problems
    assert len(problems) >= 2
    for problem in problems:                       # each missing item by name
        assert problem.zh.split("（")[0].split("：")[0] in text
    assert "请看屏幕" not in text
    mark = len(spoken(h))
    h.tap("read_aloud")                            # and again on request
    assert problems[-1].zh.split("（")[0].split("：")[0] in said_since(h, mark)


def test_the_case_number_is_read_digit_by_digit_and_the_card_reminded(harness: Harness) -> None:
    h = harness
    reach_delivery(h)
    h.tap("delivery_pickup")
    h.type_digits("13800138000")
    h.tap("done_editing")
    h.tap("next")
    h.wait_screen("confirm")
    h.tap("agree")
    mark = len(spoken(h))
    h.tap("submit")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the receipt to print")
    shot(h, "printing-receipt-reminder")
    number = h.nav.current.number
    text = said_since(h, mark)
    digits = " ".join(ch for ch in number if ch.isdigit())
    assert re.sub(r"[，, ]+", " ", text).count(digits[:11]) >= 1, text
    assert " ".join(number.replace("-", "")) in re.sub(r"[，,]\s*", " ", text)
    assert "窗口" in text and "领取" in text            # where to collect the result
    assert h.has("card_reminder")
    assert "身份证" in text


def test_a_bad_rating_asks_why_and_whether_staff_may_call(harness: Harness) -> None:
    h = harness
    reach_review_missing(h)
    print_notice(h)
    h.tap("next")
    h.wait_screen("rating")
    session = h.journey.session
    h.tap("rate_very_dissatisfied")
    assert h.screen == "rating", "a bad rating does not jump to done"
    shot(h, "rating-reasons")
    h.tap("reason_guide_unclear")
    h.tap("reason_too_slow")
    h.tap("reason_too_slow")                       # a second tap takes it back
    h.tap("reason_device_fault")
    h.tap("contact_yes")
    shot(h, "rating-reasons-chosen")
    h.tap("submit_rating")
    h.wait_screen("done")
    record = session.rating
    assert record.level is Rating.VERY_DISSATISFIED
    assert record.reasons == (RatingReason.GUIDE_UNCLEAR, RatingReason.DEVICE_FAULT)
    assert record.staff_may_contact is True


def test_a_bad_rating_takes_optional_words(harness: Harness) -> None:
    h = harness
    reach_review_missing(h)
    print_notice(h)
    h.tap("next")
    h.wait_screen("rating")
    session = h.journey.session
    h.tap("rate_dissatisfied")
    h.tap("rating_words")
    h.type_keys("man")
    h.tap("candidate_0")
    shot(h, "rating-words")
    h.tap("words_done")
    h.tap("contact_no")
    h.tap("submit_rating")
    h.wait_screen("done")
    record = session.rating
    assert record.level is Rating.DISSATISFIED and record.comment
    assert record.staff_may_contact is False and record.reasons == ()


def test_a_card_taken_back_turns_the_reminder_into_a_tick(harness: Harness) -> None:
    h = harness
    start_matter(h)
    h.tap("next")
    h.wait_screen("identify")
    h.kiosk.identity.present("resident")
    h.wait(lambda: h.has("next"), "the card to be read")
    h.kiosk.identity.remove()
    h.wait(lambda: "证件已取回" in h.text_on_screen(), "the reader to see the card go")
    assert "请取回您的身份证" not in h.text_on_screen()


def test_a_choice_left_on_the_attract_screen_is_undone(harness: Harness) -> None:
    h = harness
    h.tap("language")
    h.tap("elder")
    assert h.ui.tr.lang == "en" and h.ui.theme.elder
    h.clock.advance(ATTRACT_RESET_S + 1)           # nobody touched it since
    h.wait(lambda: h.ui.tr.lang == "zh_CN", "the attract screen to return to the defaults")
    assert not h.ui.theme.elder and "开始办理" in h.find("start").text

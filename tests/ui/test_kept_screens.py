"""Screens kept whole from one citizen to the next (issue 20, speed): the next citizen is shown
the same widgets, refilled with their own data only, and what the last citizen typed, chose or
showed is emptied from every kept widget when their session ends, shown or not."""

from __future__ import annotations

from typing import Any

from test_journey import APPLICANT, MATTER, identify, lay_pages, required_materials, start_matter
from ui_harness import Harness

from kiosk.privacy import mask_name

FIRST_MATTER = "GA-HKQY-003"     # 夫妻投靠户口迁移, found by its initials
TYPED = "hkqy"                   # not the placeholder's example (hjzm)
MASKED = mask_name(APPLICANT[0])
WAITING = "请将身份证放在读卡区"


def kept_texts(h: Harness) -> str:
    """Every text in every widget the screens keep for the next citizen, shown or not."""
    texts = []
    for screen in h.nav.manager.screens:
        for kept in getattr(screen, "kept_widgets", list)():
            texts += [str(getattr(w, "text", "")) for w in kept.walk(restrict=True)]
    return "\n".join(texts)


def waiting_text(h: Harness) -> Any:
    return next(w for w in h.widgets() if WAITING in str(getattr(w, "text", "")))


def first_citizen(h: Harness) -> dict[str, Any]:
    """Searches by pinyin, reads a guide and has the card read, then cancels. Returns the
    widgets that showed it."""
    h.tap("start")
    h.wait_screen("matters")
    h.tap("search")
    h.type_keys(TYPED)
    matters = h.nav.current
    assert TYPED in matters.search_text.text
    seen = {"search_text": matters.search_text, "results": matters.results}
    h.tap(f"matter_{FIRST_MATTER}")
    h.wait_screen("guide")
    h.tap("next")
    h.wait_screen("identify")
    seen["waiting"] = waiting_text(h)
    h.kiosk.identity.present("resident")
    h.wait(lambda: h.has("next"), "the card to be read")
    assert MASKED in h.text_on_screen()
    h.tap("cancel")
    h.tap("confirm")
    h.wait_screen("attract")
    h.kiosk.identity.remove()
    return seen


def test_kept_screens_show_the_next_citizen_none_of_the_last(harness: Harness) -> None:
    h = harness
    seen = first_citizen(h)
    left = kept_texts(h)
    assert TYPED not in left and MASKED not in left        # emptied, shown or not
    h.tap("start")
    h.wait_screen("matters")
    h.pump(3)
    matters = h.nav.current
    assert matters.search_text is seen["search_text"]     # the same widgets ...
    assert matters.results is seen["results"]
    assert TYPED not in h.text_on_screen()                # ... with nothing of the last one
    assert "搜索" in h.find("search").text and not h.has("key_h")   # keyboard closed
    assert h.has(f"matter_{MATTER}")                      # the whole list, not the search's
    h.tap(f"matter_{MATTER}")
    h.wait_screen("guide")
    shown = h.text_on_screen()
    assert "户籍类证明开具" in shown and "夫妻投靠" not in shown
    h.tap("next")
    h.wait_screen("identify")
    assert waiting_text(h) is seen["waiting"]
    assert MASKED not in h.text_on_screen() and "读取成功" not in h.text_on_screen()


def test_a_shot_redraws_only_what_it_changed(harness: Harness) -> None:
    # after each shot the whole capture screen was built and rendered again (issue 20:
    # page placed → captured took 1.5–2× the hold)
    h = harness
    start_matter(h)
    identify(h)
    material_id, count = required_materials(h)[0]
    h.tap(f"material_{material_id}")
    h.pump(2)
    rows = {name: h.find(name) for name in h.names() if name.startswith("material_")}
    kept = {name: h.find(name) for name in ("shoot", "retake", "review")}
    assert "○" in rows[f"material_{material_id}"].text
    lay_pages(h, material_id, 1)
    h.pump(3)
    assert all(h.find(name) is row for name, row in rows.items())    # the same widgets ...
    assert all(h.find(name) is widget for name, widget in kept.items())
    shown = h.find(f"material_{material_id}").text                     # ... showing the shot
    assert ("✓" in shown if count == 1 else "○" in shown) and "1" in shown
    assert h.has(f"page_{material_id}_1") and h.find("retake").enabled

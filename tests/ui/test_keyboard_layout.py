"""The on-screen keyboards hold still while the citizen types (issue 20, item 4).

A key that moves under a finger types the wrong letter: with a candidate bar that grew after
the first letter, tapping h-j-z-m where the keys had been typed "hial". Every key's window
position is recorded before and after each letter, and the letters are typed by touching
where the keys were at the start.
"""

from __future__ import annotations

import pytest
from kivy.core.window import Window
from ui_harness import Harness

from screens.citizen.matters import keyboard_labels
from screens.keyboard import NumericKeypad

Box = tuple[int, int, int, int]
MODES = [pytest.param("standard", marks=pytest.mark.kiosk(), id="standard"),
         pytest.param("elder", marks=pytest.mark.kiosk(elder=True), id="elder"),
         pytest.param("english", marks=pytest.mark.kiosk(language="en"),
                      id="english")]


def open_search_keyboard(h: Harness) -> None:
    h.tap("start")
    h.wait_screen("matters")
    h.tap("search")
    h.pump(3)


def key_boxes(h: Harness) -> dict[str, Box]:
    """Window position and size of every key and of the candidate bar's slots."""
    keyboard = h.nav.current.keyboard
    assert keyboard is not None, "the keyboard is open"
    boxes: dict[str, Box] = {}
    for widget in keyboard.walk(restrict=True):
        name = str(getattr(widget, "name", ""))
        if name.startswith("key_") or widget is keyboard._bar:
            x, y = widget.to_window(*widget.pos)
            boxes[name or "candidate_bar"] = (round(x), round(y), round(widget.width),
                                              round(widget.height))
    return boxes


def centre(box: Box) -> tuple[float, float]:
    x, y, width, height = box
    return x + width / 2, y + height / 2


@pytest.mark.parametrize("mode", MODES)
def test_no_key_moves_while_typing(harness: Harness, mode: str) -> None:
    h = harness
    open_search_keyboard(h)
    keyboard = h.nav.current.keyboard
    start = key_boxes(h)
    assert "key_h" in start and "candidate_bar" in start
    moved: dict[str, list[str]] = {}
    for letter in "hjzm":                             # typed by name: wherever the key is now
        h.tap(f"key_{letter}")
        h.pump(3)
        now = key_boxes(h)
        moved[letter] = sorted(name for name in start if now.get(name) != start[name])
    h.tap("key_clear")
    for letter in "hjzm":                             # where the key was before any typing
        h.touch_at(*centre(start[f"key_{letter}"]))
    h.pump(3)
    h.screenshot(f"typed-hjzm-{mode}")
    typed = keyboard.buffer
    assert typed == "hjzm", f"tapping h-j-z-m where the keys were typed {typed!r}"
    assert h.nav.current.query == "hjzm"
    assert not any(moved.values()), f"moved after each letter: {moved}"


@pytest.mark.parametrize("mode", MODES)
def test_candidates_fit_their_fixed_bar(harness: Harness, mode: str) -> None:
    """A long candidate word shrinks to one line in its key; it never grows the bar."""
    h = harness
    open_search_keyboard(h)
    keyboard = h.nav.current.keyboard
    bar_height = keyboard._bar.height
    keyboard.type_text("hujileizhengmingkaiju")      # 户籍类证明开具: seven syllables
    h.pump(3)
    assert keyboard._bar.height == bar_height
    keys = [w for w in keyboard._bar.children if str(getattr(w, "name", "")).startswith("cand")]
    assert keys
    for key in keys:
        assert key.texture_size[1] <= key.height, f"{key.text!r} spills out of its key"
        assert key.texture_size[0] <= key.width, f"{key.text!r} is wider than its key"


@pytest.mark.parametrize("mode", MODES)
def test_keypad_keys_are_one_size_in_level_rows(harness: Harness, mode: str) -> None:
    """清空 / 删除 have two lines in standard mode; 0 between them was shorter and lower."""
    h = harness
    keypad = NumericKeypad(h.ui.theme, lambda _text: None, keyboard_labels(h.ui),
                           size_hint_x=None, width=h.ui.theme.mm(150))
    Window.add_widget(keypad)
    try:
        h.pump(4)
        keys = {str(w.name): w for w in keypad.children}
        heights = {name: round(key.height) for name, key in keys.items()}
        assert len(set(heights.values())) == 1, heights
        bottom = {name: round(keys[name].to_window(*keys[name].pos)[1])
                  for name in ("digit_clear", "digit_0", "digit_delete")}
        assert len(set(bottom.values())) == 1, bottom
        for key in keys.values():
            assert key.texture_size[1] <= key.height, f"{key.text!r} spills out of its key"
    finally:
        Window.remove_widget(keypad)

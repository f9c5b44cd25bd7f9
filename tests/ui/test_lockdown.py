"""Issue 26: in run mode no key or key combination leaves, inspects or reconfigures the app.

Every combination goes through Kivy's own window dispatch, as SDL's event loop sends a key
(``on_key_down``, then ``on_keyboard`` unless it was taken), with what listens there in a
real run: App.run's settings key (F1), Kivy's keybinding module (F11 rotates, F12 takes a
screenshot), Escape closing the app (``exit_on_escape`` as a config.ini may set it), and a
close request (Alt+F4 through a window manager, SDL's quit)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from kivy.core.window import Window, WindowBase
from kivy.modules import keybinding
from kivy.uix.settings import Settings
from ui_harness import Harness

from screens.lockdown import refused_key, unlock_window

COMBINATIONS = {
    "Escape": (27, []), "Alt+F4": (285, ["alt"]), "F1": (282, []), "F12": (293, []),
    "Shift+F12": (293, ["shift"]), "F8": (289, []), "F11": (292, []),
    "Shift+F11": (292, ["shift"]), "Ctrl+C": (99, ["ctrl"]), "Ctrl+Q": (113, ["ctrl"]),
    "Ctrl+W": (119, ["ctrl"]), "Meta+Q": (113, ["meta"]), "Alt+Tab": (9, ["alt"]),
    "Tab": (9, []), "Ctrl+E (inspector)": (101, ["ctrl"]), "Alt+Escape": (27, ["alt"]),
    "Ctrl+Alt+Backspace": (8, ["ctrl", "alt"]), "Ctrl+Alt+Delete": (127, ["ctrl", "alt"]),
    "Ctrl+Alt+F1": (282, ["ctrl", "alt"]), "Super+D": (100, ["super"]),
    "Alt+F2": (283, ["alt"]), "Ctrl+Shift+Escape": (27, ["ctrl", "shift"]),
}


def press(key: int, modifiers: list[str]) -> None:
    """As WindowSDL._mainloop does with a key down."""
    codepoint = chr(key) if 32 <= key < 127 else None
    if not Window.dispatch("on_key_down", key, 0, codepoint, modifiers):
        Window.dispatch("on_keyboard", key, 0, codepoint, modifiers)


@pytest.fixture
def listeners(harness: Harness) -> Iterator[dict[str, list[Any]]]:
    """What a real run has on the window, with spies behind it; then run mode's lock."""
    seen: dict[str, list[Any]] = {"keyboard": [], "close": []}

    def keyboard(_w: Any, key: int, *_: Any) -> bool:
        seen["keyboard"].append(key)
        return False

    def close(*_: Any, **__: Any) -> bool:
        seen["close"].append(True)
        return True                      # the spy keeps the test's window open itself
    Window.bind(on_keyboard=keyboard, on_request_close=close)
    keybinding.start(Window, None)
    harness.app._install_settings_keys(Window)         # what App.run binds
    escape = WindowBase.on_keyboard.exit_on_escape
    WindowBase.on_keyboard.exit_on_escape = True
    interrupt, cursor = signal.getsignal(signal.SIGINT), Window.show_cursor
    harness.app.locked = True
    harness.app.on_start()
    try:
        yield seen
    finally:
        unlock_window(Window)
        signal.signal(signal.SIGINT, interrupt)      # the lock ignores SIGINT: not pytest's
        Window.show_cursor, Window.allow_screensaver = cursor, True
        WindowBase.on_keyboard.exit_on_escape = escape
        Window.unbind(on_keyboard=harness.app._on_keyboard_settings)
        keybinding.stop(Window, None)
        Window.unbind(on_keyboard=keyboard, on_request_close=close)
        Window.rotation = 0


def test_no_key_combination_leaves_or_inspects(harness: Harness,
                                               listeners: dict[str, list[Any]]) -> None:
    rotation, size = Window.rotation, tuple(Window.size)
    for name, (key, modifiers) in COMBINATIONS.items():
        press(key, modifiers)
        harness.pump(2)
        assert listeners["keyboard"] == [], f"{name} reached Kivy's key handlers"
        assert listeners["close"] == [], f"{name} asked the window to close"
        assert not any(isinstance(w, Settings) for w in Window.children), name
        assert (Window.rotation, tuple(Window.size)) == (rotation, size), name
        assert harness.screen == "attract", name
    assert not Window.show_cursor and not Window.allow_screensaver


def test_a_close_request_is_refused(harness: Harness,
                                    listeners: dict[str, list[Any]]) -> None:
    """SDL's quit (a window manager's close, Alt+F4 where one runs) becomes this."""
    assert Window.dispatch("on_request_close") is True
    assert listeners["close"] == []


def test_plain_typing_still_reaches_the_app(harness: Harness,
                                            listeners: dict[str, list[Any]]) -> None:
    """A USB keyboard may type into a field of the app that asks for keys: letters, digits,
    space, Backspace, Enter pass the lock (no field of the app asks today: they go nowhere)."""
    for key in (ord("a"), ord("7"), 32, 8, 13):
        assert not refused_key(key, [])
        assert not refused_key(key, ["shift"])
    press(ord("a"), [])
    assert listeners["keyboard"] == [ord("a")]      # passed on, and nothing acted on it
    assert harness.screen == "attract"

"""Run mode (``kiosk run``) keeps a citizen in the app: no key, key combination, close
request, Kivy module or settings panel leaves or inspects it, and no cursor shows.

What the app itself does (the session around it — no sleep, blanking, notifications, VT
switch, edge gestures — is the installed kiosk session's):
- before the window exists (:func:`configure_lockdown`): Kivy's modules (inspector,
  screenshot, keybinding: F8/F11/F12 and the inspector's Ctrl+E) are switched off whatever a
  ``config.ini`` says; Escape does not close the app; no multitouch simulation on right click;
  SDL may not let the screen saver run; SDL's own SIGINT/SIGTERM handlers are not installed;
- on the window (:func:`lock_window`): every key with Ctrl, Alt, Super or Meta, Escape, Tab
  and every function key is swallowed before Kivy or the app acts on it, so plain typing is
  all a USB keyboard can do, and only into a field of the app that asks for keys; the window
  refuses to close; the cursor is hidden;
- the process ignores SIGINT (Ctrl+C in a terminal); SIGTERM stops the app cleanly
  (screens/supervision.py).
"""

from __future__ import annotations

import os
import signal
from typing import Any

ESCAPE, TAB, BACKSPACE = 27, 9, 8
FUNCTION_KEYS = range(282, 297)         # F1–F15 in Kivy's key map
COMBINING = {"ctrl", "alt", "meta", "super", "alt-gr", "compose"}
REFUSED_KEYS = {ESCAPE, TAB, *FUNCTION_KEYS}


def configure_lockdown() -> None:
    """Before Kivy creates the window (screens/launch.py configure)."""
    os.environ["SDL_VIDEO_ALLOW_SCREENSAVER"] = "0"
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
    from kivy.config import Config

    for name in Config.options("modules") if Config.has_section("modules") else ():
        Config.remove_option("modules", name)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("graphics", "show_cursor", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def refused_key(key: int, modifiers: list[str] | tuple[str, ...]) -> bool:
    """A key that could leave, inspect or reconfigure the app (anything but typing)."""
    return key in REFUSED_KEYS or bool(COMBINING & set(modifiers or ()))


def lock_window(window: Any) -> None:
    """Bind last, so these handlers run first (Kivy calls the newest binding first)."""
    window.show_cursor = False
    window.allow_screensaver = False
    window.bind(on_key_down=_key_down, on_keyboard=_key_down,
                on_request_close=_refuse_close)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def unlock_window(window: Any) -> None:
    window.unbind(on_key_down=_key_down, on_keyboard=_key_down,
                  on_request_close=_refuse_close)


def _key_down(_window: Any, key: int, _scancode: Any = None, _codepoint: Any = None,
              modifiers: Any = (), *_: Any) -> bool:
    return refused_key(key, modifiers)


def _refuse_close(*_: Any, **__: Any) -> bool:
    return True

"""暂停服务: the still page the kiosk PC shows once systemd has given up restarting the app
(deploy/systemd/tongban-kiosk-paused.service, the app unit's OnFailure=).

Kivy and the standard library only, none of the kiosk's core: whatever keeps the app from
starting (a broken setting, a device, a bug) must not keep this page from showing too.

    python -m screens.paused --settings /etc/tongban-kiosk/settings.toml
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path
from typing import Any

FONT = Path(__file__).resolve().parent.parent / "assets" / "fonts" / "NotoSansSC-Regular.otf"
SETTINGS_CAP = 2 * 1024 * 1024      # the settings' own limit (README: settings over 2 MB)
TEXT_CAP = 120                      # characters of a name or phone shown
HEADLINE = ["暂停服务", "Out of service"]
ADVICE = ["请到服务台办理或咨询", "Please ask at the service desk"]


def read_table(settings: Path, name: str) -> dict[str, Any]:
    """One table of the settings; empty when it cannot be read (missing, unreadable, over
    the size cap, not UTF-8, not TOML, not a table)."""
    try:
        with open(settings, "rb") as handle:
            data = handle.read(SETTINGS_CAP + 1)
        if len(data) > SETTINGS_CAP:
            return {}
        table = tomllib.loads(data.decode("utf-8")).get(name, {})
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def hall_lines(settings: Path) -> list[str]:
    """The hall's kiosk name and phone from the settings; none when they cannot be read."""
    kiosk = read_table(settings, "kiosk")
    if not kiosk:
        return []
    return [_shown(kiosk.get("name")), _phone(kiosk.get("phone"))]


def window_size(settings: Path) -> tuple[int, int]:
    """The app's own window size ([ui] orientation), portrait when unknown."""
    landscape = read_table(settings, "ui").get("orientation") == "landscape"
    return (1920, 1080) if landscape else (1080, 1920)


def _shown(value: Any) -> str:
    return value[:TEXT_CAP] if isinstance(value, str) else ""


def _phone(value: Any) -> str:
    phone = _shown(value)
    return f"咨询电话 / Phone: {phone}" if phone else ""


def page_lines(settings: Path) -> list[str]:
    return HEADLINE + ADVICE + [line for line in hall_lines(settings) if line]


def configure(size: tuple[int, int]) -> None:
    """The whole screen, no cursor, nothing that leaves: set before Kivy opens the window.
    A borderless window of the screen's size at 0,0 rather than SDL's full screen, which
    with no window manager drew the page shifted and cut off (measured on Xvfb)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("graphics", "fullscreen", "0")
    Config.set("graphics", "borderless", "1")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", "0")
    Config.set("graphics", "top", "0")
    Config.set("graphics", "show_cursor", "0")
    Config.set("kivy", "exit_on_escape", "0")


def build_page(lines: list[str]) -> Any:
    """One column of centred text on black: the headline large, the rest smaller."""
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    if FONT.is_file():
        LabelBase.register(DEFAULT_FONT, str(FONT))
    page = BoxLayout(orientation="vertical", padding=80, spacing=24)
    for number, line in enumerate(lines):
        size = "96sp" if number == 0 else "48sp" if number == 1 else "36sp"
        page.add_widget(Label(text=line, font_size=size, halign="center"))
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m screens.paused", description=__doc__)
    parser.add_argument("--settings", type=Path, default=Path("/etc/tongban-kiosk/settings.toml"))
    args = parser.parse_args(argv)
    lines = page_lines(args.settings)
    configure(window_size(args.settings))
    from kivy.app import App

    class PausedApp(App):
        title = "暂停服务"

        def build(self) -> Any:
            return build_page(lines)

    PausedApp().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

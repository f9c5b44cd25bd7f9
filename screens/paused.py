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


def hall_lines(settings: Path) -> list[str]:
    """The hall's kiosk name and phone from the settings; none when they cannot be read."""
    try:
        with open(settings, "rb") as handle:
            data = handle.read(SETTINGS_CAP + 1)
        if len(data) > SETTINGS_CAP:
            return []
        kiosk = tomllib.loads(data.decode("utf-8")).get("kiosk", {})
    except (OSError, ValueError):     # missing, unreadable, not UTF-8, not TOML
        return []
    if not isinstance(kiosk, dict):
        return []
    return [_shown(kiosk.get("name")), _phone(kiosk.get("phone"))]


def _shown(value: Any) -> str:
    return value[:TEXT_CAP] if isinstance(value, str) else ""


def _phone(value: Any) -> str:
    phone = _shown(value)
    return f"咨询电话 / Phone: {phone}" if phone else ""


def page_lines(settings: Path) -> list[str]:
    return HEADLINE + ADVICE + [line for line in hall_lines(settings) if line]


def configure() -> None:
    """Full screen, no cursor, nothing that leaves: set before Kivy opens the window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("graphics", "fullscreen", "auto")
    Config.set("graphics", "borderless", "1")
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
    configure()
    from kivy.app import App

    class PausedApp(App):         # type: ignore[misc]
        title = "暂停服务"

        def build(self) -> Any:
            return build_page(lines)

    PausedApp().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

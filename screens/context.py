"""What every screen is given: the kiosk's service (the one way into the core), text, theme,
voice and the bridge.

Passed explicitly to each screen (no ``App.get_running_app()`` lookups), so a screen can be
built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.interaction.i18n import Translator, fill
from kiosk.interaction.ime import PinyinIME
from kiosk.interaction.voice import Voice
from kiosk.service import KioskService
from screens.bridge import UiBridge
from screens.theme import Theme
from screens.widgets import two_lines


@dataclass
class Ui:
    service: KioskService
    tr: Translator
    bridge: UiBridge
    theme: Theme
    voice: Voice | None = None
    ime: PinyinIME | None = None
    clock: Callable[[], float] = field(default=lambda: 0.0)

    @property
    def colon(self) -> str:
        """'：' after a Chinese label, ': ' after an English one."""
        return "：" if self.tr.lang == "zh_CN" else ": "

    def t(self, msgid: str, **values: Any) -> str:
        """The text in the chosen language (msgid is the Chinese source string)."""
        return fill(self.tr.tr(msgid), **values) if values else self.tr.tr(msgid)

    def bi(self, msgid: str, **values: Any) -> str:
        """Markup: the text, with the second language under it (not in 长辈版)."""
        primary, secondary = self.tr.tr(msgid), self.tr.other(msgid)
        if values:
            primary, secondary = fill(primary, **values), fill(secondary, **values)
        return two_lines(self.theme, primary, secondary)

    def pair(self, zh: str, en: str) -> str:
        """Markup for text that arrives in both languages (catalogue names, device errors)."""
        primary, secondary = self.tr.pick(zh, en)
        return two_lines(self.theme, primary, secondary)

    def say(self, msgid: str, **values: Any) -> None:
        """Speak a prompt, if voice is on; never blocks the UI."""
        if self.voice is not None:
            zh = fill(self.tr.lookup(msgid, "zh_CN"), **values)
            en = fill(self.tr.lookup(msgid, "en"), **values)
            self.voice.prompt(zh, en, self.tr.lang)

    def say_pair(self, zh: str, en: str) -> None:
        if self.voice is not None:
            self.voice.prompt(zh, en, self.tr.lang)

"""What every screen is given: the kiosk's service (the one way into the core), text, theme,
voice and the bridge.

Passed explicitly to each screen (no ``App.get_running_app()`` lookups), so a screen can be
built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.interaction.i18n import Translator, fill
from kiosk.interaction.ime import PinyinIME
from kiosk.interaction.preferences import Preferences
from kiosk.interaction.speech import Speech
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
    defaults: Preferences = field(default_factory=Preferences)   # what each session starts in

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

    def speech(self, msgid: str, **values: Any) -> Speech:
        """A catalogue text in both languages, for ``speak``."""
        return Speech(self.tr.lookup(msgid, "zh_CN").format(**values),
                      self.tr.lookup(msgid, "en").format(**values))

    def speak(self, speech: Speech, asked: bool = False) -> None:
        """Read out composed speech (kiosk.interaction.speech); ``asked``: the 朗读 button."""
        if self.voice is not None:
            self.voice.prompt(speech.zh, speech.en, self.tr.lang, asked=asked)

    # --- the citizen's own choices, for one session ----------------------------------------
    @property
    def preferences(self) -> Preferences:
        voice = self.voice.enabled if self.voice is not None else self.defaults.voice
        return Preferences(self.tr.lang, self.theme.elder, voice)

    def restore_defaults(self) -> None:
        """Back to the settings' language, view and voice, silenced (a session ended)."""
        self.tr.set_language(self.defaults.language)
        self.theme = replace(self.theme, elder=self.defaults.elder)
        if self.voice is not None:
            self.voice.silence()
            self.voice.enabled = self.defaults.voice

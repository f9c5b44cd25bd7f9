"""What a citizen may change for their own session — language, 长辈版, voice — and what every
session starts with (the settings' defaults). Nothing chosen by one citizen is left for the
next: the journey restores the defaults whenever a session ends, however it ends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preferences:
    language: str = "zh_CN"     # a UI language (kiosk.interaction.i18n.LANGUAGES)
    elder: bool = False         # 长辈版: large text, high contrast
    voice: bool = True          # spoken prompts

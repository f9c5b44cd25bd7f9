"""Spoken prompts (语音提示) as the screens use them: one call per screen or state change,
in the citizen's language, silent when voice is off. Never raises: voice is optional."""

from __future__ import annotations

import logging

from drivers.speaker import Speaker

log = logging.getLogger(__name__)


def speaker_lang(ui_language: str) -> str:
    """The speaker's language for a UI language: "zh_CN" → "zh", "en" → "en"."""
    return "en" if ui_language.lower().startswith("en") else "zh"


class Voice:
    def __init__(self, speaker: Speaker, enabled: bool) -> None:
        self._speaker = speaker
        self.enabled = enabled       # the citizen may turn it on or off on any screen

    def prompt(self, zh: str, en: str, lang: str, asked: bool = False) -> None:
        """Say the prompt in ``lang`` (a UI language such as "zh_CN" or "en"), replacing
        whatever is still being said. ``asked``: the citizen pressed 朗读, which reads out
        even with voice off (off silences the kiosk's own prompts, not a request)."""
        if not (self.enabled or asked):
            return
        spoken = speaker_lang(lang)
        try:
            self._speaker.say(en if spoken == "en" else zh, spoken)
        except Exception:   # why: a broken speaker must never break the screen calling it
            log.exception("speaker %s failed", getattr(self._speaker, "name", "?"))

    def chime(self, zh: str, en: str, lang: str) -> None:
        """The staff-call chime, even with voice off (it tells the hall as much as the
        citizen), then the prompt if voice is on."""
        spoken = speaker_lang(lang)
        text = (en if spoken == "en" else zh) if self.enabled else ""
        try:
            self._speaker.chime(text, spoken)
        except Exception:   # why: as for prompts, the screen calling it must not break
            log.exception("speaker %s failed to chime", getattr(self._speaker, "name", "?"))

    def silence(self) -> None:
        """Stop talking (voice turned off, session ended)."""
        try:
            self._speaker.stop()
        except Exception:
            log.exception("speaker %s failed to stop", getattr(self._speaker, "name", "?"))

"""Speaker (语音播报): spoken prompts for citizens who cannot read the screen easily.

Voice is optional: a missing or broken speaker reports its status like any device, but
``say`` never raises, so the UI can call it without guarding every prompt.
"""

from __future__ import annotations

from typing import Protocol

from drivers.status import DeviceStatus, EventSink

LANGS = ("zh", "en")


class Speaker(Protocol):
    name: str

    def open(self, sink: EventSink | None = None) -> None: ...

    def close(self) -> None: ...

    def status(self) -> DeviceStatus: ...

    def say(self, text: str, lang: str = "zh") -> None:
        """Speak ``text`` without waiting. The newest prompt replaces any queued one and
        interrupts the one being spoken: a kiosk must never read out a stale screen."""
        ...

    def stop(self) -> None:
        """Silence: interrupt the prompt being spoken and drop any queued one."""
        ...

    def chime(self, then: str = "", lang: str = "zh") -> None:
        """The attention chime (a call for staff), then ``then`` said: one utterance, so the
        words cannot cut the chime short. Replaces what is being said, like ``say``."""
        ...


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown prompt language {lang!r}; expected one of {LANGS}")
    return lang

"""Typed errors that carry a message in Simplified Chinese and in English.

Every layer raises subclasses of :class:`BilingualError`, so the UI can show the Chinese
text to the citizen and the English text beside it without a lookup table.
"""

from __future__ import annotations


class BilingualError(Exception):
    """An error with a stable code and a message in Chinese and English."""

    code = "error"

    def __init__(self, zh: str, en: str, *, code: str | None = None) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


class DeviceError(BilingualError):
    """A device could not do what was asked."""

    code = "device_error"


class DeviceFault(DeviceError):
    """The device itself is broken or unreachable (not the citizen's doing)."""

    code = "device_fault"

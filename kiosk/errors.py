"""Typed errors of the core. All carry Chinese and English text (see drivers.errors)."""

from __future__ import annotations

from drivers.errors import BilingualError

__all__ = ["BilingualError", "ConfigError", "KioskError", "SessionError"]


class KioskError(BilingualError):
    code = "kiosk_error"


class SessionError(KioskError):
    """The citizen's session cannot go on as asked (expired card, wrong step, ...)."""

    code = "session_error"


class ConfigError(KioskError):
    """A settings or catalogue file is invalid. ``problems`` holds one line per fault."""

    code = "config_error"

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        joined = "\n".join(problems)
        super().__init__(f"配置文件有误：{path}\n{joined}",
                         f"Invalid configuration: {path}\n{joined}")

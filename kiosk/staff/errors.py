"""Staff mode's typed errors: what was refused, in Chinese and English, with a ``code``."""

from __future__ import annotations

from kiosk.errors import KioskError


class StaffError(KioskError):
    """A staff function was refused (no roster, wrong role, ...). ``code`` names why."""

    code = "staff_error"

    def __init__(self, zh: str, en: str, *, code: str) -> None:
        super().__init__(zh, en, code=code)


class AuditError(StaffError):
    """The audit log is damaged, or an entry was refused before it was written. ``seq`` is
    the first bad entry (its line number), None when the fault is not one entry's."""

    def __init__(self, zh: str, en: str, *, code: str, seq: int | None = None) -> None:
        self.seq = seq
        super().__init__(zh, en, code=code)

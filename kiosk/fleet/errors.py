"""The fleet's typed errors: each says what was refused, in Chinese and English."""

from __future__ import annotations

from kiosk.errors import KioskError


class FleetError(KioskError):
    """A configuration update was refused; the kiosk keeps what it runs. ``code`` names the
    reason in heartbeats and logs: not_a_bundle, wrong_kiosk, wrong_fleet, tampered,
    rollback, expired, untrusted, unreachable, newer_schema, invalid, post_check."""

    code = "fleet_error"

    def __init__(self, zh: str, en: str, *, code: str) -> None:
        super().__init__(zh, en, code=code)

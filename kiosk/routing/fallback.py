"""County → city → province: the entries that may serve a region without one of its own."""

from __future__ import annotations

from kiosk.routing.lookup import Fallback

LEVELS: tuple[tuple[Fallback, int], ...] = (("own", 6), ("city", 4), ("province", 2))


def fallback_chain(region: str) -> list[tuple[Fallback, str]]:
    """510802 → [(own, 510802), (city, 510800), (province, 510000)], each code once
    (a municipality's districts have no city entry: 500104 → 500100 is still tried)."""
    chain: list[tuple[Fallback, str]] = []
    for fallback, digits in LEVELS:
        code = region[:digits].ljust(6, "0")
        if all(code != seen for _, seen in chain):
            chain.append((fallback, code))
    return chain

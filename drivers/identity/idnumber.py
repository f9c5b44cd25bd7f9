"""The 18-character PRC citizen ID number (GB 11643): structure and ISO 7064 MOD 11-2."""

from __future__ import annotations

from datetime import date

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if check_char(number[:17]) != number[17].upper():
        return False
    return birth_date(number) is not None


def birth_date(number: str) -> date | None:
    """The birth date encoded at positions 7–14, or None if it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def with_check(first17: str) -> str:
    return first17 + check_char(first17)

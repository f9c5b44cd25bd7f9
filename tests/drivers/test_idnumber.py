"""GB 11643 citizen ID numbers: structure and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.identity import idnumber

# The worked example printed in GB 11643-1999 itself (a public, non-personal number).
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_is_valid() -> None:
    assert idnumber.check_char(STANDARD_EXAMPLE[:17]) == "X"
    assert idnumber.is_valid(STANDARD_EXAMPLE)
    assert idnumber.is_valid(STANDARD_EXAMPLE.lower())  # a lower-case x is still the check
    assert idnumber.birth_date(STANDARD_EXAMPLE) == date(1949, 12, 31)


@pytest.mark.parametrize("wrong", "0123456789")
def test_any_other_check_character_is_rejected(wrong: str) -> None:
    assert not idnumber.is_valid(STANDARD_EXAMPLE[:17] + wrong)


def test_impossible_birth_date_is_rejected_even_with_a_correct_check() -> None:
    number = idnumber.with_check("11010519490231002")  # 31 February
    assert idnumber.birth_date(number) is None
    assert not idnumber.is_valid(number)


@pytest.mark.parametrize("number", [
    "",
    STANDARD_EXAMPLE[:17],               # 17: check character missing
    STANDARD_EXAMPLE + "0",              # 19
    "11010519491231002",                 # 17 digits
    "1101051949123100AX",                # a letter inside the body
    "110105194912310",                   # the retired 15-digit form is not accepted here
])
def test_wrong_length_or_shape_is_rejected(number: str) -> None:
    assert not idnumber.is_valid(number)


@given(
    region=st.integers(min_value=110000, max_value=999999),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_with_check_is_always_valid_for_a_real_date(region: int, born: date,
                                                    sequence: int) -> None:
    number = idnumber.with_check(f"{region:06d}{born:%Y%m%d}{sequence:03d}")
    assert len(number) == 18
    assert idnumber.is_valid(number)
    assert idnumber.birth_date(number) == born

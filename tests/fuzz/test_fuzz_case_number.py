"""``kiosk ledger card``'s parsers of what a person types (the case number, the form) under
arbitrary text: a grouped, check-digit-valid case number or StaffError(bad_case_number /
bad_argument) with both languages — never another exception; the controls: every valid
number, however dashed or spaced, reads back as itself."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.caseno import case_number, is_valid_case_number
from kiosk.staff.errors import StaffError
from kiosk.staff.ledger_view import parse_case_number, parse_form

SEPARATORS = st.sampled_from(["-", "－", "—", " ", "", "‐", "\u3000"])


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_a_case_number_or_a_typed_error(text: str) -> None:
    try:
        number = parse_case_number(text)
    except StaffError as exc:
        assert exc.code == "bad_case_number" and exc.zh and exc.en
    else:
        assert is_valid_case_number(number) and len(number) == 25


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2000, 1, 1), date(2099, 12, 31)), seq=st.integers(1, 9999),
       sep=SEPARATORS, pad=st.sampled_from(["", " ", "\t"]))
def test_every_valid_number_reads_back_however_it_is_typed(day: date, seq: int, sep: str,
                                                           pad: str) -> None:
    right = case_number("510802-0001", day, seq)
    assert parse_case_number(pad + right.replace("-", sep) + pad) == right


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_form_name_is_a_form_or_a_typed_error(text: str) -> None:
    try:
        assert parse_form(text).value == text
    except StaffError as exc:
        assert exc.code == "bad_argument" and exc.zh and exc.en

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.platform.identifiers import InvalidIdentifier, iin
from kosh.platform.identifiers import bin as bin_number

W1 = range(1, 12)


def first_pass_remainder(first11: str) -> int:
    """Σ dᵢ·i mod 11 — the first weighting of the IIN/BIN check digit."""
    return sum(int(d) * w for d, w in zip(first11, W1, strict=True)) % 11


# ---------------------------------------------------------------------------
# IIN


@pytest.mark.parametrize(
    ("number", "born", "sex"),
    [
        ("900517301235", dt.date(1990, 5, 17), "M"),
        ("031201645674", dt.date(2003, 12, 1), "F"),
        ("990131200010", dt.date(1899, 1, 31), "F"),
        ("850704300406", dt.date(1985, 7, 4), "M"),  # check digit from the second weighting
    ],
)
def test_valid_iins_give_birth_date_and_sex(number: str, born: dt.date, sex: str) -> None:
    assert iin.validate(number) == number
    assert iin.is_valid(number)
    assert iin.birth_date(number) == born
    assert iin.sex(number) == sex


def test_iin_is_compacted() -> None:
    assert iin.validate(" 900517 301235 ") == "900517301235"
    assert iin.validate("900517-301235") == "900517301235"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("90051730123", "must have 12 digits, not 11"),
        ("9005173012355", "must have 12 digits, not 13"),
        ("90051730123A", "must contain digits only"),
        ("900517301236", "has a wrong check digit (6); check the number"),
        ("850704300420", "is not a number that can be issued (no valid check digit)"),
        ("900517001236", "the 7th digit (0) must be 1–6 (century and sex)"),
        ("901317301230", "the first six digits (901317) are not a date of birth"),
    ],
)
def test_invalid_iins_say_why(number: str, message: str) -> None:
    # The inputs carry a correct check digit wherever the message is about something else.
    with pytest.raises(InvalidIdentifier) as err:
        iin.validate(number)
    assert err.value.field == "iin"
    assert err.value.message == message
    assert not iin.is_valid(number)


def test_iin_without_any_check_digit_cannot_be_made() -> None:
    assert iin.check_digit("85070430042") is None
    assert iin.make(dt.date(1985, 7, 4), "M", 42) is None


iin_inputs = st.tuples(
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.sampled_from(["M", "F"]),
    st.integers(0, 9999),
)


def iin_first11(born: dt.date, sex: str, serial: int) -> str:
    century_digit = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100] + (sex == "F")
    return f"{born:%y%m%d}{century_digit}{serial:04d}"


@given(iin_inputs)
def test_made_iin_validates_and_gives_back_birth_date_and_sex(args: tuple[dt.date, str, int]) -> None:
    born, sex, serial = args
    number = iin.make(born, sex, serial)
    if number is None:
        assert iin.check_digit(iin_first11(born, sex, serial)) is None  # the only reason make refuses
        return
    assert number[:11] == iin_first11(born, sex, serial)
    assert iin.validate(number) == number
    assert iin.birth_date(number) == born
    assert iin.sex(number) == sex


def single_digit_changes(number: str) -> Iterator[tuple[int, str]]:
    for position, digit in enumerate(number):
        for other in "0123456789":
            if other != digit:
                yield position, number[:position] + other + number[position + 1 :]


@given(iin_inputs)
def test_single_digit_changes_of_an_iin_are_rejected(args: tuple[dt.date, str, int]) -> None:
    """Every single-digit change is caught, except where the algorithm itself is blind.

    The 11th digit has weight 11 ≡ 0 (mod 11) in the first weighting, so a
    change there goes unseen whenever the first weighting decides the check
    digit; and a change that moves the number onto or off the second
    weighting can land on the same check digit.
    """
    number = iin.make(*args)
    if number is None:
        return
    for position, changed in single_digit_changes(number):
        if not iin.is_valid(changed):
            continue
        assert position != 11
        assert (
            position == 10
            or first_pass_remainder(number[:11]) == 10
            or first_pass_remainder(changed[:11]) == 10
        ), (number, changed)


def test_the_eleventh_digit_blind_spot_is_real() -> None:
    # Recorded so nobody relies on the IIN check digit to catch a typo in the last serial digit.
    assert iin.is_valid("900517301235")
    assert iin.is_valid("900517301205")
    assert iin.birth_date("900517301205") == dt.date(1990, 5, 17)


# ---------------------------------------------------------------------------
# BIN


@pytest.mark.parametrize(
    "number",
    ["150340123451", "191151007773", "080160000422"],
)
def test_valid_bins(number: str) -> None:
    assert bin_number.validate(number) == number
    assert bin_number.is_valid(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("15034012345", "must have 12 digits, not 11"),
        ("15034012345X", "must contain digits only"),
        ("150340123452", "has a wrong check digit (2); check the number"),
        ("151340123454", "digits 3–4 (13) are not a registration month"),
        ("150370123455", "the 5th digit (7) is not an entity type (4, 5 or 6)"),
        ("150348123455", "the 6th digit (8) is not an attribute (0–3)"),
    ],
)
def test_invalid_bins_say_why(number: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        bin_number.validate(number)
    assert err.value.field == "bin"
    assert err.value.message == message
    assert not bin_number.is_valid(number)


bin_inputs = st.tuples(
    st.integers(1990, 2089),
    st.integers(1, 12),
    st.sampled_from(sorted(bin_number.ENTITY_TYPES)),
    st.sampled_from(sorted(bin_number.ATTRIBUTES)),
    st.integers(0, 99999),
)


@given(bin_inputs)
def test_made_bin_validates_and_keeps_its_parts(args: tuple[int, int, str, str, int]) -> None:
    year, month, entity_type, attribute, serial = args
    number = bin_number.make(*args)
    if number is None:
        assert iin.check_digit(f"{year % 100:02d}{month:02d}{entity_type}{attribute}{serial:05d}") is None
        return
    assert bin_number.validate(number) == number
    assert number[:4] == f"{year % 100:02d}{month:02d}"
    assert number[4] == entity_type and number[5] == attribute


@given(bin_inputs)
def test_single_digit_changes_of_a_bin_are_rejected(args: tuple[int, int, str, str, int]) -> None:
    number = bin_number.make(*args)
    if number is None:
        return
    for position, changed in single_digit_changes(number):
        if not bin_number.is_valid(changed):
            continue
        assert position != 11
        assert (
            position == 10
            or first_pass_remainder(number[:11]) == 10
            or first_pass_remainder(changed[:11]) == 10
        ), (number, changed)

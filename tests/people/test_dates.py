from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.people.dates import PartialDate, parse, validate_birth_date
from kosh.platform.identifiers import InvalidIdentifier

TODAY = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-05-17", PartialDate(1990, 5, 17)),
        ("1990-05", PartialDate(1990, 5)),
        ("1990", PartialDate(1990)),
        ("1990-00-00", PartialDate(1990)),
        ("1990-05-00", PartialDate(1990, 5)),
        ("17.05.1990", PartialDate(1990, 5, 17)),
        ("7.5.1990", PartialDate(1990, 5, 7)),
        ("00.05.1990", PartialDate(1990, 5)),
        ("00.00.1990", PartialDate(1990)),
        ("  1990-05-17 ", PartialDate(1990, 5, 17)),
        ("2000-02-29", PartialDate(2000, 2, 29)),
    ],
)
def test_parse_accepts_full_partial_and_dotted_forms(text: str, expected: PartialDate) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1990-13-01", "the month 13 is not 1–12"),
        ("01.13.1990", "the month 13 is not 1–12"),
        ("1990-02-31", "1990-02-31 does not exist"),
        ("1900-02-29", "1900-02-29 does not exist"),
        ("1990-04-31", "1990-04-31 does not exist"),
        ("32.01.1990", "the day 32 is not 1–31"),
        ("1990-00-15", "a day (15) is given but the month is not"),
        ("0000", "the year 0 is not 1–9999"),
        ("17/05/1990", "'17/05/1990' is not a date (write YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY)"),
        ("90-05-17", "'90-05-17' is not a date (write YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY)"),
        ("", "'' is not a date (write YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY)"),
    ],
)
def test_parse_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse(text)
    assert err.value.field == "birth_date"
    assert err.value.message == message


def test_parse_reports_the_field_it_was_given() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse("1990-13", field="entry_date")
    assert err.value.field == "entry_date"


def test_constructor_validates_like_parse() -> None:
    with pytest.raises(InvalidIdentifier, match="^the month 0 is not 1–12$"):
        PartialDate(1990, 0)


def test_earliest_and_latest_span_the_unknown_parts() -> None:
    assert PartialDate(1990).earliest() == dt.date(1990, 1, 1)
    assert PartialDate(1990).latest() == dt.date(1990, 12, 31)
    assert PartialDate(2024, 2).latest() == dt.date(2024, 2, 29)
    assert PartialDate(2023, 2).latest() == dt.date(2023, 2, 28)
    assert PartialDate(1990, 5, 17).earliest() == PartialDate(1990, 5, 17).latest() == dt.date(1990, 5, 17)


def test_isoformat_and_to_date_or_none() -> None:
    assert PartialDate(1990).isoformat() == "1990"
    assert PartialDate(1990, 5).isoformat() == "1990-05"
    assert PartialDate(1990, 5, 17).isoformat() == "1990-05-17"
    assert str(PartialDate(975, 1, 2)) == "0975-01-02"
    assert PartialDate(1990, 5).to_date_or_none() is None
    assert PartialDate(1990, 5, 17).to_date_or_none() == dt.date(1990, 5, 17)


def test_order_puts_unknown_parts_first_and_equality_is_by_value() -> None:
    dates = [PartialDate(1990, 5, 1), PartialDate(1990), PartialDate(1989, 12, 31), PartialDate(1990, 5)]
    assert sorted(dates) == [PartialDate(1989, 12, 31), PartialDate(1990), PartialDate(1990, 5),
                             PartialDate(1990, 5, 1)]
    assert PartialDate(1990, 5) == PartialDate(1990, 5, None)
    assert PartialDate(1990) != PartialDate(1990, 1, 1)
    assert len({PartialDate(1990, 5), PartialDate(1990, 5), PartialDate(1990)}) == 2


def test_is_frozen() -> None:
    with pytest.raises(AttributeError):
        PartialDate(1990).year = 1991  # type: ignore[misc]  # frozen: the assignment must fail


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2031-01-01", "2031-01-01 is in the future"),
        ("2026-03-02", "2026-03-02 is in the future"),
        ("2026-04", "2026-04 is in the future"),
        ("1890-01-01", "1890-01-01 gives an age of 136, above 130"),
        ("1894", "1894 gives an age of 131, above 130"),
    ],
)
def test_validate_birth_date_rejects_future_and_too_old(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        validate_birth_date(value, TODAY)
    assert err.value.field == "birth_date"
    assert err.value.message == message


@pytest.mark.parametrize(
    "value",
    ["2026-03-01", "2026", "2026-03", "1896-03-01", "1895", "1896-01", "1990-05-17", dt.date(1990, 5, 17)],
)
def test_validate_birth_date_accepts_the_lenient_reading(value: str | dt.date) -> None:
    assert isinstance(validate_birth_date(value, TODAY), PartialDate)


def test_validate_birth_date_passes_a_partial_date_through() -> None:
    born = PartialDate(1980, 7)
    assert validate_birth_date(born, TODAY) is born


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_iso_and_dotted_text_round_trip(day: dt.date) -> None:
    full = PartialDate.from_date(day)
    assert parse(full.isoformat()) == full
    assert parse(f"{day.day:02d}.{day.month:02d}.{day.year:04d}") == full
    assert parse(PartialDate(day.year, day.month).isoformat()) == PartialDate(day.year, day.month)
    assert full.to_date_or_none() == day


@given(st.integers(1, 9999), st.one_of(st.none(), st.integers(1, 12)))
def test_earliest_never_after_latest_and_both_inside_the_partial(year: int, month: int | None) -> None:
    partial = PartialDate(year, month)
    assert partial.earliest() <= partial.latest()
    assert partial.earliest().year == partial.latest().year == year
    if month is not None:
        assert partial.earliest().month == partial.latest().month == month

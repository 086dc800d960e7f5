"""The checks an application meets before submission, worked by hand against the kz pack."""

from __future__ import annotations

import datetime as dt

import pytest

from kosh.jurisdictions import load_pack
from kosh.permits.rules import (
    Outcome,
    check_extension_count,
    check_extension_window,
    check_local_content,
    check_replacement_duty,
    check_term,
    check_vacancy_posting,
    fee_due_by,
    household_prepayment_mci,
)
from kosh.platform.errors import ValidationFailed
from kosh.platform.i18n import say

D = dt.date


@pytest.fixture(scope="module")
def kz():
    return load_pack("kz")


@pytest.fixture(scope="module")
def rules(kz):
    return kz.permits


# --- the vacancy posted on enbek.kz, 15 calendar days before (from 1 Sep 2025) -------------------


@pytest.mark.parametrize("posted, applied, outcome", [
    (D(2025, 9, 1), D(2025, 9, 16), Outcome.PASSED),   # 15 days
    (D(2025, 9, 2), D(2025, 9, 16), Outcome.FAILED),   # 14 days
    (D(2025, 12, 20), D(2026, 1, 10), Outcome.PASSED),  # 21 days across the year end
    (D(2025, 9, 20), D(2025, 9, 16), Outcome.FAILED),  # posted after the application
    (D(2025, 8, 1), D(2025, 8, 31), Outcome.UNKNOWN),  # before the labour-market test: no rule configured
])
def test_vacancy_posting(rules, posted, applied, outcome):
    result = check_vacancy_posting(rules, posted, applied)
    assert result.outcome is outcome
    if outcome is not Outcome.UNKNOWN:
        assert result.source is not None and "15 calendar days" in result.source.text
        assert f"{(applied - posted).days} days" in result.message and "at least 15 days" in result.message


def test_a_failed_check_is_said_in_russian_with_its_figures(rules):
    result = check_vacancy_posting(rules, D(2025, 9, 10), D(2025, 9, 16))
    assert not result.passed
    ru = say(result.message, "ru")
    assert "Вакансия размещена" in ru and "за 6 дн." in ru and "не менее 15 дн." in ru
    assert "2025-09-10" not in ru  # the date written for the locale


# --- local content: 70 % of categories 1+2, 90 % of categories 3+4 --------------------------------


@pytest.mark.parametrize("category, citizens, staff, outcome, share", [
    ("category_1", 7, 10, Outcome.PASSED, "70.0"),
    ("category_2", 69, 100, Outcome.FAILED, "69.0"),
    ("category_2", 2, 3, Outcome.FAILED, "66.6"),
    ("category_3", 9, 10, Outcome.PASSED, "90.0"),
    ("category_4", 899, 1000, Outcome.FAILED, "89.9"),
    ("category_4", 17, 17, Outcome.PASSED, "100.0"),
])
def test_local_content(rules, category, citizens, staff, outcome, share):
    result = check_local_content(rules, category, citizens, staff)
    assert result.outcome is outcome
    minimum = 70 if category in ("category_1", "category_2") else 90
    assert f"{share} %" in result.message and f"at least {minimum} %" in result.message
    assert result.source is not None and f"{minimum} %" in result.source.text


def test_local_content_for_seasonal_work_is_not_found(rules):
    assert check_local_content(rules, "seasonal", 0, 5).outcome is Outcome.UNKNOWN


def test_local_content_rejects_impossible_staff_figures(rules):
    with pytest.raises(ValidationFailed) as info:
        check_local_content(rules, "category_1", 11, 10)
    assert [(e.field, str(e.message)) for e in info.value.errors] == [("citizens", "must be 10 or less")]
    with pytest.raises(ValidationFailed) as info:
        check_local_content(rules, "category_1", -1, 0)
    assert [e.field for e in info.value.errors] == ["staff", "citizens"]


# --- the term asked for ---------------------------------------------------------------------------


@pytest.mark.parametrize("category, months, outcome", [
    ("category_1", 36, Outcome.PASSED),
    ("category_1", 37, Outcome.FAILED),
    ("category_2", 12, Outcome.PASSED),
    ("category_3", 13, Outcome.FAILED),
    ("category_4", 12, Outcome.UNKNOWN),  # term not found
    ("seasonal", 6, Outcome.UNKNOWN),     # maximum duration not found
])
def test_term(rules, category, months, outcome):
    result = check_term(rules, category, months)
    assert result.outcome is outcome
    assert result.source is not None
    if outcome is Outcome.FAILED:
        assert f"{months} months is longer" in result.message


def test_term_of_an_unknown_category_is_an_error(rules):
    with pytest.raises(ValidationFailed) as info:
        check_term(rules, "category_9", 12)
    assert info.value.errors[0].field == "category" and "category_4, seasonal" in info.value.errors[0].message


# --- the extension window: no earlier than 60, no later than 30 days before expiry ----------------


@pytest.mark.parametrize("filed, outcome", [
    (D(2026, 4, 1), Outcome.PASSED),    # 60 days before 31 May
    (D(2026, 3, 31), Outcome.FAILED),   # 61 days
    (D(2026, 5, 1), Outcome.PASSED),    # 30 days
    (D(2026, 5, 2), Outcome.FAILED),    # 29 days
    (D(2026, 6, 2), Outcome.FAILED),    # after expiry
])
def test_extension_window(rules, filed, outcome):
    result = check_extension_window(rules, D(2026, 5, 31), filed)
    assert result.outcome is outcome
    assert "2026-04-01" in result.message and "2026-05-01" in result.message
    assert result.source is not None and "no earlier than 60" in result.source.text


# --- category 4: replaced by citizens within 6–12 months (from May 2020) --------------------------


def test_replacement_duty(rules):
    start = D(2026, 2, 1)
    ok = check_replacement_duty(rules, "category_4", start, D(2027, 2, 1), D(2026, 1, 10))
    late = check_replacement_duty(rules, "category_4", start, D(2027, 2, 2), D(2026, 1, 10))
    assert ok.outcome is Outcome.PASSED and late.outcome is Outcome.FAILED
    assert "by 2027-02-01" in late.message and "12 months from 2026-02-01" in late.message
    assert late.source is not None and "Order No. 138" in late.source.text
    assert "category 4" in say(late.message, "en")


def test_replacement_duty_applies_to_category_4_from_may_2020_only(rules):
    start, end = D(2019, 1, 1), D(2022, 1, 1)
    assert check_replacement_duty(rules, "category_3", start, end, D(2026, 1, 1)).outcome is Outcome.NOT_APPLICABLE
    assert check_replacement_duty(rules, "category_4", start, end, D(2020, 4, 30)).outcome is Outcome.NOT_APPLICABLE
    assert check_replacement_duty(rules, "category_4", start, end, D(2020, 5, 1)).outcome is Outcome.FAILED


# --- extensions counted, the fee deadline, the household prepayment --------------------------------


@pytest.mark.parametrize("category, before, outcome", [
    ("category_1", 10, Outcome.PASSED),   # without limit
    ("category_2", 0, Outcome.PASSED),
    ("category_3", 2, Outcome.PASSED),    # the third
    ("category_3", 3, Outcome.FAILED),    # a fourth
    ("category_4", 0, Outcome.UNKNOWN),   # extension not found
])
def test_extension_count(rules, category, before, outcome):
    result = check_extension_count(rules, category, before)
    assert result.outcome is outcome
    if outcome is Outcome.FAILED:
        assert "at most 3 times" in result.message and "extension 4" in result.message


def test_fee_is_due_ten_working_days_after_approval(kz):
    # Approved on Friday 13 Mar 2026; Nauryz (around 21–23 March) falls within the ten days: the
    # days off are the pack calendar's, counted here one by one.
    approved = D(2026, 3, 13)
    due = fee_due_by(kz.permits, kz.calendar, approved)
    counted = [approved + dt.timedelta(days=i) for i in range(1, (due - approved).days + 1)]
    assert sum(kz.calendar.is_working_day(d) for d in counted) == 10 and kz.calendar.is_working_day(due)
    assert fee_due_by(kz.permits, kz.calendar, D(2026, 6, 1)) == D(2026, 6, 15)  # no holiday in between


def test_household_prepayment_at_the_rate_of_the_day_paid(rules):
    assert household_prepayment_mci(rules, D(2025, 12, 31), 12) == 24
    assert household_prepayment_mci(rules, D(2026, 1, 5), 12) == 48
    assert household_prepayment_mci(rules, D(2017, 6, 1), 12) is None


def test_a_channel_limits_its_extensions_where_the_pack_says_so():
    from kosh.jurisdictions import load_pack
    from kosh.permits.rules import Outcome, check_channel_extension_count

    rules = load_pack("kz").permits
    assert check_channel_extension_count(rules, "intra_corporate_transfer", 0).outcome is Outcome.PASSED
    refused = check_channel_extension_count(rules, "intra_corporate_transfer", 1)
    assert refused.outcome is Outcome.FAILED
    assert str(refused.message) == "This would be extension 2; this channel allows at most 1."
    assert check_channel_extension_count(rules, "business_immigrant", 5).outcome is Outcome.NOT_APPLICABLE

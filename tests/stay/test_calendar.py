"""Working days: weekends, provider holidays (python-holidays 'KZ') and decree overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.jurisdictions import load_pack
from kosh.stay.rules import WorkingCalendar, add_working_days

D = dt.date
KZ = load_pack("kz").calendar


def test_three_working_days_across_a_weekend():
    # Fri 2026-02-13 → Mon 16 (1), Tue 17 (2), Wed 18 (3)
    assert add_working_days(D(2026, 2, 13), 3, KZ) == D(2026, 2, 18)


def test_three_working_days_from_a_saturday():
    # Sat 2026-02-14 → Mon 16 (1), Tue 17 (2), Wed 18 (3)
    assert add_working_days(D(2026, 2, 14), 3, KZ) == D(2026, 2, 18)


def test_across_nauryz_2026_with_observed_days():
    # Nauryz 21–23 Mar 2026 falls Sat–Mon, so 24 and 25 are days off too.
    # Thu 19 → Fri 20 (1), Sat 21 … Wed 25 off, Thu 26 (2), Fri 27 (3)
    assert add_working_days(D(2026, 3, 19), 3, KZ) == D(2026, 3, 27)
    assert not any(KZ.is_working_day(D(2026, 3, d)) for d in range(21, 26))


def test_across_nauryz_2024():
    # Nauryz Thu 21 – Sat 23 Mar 2024, Mon 25 observed.
    # Wed 20 → Thu 21 off, Fri 22 off, weekend, Mon 25 off, Tue 26 (1), Wed 27 (2), Thu 28 (3)
    assert add_working_days(D(2024, 3, 20), 3, KZ) == D(2024, 3, 28)


def test_saturday_worked_by_decree_counts():
    # 2024: Sat 4 May worked in exchange for Wed 8 May.
    # Thu 2 → Fri 3 (1), Sat 4 (2), Mon 6 (3)
    assert add_working_days(D(2024, 5, 2), 3, KZ) == D(2024, 5, 6)
    # The same calendar without the override: Fri 3 (1), Mon 6 (2), Tue 7 Defender's Day,
    # Wed 8 day off, Thu 9 Victory Day, Fri 10 (3)
    without = WorkingCalendar.from_provider("KZ")
    assert add_working_days(D(2024, 5, 2), 3, without) == D(2024, 5, 10)


def test_sunday_worked_by_decree_2025():
    # 2025: Fri 3 Jan a day off, Sun 5 Jan worked. Wed 1 → Thu 2 off, Fri 3 off, Sat 4,
    # Sun 5 (1), Mon 6 (2), Tue 7 Orthodox Christmas, Wed 8 (3)
    assert add_working_days(D(2025, 1, 1), 3, KZ) == D(2025, 1, 8)


def test_extra_days_off_and_other_weekends():
    # A Friday–Saturday weekend and a decree day off on Sun 2026-02-15, no provider.
    cal = WorkingCalendar(weekend=(4, 5), extra_days_off=[D(2026, 2, 15)])
    # Thu 12 → Fri 13 off, Sat 14 off, Sun 15 off, Mon 16 (1), Tue 17 (2), Wed 18 (3)
    assert add_working_days(D(2026, 2, 12), 3, cal) == D(2026, 2, 18)
    assert cal.is_working_day(D(2026, 2, 22))  # an ordinary Sunday works here


def test_zero_and_negative_steps():
    assert add_working_days(D(2026, 2, 14), 0, KZ) == D(2026, 2, 14)
    # Wed 18 back 3 → Tue 17 (1), Mon 16 (2), Fri 13 (3)
    assert add_working_days(D(2026, 2, 18), -3, KZ) == D(2026, 2, 13)


def test_a_day_cannot_be_both_off_and_working():
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(extra_days_off=[D(2026, 1, 3)], extra_working_days=[D(2026, 1, 3)])


def test_days_off_are_computed_once_per_year():
    cal = WorkingCalendar.from_provider("KZ")
    assert cal.days_off(2026) is cal.days_off(2026)
    assert D(2026, 12, 16).toordinal() in cal.days_off(2026)  # Independence Day


@given(st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)), st.integers(min_value=1, max_value=15))
def test_result_is_the_nth_working_day(start, n):
    due = add_working_days(start, n, KZ)
    between = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert KZ.is_working_day(due)
    assert sum(KZ.is_working_day(d) for d in between) == n

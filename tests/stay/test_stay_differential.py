"""The stay engine held equal to an independent day-by-day re-computation (tests/stay/reference.py)
on random histories for one member of every citizenship group of the kz pack, the default
(visa-required) group included: rule changes inside stays, visas and TRPs, host notifications."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kosh.jurisdictions import load_pack
from kosh.jurisdictions.schema import StayRules
from kosh.stay.rules import Crossing, NotificationRecord, PermitPeriod, assess, calculate_trips
from stay.reference import Answer, reference_assess, reference_calculate

D = dt.date
ONE = dt.timedelta(days=1)
RULES = load_pack("kz").stay_rules
FIRST, LAST = D(2021, 6, 1), D(2027, 6, 1)
# Histories per group and per test (assess, calculator): 2 x 900 per group, under a minute for the
# file; KOSH_DIFFERENTIAL_EXAMPLES=20000 for a long run.
EXAMPLES = int(os.environ.get("KOSH_DIFFERENTIAL_EXAMPLES", "900"))


def _members() -> list[tuple[str, str]]:
    """(group, citizenship): a member of each group's latest version; a listed-nowhere code for the default."""
    listed = {c for g in RULES.groups for v in g.version for c in v.members}
    out = []
    for group in RULES.groups:
        if group.default:
            assert "NGA" not in listed
            out.append((group.code, "NGA"))
        else:
            out.append((group.code, group.version[-1].members[0]))
    return out


MEMBERS = _members()


def _changes(citizenship: str) -> list[dt.date]:
    """Days a rule version of the citizenship (or of the default group) starts or ends, within the range."""
    days = {d + shift for g in RULES.groups for v in g.version if g.default or citizenship in v.members
            for d, shift in ((v.valid_from, dt.timedelta(0)), (v.valid_to, ONE)) if d is not None}
    return sorted(d for d in days if FIRST <= d <= LAST) or [D(2023, 1, 27)]


# Strategies built once (building them per draw triples the run time); dates are drawn as day
# numbers and as picks among a history's own days.
_SPAN = (LAST - FIRST).days
_DAY = st.integers(0, _SPAN)
_PICK = st.integers(0, 10**6)  # an index, taken modulo the number of choices
_OFFSET = {n: st.integers(-n, n) for n in (3, 60, 200)}
_CHOICE = {n: st.integers(0, n - 1) for n in range(1, 11)}
_LENGTH = st.one_of(st.integers(1, 14), st.integers(15, 45), st.integers(46, 120), st.integers(121, 900))
_GAP = st.one_of(st.just(0), st.just(1), st.integers(2, 60), st.integers(61, 400))
_PERMIT_DAYS = st.integers(0, 400)
_STAYS = st.integers(0, 6)
_LATE = st.integers(0, 200)  # days from the arrival to the notification


def _clip(day: dt.date) -> dt.date:
    return min(LAST, max(FIRST, day))


def _near(draw: Any, days: list[dt.date], spread: int) -> dt.date:
    return _clip(days[draw(_PICK) % len(days)] + dt.timedelta(days=draw(_OFFSET[spread])))


@st.composite
def histories(draw: Any, citizenship: str) -> dict[str, Any]:
    """Stays (entry, exit), the last maybe still open; permits; the asked day; notifications."""
    changes = _changes(citizenship)
    start = FIRST + dt.timedelta(days=draw(_DAY)) if draw(_CHOICE[2]) == 0 else _near(draw, changes, 200)
    stays: list[tuple[dt.date, dt.date]] = []
    day = start
    for _ in range(draw(_STAYS)):
        if stays:
            day = stays[-1][1] + dt.timedelta(days=draw(_GAP))  # gap 0: exit and re-entry the same day
        if day > LAST:
            break
        stays.append((day, min(LAST, day + dt.timedelta(days=draw(_LENGTH) - 1))))
    marks = [d for s in stays for d in (s[0], s[1], s[1] + ONE)] or [start]
    how = draw(_CHOICE[4])  # the asked day: inside a stay, near its ends, near a rule change, anywhere
    if how == 0 and stays:
        e, x = stays[draw(_PICK) % len(stays)]
        on = e + dt.timedelta(days=draw(_PICK) % ((x - e).days + 1))
    elif how <= 1:
        on = _near(draw, marks, 3)
    elif how == 2:
        on = _near(draw, changes, 3)
    else:
        on = FIRST + dt.timedelta(days=draw(_DAY))
    open_last = bool(stays) and stays[-1][0] <= on and draw(_CHOICE[2]) == 1
    permits = []
    for _ in range(draw(_CHOICE[3])):  # 0-2 visas or TRPs, near the stays or a rule change
        s = _near(draw, marks if draw(_CHOICE[2]) == 0 else changes, 60)
        permits.append(PermitPeriod(("trp", "visa")[draw(_CHOICE[2])], s, s + dt.timedelta(days=draw(_PERMIT_DAYS))))
    notifications: list[NotificationRecord] = []
    for e, _ in stays:  # per entry: none, on time or a little late, late (maybe after the stay or `on`)
        how_notified = draw(_CHOICE[4])
        if how_notified == 0:
            continue
        arrival = e + dt.timedelta(days=draw(_CHOICE[2]))
        late = draw(_CHOICE[9]) if how_notified <= 2 else draw(_LATE)
        notifications.append(NotificationRecord(arrival, arrival + dt.timedelta(days=late)))
    if draw(_CHOICE[3]) == 0:  # 1 in 3: one reporting another day (an earlier stay, a gap, before an entry)
        arrival = _near(draw, marks, 60)
        notifications.append(NotificationRecord(arrival, arrival + dt.timedelta(days=draw(_LATE))))
    return {"stays": stays, "open_last": open_last, "on": on, "permits": permits,
            "notifications": notifications}


def _crossings(draw: Any, h: dict[str, Any]) -> list[Crossing]:
    crossings = []
    for i, (e, x) in enumerate(h["stays"]):
        crossings.append(Crossing("entry", e))
        if not (h["open_last"] and i == len(h["stays"]) - 1) and draw(_CHOICE[10]) != 9:  # 1 in 10: exit missing
            crossings.append(Crossing("exit", x))
    if draw(_CHOICE[5]) == 4:  # 1 in 5: a stray exit or a second entry
        crossings.append(Crossing(("entry", "exit")[draw(_CHOICE[2])], FIRST + dt.timedelta(days=draw(_DAY))))
    return crossings


def _trips(draw: Any, h: dict[str, Any]) -> list[tuple[dt.date, dt.date | None]]:
    trips: list[tuple[dt.date, dt.date | None]] = list(h["stays"])
    if h["open_last"]:
        trips[-1] = (trips[-1][0], None)
    if trips and draw(_CHOICE[10]) == 9:  # 1 in 10: a trip overlapping another
        e, x = h["stays"][draw(_PICK) % len(h["stays"])]
        middle = e + (x - e) // 2
        trips.append((middle, max(middle, x + dt.timedelta(days=draw(_OFFSET[60])))))
    return trips


def engine_answer(a: Any) -> Answer:
    return Answer(a.in_country, a.status, a.overstay_days,
                  tuple(sorted(((v.kind, v.start, v.end, v.due) for v in a.violations),
                               key=lambda r: (r[1], r[2], r[0]))),
                  a.last_lawful_day, a.days_used)


def _same(engine: Answer, reference: Answer, case: str) -> None:
    assert engine == reference, f"{case}\n engine:    {engine}\n reference: {reference}"


COMMON = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                  suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("group", "citizenship"), MEMBERS, ids=[g for g, _ in MEMBERS])
@COMMON
@given(data=st.data())
def test_assess_matches_the_reference(group: str, citizenship: str, data: st.DataObject) -> None:
    h = data.draw(histories(citizenship))
    crossings = _crossings(data.draw, h)
    args = (citizenship, crossings, h["permits"], h["notifications"], h["on"], RULES)
    _same(engine_answer(assess(*args)), reference_assess(*args), f"assess{args[:5]}")


@pytest.mark.parametrize(("group", "citizenship"), MEMBERS, ids=[g for g, _ in MEMBERS])
@COMMON
@given(data=st.data())
def test_calculator_matches_the_reference(group: str, citizenship: str, data: st.DataObject) -> None:
    h = data.draw(histories(citizenship))
    trips = _trips(data.draw, h)
    args = (citizenship, trips, h["on"], RULES, h["permits"])
    _same(engine_answer(calculate_trips(*args)), reference_calculate(*args), f"calculate_trips{args[:3] + args[4:]}")


def _new_entries_only(rules: StayRules, groups: set[str]) -> StayRules:
    """The pack with every version of `groups` leaving stays under the version of their entry day."""
    changed = [g.model_copy(update={"version": tuple(v.model_copy(update={"transition": "new_entries_only"})
                                                     for v in g.version)}) if g.code in groups else g
               for g in rules.groups]
    return StayRules(changed, rules.host_notification, rules.calendar, rules.own_citizenship,
                     rules.lookback_days, rules.bases)


# The kz pack sets "applies_to_present" everywhere; this variant exercises the other transition
# (China and India also across their move out of the default visa-required group).
NEW_ENTRIES_ONLY = _new_entries_only(
    RULES, {"uzbekistan", "china", "india_iran", "unilateral_visa_free", "visa_required"})


@pytest.mark.parametrize("citizenship", ["UZB", "CHN", "IND", "AUS"])
@settings(COMMON, max_examples=max(1, EXAMPLES // 4))
@given(data=st.data())
def test_new_entries_only_matches_the_reference(citizenship: str, data: st.DataObject) -> None:
    h = data.draw(histories(citizenship))
    args = (citizenship, _crossings(data.draw, h), h["permits"], h["notifications"], h["on"], NEW_ENTRIES_ONLY)
    _same(engine_answer(assess(*args)), reference_assess(*args), f"assess{args[:5]}")
    trips = (citizenship, _trips(data.draw, h), h["on"], NEW_ENTRIES_ONLY, h["permits"])
    _same(engine_answer(calculate_trips(*trips)), reference_calculate(*trips),
          f"calculate_trips{trips[:3] + trips[4:]}")


def test_an_open_trip_overlapped_by_a_trip_ending_on_the_asked_day():
    # "Still here since Jun 1" and "Jun 2 – Jun 4" asked on Jun 4: the open trip wins (still in
    # the country), in both.
    args = ("ARM", [(D(2021, 6, 1), None), (D(2021, 6, 2), D(2021, 6, 4))], D(2021, 6, 4), RULES)
    assert engine_answer(calculate_trips(*args)) == reference_calculate(*args)
    assert calculate_trips(*args).in_country


# --- the hand-worked cases of issue 10 §1 ---------------------------------------------------------


def test_a_past_overstay_does_not_make_today_an_overstay():
    # Uzbekistan (30 per entry, 90 in 180 since 2023-01-27), calculator, asked 2025-12-19:
    # trip 1 Jul 28–Sep 2 = 4 + 31 + 2 = 37 days; day 30 is Aug 26, so Aug 27–Sep 2 (7 days) per_entry.
    # trip 2 Oct 28–Nov 16 = 4 + 16 = 20 days, lawful (window 37 + 20 = 57 ≤ 90).
    # trip 3 since Dec 18: 2 days. Window Jun 23–Dec 19 holds 37 + 20 + 2 = 59 ≤ 90 → lawful today.
    # Days left min(90 − 59, 30 − 2) = 28; day 30 of trip 3 is 2026-01-16, when the window
    # (Jul 21–Jan 16) holds 37 + 20 + 30 = 87 ≤ 90 → last lawful day 2026-01-16.
    # The Aug 27–Sep 2 run ends inside the 180-day look-back (from Jun 23): a past violation.
    trips = [(D(2025, 7, 28), D(2025, 9, 2)), (D(2025, 10, 28), D(2025, 11, 16)), (D(2025, 12, 18), None)]
    expected = Answer(True, "lawful", 0, (("per_entry", D(2025, 8, 27), D(2025, 9, 2), None),), D(2026, 1, 16), 59)
    a = calculate_trips("UZB", trips, D(2025, 12, 19), RULES)
    assert reference_calculate("UZB", trips, D(2025, 12, 19), RULES) == expected
    assert engine_answer(a) == expected
    assert a.days_left == 28


def test_a_limit_applies_to_people_present_when_it_takes_effect():
    # Uzbekistan, entry 2023-01-20, still present on 2026-12-02 (day 1,413). No limit before
    # 2023-01-27; from then 30 days per entry counted from 2023-01-27: lawful to 2023-02-25
    # (window then 12 + 25 = 37 ≤ 90), per_entry from 2023-02-26. Overstay 2023-02-26–2026-12-02 =
    # 1,413 − 37 = 1,376 days; all of the last 180 days counted.
    args = ("UZB", [Crossing("entry", D(2023, 1, 20))], [], [NotificationRecord(D(2023, 1, 20), D(2023, 1, 20))],
            D(2026, 12, 2), RULES)
    expected = Answer(True, "overstay", 1376, (("per_entry", D(2023, 2, 26), D(2026, 12, 2), None),),
                      D(2023, 2, 25), 180)
    assert reference_assess(*args) == expected
    assert engine_answer(assess(*args)) == expected


def test_an_overstay_is_counted_whole_from_its_true_first_day():
    # China (30 per entry, 90 in 180 since 2023-11-10), entry 2026-01-10, asked 2026-12-02: day 30
    # is 2026-02-08; per_entry from 2026-02-09: Feb 20 + Mar–Nov (31+30+31+30+31+31+30+31+30 = 275)
    # + Dec 2 = 297 days, not cut at the 180-day look-back.
    args = ("CHN", [Crossing("entry", D(2026, 1, 10))], [], [NotificationRecord(D(2026, 1, 10), D(2026, 1, 10))],
            D(2026, 12, 2), RULES)
    expected = Answer(True, "overstay", 297, (("per_entry", D(2026, 2, 9), D(2026, 12, 2), None),), D(2026, 2, 8), 180)
    assert reference_assess(*args) == expected
    assert engine_answer(assess(*args)) == expected


def test_the_reference_shares_no_code_with_the_engine():
    source = (Path(__file__).parent / "reference.py").read_text()
    assert "kosh" not in source.replace("(kosh.stay.rules)", "")
    assert "rule_for" not in source

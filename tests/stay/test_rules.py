"""The stay engine on the kz pack: worked examples with hand-computed figures, and properties."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kosh.jurisdictions import load_pack
from kosh.stay.rules import (
    Crossing,
    Finding,
    NotAForeigner,
    NotificationRecord,
    PermitPeriod,
    Stay,
    Violation,
    assess,
    calculate_trips,
    stays_from_crossings,
)

D = dt.date
RULES = load_pack("kz").stay_rules


def entry(day: dt.date, ref: str | None = None) -> Crossing:
    return Crossing("entry", day, ref)


def exit_(day: dt.date, ref: str | None = None) -> Crossing:
    return Crossing("exit", day, ref)


def notified(*arrivals: dt.date) -> list[NotificationRecord]:
    """Hosts who notified on the day of arrival."""
    return [NotificationRecord(a, a) for a in arrivals]


# --- per-entry limits --------------------------------------------------------------------------


def test_uzbek_overstay_past_30_days_per_entry():
    # 2026-01-05 → 2026-02-10: Jan 5–31 = 27 days + Feb 1–10 = 10 → 37 days.
    # Day 30 is Jan 5 + 29 = Feb 3, so Feb 4–10 = 7 days past the limit.
    a = assess("UZB", [entry(D(2026, 1, 5)), exit_(D(2026, 2, 10))], [], notified(D(2026, 1, 5)),
               D(2026, 2, 10), RULES)
    assert a.status == "overstay"
    assert a.overstay_days == 7
    assert a.days_used == 37
    assert a.violations == (Violation("per_entry", D(2026, 2, 4), D(2026, 2, 10), D(2026, 1, 5)),)
    assert a.in_country is False and a.current_entry is None
    assert a.rule.text == "Uzbekistan: 30 days per entry, 90 days in any 180 (bilateral agreement, from 2023-01-27)"
    assert "ended on 2026-02-03" in a.reasons[0]
    # Outside on Feb 10: entering Feb 11, 30 days per entry → Mar 12; the window has 37 + 30 = 67 ≤ 90.
    assert a.last_lawful_day == D(2026, 3, 12)


def test_uzbek_in_the_country_mid_stay():
    # Entered Jan 5, asked Jan 20: Jan 5–20 = 16 days; 30 − 16 = 14 left; day 30 is Feb 3.
    a = assess("UZB", [entry(D(2026, 1, 5))], [], notified(D(2026, 1, 5)), D(2026, 1, 20), RULES)
    assert a.status == "lawful"
    assert a.in_country and a.current_entry == D(2026, 1, 5)
    assert (a.days_used, a.days_left) == (16, 14)
    assert a.last_lawful_day == D(2026, 2, 3)
    assert a.reasons[-1] == "continuous presence lawful until 2026-02-03"


def test_crossings_after_the_asked_date_are_ignored():
    a = assess("UZB", [entry(D(2026, 1, 5)), exit_(D(2026, 2, 10))], [], notified(D(2026, 1, 5)),
               D(2026, 1, 20), RULES)
    assert a.in_country and a.days_used == 16 and a.status == "lawful"


def test_uzbek_rule_before_2023_has_no_limit_in_the_sources():
    # 2022-06-01 → 2022-09-30: 30 + 31 + 31 + 30 = 122 days, no limit entered for that version.
    a = assess("UZB", [entry(D(2022, 6, 1)), exit_(D(2022, 9, 30))], [], notified(D(2022, 6, 1)),
               D(2022, 9, 30), RULES)
    assert a.status == "lawful"
    assert a.rule.valid_to == D(2023, 1, 26) and a.rule.per_entry_days is None
    assert a.days_used == 122 and a.days_left is None
    # Entering the next day and staying on: the 90-in-180 limit that takes effect on 2023-01-27
    # meets 118 days present (Oct 1 – Jan 26), so Jan 26 is the last lawful day.
    assert a.last_lawful_day == D(2023, 1, 26)


def test_a_new_limit_applies_to_a_stay_present_when_it_takes_effect():
    # Entered 2023-01-20, before the 30-day limit took effect on 2023-01-27: from that day the
    # limit applies, counted from it — day 30 is Feb 25; Feb 26–28 (3) + Mar 1–31 (31) = 34 days.
    old = assess("UZB", [entry(D(2023, 1, 20)), exit_(D(2023, 3, 31))], [], notified(D(2023, 1, 20)),
                 D(2023, 3, 31), RULES)
    assert old.status == "overstay" and old.overstay_days == 34
    assert old.violations[0].start == D(2023, 2, 26) and old.violations[0].stay_entry == D(2023, 1, 20)
    assert old.current_entry is None and old.stays[0].entry == D(2023, 1, 20)
    # Still present on 2026-12-02 (issue: "lawful, days left empty, after 1,413 days"): an overstay
    # since 2023-02-26, 1,376 days long.
    still = assess("UZB", [entry(D(2023, 1, 20))], [], notified(D(2023, 1, 20)), D(2026, 12, 2), RULES)
    assert still.status == "overstay" and still.current_entry == D(2023, 1, 20)
    assert still.overstay_days == (D(2026, 12, 2) - D(2023, 2, 26)).days + 1 == 1376
    # Entered 2023-01-27 (new version): day 31 is Feb 26; Feb 26–28 (3) + Mar 1–31 (31) = 34 days.
    new = assess("UZB", [entry(D(2023, 1, 27)), exit_(D(2023, 3, 31))], [], notified(D(2023, 1, 27)),
                 D(2023, 3, 31), RULES)
    assert new.status == "overstay" and new.overstay_days == 34


def test_indian_14_per_entry():
    # 2026-05-01 → 05-15 is 15 days; day 15 (May 15) is one past the limit.
    a = calculate_trips("IND", [(D(2026, 5, 1), D(2026, 5, 15))], D(2026, 5, 15), RULES)
    assert a.status == "overstay" and a.overstay_days == 1
    assert a.violations[0].kind == "per_entry" and a.violations[0].start == D(2026, 5, 15)


def test_indian_42_in_180():
    # Three trips of 14 days: Jan 10–23, Feb 1–14, Mar 1–14 = 42 days, all within 180 days.
    trips = [(D(2026, 1, 10), D(2026, 1, 23)), (D(2026, 2, 1), D(2026, 2, 14)), (D(2026, 3, 1), D(2026, 3, 14))]
    a = calculate_trips("IND", trips, D(2026, 3, 14), RULES)
    assert a.status == "lawful"
    assert (a.days_used, a.days_left, a.window_max_days) == (42, 0, 42)
    # Entering Mar 15 would be day 43 in the window: no lawful day.
    assert a.last_lawful_day is None
    # A planned fourth trip Apr 1–5: the window ending Apr 1 starts 2025-10-04 and holds all 42.
    planned = calculate_trips("IND", [*trips, (D(2026, 4, 1), D(2026, 4, 5))], D(2026, 3, 14), RULES)
    # The status is the asked day's (lawful); the planned trip's 5 days in excess are listed.
    assert planned.status == "lawful" and planned.overstay_days == 0
    assert [(v.kind, v.start, v.days) for v in planned.violations] == [("window", D(2026, 4, 1), 5)]
    assert planned.reasons[0].startswith("planned: ")
    assert planned.days_used == 42  # planned days never count in days_used


def test_chinese_before_and_after_the_2023_agreement():
    # Entered 2023-10-01 under 14/42: Oct 1–20 = 20 days, Oct 15–20 = 6 past the limit.
    before = assess("CHN", [entry(D(2023, 10, 1)), exit_(D(2023, 10, 20))], [],
                    notified(D(2023, 10, 1)), D(2023, 10, 20), RULES)
    assert before.status == "overstay" and before.overstay_days == 6
    # Entered 2023-11-10 under 30 days per entry: the same 20 days are lawful.
    after = assess("CHN", [entry(D(2023, 11, 10)), exit_(D(2023, 11, 29))], [],
                   notified(D(2023, 11, 10)), D(2023, 11, 29), RULES)
    assert after.status == "lawful" and after.overstay_days == 0
    assert after.rule.valid_from == D(2023, 11, 10)
    # Outside: a new entry gets the full 30 per entry (90 − 20 = 70 in the window).
    assert (after.days_used, after.days_left) == (20, 30)
    # Entered one day before the agreement: from its first day the 30 days per entry apply,
    # counted from that day (Nov 10–28 = 19 days), so the stay is lawful throughout.
    eve = assess("CHN", [entry(D(2023, 11, 9)), exit_(D(2023, 11, 28))], [],
                 notified(D(2023, 11, 9)), D(2023, 11, 28), RULES)
    assert eve.status == "lawful" and eve.overstay_days == 0 and eve.violations == ()


def test_chinese_before_any_waiver_needed_a_visa():
    # 2022-01-10 → 01-12: 3 days with no visa, before the 2022-07-08 waiver.
    a = assess("CHN", [entry(D(2022, 1, 10)), exit_(D(2022, 1, 12))], [], notified(D(2022, 1, 10)),
               D(2022, 1, 12), RULES)
    assert a.status == "no_lawful_basis" and a.no_basis_days == 3


# --- rolling windows ---------------------------------------------------------------------------


def test_russian_90_in_180_across_trips():
    # Jan 1 – Mar 1 = 31 + 28 + 1 = 60 days; Apr 1–20 = 20 → 80 used, 10 left.
    # Staying on: the window ending Apr 30 (from 2025-11-02) holds 60 + 30 = 90; May 1 would be 91.
    a = calculate_trips("RUS", [(D(2026, 1, 1), D(2026, 3, 1)), (D(2026, 4, 1), None)], D(2026, 4, 20), RULES)
    assert a.status == "lawful" and a.in_country
    assert (a.days_used, a.days_left) == (80, 10)
    assert a.last_lawful_day == D(2026, 4, 30)


def test_russian_past_90_days_without_a_trp():
    # Jan 1 → Apr 10 = 100 days; day 90 is Mar 31, so Apr 1–10 = 10 days needed a TRP.
    a = assess("RUS", [entry(D(2026, 1, 1)), exit_(D(2026, 4, 10))], [], notified(D(2026, 1, 1)),
               D(2026, 4, 10), RULES)
    assert a.status == "overstay" and a.overstay_days == 10
    assert a.violations == (Violation("permit_required", D(2026, 4, 1), D(2026, 4, 10), D(2026, 1, 1)),)
    assert "TRP was needed" in a.reasons[0]


def test_trp_holder_past_90_days():
    # In since Jan 1, TRP from Mar 15 to Dec 31; asked Apr 10 (day 100).
    # Days counted against the visa-free limits: Jan 1 – Mar 14 = 31 + 28 + 14 = 73.
    trp = [PermitPeriod("trp", D(2026, 3, 15), D(2026, 12, 31))]
    a = assess("RUS", [entry(D(2026, 1, 1))], trp, notified(D(2026, 1, 1)), D(2026, 4, 10), RULES)
    assert a.status == "lawful" and a.overstay_days == 0
    assert a.days_used == 73
    assert a.days_left == 0  # the visa-free allowance of this entry is spent; the TRP carries the stay
    assert a.last_lawful_day == D(2026, 12, 31)
    without = assess("RUS", [entry(D(2026, 1, 1))], [], notified(D(2026, 1, 1)), D(2026, 4, 10), RULES)
    assert without.status == "overstay" and without.last_lawful_day == D(2026, 3, 31)


def test_uzbek_window_of_90_in_180_with_a_planned_trip():
    # Three 30-day trips: Jan 1–30, Feb 10 – Mar 11 (19 + 11), Mar 20 – Apr 18 (12 + 18) = 90.
    trips = [(D(2026, 1, 1), D(2026, 1, 30)), (D(2026, 2, 10), D(2026, 3, 11)), (D(2026, 3, 20), D(2026, 4, 18))]
    a = calculate_trips("UZB", trips, D(2026, 4, 25), RULES)
    assert a.status == "not_in_country" and (a.days_used, a.days_left) == (90, 0)
    assert a.last_lawful_day is None
    # Planned May 1–5: the window ending May 1 starts 2025-11-03 and still holds all 90 → 5 in excess.
    planned = calculate_trips("UZB", [*trips, (D(2026, 5, 1), D(2026, 5, 5))], D(2026, 4, 25), RULES)
    assert planned.status == "not_in_country" and planned.overstay_days == 0
    assert [(v.kind, v.days) for v in planned.violations] == [("window", 5)]


# --- visas and TRPs ----------------------------------------------------------------------------


def test_visa_required_with_and_without_a_visa():
    visa = [PermitPeriod("visa", D(2026, 1, 1), D(2026, 1, 31))]
    crossings = [entry(D(2026, 1, 5))]
    with_visa = assess("AFG", crossings, visa, notified(D(2026, 1, 5)), D(2026, 1, 25), RULES)
    assert with_visa.status == "lawful"
    assert with_visa.rule.basis == "visa_required"
    assert (with_visa.days_used, with_visa.days_left) == (0, None)
    assert with_visa.last_lawful_day == D(2026, 1, 31)
    # Without: Jan 5–25 = 21 days with no basis.
    without = assess("AFG", crossings, [], notified(D(2026, 1, 5)), D(2026, 1, 25), RULES)
    assert without.status == "no_lawful_basis" and without.no_basis_days == 21
    assert without.last_lawful_day is None
    # After the visa ran out: Feb 1–5 = 5 days of overstay.
    expired = assess("AFG", crossings, visa, notified(D(2026, 1, 5)), D(2026, 2, 5), RULES)
    assert expired.status == "overstay" and expired.overstay_days == 5
    assert expired.violations[0].kind == "permit_expired"
    assert expired.last_lawful_day == D(2026, 1, 31)


def test_past_violations_are_listed_and_do_not_make_todays_status():
    # Visa Jan 1–10; in Jan 5–15 (overstay Jan 11–15), then again Mar 1–3 with no visa.
    visa = [PermitPeriod("visa", D(2026, 1, 1), D(2026, 1, 10))]
    crossings = [entry(D(2026, 1, 5)), exit_(D(2026, 1, 15)), entry(D(2026, 3, 1)), exit_(D(2026, 3, 3))]
    a = assess("AFG", crossings, visa, [], D(2026, 3, 20), RULES)
    assert a.status == "not_in_country" and (a.overstay_days, a.no_basis_days) == (0, 0)
    # Nobody notified the Jan 5 entry (due Fri Jan 9: Jan 7 is a holiday): Jan 10–15 without it;
    # the Mar 1 stay ended before its due day (Wed Mar 4).
    assert [(v.kind, v.start, v.end) for v in a.violations] == [
        ("notification_missed", D(2026, 1, 10), D(2026, 1, 15)),
        ("permit_expired", D(2026, 1, 11), D(2026, 1, 15)), ("no_basis", D(2026, 3, 1), D(2026, 3, 3))]
    assert all(d.overdue for d in a.deadlines)
    # On Jan 13 the overstay is today's: it outranks the missed notification.
    during = assess("AFG", crossings, visa, [], D(2026, 1, 13), RULES)
    assert during.status == "overstay" and during.overstay_days == 3


def test_a_past_overstay_does_not_make_a_lawful_day_an_overstay():
    # Issue example: trips Jul 28 – Sep 2 2025 (37 days, 7 over 30), Oct 28 – Nov 16, and in again
    # since Dec 18. On Dec 19 the person is lawfully present: day 2 of 30; the window of 180 days
    # ending Dec 19 holds 37 + 20 + 2 = 59 of 90, so 28 days are left by the per-entry limit.
    crossings = [entry(D(2025, 7, 28)), exit_(D(2025, 9, 2)), entry(D(2025, 10, 28)), exit_(D(2025, 11, 16)),
                 entry(D(2025, 12, 18))]
    a = assess("UZB", crossings, [], notified(D(2025, 7, 28), D(2025, 10, 28), D(2025, 12, 18)),
               D(2025, 12, 19), RULES)
    assert a.status == "lawful" and a.overstay_days == 0 and a.days_left == 28
    assert [(v.kind, v.start, v.end, v.days) for v in a.violations] == [
        ("per_entry", D(2025, 8, 27), D(2025, 9, 2), 7)]


def test_an_overstay_still_going_on_is_counted_whole_from_its_first_day():
    # China, entered 2026-01-10 and still present on 2026-12-02: 30 days per entry ended on
    # 2026-02-08; the overstay runs Feb 9 – Dec 2 = 297 days, beyond the 180-day look-back.
    a = assess("CHN", [entry(D(2026, 1, 10))], [], notified(D(2026, 1, 10)), D(2026, 12, 2), RULES)
    assert a.status == "overstay" and a.overstay_days == 297
    assert [(v.start, v.end) for v in a.violations] == [(D(2026, 2, 9), D(2026, 12, 2))]
    assert a.last_lawful_day == D(2026, 2, 8)


def test_kazakh_citizens_are_refused():
    with pytest.raises(NotAForeigner, match="not foreigners"):
        assess("KAZ", [entry(D(2026, 1, 5))], [], [], D(2026, 1, 20), RULES)
    with pytest.raises(NotAForeigner):
        calculate_trips("kaz", [(D(2026, 1, 5), None)], D(2026, 1, 20), RULES)


def test_malformed_citizenship_is_refused():
    with pytest.raises(ValueError, match="^UZ is not a known country code$"):
        assess("UZ", [], [], [], D(2026, 1, 20), RULES)


# --- host notification -------------------------------------------------------------------------


def test_notification_deadline_across_a_weekend():
    # Entry Fri 2026-02-13 → Mon 16, Tue 17, Wed 18: due Wed 18.
    crossings = [entry(D(2026, 2, 13))]
    pending = assess("RUS", crossings, [], [], D(2026, 2, 18), RULES)
    assert pending.deadlines[0].due == D(2026, 2, 18)
    assert pending.deadlines[0].met is None and pending.status == "lawful"
    overdue = assess("RUS", crossings, [], [], D(2026, 2, 19), RULES)
    assert overdue.status == "notification_overdue"
    assert overdue.deadlines[0].overdue and overdue.deadlines[0].met is False
    assert "was due on 2026-02-18" in overdue.reasons[0]
    on_time = assess("RUS", crossings, [], [NotificationRecord(D(2026, 2, 13), D(2026, 2, 18))],
                     D(2026, 2, 19), RULES)
    assert on_time.deadlines[0].met is True and on_time.status == "lawful"
    late = assess("RUS", crossings, [], [NotificationRecord(D(2026, 2, 13), D(2026, 2, 19))],
                  D(2026, 2, 20), RULES)
    assert late.deadlines[0].met is False and not late.deadlines[0].overdue
    assert late.status == "lawful"  # late but submitted: not overdue


def test_notification_deadline_across_nauryz():
    # Entry Thu 2026-03-19 → Fri 20 (1); Mar 21–25 off (Nauryz + observed); Thu 26 (2), Fri 27 (3).
    crossings = [entry(D(2026, 3, 19))]
    assert assess("UZB", crossings, [], [], D(2026, 3, 27), RULES).status == "lawful"
    late = assess("UZB", crossings, [], [], D(2026, 3, 28), RULES)
    assert late.status == "notification_overdue" and late.deadlines[0].due == D(2026, 3, 27)


def test_trp_holders_are_notified_too():
    trp = [PermitPeriod("trp", D(2026, 1, 1), D(2026, 12, 31))]
    a = assess("AFG", [entry(D(2026, 2, 13))], trp, [], D(2026, 2, 19), RULES)
    assert a.status == "notification_overdue"


def test_a_notification_for_an_earlier_arrival_does_not_count():
    crossings = [entry(D(2026, 1, 5)), exit_(D(2026, 1, 10)), entry(D(2026, 2, 13))]
    a = assess("RUS", crossings, [], notified(D(2026, 1, 5)), D(2026, 2, 19), RULES)
    assert [d.met for d in a.deadlines] == [True, False]
    assert a.status == "notification_overdue"


def test_calculator_reports_deadlines_without_judging_them():
    a = calculate_trips("RUS", [(D(2026, 2, 13), None)], D(2026, 3, 1), RULES)
    assert a.deadlines[0].due == D(2026, 2, 18) and a.deadlines[0].met is None
    assert a.status == "lawful"
    assert a.violations == ()  # nor lists notifications as missed


# --- host notifications missed or late, as violations -------------------------------------------
# Russia (EAEU: 90 in 180, so no overstay within these weeks). Entry Fri 2026-02-13: Mon 16, Tue 17,
# Wed 18 are the three working days, so the notification is due Wed 18.

FEB13 = [entry(D(2026, 2, 13))]


def notification_violations(a):
    return [(v.kind, v.start, v.end, v.days, v.stay_entry, v.due, v.filed) for v in a.violations
            if v.kind.startswith("notification")]


def test_a_notification_never_made_runs_from_the_day_after_it_was_due_to_the_asked_day():
    a = assess("RUS", FEB13, [], [], D(2026, 2, 25), RULES)
    assert a.status == "notification_overdue"
    assert notification_violations(a) == [
        ("notification_missed", D(2026, 2, 19), D(2026, 2, 25), 7, D(2026, 2, 13), D(2026, 2, 18), None)]
    assert ("stay entered 2026-02-13: the host notification was due on 2026-02-18 and none was submitted; "
            "7 day(s) (2026-02-19 – 2026-02-25) without it") in a.reasons
    # On the due day itself nothing is missed yet.
    assert notification_violations(assess("RUS", FEB13, [], [], D(2026, 2, 18), RULES)) == []


def test_a_notification_made_late_runs_to_the_day_it_was_made():
    late = [NotificationRecord(D(2026, 2, 13), D(2026, 2, 20))]
    a = assess("RUS", FEB13, [], late, D(2026, 2, 25), RULES)
    assert a.status == "lawful"
    assert notification_violations(a) == [
        ("notification_late", D(2026, 2, 19), D(2026, 2, 20), 2, D(2026, 2, 13), D(2026, 2, 18), D(2026, 2, 20))]
    assert ("stay entered 2026-02-13: the host notification was due on 2026-02-18 and submitted on 2026-02-20; "
            "2 day(s) (2026-02-19 – 2026-02-20) late") in a.reasons
    # Asked before it was made, it is still missed.
    before = assess("RUS", FEB13, [], late, D(2026, 2, 19), RULES)
    assert notification_violations(before) == [
        ("notification_missed", D(2026, 2, 19), D(2026, 2, 19), 1, D(2026, 2, 13), D(2026, 2, 18), None)]


def test_a_notification_on_time_or_for_an_arrival_inside_the_stay_is_no_violation():
    on_time = [NotificationRecord(D(2026, 2, 13), D(2026, 2, 18))]
    assert notification_violations(assess("RUS", FEB13, [], on_time, D(2026, 3, 1), RULES)) == []
    # The host reported arrival on Feb 15 (the guest came to them two days after the border).
    inside = [NotificationRecord(D(2026, 2, 15), D(2026, 2, 17))]
    assert notification_violations(assess("RUS", FEB13, [], inside, D(2026, 3, 1), RULES)) == []
    # One reporting an arrival before this entry is for another stay.
    before = [NotificationRecord(D(2026, 2, 12), D(2026, 2, 13))]
    assert [k for k, *_ in notification_violations(assess("RUS", FEB13, [], before, D(2026, 3, 1), RULES))] == [
        "notification_missed"]


def test_a_stay_ended_by_the_due_day_owes_nothing_and_one_ended_later_is_cut_at_its_exit():
    left_in_time = [entry(D(2026, 2, 13)), exit_(D(2026, 2, 18))]
    assert notification_violations(assess("RUS", left_in_time, [], [], D(2026, 3, 1), RULES)) == []
    left_later = [entry(D(2026, 2, 13)), exit_(D(2026, 2, 21))]
    assert notification_violations(assess("RUS", left_later, [], [], D(2026, 3, 1), RULES)) == [
        ("notification_missed", D(2026, 2, 19), D(2026, 2, 21), 3, D(2026, 2, 13), D(2026, 2, 18), None)]
    # Made after the guest had left: late, its days those present without it.
    after = [NotificationRecord(D(2026, 2, 13), D(2026, 2, 25))]
    assert notification_violations(assess("RUS", left_later, [], after, D(2026, 3, 1), RULES)) == [
        ("notification_late", D(2026, 2, 19), D(2026, 2, 21), 3, D(2026, 2, 13), D(2026, 2, 18), D(2026, 2, 25))]


def test_each_stay_is_notified_for_itself():
    # Jan 5 stay notified on its day; the Feb 13 stay never: its run alone, while still present.
    crossings = [entry(D(2026, 1, 5)), exit_(D(2026, 1, 10)), entry(D(2026, 2, 13))]
    a = assess("RUS", crossings, [], notified(D(2026, 1, 5)), D(2026, 2, 19), RULES)
    assert notification_violations(a) == [
        ("notification_missed", D(2026, 2, 19), D(2026, 2, 19), 1, D(2026, 2, 13), D(2026, 2, 18), None)]


def test_the_look_back_bounds_what_is_listed_unless_the_whole_history_is_asked():
    # Never notified in 2025; asked on 2026-02-25, 180 days back reach 2025-08-30.
    crossings = [entry(D(2025, 3, 3)), exit_(D(2025, 3, 20)), *FEB13]
    recent = assess("RUS", crossings, [], [], D(2026, 2, 25), RULES)
    assert [v.stay_entry for v in recent.violations] == [D(2026, 2, 13)]
    whole = assess("RUS", crossings, [], [], D(2026, 2, 25), RULES, whole_history=True)
    assert [(v.kind, v.start, v.end, v.due) for v in whole.violations] == [
        ("notification_missed", D(2025, 3, 7), D(2025, 3, 20), D(2025, 3, 6)), *(
            (v.kind, v.start, v.end, v.due) for v in recent.violations)]
    # Nothing else differs (the reasons explain the violations listed).
    assert dataclasses.replace(whole, violations=recent.violations, reasons=recent.reasons) == recent


def test_the_violation_continuous_presence_would_begin_is_named():
    # Uzbekistan, 30 days per entry: entered 2026-03-02, asked on day 5; day 31 is Apr 1.
    a = assess("UZB", [entry(D(2026, 3, 2))], [], notified(D(2026, 3, 2)), D(2026, 3, 6), RULES)
    assert a.status == "lawful"
    assert a.next_violation == Violation("per_entry", D(2026, 4, 1), D(2026, 4, 1), D(2026, 3, 2))
    assert assess("UZB", [entry(D(2026, 3, 2))], [], [], D(2026, 4, 5), RULES).next_violation is None  # begun
    assert assess("UZB", [], [], [], D(2026, 4, 5), RULES).next_violation is None  # not in the country


# --- crossings and data quality ----------------------------------------------------------------


def test_exit_without_entry_is_found_and_adds_no_days():
    stays, findings = stays_from_crossings([exit_(D(2026, 1, 3)), entry(D(2026, 1, 10)), exit_(D(2026, 1, 12))])
    assert stays == [Stay(None, D(2026, 1, 3)), Stay(D(2026, 1, 10), D(2026, 1, 12))]
    assert [f.code for f in findings] == ["exit_without_entry"] and findings[0].on == D(2026, 1, 3)
    a = assess("RUS", [exit_(D(2026, 1, 3)), entry(D(2026, 1, 10)), exit_(D(2026, 1, 12))], [], [],
               D(2026, 1, 12), RULES)
    assert a.days_used == 3 and a.findings == tuple(findings)


def test_two_entries_in_a_row_assume_presence_until_the_second():
    # Jan 1–9 (assumed) + Jan 10–20 = 20 days.
    crossings = [entry(D(2026, 1, 1)), entry(D(2026, 1, 10))]
    a = assess("UZB", crossings, [], notified(D(2026, 1, 1), D(2026, 1, 10)), D(2026, 1, 20), RULES)
    assert a.findings == (Finding("entry_without_exit", D(2026, 1, 1),
                                  "entry on 2026-01-01 has no exit before the next entry on 2026-01-10; "
                                  "presence is assumed until that entry"),)
    assert a.days_used == 20 and a.current_entry == D(2026, 1, 10)
    assert a.days_left == 30 - 11  # per entry counts from the latest crossing


def test_same_day_exit_and_reentry_counts_the_day_once():
    crossings = [entry(D(2026, 1, 1)), entry(D(2026, 1, 15)), exit_(D(2026, 1, 15))]  # any order
    stays, findings = stays_from_crossings(crossings)
    assert stays == [Stay(D(2026, 1, 1), D(2026, 1, 15)), Stay(D(2026, 1, 15), None)] and findings == []
    a = assess("RUS", crossings, [], notified(D(2026, 1, 1), D(2026, 1, 15)), D(2026, 1, 20), RULES)
    assert a.days_used == 20 and a.current_entry == D(2026, 1, 15)


def test_day_trip_when_outside():
    stays, _ = stays_from_crossings([exit_(D(2026, 3, 1)), entry(D(2026, 3, 1))])
    assert stays == [Stay(D(2026, 3, 1), D(2026, 3, 1))]


def test_calculator_merges_overlapping_trips():
    # Jan 1–20 and Jan 10–25 overlap: one stay Jan 1–25 = 25 days.
    a = calculate_trips("RUS", [(D(2026, 1, 1), D(2026, 1, 20)), (D(2026, 1, 10), D(2026, 1, 25))],
                        D(2026, 1, 31), RULES)
    assert [f.code for f in a.findings] == ["overlapping_stays"]
    assert a.days_used == 25 and a.stays == (Stay(D(2026, 1, 1), D(2026, 1, 25)),)


def test_calculator_refuses_impossible_trips():
    with pytest.raises(ValueError, match=r"^Trip 1: The trip ends \(2026-01-01\) before it starts \(2026-01-05\)\.$"):
        calculate_trips("RUS", [(D(2026, 1, 5), D(2026, 1, 1))], D(2026, 2, 1), RULES)
    with pytest.raises(ValueError, match=r"^Trip 1: a trip without an exit date must start on or before 2026-02-01\.$"):
        calculate_trips("RUS", [(D(2026, 3, 5), None)], D(2026, 2, 1), RULES)
    with pytest.raises(ValueError, match=r"^Only one trip \(the current one\) may be without an exit date\.$"):
        calculate_trips("RUS", [(D(2026, 1, 5), None), (D(2026, 1, 7), None)], D(2026, 2, 1), RULES)


def test_invalid_value_objects():
    with pytest.raises(ValueError, match="direction"):
        Crossing("in", D(2026, 1, 1))  # type: ignore[arg-type]  # an invalid direction, on purpose
    with pytest.raises(ValueError, match="before it starts"):
        PermitPeriod("trp", D(2026, 2, 1), D(2026, 1, 1))


# --- properties --------------------------------------------------------------------------------

BASE = D(2025, 1, 1)
ON = D(2026, 2, 1)  # 396 days after BASE
WINDOWED = ["UZB", "RUS", "IND", "CHN", "USA"]  # all have a rolling window in 2025–2026
CITIZENSHIPS = [*WINDOWED, "AFG", "TJK"]

crossing_lists = st.lists(
    st.builds(lambda d, way: Crossing(way, BASE + dt.timedelta(days=d)),
              st.integers(min_value=0, max_value=396), st.sampled_from(["entry", "exit"])),
    max_size=10,
)


def summary(a):
    return (a.status, a.days_used, a.days_left, a.last_lawful_day, a.overstay_days, a.no_basis_days,
            a.in_country, a.stays, a.findings, a.violations, a.deadlines)


@given(st.sampled_from(CITIZENSHIPS), crossing_lists, st.data())
def test_result_does_not_depend_on_the_order_of_crossings(citizenship, crossings, data):
    shuffled = data.draw(st.permutations(crossings))
    assert summary(assess(citizenship, crossings, [], [], ON, RULES)) == summary(
        assess(citizenship, shuffled, [], [], ON, RULES))


@given(st.sampled_from(CITIZENSHIPS), crossing_lists, st.integers(min_value=0, max_value=396))
def test_adding_an_exit_never_increases_days_used(citizenship, crossings, day):
    before = assess(citizenship, crossings, [], [], ON, RULES)
    after = assess(citizenship, [*crossings, exit_(BASE + dt.timedelta(days=day))], [], [], ON, RULES)
    assert after.days_used <= before.days_used


@given(st.sampled_from(CITIZENSHIPS), crossing_lists)
def test_days_used_never_exceed_the_window(citizenship, crossings):
    a = assess(citizenship, crossings, [], [], ON, RULES)
    assert 0 <= a.days_used <= a.window_days


@given(st.sampled_from(CITIZENSHIPS), st.integers(min_value=0, max_value=396))
def test_an_open_stay_counts_up_to_the_asked_date(citizenship, day):
    arrived = BASE + dt.timedelta(days=day)
    a = assess(citizenship, [entry(arrived)], [], [], ON, RULES)
    assert a.in_country and a.current_entry == arrived
    assert a.days_used == min((ON - arrived).days + 1, a.window_days)


@given(st.sampled_from(WINDOWED), crossing_lists)
def test_days_used_plus_days_left_within_the_window_maximum(citizenship, crossings):
    a = assess(citizenship, crossings, [], [], ON, RULES)
    assert a.window_max_days is not None and a.days_left is not None
    if a.days_used <= a.window_max_days:
        assert a.days_used + a.days_left <= a.window_max_days
    else:  # already past the window maximum: nothing is left, and a day present now is an overstay
        # Present on ON: the last stay is still open, or a stay's recorded exit is ON itself.
        last = a.stays[-1]
        present = (last.entry is not None and last.exit is None) or any(
            s.entry is not None and s.exit == ON for s in a.stays)
        assert a.days_left == 0 and a.status == ("overstay" if present else "not_in_country")


@given(st.sampled_from(WINDOWED), crossing_lists)
def test_days_left_is_a_floor_of_the_last_lawful_day(citizenship, crossings):
    a = assess(citizenship, crossings, [], [], ON, RULES)
    if a.days_left and a.status != "overstay":
        assert a.last_lawful_day is not None
        assert a.last_lawful_day >= ON + dt.timedelta(days=a.days_left)


@given(st.sampled_from(WINDOWED), st.lists(st.tuples(st.integers(0, 396), st.integers(0, 40)), max_size=6))
def test_calculator_agrees_with_recorded_crossings(citizenship, raw):
    # Non-overlapping past trips give the same figures as the same crossings recorded at a border.
    trips, last_end = [], -2
    for start, length in sorted(raw):
        start = max(start, last_end + 1)
        end = min(start + length, 396)
        if start > 396:
            break
        trips.append((BASE + dt.timedelta(days=start), BASE + dt.timedelta(days=end)))
        last_end = end
    crossings = [c for s, e in trips for c in (entry(s), exit_(e))]
    calc = calculate_trips(citizenship, trips, ON, RULES)
    recorded = assess(citizenship, crossings, [], [], ON, RULES)
    assert (calc.days_used, calc.days_left, calc.last_lawful_day, calc.overstay_days) == (
        recorded.days_used, recorded.days_left, recorded.last_lawful_day, recorded.overstay_days)


def test_engine_takes_any_jurisdiction_rules():
    # A made-up country: Friday–Saturday weekend, 1-working-day notification, one group
    # with 10 days per entry and no window; everyone else needs a visa.
    from kosh.jurisdictions.schema import (
        CitizenshipGroup,
        HostNotificationRule,
        SourceRef,
        StayRules,
        StayRuleVersion,
        WorkingCalendar,
    )

    src = SourceRef(text="test")
    groups = [
        CitizenshipGroup(code="neighbours", name="Neighbours", version=(
            StayRuleVersion(basis="visa_free", legal_basis="treaty", per_entry_days=10,
                            members=("FRA",), source=src),)),
        CitizenshipGroup(code="others", name="Others", default=True, version=(
            StayRuleVersion(basis="visa_required", legal_basis="law", source=src),)),
    ]
    rules = StayRules(groups, HostNotificationRule(1, frozenset({"visa_free"}), src),
                      WorkingCalendar(weekend=(4, 5)), own_citizenship=None, lookback_days=365)
    # Entry Thu 2026-02-12: Fri 13 and Sat 14 off → due Sun 15. Ten days end Feb 21; 22–24 = 3 over.
    a = assess("FRA", [entry(D(2026, 2, 12)), exit_(D(2026, 2, 24))], [], [], D(2026, 2, 24), rules)
    assert a.deadlines[0].due == D(2026, 2, 15)
    assert a.status == "overstay" and a.overstay_days == 3
    assert a.window_days == 365 and a.days_used == 13
    # KAZ is an ordinary visa-required foreigner here.
    assert assess("KAZ", [entry(D(2026, 2, 12))], [], [], D(2026, 2, 12), rules).status == "no_lawful_basis"


@given(st.sampled_from(CITIZENSHIPS), crossing_lists, st.integers(min_value=0, max_value=396))
def test_without_explanations_only_the_reasons_are_left_out(citizenship, crossings, day):
    on = BASE + dt.timedelta(days=day)
    full = assess(citizenship, crossings, [], [], on, RULES)
    lean = assess(citizenship, crossings, [], [], on, RULES, explain=False)
    assert lean.reasons == ()
    assert dataclasses.replace(full, reasons=()) == lean


notification_lists = st.lists(
    st.builds(lambda a, late: NotificationRecord(BASE + dt.timedelta(days=a), BASE + dt.timedelta(days=a + late)),
              st.integers(min_value=0, max_value=396), st.integers(min_value=0, max_value=30)),
    max_size=4,
)


def _notification_days(a):
    return sum(v.days for v in a.violations if v.kind.startswith("notification"))


@settings(deadline=None)  # two assessments per example: no time limit on a loaded machine
@given(st.sampled_from(CITIZENSHIPS), crossing_lists, notification_lists, notification_lists)
def test_a_further_notification_never_adds_days_without_one(citizenship, crossings, notes, more):
    before = assess(citizenship, crossings, [], notes, ON, RULES)
    after = assess(citizenship, crossings, [], [*notes, *more], ON, RULES)
    assert _notification_days(after) <= _notification_days(before)


@settings(deadline=None)
@given(st.sampled_from(CITIZENSHIPS), crossing_lists, notification_lists)
def test_an_overdue_notification_is_a_missed_one_reaching_the_asked_day(citizenship, crossings, notes):
    a = assess(citizenship, crossings, [], notes, ON, RULES)
    missed_today = [v for v in a.violations if v.kind == "notification_missed" and v.end == ON]
    if a.status == "notification_overdue":  # present on ON (maybe leaving that day), the stay's run reaches ON
        assert missed_today
        assert a.current_entry is None or a.current_entry in {v.stay_entry for v in missed_today}
    for v in a.violations:
        if v.kind.startswith("notification"):
            assert v.due is not None and v.start == v.due + dt.timedelta(days=1) and v.end <= ON
            assert (v.filed is not None) == (v.kind == "notification_late")

"""A month's wage against the contract (kosh.wages.rules): hand-worked cases for each rule,
properties (a payment never makes a month worse; row order and repeated rows change nothing),
and the engine held equal to a slow day-by-day re-implementation written here, on random months."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from kosh.jurisdictions.schema import SourceRef, WageRule
from kosh.wages.rules import (
    RANK,
    Contract,
    Deduction,
    Flag,
    MonthOutcome,
    Payment,
    check_month,
    due_day,
    employer_compliance,
    timeline,
)

SOURCE = SourceRef(text="test rule set")
# Kazakhstan-like: due by the 10th of the next month, no grace, paid in full, deductions ≤ 50 %
KZ = WageRule(code="kz", pay_by_day_of_next_month=10, paid_share_percent=100, deduction_cap_percent=50,
              source=SOURCE)
# WPS-like: due on the month's last day, late 15 days after, paid at 80 %, employer compliant at 90 %;
# Mudad-like timeline
WPS = WageRule(code="wps", grace_days=15, paid_share_percent=80, compliant_employer_percent=90,
               reminder_days=(0, 10, 15), inspection_request_day=20, employer_answer_days=10, worker_answer_days=3,
               source=SOURCE)
MARCH = (2026, 3)
WAGE = Contract(250_000)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


# --- by hand ---------------------------------------------------------------------------------------

def test_due_days_by_hand():
    assert due_day(KZ, MARCH) == d("2026-04-10")
    assert due_day(KZ, (2026, 12)) == d("2027-01-10")
    assert due_day(WPS, (2024, 2)) == d("2024-02-29")  # no day given: the month's last day


def test_march_paid_in_full_on_the_tenth_is_on_time_and_on_the_eleventh_late():
    on_time = check_month(KZ, WAGE, MARCH, [Payment(d("2026-04-10"), 250_000)], d("2026-04-30"))
    assert (on_time.outcome, on_time.paid_on, on_time.days_late) == (MonthOutcome.PAID_ON_TIME, d("2026-04-10"), 0)
    late = check_month(KZ, WAGE, MARCH, [Payment(d("2026-04-11"), 250_000)], d("2026-04-30"))
    assert (late.outcome, late.days_late) == (MonthOutcome.PAID_LATE, 1)


def test_a_month_paid_in_two_parts_is_paid_the_day_the_second_arrives():
    parts = [Payment(d("2026-04-05"), 150_000, reference="A"), Payment(d("2026-04-20"), 100_000, reference="B")]
    check = check_month(KZ, WAGE, MARCH, parts, d("2026-04-30"))
    assert (check.outcome, check.paid_on, check.days_late) == (MonthOutcome.PAID_LATE, d("2026-04-20"), 10)
    before = check_month(KZ, WAGE, MARCH, parts, d("2026-04-15"))  # the second not yet made
    assert (before.outcome, before.paid, before.days_late) == (MonthOutcome.PARTLY_PAID, 150_000, 5)


def test_pending_until_the_due_day_then_unpaid():
    assert check_month(KZ, WAGE, MARCH, [], d("2026-04-10")).outcome is MonthOutcome.PENDING
    unpaid = check_month(KZ, WAGE, MARCH, [], d("2026-04-25"))
    assert (unpaid.outcome, unpaid.days_late) == (MonthOutcome.UNPAID, 15)


def test_wps_counts_80_percent_as_paid_and_gives_15_days_grace():
    check = check_month(WPS, WAGE, MARCH, [Payment(d("2026-04-15"), 200_000)], d("2026-05-31"))
    assert (check.due, check.late_after, check.required) == (d("2026-03-31"), d("2026-04-15"), 200_000)
    assert check.outcome is MonthOutcome.PAID_ON_TIME and check.days_late == 15
    short = check_month(WPS, WAGE, MARCH, [Payment(d("2026-04-01"), 199_999)], d("2026-05-31"))
    assert short.outcome is MonthOutcome.PARTLY_PAID


def test_deductions_above_half_the_wage_and_pay_below_the_minimum_are_flagged():
    fine = [Payment(d("2026-04-08"), 250_000, (Deduction("housing", 100_000), Deduction("advance", 25_000)))]
    assert check_month(KZ, WAGE, MARCH, fine, d("2026-04-30")).flags == ()
    over = [Payment(d("2026-04-08"), 250_000, (Deduction("housing", 100_000), Deduction("fine", 25_001)))]
    assert check_month(KZ, WAGE, MARCH, over, d("2026-04-30")).flags == (Flag.DEDUCTIONS_ABOVE_CAP,)
    low = Contract(80_000)
    paid = [Payment(d("2026-04-08"), 80_000)]
    assert check_month(KZ, low, MARCH, paid, d("2026-04-30"), minimum_wage=85_000).flags == (
        Flag.BELOW_MINIMUM_WAGE,)
    assert check_month(KZ, Contract(80_000, full_time=False), MARCH, paid, d("2026-04-30"),
                       minimum_wage=85_000).flags == ()


def test_the_mudad_timeline_by_hand():
    due = d("2026-03-31")
    steps = timeline(WPS, due, None, d("2026-05-05"))
    assert [(e.kind, e.day) for e in steps] == [
        ("reminder", d("2026-03-31")), ("reminder", d("2026-04-10")), ("reminder", d("2026-04-15")),
        ("inspection_request", d("2026-04-20")), ("worker_answer_due", d("2026-04-23")),
        ("employer_answer_due", d("2026-04-30"))]
    paid_on_the_12th = timeline(WPS, due, d("2026-04-12"), d("2026-05-05"))
    assert [(e.kind, e.day) for e in paid_on_the_12th] == [("reminder", d("2026-03-31")),
                                                            ("reminder", d("2026-04-10"))]


def test_an_employer_is_compliant_when_90_percent_are_paid_on_time():
    paid = check_month(WPS, WAGE, MARCH, [Payment(d("2026-04-01"), 250_000)], d("2026-05-31"))
    unpaid = check_month(WPS, WAGE, MARCH, [], d("2026-05-31"))
    assert employer_compliance(WPS, [paid] * 9 + [unpaid]) == (9, 10, True)
    assert employer_compliance(WPS, [paid] * 8 + [unpaid] * 2) == (8, 10, False)
    assert employer_compliance(KZ, [paid]) == (1, 1, None)


# --- the slow re-implementation, day by day --------------------------------------------------------

def _slow_due(rule: WageRule, month: tuple[int, int]) -> dt.date:
    day = dt.date(month[0], month[1], 1)
    if rule.pay_by_day_of_next_month is None:
        while (day + dt.timedelta(days=1)).month == month[1]:
            day += dt.timedelta(days=1)
        return day
    while day.month == month[1]:
        day += dt.timedelta(days=1)
    while day.day != rule.pay_by_day_of_next_month:
        day += dt.timedelta(days=1)
    return day


def _slow(rule: WageRule, contract: Contract, month: tuple[int, int], payments: list[Payment], on: dt.date):
    due = _slow_due(rule, month)
    last_on_time = due
    for _ in range(rule.grace_days):
        last_on_time += dt.timedelta(days=1)
    kept: dict[str, Payment] = {}
    rows = []
    for p in sorted(payments, key=lambda p: (p.paid_on, p.gross, p.deductions)):
        if p.reference and p.reference in kept:
            continue
        if p.reference:
            kept[p.reference] = p
        rows.append(p)
    day = min([due, on] + [p.paid_on for p in rows])
    paid_so_far, paid_on = 0, None
    while day <= on:
        paid_so_far += sum(p.gross for p in rows if p.paid_on == day)
        if paid_on is None and paid_so_far * 100 >= contract.monthly_wage * rule.paid_share_percent:
            paid_on = day
        day += dt.timedelta(days=1)
    if paid_on is not None:
        outcome = "paid_on_time" if paid_on <= last_on_time else "paid_late"
    elif on <= last_on_time:
        outcome = "pending"
    else:
        outcome = "partly_paid" if paid_so_far else "unpaid"
    return outcome, paid_on, paid_so_far


def _slow_timeline(rule: WageRule, due: dt.date, paid_on: dt.date | None, on: dt.date) -> list[tuple[str, dt.date]]:
    out = []
    day, asked = due, None
    while day <= on:
        unpaid_still = paid_on is None or paid_on > day
        n = (day - due).days
        if unpaid_still and n in rule.reminder_days:
            out.append(("reminder", day))
        if unpaid_still and n == rule.inspection_request_day:
            out.append(("inspection_request", day))
            asked = day
        since = None if asked is None else (day - asked).days
        if since is not None and since == rule.employer_answer_days:
            out.append(("employer_answer_due", day))
        if since is not None and since == rule.worker_answer_days:
            out.append(("worker_answer_due", day))
        day += dt.timedelta(days=1)
    return sorted(out, key=lambda e: (e[1], e[0]))


RULES = st.builds(lambda day, grace, share, reminders, inspection, employer, worker: WageRule(
    code="r", pay_by_day_of_next_month=day, grace_days=grace, paid_share_percent=share, reminder_days=reminders,
    inspection_request_day=inspection, employer_answer_days=employer, worker_answer_days=worker, source=SOURCE),
    st.none() | st.integers(1, 28), st.integers(0, 20), st.integers(50, 100),
    st.lists(st.integers(0, 30), max_size=4).map(tuple), st.none() | st.integers(0, 40),
    st.none() | st.integers(0, 15), st.none() | st.integers(0, 15))
MONTHS = st.tuples(st.integers(2023, 2027), st.integers(1, 12))
PAYMENTS = st.lists(st.builds(
    lambda offset, gross, ref: (offset, gross, ref), st.integers(-20, 90), st.integers(0, 300_000),
    st.sampled_from(["", "", "R1", "R2", "R3"])), max_size=6)


def _payments(month: tuple[int, int], rows) -> list[Payment]:
    start = dt.date(month[0], month[1], 1)
    return [Payment(start + dt.timedelta(days=25 + off), gross, reference=ref) for off, gross, ref in rows]


@settings(max_examples=3000, deadline=None)
@given(rule=RULES, month=MONTHS, rows=PAYMENTS, wage=st.integers(1, 400_000), ask=st.integers(0, 120))
def test_the_engine_equals_a_day_by_day_count(rule, month, rows, wage, ask):
    payments = _payments(month, rows)
    on = dt.date(month[0], month[1], 1) + dt.timedelta(days=ask)
    check = check_month(rule, Contract(wage), month, payments, on)
    assert (check.outcome.value, check.paid_on, check.paid) == _slow(rule, Contract(wage), month, payments, on)
    assert check.due == _slow_due(rule, month)
    assert [(e.kind, e.day) for e in timeline(rule, check.due, check.paid_on, on)] == _slow_timeline(
        rule, check.due, check.paid_on, on)


@settings(max_examples=1000, deadline=None)
@given(rule=RULES, month=MONTHS, rows=PAYMENTS, extra=PAYMENTS, wage=st.integers(1, 400_000), ask=st.integers(0, 120),
       seed=st.randoms())
def test_a_payment_never_makes_a_month_worse_and_order_and_repeats_change_nothing(rule, month, rows, extra, wage,
                                                                                    ask, seed):
    payments = _payments(month, rows)
    more = _payments(month, [(o, g, r + "x" if r else r) for o, g, r in extra])  # new references
    on = dt.date(month[0], month[1], 1) + dt.timedelta(days=ask)
    before = check_month(rule, Contract(wage), month, payments, on)
    after = check_month(rule, Contract(wage), month, payments + more, on)
    assert RANK[after.outcome] >= RANK[before.outcome]
    shuffled = list(payments)
    seed.shuffle(shuffled)
    assert check_month(rule, Contract(wage), month, shuffled, on) == before
    again = payments + [p for p in payments if p.reference]  # the same file read twice
    assert check_month(rule, Contract(wage), month, again, on) == before


def test_the_kz_pack_reads_as_the_labour_code_says():
    from kosh.jurisdictions import load_pack

    wages = load_pack("kz").wages
    code = wages.rule_on("kz_labour_code", d("2026-04-10"))
    assert code is not None and code.source.text
    minimum = wages.minimum_wage_on(d("2026-04-10"))
    assert minimum is not None
    # March's wage by the 10th of April in full (art. 113); at most half deducted (art. 115)
    assert due_day(code, MARCH) == d("2026-04-10")
    paid = [Payment(d("2026-04-10"), minimum.kzt - 1, (Deduction("housing", minimum.kzt // 2),))]
    check = check_month(code, Contract(minimum.kzt - 1), MARCH, paid, d("2026-04-30"), minimum_wage=minimum.kzt)
    assert check.outcome is MonthOutcome.PAID_ON_TIME
    assert check.flags == (Flag.DEDUCTIONS_ABOVE_CAP, Flag.BELOW_MINIMUM_WAGE)
    assert {r.code for r in wages.wage_rule} == {"kz_labour_code", "uae_wps", "ksa_mudad"}

"""Random sequences of permit steps through the service: the quota counters always equal the sum
over the permits of the places each holds in its state, and no permit is ever issued without an
approval and a paid fee before it. A household worker's unpaid months are held equal to a slow,
day-by-day re-implementation."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kosh.permits import ledger, rules, service
from kosh.permits.models import PermitAction, QuotaCell, WorkPermit
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform.errors import KoshError
from kosh.platform.security import Principal, Role, system_principal

MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party="180240000012")
AKIMAT = Principal("akimat", Role.AKIMAT, user_id=4, regions=("75", "71"))
SYSTEM = system_principal("daily")
REGIONS = ("75", "71")

HOLDS_RESERVED = {"approved", "fee_paid"}
HOLDS_USED = {"issued", "extended", "suspended"}


def _apply(ctx, rng: random.Random, n: int, today: dt.date) -> None:
    workers = [{"surname": f"Worker{n}x{i}", "given_names": "A", "birth_date": "1991-02-03", "citizenship": "UZB",
                "document_number": f"FB{n:05d}{i}", "issuing_state": "UZB", "work_region": rng.choice(REGIONS)}
               for i in range(rng.randint(1, 3))]
    data = ApplicationIn.model_validate({
        "channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V",
        "vacancy_posted_on": (today - dt.timedelta(days=20)).isoformat(), "term_months": rng.choice([1, 2, 12]),
        "starts_on": today.isoformat(), "staff_total": 100, "staff_citizens": 95, "workers": workers})
    with ctx.transaction() as s:
        service.submit(s, ctx, EMPLOYER, data, today)


def _expected(ctx) -> dict[str, tuple[int, int]]:
    """(reserved, used) per region from the permits' own states."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with ctx.transaction() as s:
        for p in s.execute(select(WorkPermit)).scalars():
            for region, places in p.regions.items():
                if p.state in HOLDS_USED:
                    out[region][1] += places
                elif p.state in HOLDS_RESERVED or (p.state in ("submitted", "checked") and p.reserved_until):
                    out[region][0] += places
    return {r: (v[0], v[1]) for r, v in out.items() if v != [0, 0]}


def _counters(ctx) -> dict[str, tuple[int, int]]:
    with ctx.transaction() as s:
        return {c.region: (c.reserved, c.used) for c in s.execute(select(QuotaCell)).scalars()
                if (c.reserved, c.used) != (0, 0)}


def test_quota_counters_equal_the_sum_over_permits_after_random_steps(ctx):
    rng = random.Random(11)
    with ctx.transaction() as s:
        for region in REGIONS:
            ledger.set_quota(s, ctx, MINISTRY, year=2026, region=region, category="3", allowed=8)
        service.save_employer(s, ctx, EMPLOYER, EmployerIn(employer_name="Qurylys", region="75"))
    today = dt.date(2026, 1, 12)
    made = 0
    for _ in range(70):
        op = rng.choice(["apply", "apply", "step", "step", "step", "daily", "time"])
        try:
            if op == "apply":
                made += 1
                _apply(ctx, rng, made, today)
            elif op == "step":
                with ctx.transaction() as s:
                    refs = list(s.execute(select(WorkPermit.reference).order_by(WorkPermit.id)).scalars())
                if refs:
                    ref = rng.choice(refs)
                    name = rng.choice(["approve", "refuse", "return", "pay_fee", "issue", "suspend", "restore",
                                       "revoke"])
                    who = EMPLOYER if name == "pay_fee" else AKIMAT
                    reason = {"refuse": "checks_failed", "return": "details_wrong", "suspend": "court_decision",
                              "revoke": "worker_left"}.get(name, "")
                    with ctx.transaction() as s:
                        service.take_step(s, ctx, who, ref, StepIn(step=name, reason_code=reason), today)
            elif op == "daily":
                with ctx.transaction() as s:
                    service.run_daily(s, ctx, SYSTEM, today)
            else:
                today = ctx.pack.calendar.add_working_days(today, rng.randint(1, 12))
        except KoshError:
            pass  # a refused step or a full quota changes nothing: checked below
        assert _counters(ctx) == _expected(ctx)
    with ctx.transaction() as s:
        assert ledger.integrity_errors(s) == []
        trails: dict[int, list[str]] = defaultdict(list)
        for pid, step_name in s.execute(select(PermitAction.permit_id, PermitAction.step)
                                        .order_by(PermitAction.id)).all():
            trails[pid].append(step_name)
    for trail in trails.values():
        if "issue" in trail:
            first_issue = trail.index("issue")
            assert "approve" in trail[:first_issue] and "pay_fee" in trail[:first_issue]
    assert made > 5 and any("issue" in t for t in trails.values())


# --- household months: the engine against a day-by-day count ----------------------------------------

def _unpaid_day_by_day(valid_from: dt.date, valid_to: dt.date, paid: set[str], on: dt.date) -> list[str]:
    """Walk the permit day by day; a new month of the permit begins on each day whose day of the
    month equals the first day's (or the month's last day when it is shorter)."""
    begun: list[tuple[str, dt.date]] = []
    day = valid_from
    while day <= valid_to:
        first_of_permit_month = day == valid_from
        if not first_of_permit_month:
            last_of_month = (day + dt.timedelta(days=1)).month != day.month
            same_day = day.day == valid_from.day or (last_of_month and day.day < valid_from.day)
            first_of_permit_month = same_day
        if first_of_permit_month:
            begun.append((f"{day.year:04d}-{day.month:02d}", day))
        day += dt.timedelta(days=1)
    return [key for key, start in begun if start <= on and key not in paid]


@settings(max_examples=2000, deadline=None)
@given(start=st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)), months=st.integers(1, 12),
       cut=st.integers(0, 27), paid_mask=st.integers(0, 2 ** 12 - 1), offset=st.integers(-10, 400))
def test_unpaid_months_equal_a_day_by_day_count(start, months, cut, paid_mask, offset):
    from dateutil.relativedelta import relativedelta

    end = start + relativedelta(months=months) - dt.timedelta(days=1 + cut)
    if end < start:
        end = start
    keys = [m.key for m in rules.household_months(start, end)]
    paid = {k for i, k in enumerate(keys) if paid_mask >> i & 1}
    on = start + dt.timedelta(days=offset)
    assert [m.key for m in rules.unpaid_months(start, end, paid, on)] == _unpaid_day_by_day(start, end, paid, on)


def test_household_months_by_hand():
    months = rules.household_months(dt.date(2026, 1, 31), dt.date(2026, 4, 29))
    assert [(m.key, m.start, m.end) for m in months] == [
        ("2026-01", dt.date(2026, 1, 31), dt.date(2026, 2, 27)),
        ("2026-02", dt.date(2026, 2, 28), dt.date(2026, 3, 30)),
        ("2026-03", dt.date(2026, 3, 31), dt.date(2026, 4, 29)),
    ]

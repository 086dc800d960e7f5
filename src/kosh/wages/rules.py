"""A month's wage checked against the contract: pure rules read from the pack's wages.toml. No
database, no clock: every date is given.

    check_month(rule, Contract(250_000), (2026, 3), payments, on=dt.date(2026, 4, 30))

A month's wage is due on the rule's day (`pay_by_day_of_next_month`, else the month's last day).
It counts as paid on the first day the payments made by then reach `paid_share_percent` of the
contract wage — on time when that day is no later than the due day plus `grace_days`, late after
it. Until then the month is pending (not yet late), and once past the grace, unpaid (nothing paid)
or partly paid. Besides: deductions above the cap, and a month paid below the minimum wage.

What follows from that, by construction (and held by property tests): a further payment can only
bring the paid day earlier, so it never turns a paid month into a late one; the outcome is a sum
over the payments, so their order does not matter; payments are taken once per reference, so a
wage file read again changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kosh.jurisdictions.schema import WageRule

__all__ = ["Contract", "Deduction", "Flag", "MonthCheck", "MonthOutcome", "Payment", "TimelineEvent",
           "check_month", "due_day", "employer_compliance", "timeline"]


class MonthOutcome(StrEnum):
    PAID_ON_TIME = "paid_on_time"
    PAID_LATE = "paid_late"
    PENDING = "pending"  # due, or within the grace, and not yet paid enough: not (yet) a finding
    PARTLY_PAID = "partly_paid"  # past the grace, something paid but below the share
    UNPAID = "unpaid"  # past the grace, nothing paid


# Better outcomes rank higher (a payment can only move a month up).
RANK = {MonthOutcome.UNPAID: 0, MonthOutcome.PARTLY_PAID: 1, MonthOutcome.PENDING: 2, MonthOutcome.PAID_LATE: 3,
        MonthOutcome.PAID_ON_TIME: 4}


class Flag(StrEnum):
    DEDUCTIONS_ABOVE_CAP = "deductions_above_cap"
    BELOW_MINIMUM_WAGE = "below_minimum_wage"


@dataclass(frozen=True)
class Contract:
    """What the contract says of a month: the wage (gross, in the pack's currency) and whether it
    is full time (the minimum wage is checked for full-time contracts only)."""

    monthly_wage: int
    full_time: bool = True


@dataclass(frozen=True)
class Deduction:
    reason: str
    amount: int


@dataclass(frozen=True)
class Payment:
    """A wage file's row for the month: gross paid, the day paid, its deductions; `reference`
    (the bank's) makes it one payment however often the file is read."""

    paid_on: dt.date
    gross: int
    deductions: tuple[Deduction, ...] = ()
    reference: str = ""


@dataclass(frozen=True)
class MonthCheck:
    outcome: MonthOutcome
    due: dt.date
    late_after: dt.date  # the last day a payment is still on time
    paid: int  # gross paid by the day asked
    required: int  # what makes the month paid (the share of the contract wage)
    paid_on: dt.date | None  # the day the payments reached `required`
    days_late: int  # past the due day: until paid, or until the day asked when not paid
    flags: tuple[Flag, ...] = ()


def due_day(rule: WageRule, month: tuple[int, int]) -> dt.date:
    """The day a month's wage is due under the rule."""
    year, number = month
    if rule.pay_by_day_of_next_month is None:
        return dt.date(year, number, calendar.monthrange(year, number)[1])
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return following.replace(day=rule.pay_by_day_of_next_month)


def _once(payments: Iterable[Payment]) -> list[Payment]:
    """Each reference once (the earliest, then the smallest, so that order never matters); rows
    without a reference are each their own payment."""
    chosen: dict[str, Payment] = {}
    loose: list[Payment] = []
    for p in payments:
        if not p.reference:
            loose.append(p)
            continue
        key = (p.paid_on, p.gross, p.deductions)
        held = chosen.get(p.reference)
        if held is None or key < (held.paid_on, held.gross, held.deductions):
            chosen[p.reference] = p
    return [*chosen.values(), *loose]


def check_month(rule: WageRule, contract: Contract, month: tuple[int, int], payments: Sequence[Payment],
                on: dt.date, minimum_wage: int | None = None) -> MonthCheck:
    """Where a month's wage stands on `on`, counting the payments made by then."""
    due = due_day(rule, month)
    late_after = due + dt.timedelta(days=rule.grace_days)
    made = sorted((p for p in _once(payments) if p.paid_on <= on), key=lambda p: p.paid_on)
    required = -(-contract.monthly_wage * rule.paid_share_percent // 100)  # rounded up
    total, paid_on = 0, None
    for p in made:
        total += p.gross
        if paid_on is None and total >= required:
            paid_on = p.paid_on
    if paid_on is not None:
        outcome = MonthOutcome.PAID_ON_TIME if paid_on <= late_after else MonthOutcome.PAID_LATE
        days_late = max((paid_on - due).days, 0)
    elif on <= late_after:
        outcome, days_late = MonthOutcome.PENDING, max((on - due).days, 0)
    else:
        outcome = MonthOutcome.PARTLY_PAID if total > 0 else MonthOutcome.UNPAID
        days_late = (on - due).days
    flags = []
    deducted = sum(d.amount for p in made for d in p.deductions)
    if rule.deduction_cap_percent is not None and deducted * 100 > rule.deduction_cap_percent * total:
        flags.append(Flag.DEDUCTIONS_ABOVE_CAP)
    if minimum_wage is not None and contract.full_time and paid_on is not None and total < minimum_wage:
        flags.append(Flag.BELOW_MINIMUM_WAGE)
    return MonthCheck(outcome, due, late_after, total, required, paid_on, days_late, tuple(flags))


@dataclass(frozen=True)
class TimelineEvent:
    kind: str  # reminder | inspection_request | employer_answer_due | worker_answer_due
    day: dt.date


def timeline(rule: WageRule, due: dt.date, paid_on: dt.date | None, on: dt.date) -> list[TimelineEvent]:
    """The steps a month not paid in time has reached by `on`: reminders on the rule's days after
    the due day, the inspection request, and the answers then due from the employer and the
    worker. A step whose day the payment came before is not taken; nothing is later than `on`."""
    events: list[TimelineEvent] = []

    def reached(day: dt.date) -> bool:
        return day <= on and (paid_on is None or paid_on > day)

    for n in sorted(set(rule.reminder_days)):
        day = due + dt.timedelta(days=n)
        if reached(day):
            events.append(TimelineEvent("reminder", day))
    if rule.inspection_request_day is not None:
        asked = due + dt.timedelta(days=rule.inspection_request_day)
        if reached(asked):
            events.append(TimelineEvent("inspection_request", asked))
            for kind, days in (("employer_answer_due", rule.employer_answer_days),
                               ("worker_answer_due", rule.worker_answer_days)):
                if days is not None and asked + dt.timedelta(days=days) <= on:
                    events.append(TimelineEvent(kind, asked + dt.timedelta(days=days)))
    return sorted(events, key=lambda e: (e.day, e.kind))


def employer_compliance(rule: WageRule, checks: Sequence[MonthCheck]) -> tuple[int, int, bool | None]:
    """(workers paid on time, workers whose month is due, compliant?) for one month of one
    employer: compliant when the share paid on time reaches the rule's percentage; None when the
    rule sets none or no month is due yet."""
    due = [c for c in checks if c.outcome is not MonthOutcome.PENDING]
    on_time = sum(1 for c in due if c.outcome is MonthOutcome.PAID_ON_TIME)
    if rule.compliant_employer_percent is None or not due:
        return on_time, len(due), None
    return on_time, len(due), on_time * 100 >= rule.compliant_employer_percent * len(due)

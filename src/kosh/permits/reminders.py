"""Open deadlines of work permits, as reminders for the employer's pages, its API feed and the
akimat's: the decision due on an application, the fee due after approval, the extension window
of a valid permit (a notice before it opens, then the window itself), the duty to replace a
category 4 worker by citizens, and a household worker's next monthly prepayment.

Pure: no database and no clock. The caller gives the permits (anything with a PermitView's
attributes), the pack's permit rules, today, and what only the database knows (each household
permit's next unpaid month, the permits whose extension is already asked for):

    reminders(views, ctx.pack.permits, today, next_payments={"WP-…": ("2026-04", 15_000)})

Every reminder carries its `due` day and whether it is `late` (past due); the message is a
catalog Msg naming the permit and the days, said in the reader's language by the page or API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from dateutil.relativedelta import relativedelta

from kosh.jurisdictions.schema import PermitsFile
from kosh.permits import rules
from kosh.permits.rules import Outcome, PermitState
from kosh.platform.words import N_, Msg

__all__ = ["EXTENSION_NOTICE_DAYS", "KINDS", "KIND_WORDS", "PermitFacts", "Reminder", "reminders"]

# Days before the extension window opens that the employer is told it will (so that the
# documents are ready on its first day).
EXTENSION_NOTICE_DAYS = 14

DECISION_DUE = "decision_due"
FEE_DUE = "fee_due"
EXTENSION_OPENS = "extension_opens"
EXTENSION_WINDOW = "extension_window"
REPLACEMENT_DUTY = "replacement_duty"
HOUSEHOLD_PAYMENT = "household_payment"
KINDS = (DECISION_DUE, FEE_DUE, EXTENSION_OPENS, EXTENSION_WINDOW, REPLACEMENT_DUTY, HOUSEHOLD_PAYMENT)

# A heading per kind (for a page's list or a filter).
KIND_WORDS: dict[str, str] = {
    DECISION_DUE: N_("Decision on the application"),
    FEE_DUE: N_("Permit fee"),
    EXTENSION_OPENS: N_("Extension window opens"),
    EXTENSION_WINDOW: N_("Extension window"),
    REPLACEMENT_DUTY: N_("Replacement by citizens"),
    HOUSEHOLD_PAYMENT: N_("Monthly prepayment"),
}

_VALID = (PermitState.ISSUED, PermitState.EXTENDED)
_IN_FORCE = (*_VALID, PermitState.SUSPENDED)  # the workers are still employed on it
_DECIDING = (PermitState.SUBMITTED, PermitState.CHECKED)


class PermitFacts(Protocol):
    """What a reminder is computed from (service.PermitView has all of it)."""

    @property
    def reference(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def applied_on(self) -> dt.date | None: ...
    @property
    def decide_by(self) -> dt.date | None: ...
    @property
    def fee_due_on(self) -> dt.date | None: ...
    @property
    def valid_from(self) -> dt.date | None: ...
    @property
    def valid_to(self) -> dt.date | None: ...
    @property
    def extensions(self) -> int: ...


@dataclass(frozen=True)
class Reminder:
    kind: str  # one of KINDS
    reference: str
    due: dt.date
    message: Msg
    late: bool  # today is after `due`


def reminders(permits: Iterable[PermitFacts], permit_rules: PermitsFile, today: dt.date, *,
              next_payments: Mapping[str, tuple[str, int]] | None = None,
              extension_requested: Collection[str] = ()) -> list[Reminder]:
    """The open deadlines of `permits` on `today`, soonest first (then by permit and kind).

    - decision_due: an application not yet decided, due on its `decide_by` (late after it);
    - fee_due: an approved application, the fee due by `fee_due_on` (the approval lapses after);
    - extension_opens: a valid permit, from EXTENSION_NOTICE_DAYS before its extension window
      opens to the day before; due on the window's first day;
    - extension_window: a valid permit on each day of the window (the pack's extension_window:
      from earliest_days to latest_days before `valid_to`), unless the extension is already
      asked for or the permit may not be extended again; due on the window's last day;
    - replacement_duty: a category 4 permit in force, due on the last day its workers are to be
      replaced by citizens (the pack's replacement_duty, counted from `valid_from`);
    - household_payment: a household permit in force with a month not prepaid
      (`next_payments[reference]` = (month "YYYY-MM", amount in KZT)), due the day before the
      month starts (the daily job suspends the permit on that day if it is still unpaid).
    """
    payments = next_payments or {}
    out: list[Reminder] = []
    for p in permits:
        out += _of_permit(p, permit_rules, today, payments.get(p.reference), p.reference in extension_requested)
    return sorted(out, key=lambda r: (r.due, r.reference, KINDS.index(r.kind)))


def _reminder(kind: str, p: PermitFacts, due: dt.date, today: dt.date, message: Msg) -> Reminder:
    return Reminder(kind, p.reference, due, message, today > due)


def _of_permit(p: PermitFacts, permit_rules: PermitsFile, today: dt.date, payment: tuple[str, int] | None,
               requested: bool) -> list[Reminder]:
    out: list[Reminder] = []
    state = p.state
    if state in _DECIDING and p.decide_by is not None:
        out.append(_reminder(DECISION_DUE, p, p.decide_by, today, Msg(
            N_("The akimat decides on application %(reference)s by %(due)s."), reference=p.reference,
            due=p.decide_by)))
    if state == PermitState.APPROVED and p.fee_due_on is not None:
        out.append(_reminder(FEE_DUE, p, p.fee_due_on, today, Msg(
            N_("Pay the fee for permit %(reference)s by %(due)s; after that day the approval lapses."),
            reference=p.reference, due=p.fee_due_on)))
    if state in _VALID and p.valid_to is not None and not requested and _extendable(p, permit_rules):
        out += _extension(p, permit_rules, today, p.valid_to)
    if state in _IN_FORCE and p.valid_from is not None:
        duty = _replacement_duty(p, permit_rules, today, p.valid_from)
        if duty is not None:
            out.append(duty)
        if payment is not None and p.valid_to is not None:
            paid = _household_payment(p, today, payment, p.valid_from, p.valid_to)
            if paid is not None:
                out.append(paid)
    return out


def _pack_category(p: PermitFacts) -> str | None:
    """The pack's category of an employer's quota permit ("category_3", "seasonal"), else None."""
    if p.channel != "employer_quota" or not p.category:
        return None
    return p.category if p.category == "seasonal" else f"category_{p.category}"


def _extendable(p: PermitFacts, permit_rules: PermitsFile) -> bool:
    """May the permit be extended once more? A limit the pack does not know is not held against it."""
    category = _pack_category(p)
    if category is not None and permit_rules.category_for(category) is not None:
        return rules.check_extension_count(permit_rules, category, p.extensions).outcome is not Outcome.FAILED
    channel = permit_rules.channel_for(p.channel)
    if channel is None or not channel.needs_permit:
        return False
    limit = channel.max_extensions
    return not isinstance(limit, int) or p.extensions < limit


def _extension(p: PermitFacts, permit_rules: PermitsFile, today: dt.date, expires: dt.date) -> list[Reminder]:
    window = permit_rules.extension_window
    if window is None:
        return []
    first = expires - dt.timedelta(days=window.earliest_days)
    last = expires - dt.timedelta(days=window.latest_days)
    if first <= today <= last:
        return [_reminder(EXTENSION_WINDOW, p, last, today, Msg(
            N_("The extension of permit %(reference)s, which expires on %(expires)s, can be filed until %(last)s."),
            reference=p.reference, expires=expires, last=last))]
    if first - dt.timedelta(days=EXTENSION_NOTICE_DAYS) <= today < first:
        return [_reminder(EXTENSION_OPENS, p, first, today, Msg(
            N_("The extension of permit %(reference)s, which expires on %(expires)s, can be filed from %(first)s "
               "to %(last)s."), reference=p.reference, expires=expires, first=first, last=last))]
    return []


def _replacement_duty(p: PermitFacts, permit_rules: PermitsFile, today: dt.date,
                      first_start: dt.date) -> Reminder | None:
    category = _pack_category(p)
    if category is None:
        return None
    duty = permit_rules.replacement_duty_on(category, p.applied_on or first_start)
    if duty is None:
        return None
    earliest = first_start + relativedelta(months=duty.min_months)
    deadline = first_start + relativedelta(months=duty.max_months)
    return _reminder(REPLACEMENT_DUTY, p, deadline, today, Msg(
        N_("Replace the workers of permit %(reference)s by citizens between %(earliest)s and %(deadline)s."),
        reference=p.reference, earliest=earliest, deadline=deadline))


def _household_payment(p: PermitFacts, today: dt.date, payment: tuple[str, int], valid_from: dt.date,
                       valid_to: dt.date) -> Reminder | None:
    month, amount = payment
    found = next((m for m in rules.household_months(valid_from, valid_to) if m.key == month), None)
    if found is None:
        return None
    due = found.start - dt.timedelta(days=1)
    return _reminder(HOUSEHOLD_PAYMENT, p, due, today, Msg(
        N_("Prepay the month from %(start)s of permit %(reference)s, %(amount)s KZT, by %(due)s."),
        reference=p.reference, start=found.start, amount=str(amount), due=due))

"""Work permits as pure rules: the lifecycle of a permit (a state machine with the roles allowed
for each step) and the checks an application meets before it is submitted, read from the pack's
permits.toml. No database, no clock: every date is given.

    state = step(PermitState.DRAFT, Step.SUBMIT, PermitRole.EMPLOYER)   # → SUBMITTED
    check_term(pack.permits, "category_2", 24).outcome                 # → Outcome.FAILED

The lifecycle (TRANSITIONS; the roles of each step in ALLOWED_ROLES):

    draft ─submit→ submitted ─check→ checked ─approve→ approved ─pay_fee→ fee_paid ─issue→ issued
    checked ─return→ returned ─submit→ submitted        (corrected and filed again)
    checked ─refuse→ refused
    approved ─expire→ expired                           (fee not paid in time: the approval lapses)
    issued | extended ─extend→ extended
    issued | extended ─suspend→ suspended ─restore→ issued
    issued | extended | suspended ─revoke→ revoked, ─expire→ expired

Terminal states (no step leads out): refused, revoked, expired. `extended` is a valid permit, as
`issued` is, with a later end; the extension's own application (window, fee) is checked with
`check_extension_window`, its record kept by the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from kosh.jurisdictions.schema import PermitsFile, SourceRef, WorkingCalendar
from kosh.platform.errors import FieldError, KoshError, ValidationFailed
from kosh.platform.security import Role
from kosh.platform.words import N_, Msg, field_labels

__all__ = [
    "ALLOWED_ROLES", "SECURITY_ROLE", "TERMINAL_STATES", "TRAIL_WORDS", "TRANSITIONS", "CheckResult", "IllegalStep",
    "action_word", "check_channel_extension_count",
    "Outcome", "PermitRole", "PermitState", "Step", "allowed_steps", "check_extension_count",
    "check_extension_window", "check_local_content", "check_replacement_duty", "check_term",
    "check_vacancy_posting", "fee_due_by", "household_months", "household_prepayment_mci", "permit_roles", "step",
    "unpaid_months",
]


class PermitState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHECKED = "checked"
    APPROVED = "approved"
    RETURNED = "returned"
    REFUSED = "refused"
    FEE_PAID = "fee_paid"
    ISSUED = "issued"
    EXTENDED = "extended"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Step(StrEnum):
    SUBMIT = "submit"
    CHECK = "check"
    APPROVE = "approve"
    RETURN = "return"
    REFUSE = "refuse"
    PAY_FEE = "pay_fee"
    ISSUE = "issue"
    EXTEND = "extend"
    SUSPEND = "suspend"
    RESTORE = "restore"
    REVOKE = "revoke"
    EXPIRE = "expire"


class PermitRole(StrEnum):
    """Who takes a step; the platform role each one is: SECURITY_ROLE."""

    EMPLOYER = "employer"
    AKIMAT_OFFICER = "akimat_officer"
    SYSTEM_JOB = "system_job"
    MINISTRY_OFFICER = "ministry_officer"


# The platform role each permit role is. System jobs run as the system principal (the
# installation's administrator), which may act in every role.
SECURITY_ROLE: dict[PermitRole, Role] = {
    PermitRole.EMPLOYER: Role.EMPLOYER,
    PermitRole.AKIMAT_OFFICER: Role.AKIMAT,
    PermitRole.SYSTEM_JOB: Role.ADMIN,
    PermitRole.MINISTRY_OFFICER: Role.MINISTRY,
}


def permit_roles(role: Role) -> tuple[PermitRole, ...]:
    """The permit roles a platform role acts in (the administrator: all of them)."""
    if role == Role.ADMIN:
        return tuple(PermitRole)
    return tuple(r for r, mapped in SECURITY_ROLE.items() if mapped == role)


S = PermitState
VALID = (S.ISSUED, S.EXTENDED)

# (from, step) → to
TRANSITIONS: dict[tuple[PermitState, Step], PermitState] = {
    (S.DRAFT, Step.SUBMIT): S.SUBMITTED,
    (S.RETURNED, Step.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, Step.CHECK): S.CHECKED,
    (S.CHECKED, Step.APPROVE): S.APPROVED,
    (S.CHECKED, Step.RETURN): S.RETURNED,
    (S.CHECKED, Step.REFUSE): S.REFUSED,
    (S.APPROVED, Step.PAY_FEE): S.FEE_PAID,
    (S.APPROVED, Step.EXPIRE): S.EXPIRED,
    (S.FEE_PAID, Step.ISSUE): S.ISSUED,
    **{(s, Step.EXTEND): S.EXTENDED for s in VALID},
    **{(s, Step.SUSPEND): S.SUSPENDED for s in VALID},
    (S.SUSPENDED, Step.RESTORE): S.ISSUED,
    **{(s, Step.REVOKE): S.REVOKED for s in (*VALID, S.SUSPENDED)},
    **{(s, Step.EXPIRE): S.EXPIRED for s in (*VALID, S.SUSPENDED)},
}

R = PermitRole
OFFICERS = frozenset({R.AKIMAT_OFFICER, R.MINISTRY_OFFICER})
ALLOWED_ROLES: dict[Step, frozenset[PermitRole]] = {
    Step.SUBMIT: frozenset({R.EMPLOYER}),
    Step.CHECK: frozenset({R.SYSTEM_JOB}),  # the automatic checks replaced the commission (2025)
    # the system approves only where a channel needs no decision (an EAEU contract registered)
    Step.APPROVE: frozenset({R.AKIMAT_OFFICER, R.SYSTEM_JOB}),
    Step.RETURN: frozenset({R.AKIMAT_OFFICER}),
    Step.REFUSE: frozenset({R.AKIMAT_OFFICER}),
    Step.PAY_FEE: frozenset({R.EMPLOYER, R.SYSTEM_JOB}),  # paid, or recorded from the payment feed
    Step.ISSUE: frozenset({R.AKIMAT_OFFICER, R.SYSTEM_JOB}),
    Step.EXTEND: frozenset({R.AKIMAT_OFFICER}),
    # the daily job suspends a household permit for an unpaid month and restores it when paid
    Step.SUSPEND: OFFICERS | {R.SYSTEM_JOB},
    Step.RESTORE: OFFICERS | {R.SYSTEM_JOB},
    Step.REVOKE: OFFICERS,
    Step.EXPIRE: frozenset({R.SYSTEM_JOB}),
}

TERMINAL_STATES = frozenset(s for s in PermitState if not any(f == s for f, _ in TRANSITIONS))

STATE_WORDS: dict[PermitState, str] = {
    S.DRAFT: N_("draft application"),
    S.SUBMITTED: N_("application submitted"),
    S.CHECKED: N_("application checked"),
    S.APPROVED: N_("application approved"),
    S.RETURNED: N_("application returned for correction"),
    S.REFUSED: N_("application refused"),
    S.FEE_PAID: N_("permit fee paid"),
    S.ISSUED: N_("permit issued"),
    S.EXTENDED: N_("permit extended"),
    S.SUSPENDED: N_("permit suspended"),
    S.REVOKED: N_("permit revoked"),
    S.EXPIRED: N_("permit expired"),
}
STEP_WORDS: dict[Step, str] = {
    Step.SUBMIT: N_("submit the application"),
    Step.CHECK: N_("check the application"),
    Step.APPROVE: N_("approve the application"),
    Step.RETURN: N_("return the application for correction"),
    Step.REFUSE: N_("refuse the application"),
    Step.PAY_FEE: N_("pay the permit fee"),
    Step.ISSUE: N_("issue the permit"),
    Step.EXTEND: N_("extend the permit"),
    Step.SUSPEND: N_("suspend the permit"),
    Step.RESTORE: N_("restore the permit"),
    Step.REVOKE: N_("revoke the permit"),
    Step.EXPIRE: N_("record that the permit expired"),
}
# A permit's trail in words: each step as done, and the entries that are not steps.
TRAIL_WORDS: dict[str, str] = {
    "submit": N_("application submitted"), "check": N_("automatic checks run"),
    "approve": N_("application approved"), "return": N_("application returned for correction"),
    "refuse": N_("application refused"), "pay_fee": N_("permit fee paid"), "issue": N_("permit issued"),
    "extend": N_("permit extended"), "suspend": N_("permit suspended"), "restore": N_("permit restored"),
    "revoke": N_("permit revoked"), "expire": N_("permit expired"),
    "request_extension": N_("extension asked for"),
    "lapse": N_("reserved places returned to the quota (not approved in time)"),
    "import": N_("recorded from an earlier system"),
    "change_employer": N_("employer changed"),
    "end_contract": N_("employment contract ended"),
}


def action_word(name: str) -> str:
    """The msgid naming an entry of a permit's trail, as done (a step or another entry)."""
    return TRAIL_WORDS.get(name, name)


ROLE_WORDS: dict[PermitRole, str] = {
    R.EMPLOYER: N_("employer"),
    R.AKIMAT_OFFICER: N_("akimat officer"),
    R.SYSTEM_JOB: N_("system job"),
    R.MINISTRY_OFFICER: N_("ministry officer"),
}


class IllegalStep(KoshError):
    """A step the permit's state or the user's role does not allow; the state is unchanged.
    409 when the state does not allow it, 403 when the role does not."""

    def __init__(self, state: PermitState, action: Step, role: PermitRole, *, by_role: bool) -> None:
        self.state, self.action, self.role = state, action, role
        words = {"state": Msg(STATE_WORDS[state]), "step": Msg(STEP_WORDS[action])}
        if by_role:
            super().__init__(detail=Msg(N_("The role “%(role)s” may not %(step)s."), role=Msg(ROLE_WORDS[role]),
                                        step=words["step"]),
                             status=403, title="Forbidden", type="urn:kosh:problem:forbidden")
        else:
            super().__init__(detail=Msg(N_("Cannot %(step)s at the stage “%(state)s”."), **words),
                             status=409, title="Conflict", type="urn:kosh:problem:conflict")


def step(state: PermitState, action: Step, role: PermitRole) -> PermitState:
    """The state after `role` takes `action` on a permit in `state`; IllegalStep (the state named
    and the step, in words) when the state or the role does not allow it."""
    state, action, role = PermitState(state), Step(action), PermitRole(role)
    after = TRANSITIONS.get((state, action))
    if after is None:
        raise IllegalStep(state, action, role, by_role=False)
    if role not in ALLOWED_ROLES[action]:
        raise IllegalStep(state, action, role, by_role=True)
    return after


def allowed_steps(state: PermitState, role: PermitRole) -> list[Step]:
    """The steps `role` may take on a permit in `state`, in the order of Step."""
    return [s for s in Step if (state, s) in TRANSITIONS and role in ALLOWED_ROLES[s]]


# --- checks before submission --------------------------------------------------------------------


# "category" as the quota ledger labels it (one label per field name across the platform)
field_labels({"category": N_("Category"), "staff": N_("Staff in these categories"),
              "citizens": N_("Citizens among them")})


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"  # the rule does not concern this case
    UNKNOWN = "unknown"  # the pack has no value for it ("not found" in the sources)


@dataclass(frozen=True)
class CheckResult:
    check: str
    outcome: Outcome
    message: Msg
    source: SourceRef | None = None

    @property
    def passed(self) -> bool:
        """True unless the check failed: a rule the pack does not know is not held against anyone."""
        return self.outcome is not Outcome.FAILED


def _unknown(check: str, day: dt.date | None = None, source: SourceRef | None = None) -> CheckResult:
    if day is None:
        return CheckResult(check, Outcome.UNKNOWN,
                           Msg(N_("The rules give no value for this check (not found in the sources).")), source)
    return CheckResult(check, Outcome.UNKNOWN,
                       Msg(N_("The rules give no value for this check on %(day)s (not found in the sources)."),
                           day=day), source)


def _number(category: str) -> str:
    return category.removeprefix("category_")


def check_vacancy_posting(rules: PermitsFile, posted_on: dt.date, applied_on: dt.date) -> CheckResult:
    """The labour-market test: the vacancy was posted at least the rule's wait before the
    application (calendar days; the rule in force on the day of application)."""
    rule = rules.vacancy_posting_on(applied_on)
    if rule is None:
        return _unknown("vacancy_posting", applied_on)
    days = (applied_on - posted_on).days
    if days < rule.wait_days:
        message = Msg(N_("The vacancy was posted on %(posted)s, %(days)s days before the application; "
                         "at least %(wait)s days are required."), posted=posted_on, days=days, wait=rule.wait_days)
        return CheckResult("vacancy_posting", Outcome.FAILED, message, rule.source)
    message = Msg(N_("The vacancy was posted on %(posted)s, %(days)s days before the application "
                     "(at least %(wait)s days)."), posted=posted_on, days=days, wait=rule.wait_days)
    return CheckResult("vacancy_posting", Outcome.PASSED, message, rule.source)


def check_local_content(rules: PermitsFile, category: str, citizens: int, staff: int) -> CheckResult:
    """Citizens' share among the employer's staff of the categories counted with `category`
    (both numbers over those categories together) is at least the pack's minimum. The share
    after hiring is what counts: pass the staff including the worker applied for."""
    share_rule = rules.local_content_for(category)
    if share_rule is None:
        return _unknown("local_content")
    problems = []
    if staff < 1:
        problems.append(FieldError("staff", Msg(N_("must be %(ge)s or more"), ge=1)))
    if citizens < 0:
        problems.append(FieldError("citizens", Msg(N_("must be %(ge)s or more"), ge=0)))
    elif citizens > staff:
        problems.append(FieldError("citizens", Msg(N_("must be %(le)s or less"), le=staff)))
    if problems:
        raise ValidationFailed(problems)
    share = (Decimal(citizens) * 100 / staff).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    params = {"share": str(share), "categories": ", ".join(_number(c) for c in share_rule.categories),
              "min": share_rule.min_percent}
    if Decimal(citizens) * 100 < Decimal(share_rule.min_percent) * staff:
        message = Msg(N_("Citizens are %(share)s %% of the staff in categories %(categories)s; "
                         "at least %(min)s %% is required."), **params)
        return CheckResult("local_content", Outcome.FAILED, message, share_rule.source)
    message = Msg(N_("Citizens are %(share)s %% of the staff in categories %(categories)s "
                     "(at least %(min)s %%)."), **params)
    return CheckResult("local_content", Outcome.PASSED, message, share_rule.source)


def check_term(rules: PermitsFile, category: str, months: int) -> CheckResult:
    """The term applied for is no longer than the longest the category allows."""
    found = rules.category_for(category)
    if found is None:
        known = ", ".join(c.code for c in rules.category)
        raise ValidationFailed([FieldError("category", Msg(N_("must be one of: %(expected)s"), expected=known))])
    longest = found.max_term_months
    if longest is None:
        return _unknown("term", source=found.source)
    params = {"months": months, "max": longest, "category": _number(category)}
    if months > longest:
        message = Msg(N_("A term of %(months)s months is longer than the %(max)s months allowed "
                         "in category %(category)s."), **params)
        return CheckResult("term", Outcome.FAILED, message, found.source)
    message = Msg(N_("A term of %(months)s months is within the %(max)s months allowed in category %(category)s."),
                  **params)
    return CheckResult("term", Outcome.PASSED, message, found.source)


def check_extension_window(rules: PermitsFile, expires_on: dt.date, filed_on: dt.date) -> CheckResult:
    """An extension is filed no earlier than the window's first day and no later than its last
    (calendar days before the permit expires)."""
    window = rules.extension_window
    if window is None:
        return _unknown("extension_window", filed_on)
    first = expires_on - dt.timedelta(days=window.earliest_days)
    last = expires_on - dt.timedelta(days=window.latest_days)
    params = {"expires": expires_on, "first": first, "last": last, "filed": filed_on}
    if not first <= filed_on <= last:
        message = Msg(N_("An extension of a permit that expires on %(expires)s is filed from %(first)s to "
                         "%(last)s; this one is filed on %(filed)s."), **params)
        return CheckResult("extension_window", Outcome.FAILED, message, window.source)
    message = Msg(N_("Filed on %(filed)s, within the extension window from %(first)s to %(last)s."), **params)
    return CheckResult("extension_window", Outcome.PASSED, message, window.source)


def check_replacement_duty(rules: PermitsFile, category: str, first_start: dt.date, ends_on: dt.date,
                           applied_on: dt.date) -> CheckResult:
    """Where the category carries a duty to replace the foreign worker by citizens (category 4
    from May 2020), the permit applied for ends no later than that duty's latest date, counted
    from the start of the worker's first permit in the category."""
    duty = rules.replacement_duty_on(category, applied_on)
    if duty is None:
        return CheckResult("replacement_duty", Outcome.NOT_APPLICABLE,
                           Msg(N_("No duty to replace the worker by citizens applies.")))
    deadline = first_start + relativedelta(months=duty.max_months)
    params = {"deadline": deadline, "months": duty.max_months, "start": first_start, "end": ends_on,
              "category": _number(category)}
    if ends_on > deadline:
        message = Msg(N_("A worker in category %(category)s is to be replaced by citizens by %(deadline)s "
                         "(%(months)s months from %(start)s); this permit would run until %(end)s."), **params)
        return CheckResult("replacement_duty", Outcome.FAILED, message, duty.source)
    message = Msg(N_("The permit ends on %(end)s, by %(deadline)s, when the worker in category %(category)s is "
                     "to be replaced by citizens (%(months)s months from %(start)s)."), **params)
    return CheckResult("replacement_duty", Outcome.PASSED, message, duty.source)


def check_extension_count(rules: PermitsFile, category: str, extensions_before: int) -> CheckResult:
    """One more extension stays within the number the category allows (`extensions_before`: the
    extensions the permit already had)."""
    found = rules.category_for(category)
    if found is None:
        known = ", ".join(c.code for c in rules.category)
        raise ValidationFailed([FieldError("category", Msg(N_("must be one of: %(expected)s"), expected=known))])
    limit = found.max_extensions
    if limit is None:
        return _unknown("extension_count", source=found.source)
    if limit == "unlimited":
        return CheckResult("extension_count", Outcome.PASSED,
                           Msg(N_("A permit in category %(category)s may be extended without limit."),
                               category=_number(category)), found.source)
    params = {"n": extensions_before + 1, "max": limit, "category": _number(category)}
    if extensions_before + 1 > limit:
        message = Msg(N_("A permit in category %(category)s is extended at most %(max)s times; this would be "
                         "extension %(n)s."), **params)
        return CheckResult("extension_count", Outcome.FAILED, message, found.source)
    message = Msg(N_("Extension %(n)s of at most %(max)s in category %(category)s."), **params)
    return CheckResult("extension_count", Outcome.PASSED, message, found.source)


def check_channel_extension_count(rules: PermitsFile, channel: str, extensions_before: int) -> CheckResult:
    """One more extension stays within the number the channel allows (intra-corporate transfer:
    once); not applicable where the channel sets none (its categories do, or nothing is known)."""
    found = rules.channel_for(channel)
    if found is None or found.max_extensions is None:
        return CheckResult("extension_count", Outcome.NOT_APPLICABLE,
                           Msg(N_("The rules set no number of extensions for this channel.")))
    if found.max_extensions == "unlimited":
        return CheckResult("extension_count", Outcome.PASSED,
                           Msg(N_("This channel's permits may be extended without limit.")), found.source)
    params = {"n": extensions_before + 1, "max": found.max_extensions}
    if extensions_before + 1 > found.max_extensions:
        return CheckResult("extension_count", Outcome.FAILED, Msg(
            N_("This would be extension %(n)s; this channel allows at most %(max)s."),
            **params), found.source)
    return CheckResult("extension_count", Outcome.PASSED,
                       Msg(N_("Extension %(n)s of at most %(max)s for this channel."), **params), found.source)


def fee_due_by(rules: PermitsFile, calendar: WorkingCalendar, approved_on: dt.date) -> dt.date | None:
    """The last day to pay the permit fee after approval (working days of the pack's calendar);
    None when the pack has no deadline. After it, the approval lapses (Step.EXPIRE)."""
    if rules.fee_deadline is None:
        return None
    return calendar.add_working_days(approved_on, rules.fee_deadline.working_days)


def household_prepayment_mci(rules: PermitsFile, paid_on: dt.date, months: int) -> int | None:
    """The tax a household worker prepays for `months` of permit, in MCI, at the rate in force
    on the day of payment (before issue or extension); None when the pack has no rate for it."""
    rate = rules.household_prepayment_on(paid_on)
    return None if rate is None else rate.mci_per_month * months


# --- household workers' monthly prepayments --------------------------------------------------------


@dataclass(frozen=True)
class PermitMonth:
    """One month of a permit: its name (the calendar month it starts in, "YYYY-MM") and its days."""

    key: str
    start: dt.date
    end: dt.date


def household_months(valid_from: dt.date, valid_to: dt.date) -> list[PermitMonth]:
    """The permit's months, each from the same day of the month as its first day (the last one
    cut at the permit's end); a month is prepaid before it starts."""
    out: list[PermitMonth] = []
    k = 0
    while True:
        start = valid_from + relativedelta(months=k)
        if start > valid_to:
            return out
        end = min(valid_from + relativedelta(months=k + 1) - dt.timedelta(days=1), valid_to)
        out.append(PermitMonth(f"{start.year:04d}-{start.month:02d}", start, end))
        k += 1


def unpaid_months(valid_from: dt.date, valid_to: dt.date, paid: set[str], on: dt.date) -> list[PermitMonth]:
    """The months that have begun by `on` (and are within the permit) with no prepayment: a
    household permit with any is suspended until they are paid."""
    return [m for m in household_months(valid_from, valid_to) if m.start <= on and m.key not in paid]

"""HTTP API of work permits, employers and quotas under /api/v1 (routes only; the use cases are in
service.py and ledger.py, the deadlines in reminders.py).

- an employer: its registered details, its foreign workforce, a preview of the checks of an
  application, submitting it, its permits with their deadlines (reminders), paying the fee and
  asking for an extension, a returned application read and filed again corrected, the early end
  of an EAEU worker's contract;
- an akimat: the permits with a worker in its regions, deciding those whose lead region is its
  own (approve, return, refuse, issue, extend, suspend, restore, revoke), the deadlines, a
  household worker's new employer;
- the ministry: every permit, the year's quotas, setting and moving them;
- anyone, signed in or not: checking a permit's signed code (its QR) and the permit's state now.

Errors are problem+json, said in the caller's language (`?lang=`, the language cookie or
Accept-Language), as are the texts in the answers (`*_text`, `message`, `label`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from kosh.people.schemas import RequiredName, Strict
from kosh.permits import ledger, reminders, rules, service, signing
from kosh.permits.rules import STATE_WORDS, STEP_WORDS, CheckResult, Outcome, PermitState, Step
from kosh.permits.schemas import CHANNEL_WORDS, SECTORS, ApplicationIn, EmployerIn, RegionCode, StepIn
from kosh.platform import clock
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, NotFound, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import PUBLIC_LOCALES, gettext_for, say
from kosh.platform.identifiers import InvalidIdentifier, iin
from kosh.platform.pages import request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.words import N_, Msg, label, region_name

router = APIRouter(tags=["work permits"])

Reference = Annotated[str, Path(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$",
                                description="the permit's reference, e.g. WP-7K3M-9QXD")]
Year = Annotated[int, Path(ge=2000, le=2200)]
Category = Literal["1", "2", "3", "4", "seasonal", "household"]
StateName = Literal["draft", "submitted", "checked", "approved", "returned", "refused", "fee_paid", "issued",
                    "extended", "suspended", "revoked", "expired"]

REQUEST_EXTENSION = N_("ask to extend the permit")
OUTCOME_WORDS: dict[str, str] = {
    Outcome.PASSED: N_("check passed"),
    Outcome.FAILED: N_("check failed"),
    Outcome.UNKNOWN: N_("not found in the sources"),
    Outcome.NOT_APPLICABLE: N_("does not apply"),
}
# What the public check says of the permit's state now.
VERIFY_WORDS: dict[str, str] = {
    "valid": N_("The permit is valid."),
    "not_yet": N_("The permit is not yet in force: it is valid from %(day)s."),
    "ended": N_("The permit's term ended on %(day)s."),
    "suspended": N_("The permit is suspended: its holder may not work on it now."),
    "revoked": N_("The permit has been revoked: it is no longer valid."),
    "expired": N_("The permit has expired: it is no longer valid."),
    "unknown": N_("The code is genuine, but the permit's state cannot be found in the register."),
    "not_issued": N_("The permit has not been issued: it is not valid."),
}


def today(ctx: Context) -> dt.date:
    """The day in the jurisdiction's time zone (tests replace this function to pin it)."""
    return clock.local_today(ctx.pack.zone)


# --- answers --------------------------------------------------------------------------------------

class EmployerOut(BaseModel):
    kind: str = Field(description="organisation (BIN) | individual (IIN)")
    name: str
    region: str
    region_name: str
    sector: str
    sector_text: str
    party_tail: str = Field(description="the last 4 digits of the BIN or IIN")


class NextPaymentOut(BaseModel):
    month: str = Field(description="YYYY-MM: the calendar month the permit month starts in")
    amount_kzt: int


class WorkforceItemOut(BaseModel):
    reference: str
    channel: str
    channel_text: str
    category: str
    state: str
    state_text: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    name: str = Field(description="as the employer wrote it")
    name_latin: str
    citizenship: str
    document_tail: str = Field(description="the last 4 characters of the travel document number")
    work_region: str
    work_region_name: str
    next_payment: NextPaymentOut | None = Field(None, description="household permits: the month to prepay next")


class WorkforceOut(BaseModel):
    on: dt.date
    total: int
    items: list[WorkforceItemOut]


class SourceOut(BaseModel):
    text: str
    date: dt.date | None = None
    url: str | None = None
    document: str | None = None


class CheckOut(BaseModel):
    name: str = Field(description="the check: vacancy_posting, local_content, term, replacement_duty, quota, …")
    label: str
    outcome: str = Field(description="passed | failed | unknown (the rules give no value) | not_applicable")
    outcome_text: str
    message: str
    source: SourceOut | None = None


class ChecksOut(BaseModel):
    passed: bool = Field(description="no check failed: the application can be submitted")
    checks: list[CheckOut]


class PermitOut(BaseModel):
    reference: str
    employer_name: str
    channel: str
    channel_text: str
    category: str
    category_text: str
    occupation: str
    state: str
    state_text: str
    regions: dict[str, int] = Field(description="places per 2-digit region code")
    lead_region: str = Field(description="the region with the most places: its akimat decides")
    workers_count: int
    term_months: int
    starts_on: dt.date
    applied_on: dt.date | None
    decide_by: dt.date | None
    reserved_until: dt.date | None
    approved_on: dt.date | None
    fee_due_on: dt.date | None
    fee_paid_on: dt.date | None
    issued_on: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    extensions: int
    reason_code: str
    note: str
    due_by: dt.date | None = Field(description="the deadline of the step now due (decision or fee)")
    late: bool = Field(description="the step now due is past its deadline")


class PermitPageOut(BaseModel):
    items: list[PermitOut]
    total: int
    page: int
    pages: int


class WorkerOut(BaseModel):
    person_id: str | None = Field(None, description="given only to callers who read persons")
    name: str
    name_latin: str
    citizenship: str
    document_tail: str
    work_region: str
    work_region_name: str


class ActionOut(BaseModel):
    step: str
    step_text: str
    from_state: str
    to_state: str
    actor: str
    role: str
    on: dt.date
    reason_code: str
    note: str


class ReasonOut(BaseModel):
    code: str
    name: str


class StepOut(BaseModel):
    step: str = Field(description="send it as StepIn.step")
    text: str
    reasons: list[ReasonOut] = Field(description="the reasons to choose from (return, refuse, suspend, revoke)")


class PaymentOut(BaseModel):
    month: str
    amount_kzt: int
    paid_on: dt.date


class ReminderOut(BaseModel):
    kind: str = Field(description=", ".join(reminders.KINDS))
    kind_text: str
    reference: str
    due: dt.date
    late: bool
    message: str


class RemindersOut(BaseModel):
    on: dt.date
    items: list[ReminderOut]


class PermitDetailOut(BaseModel):
    permit: PermitOut
    workers: list[WorkerOut]
    actions: list[ActionOut]
    steps: list[StepOut] = Field(description="the steps the caller may take now")
    checks: list[CheckOut]
    extension_requested: bool
    payments: list[PaymentOut]
    reminders: list[ReminderOut]


class QuotaCellOut(BaseModel):
    year: int
    region: str
    region_name: str
    category: str
    category_text: str
    allowed: int
    reserved: int
    used: int
    free: int


class QuotaTotalOut(BaseModel):
    category: str
    category_text: str
    allowed: int
    reserved: int
    used: int
    free: int


class QuotasOut(BaseModel):
    year: int
    items: list[QuotaCellOut]
    totals: list[QuotaTotalOut] = Field(description="per category, over the regions listed")


class QuotaIn(Strict):
    allowed: Annotated[int, Field(ge=0, le=ledger.MAX_PLACES)]
    reason: Annotated[str, Field(max_length=500)] = ""


class RedistributionIn(Strict):
    category: Category
    from_region: RegionCode
    to_region: RegionCode
    places: Annotated[int, Field(ge=1, le=ledger.MAX_PLACES)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ContractEndIn(Strict):
    ended_on: dt.date = Field(description="the contract's last day: from the permit's first valid day to today")


class EmployerChangeIn(Strict):
    iin: Annotated[str, Field(min_length=12, max_length=20, description="the new employer's IIN (12 digits)")]
    name: RequiredName = Field(description="the new employer's name")

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str) -> str:
        try:
            return iin.validate(v, "iin")
        except InvalidIdentifier as exc:
            raise ValueError(exc.message) from None


class VerifyIn(Strict):
    token: Annotated[str, Field(min_length=1, max_length=signing.MAX_TOKEN_LENGTH + 100,
                                description="the code the permit's QR code holds (KOSHWP1.…)")]


class RegionOut(BaseModel):
    code: str
    name: str


class VerifyOut(BaseModel):
    reference: str
    holder: str = Field(description="in Latin letters, as in the travel document")
    document_tail: str
    citizenship: str
    employer: str
    employer_id_tail: str
    channel: str
    channel_text: str
    category: str
    category_text: str
    regions: list[RegionOut]
    valid_from: dt.date
    valid_to: dt.date
    issued_on: dt.date
    state: str = Field(description="the permit's state in the register now; unknown when it is not found")
    state_text: str
    valid: bool = Field(description="the permit is in force today")
    message: str


# --- conversions ------------------------------------------------------------------------------------

def _region(code: str, lang: str) -> str:
    return say(region_name(code), lang) if code else ""


def _category_text(category: str, lang: str) -> str:
    return gettext_for(lang)(ledger.CATEGORIES[category]) if category in ledger.CATEGORIES else category


def _state_text(state: str, lang: str) -> str:
    known = state in {s.value for s in PermitState}
    return gettext_for(lang)(STATE_WORDS[PermitState(state)]) if known else state


def _check_out(c: CheckResult, lang: str) -> CheckOut:
    words = gettext_for(lang)
    found = label(c.check)
    source = SourceOut(text=c.source.text, date=c.source.date, url=c.source.url,
                       document=c.source.document) if c.source is not None else None
    return CheckOut(name=c.check, label=words(found) if found else c.check, outcome=c.outcome.value,
                    outcome_text=words(OUTCOME_WORDS[c.outcome]), message=say(c.message, lang), source=source)


def _permit_out(v: service.PermitView, lang: str, on: dt.date) -> PermitOut:
    same = {k: value for k, value in dataclasses.asdict(v).items() if k in PermitOut.model_fields}
    return PermitOut(**same, channel_text=gettext_for(lang)(CHANNEL_WORDS.get(v.channel, v.channel)),
                     category_text=_category_text(v.category, lang), state_text=_state_text(v.state, lang),
                     due_by=v.due_by, late=v.late(on))


def _action_text(step: str, lang: str) -> str:
    """An entry of the permit's trail, as done (the words the pages show)."""
    return gettext_for(lang)(rules.action_word(step))


def _reminder_out(r: reminders.Reminder, lang: str) -> ReminderOut:
    return ReminderOut(kind=r.kind, kind_text=gettext_for(lang)(reminders.KIND_WORDS[r.kind]), reference=r.reference,
                       due=r.due, late=r.late, message=say(r.message, lang))


def _step_out(ctx: Context, step: str, lang: str) -> StepOut:
    words = gettext_for(lang)
    text = words(REQUEST_EXTENSION) if step == "request_extension" else words(STEP_WORDS[Step(step)])
    return StepOut(step=step, text=text, reasons=[ReasonOut(code=r.code, name=r.names.get(lang) or r.name)
                                                  for r in ctx.pack.permits.reasons_for(step)])


def _checked_dates(body: ApplicationIn) -> None:
    """Days far outside any permit's life are refused before a term is counted from them."""
    errors = [FieldError(name, Msg(N_("Enter a year between 2000 and 2200")))
              for name in ("starts_on", "vacancy_posted_on", "first_start")
              if (day := getattr(body, name)) is not None and not 2000 <= day.year <= 2200]
    if errors:
        raise ValidationFailed(errors)


# --- employers ----------------------------------------------------------------------------------------

def _employer_out(e: service.EmployerView, lang: str) -> EmployerOut:
    return EmployerOut(kind=e.kind, name=e.name, region=e.region, region_name=_region(e.region, lang),
                       sector=e.sector, sector_text=gettext_for(lang)(SECTORS.get(e.sector, e.sector)),
                       party_tail=e.party_tail)


@router.get("/employers/me", response_model=EmployerOut, summary="The caller's employer details (its BIN or IIN)")
def my_employer(request: Request, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> EmployerOut:
    with ctx.transaction() as s:
        found = service.employer_of(s, ctx, principal)
    if found is None:
        raise NotFound(Msg(N_("Your organisation's details are not registered yet.")))
    return _employer_out(found, request_lang(request))


@router.put("/employers/me", response_model=EmployerOut,
            summary="Register or update the caller's employer details (before the first application)")
def save_my_employer(body: EmployerIn, request: Request, ctx: Context = Depends(get_ctx),
                     principal: Principal = Depends(require_principal)) -> EmployerOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        saved = service.save_employer(s, ctx, principal, body)
    return _employer_out(saved, request_lang(request))


@router.get("/employers/me/workforce", response_model=WorkforceOut,
            summary="Every foreign worker on the employer's permits, with each permit's state, term and payments")
def my_workforce(request: Request, ctx: Context = Depends(get_ctx),
                 principal: Principal = Depends(require_principal)) -> WorkforceOut:
    lang, on = request_lang(request), today(ctx)
    words = gettext_for(lang)
    with ctx.transaction() as s:
        rows = service.workforce(s, ctx, principal, on)
    return WorkforceOut(on=on, total=len(rows), items=[WorkforceItemOut(
        reference=r.reference, channel=r.channel, channel_text=words(CHANNEL_WORDS.get(r.channel, r.channel)),
        category=r.category, state=r.state, state_text=_state_text(r.state, lang), valid_from=r.valid_from,
        valid_to=r.valid_to, name=r.worker.name, name_latin=r.worker.name_latin, citizenship=r.worker.citizenship,
        document_tail=r.worker.document_tail, work_region=r.worker.work_region,
        work_region_name=_region(r.worker.work_region, lang),
        next_payment=NextPaymentOut(month=r.next_payment[0], amount_kzt=r.next_payment[1]) if r.next_payment
        else None) for r in rows])


# --- applications and permits ---------------------------------------------------------------------------

@router.post("/permits/checks", response_model=ChecksOut,
             summary="Preview the checks of an application (nothing is stored or reserved)",
             description="Each check with its outcome, its message in the caller's language and the rule's source. "
                         "The quota check shows the places free now; the reservation at submission alone decides.")
def preview_checks(body: ApplicationIn, request: Request, ctx: Context = Depends(get_ctx),
                   principal: Principal = Depends(require_principal)) -> ChecksOut:
    principal.require(Permission.WORK_PERMIT_APPLY)
    _checked_dates(body)
    lang = request_lang(request)
    with ctx.transaction() as s:
        checks = service.application_checks(s, ctx, body, today(ctx))
    return ChecksOut(passed=all(c.passed for c in checks), checks=[_check_out(c, lang) for c in checks])


@router.post("/permits", status_code=201, response_model=PermitOut,
             responses={201: {"description": "Submitted: the permit as it stands (checked, places reserved)",
                              "headers": {"Location": {"description": "the new permit's address",
                                                       "schema": {"type": "string"}}}}},
             summary="Submit an application as the caller's employer",
             description="Every check must pass: otherwise a 422 problem lists each failed check (its `field` the "
                         "check's name, its `label` and `message` in the caller's language) and nothing is stored. "
                         "Places within the quota are reserved at once, all regions or none. The Location header "
                         "names the new permit.")
def submit(body: ApplicationIn, request: Request, response: Response, ctx: Context = Depends(get_ctx),
           principal: Principal = Depends(require_principal)) -> PermitOut:
    check_csrf(request, None)
    _checked_dates(body)
    on = today(ctx)
    with ctx.transaction() as s:
        made = service.submit(s, ctx, principal, body, on)
    response.headers["Location"] = f"/api/v1/permits/{made.reference}"
    return _permit_out(made, request_lang(request), on)


@router.get("/permits", response_model=PermitPageOut,
            summary="The permits the caller may see, newest first (an employer its own; an akimat its regions')")
def permits(request: Request, state: list[StateName] = Query([], description="states to list (repeat); all when none"),
            region: str | None = Query(None, pattern=r"^\d{2}$", description="a region of work (2-digit code)"),
            page: int = Query(1, ge=1, le=100_000), ctx: Context = Depends(get_ctx),
            principal: Principal = Depends(require_principal)) -> PermitPageOut:
    lang, on = request_lang(request), today(ctx)
    with ctx.transaction() as s:
        found = service.list_permits(s, ctx, principal, states=list(state), region=region or "", page=page)
    return PermitPageOut(items=[_permit_out(v, lang, on) for v in found.items], total=found.total, page=found.page,
                         pages=found.pages)


@router.get("/permits/reminders", response_model=RemindersOut,
            summary="Open deadlines of the caller's permits, soonest first",
            description="Decisions due (late when past), fees due, extension windows about to open and open, the "
                        "replacement of category 4 workers by citizens, household workers' next prepayment.")
def permit_reminders(request: Request, ctx: Context = Depends(get_ctx),
                     principal: Principal = Depends(require_principal)) -> RemindersOut:
    lang, on = request_lang(request), today(ctx)
    with ctx.transaction() as s:
        found = service.open_reminders(s, ctx, principal, on)
    return RemindersOut(on=on, items=[_reminder_out(r, lang) for r in found])


@router.get("/permits/{reference}", response_model=PermitDetailOut,
            summary="One permit: its workers, steps taken, checks, the steps the caller may take and its deadlines")
def permit(reference: Reference, request: Request, ctx: Context = Depends(get_ctx),
           principal: Principal = Depends(require_principal)) -> PermitDetailOut:
    lang, on = request_lang(request), today(ctx)
    with ctx.transaction() as s:
        d = service.get_permit(s, ctx, principal, reference, on)
    due = d.next_payment
    shown_ids = principal.can(Permission.PERSON_READ)
    return PermitDetailOut(
        permit=_permit_out(d.permit, lang, on),
        workers=[WorkerOut(person_id=w.person_id if shown_ids else None, name=w.name, name_latin=w.name_latin,
                           citizenship=w.citizenship, document_tail=w.document_tail, work_region=w.work_region,
                           work_region_name=_region(w.work_region, lang)) for w in d.workers],
        actions=[ActionOut(step=a.step, step_text=_action_text(a.step, lang),
                           from_state=a.from_state, to_state=a.to_state, actor=a.actor, role=a.role, on=a.on,
                           reason_code=a.reason_code, note=a.note) for a in d.actions],
        steps=[_step_out(ctx, step, lang) for step in d.steps],
        checks=[_check_out(c, lang) for c in d.checks],
        extension_requested=d.extension_requested,
        payments=[PaymentOut(month=m, amount_kzt=a, paid_on=p) for m, a, p in d.payments],
        reminders=[_reminder_out(r, lang) for r in reminders.reminders(
            [d.permit], ctx.pack.permits, on, next_payments={d.permit.reference: due} if due else None,
            extension_requested={d.permit.reference} if d.extension_requested else ())])


@router.post("/permits/{reference}/steps", response_model=PermitOut,
             summary="Take a step on a permit (decide, pay the fee, issue, extend, suspend, restore, revoke, "
                     "ask to extend)",
             description="A step the permit's state does not allow is a 409 problem naming the state; one the "
                         "caller's role or region does not allow, a 403. Return, refuse, suspend and revoke need a "
                         "reason from the list the permit's `steps` give.")
def take_step(reference: Reference, body: StepIn, request: Request, ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> PermitOut:
    check_csrf(request, None)
    on = today(ctx)
    with ctx.transaction() as s:
        after = service.take_step(s, ctx, principal, reference, body, on)
    return _permit_out(after, request_lang(request), on)


def _known(session: Session, reference: str) -> None:
    """An absent permit is a 404 before the caller's own checks (an administrator, who reads every
    permit but files none, is told so only of one that exists); the text is the service's own."""
    if service.public_state(session, reference) is None:
        raise NotFound(Msg(N_("No permit %(reference)s among those you may see"), reference=reference))


@router.get("/permits/{reference}/application", response_model=ApplicationIn,
            summary="A returned application as it was filed (the employer), workers included, to correct it",
            description="The body `PUT /permits/{reference}/application` takes, as filed. Another employer's "
                        "permit is a 404, as an absent one.")
def application(reference: Reference, request: Request, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> ApplicationIn:
    principal.require(Permission.WORK_PERMIT_APPLY)
    with ctx.transaction() as s:
        _known(s, reference)
        return service.application_of(s, ctx, principal, reference)


@router.put("/permits/{reference}/application", response_model=PermitOut,
            summary="File a returned application again, corrected (the employer): the same reference",
            description="Only an application the akimat returned (another state is a 409 problem naming it). The "
                        "channel stays; every check runs again: a failed one is a 422 problem as on submission "
                        "(`urn:kosh:problem:checks-failed`) and nothing changes. Places within the quota are "
                        "reserved again and the akimat's deadline starts again.")
def resubmit(reference: Reference, body: ApplicationIn, request: Request, ctx: Context = Depends(get_ctx),
             principal: Principal = Depends(require_principal)) -> PermitOut:
    check_csrf(request, None)
    principal.require(Permission.WORK_PERMIT_APPLY)
    _checked_dates(body)
    on = today(ctx)
    with ctx.transaction() as s:
        _known(s, reference)
        after = service.resubmit(s, ctx, principal, reference, body, on)
    return _permit_out(after, request_lang(request), on)


@router.post("/permits/{reference}/contract-end", response_model=PermitOut,
             summary="Record that an EAEU worker's employment contract ended early (the employer)",
             description="Only a registered EAEU contract in force (else a 409 problem); `ended_on` from its first "
                         "valid day to today (else a 422 problem). The record expires on that day, and the "
                         "worker's stay stays lawful for the channel's search period after it (15 days in "
                         "Kazakhstan) to find new work.")
def end_contract(reference: Reference, body: ContractEndIn, request: Request, ctx: Context = Depends(get_ctx),
                 principal: Principal = Depends(require_principal)) -> PermitOut:
    check_csrf(request, None)
    principal.require(Permission.WORK_PERMIT_APPLY)
    on = today(ctx)
    with ctx.transaction() as s:
        after = service.end_eaeu_contract(s, ctx, principal, reference, body.ended_on, on)
    return _permit_out(after, request_lang(request), on)


@router.post("/permits/{reference}/employer-change", response_model=PermitOut,
             summary="Record a household worker's new employer (an akimat of the permit's regions)",
             description="Only a household worker's permit in force or suspended (else a 409 problem). The permit "
                         "follows the worker to the new employer, an individual by IIN (registered by it if "
                         "unknown); the earlier employer stays in the permit's trail. The permit's own employer "
                         "again is a 422 problem.")
def change_employer(reference: Reference, body: EmployerChangeIn, request: Request, ctx: Context = Depends(get_ctx),
                    principal: Principal = Depends(require_principal)) -> PermitOut:
    check_csrf(request, None)
    principal.require(Permission.WORK_PERMIT_DECIDE)
    on = today(ctx)
    with ctx.transaction() as s:
        after = service.change_household_employer(s, ctx, principal, reference, body.iin, body.name, on)
    return _permit_out(after, request_lang(request), on)


# --- quotas ------------------------------------------------------------------------------------------------

def _quotas(cells: list[ledger.Utilisation], year: int, lang: str) -> QuotasOut:
    totals: dict[str, list[int]] = {}
    for c in cells:
        t = totals.setdefault(c.category, [0, 0, 0])
        t[0], t[1], t[2] = t[0] + c.allowed, t[1] + c.reserved, t[2] + c.used
    return QuotasOut(
        year=year,
        items=[QuotaCellOut(year=c.year, region=c.region, region_name=_region(c.region, lang), category=c.category,
                            category_text=_category_text(c.category, lang), allowed=c.allowed, reserved=c.reserved,
                            used=c.used, free=c.free) for c in cells],
        totals=[QuotaTotalOut(category=k, category_text=_category_text(k, lang), allowed=a, reserved=r, used=u,
                              free=a - r - u) for k, (a, r, u) in sorted(totals.items())])


@router.get("/quotas", response_model=QuotasOut,
            summary="The year's quota per region and category: allowed, reserved, used and free places")
def quotas(request: Request, year: int | None = Query(None, ge=2000, le=2200, description="default: this year"),
           region: str | None = Query(None, pattern=r"^\d{2}$", description="one region (2-digit code)"),
           ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> QuotasOut:
    asked = year or today(ctx).year
    with ctx.transaction() as s:
        cells = ledger.utilisation(s, ctx, principal, year=asked, regions=[region] if region else None)
    return _quotas(cells, asked, request_lang(request))


@router.put("/quotas/{year}/{region}/{category}", response_model=QuotaCellOut,
            summary="Set a region's places in a category for the year (the ministry)",
            description="Refused (422) below the places already reserved and used there.")
def set_quota(year: Year, region: Annotated[str, Path(pattern=r"^\d{2}$")], category: Category, body: QuotaIn,
              request: Request, ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> QuotaCellOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        cell = ledger.set_quota(s, ctx, principal, year=year, region=region, category=category, allowed=body.allowed,
                                reason=body.reason)
    return _quotas([cell], year, request_lang(request)).items[0]


@router.post("/quotas/{year}/redistribute", response_model=QuotasOut,
             summary="Move unused places of a category from one region to another (the ministry), with the reason",
             description="Answers with the two regions' cells of that category after the move.")
def redistribute(year: Year, body: RedistributionIn, request: Request, ctx: Context = Depends(get_ctx),
                 principal: Principal = Depends(require_principal)) -> QuotasOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        ledger.redistribute(s, ctx, principal, year=year, category=body.category, from_region=body.from_region,
                            to_region=body.to_region, places=body.places, reason=body.reason)
        cells = [c for c in ledger.utilisation(s, ctx, principal, year=year, regions=[body.from_region, body.to_region])
                 if c.category == body.category]
    return _quotas(cells, year, request_lang(request))


# --- the public check ---------------------------------------------------------------------------------------

@router.post("/public/permits/verify", response_model=VerifyOut,
             summary="Check a permit's signed code (from its QR code) and its state now (no sign-in)",
             description="The signature is checked with the permit key; an altered or foreign code is a 422 problem "
                         "on `token`. The answer says whether the permit is in force today, suspended, revoked or "
                         "expired. Languages: those of the public pages.")
def verify(body: VerifyIn, request: Request, ctx: Context = Depends(get_ctx)) -> VerifyOut:
    lang = request_lang(request, PUBLIC_LOCALES)
    words = gettext_for(lang)
    code = signing.verify_token(body.token, ctx.keyring)
    with ctx.transaction() as s:
        state = service.public_state(s, code.reference)
    on = today(ctx)
    if state is None:
        verdict, message = False, Msg(VERIFY_WORDS["unknown"])
    elif state in (PermitState.SUSPENDED, PermitState.REVOKED, PermitState.EXPIRED):
        verdict, message = False, Msg(VERIFY_WORDS[state])
    elif state not in service.VALID_STATES:  # a code is made only for an issued permit
        verdict, message = False, Msg(VERIFY_WORDS["not_issued"])
    elif on < code.valid_from:
        verdict, message = False, Msg(VERIFY_WORDS["not_yet"], day=code.valid_from)
    elif on > code.valid_to and state != PermitState.EXTENDED:  # an extension runs past the code's end
        verdict, message = False, Msg(VERIFY_WORDS["ended"], day=code.valid_to)
    else:
        verdict, message = True, Msg(VERIFY_WORDS["valid"])
    return VerifyOut(
        reference=code.reference, holder=code.holder, document_tail=code.document_tail, citizenship=code.citizenship,
        employer=code.employer, employer_id_tail=code.employer_id_tail, channel=code.channel,
        channel_text=words(CHANNEL_WORDS.get(code.channel, code.channel)), category=code.category,
        category_text=_category_text(code.category, lang),
        regions=[RegionOut(code=r, name=_region(r, lang)) for r in code.regions], valid_from=code.valid_from,
        valid_to=code.valid_to, issued_on=code.issued_on, state=state or "unknown",
        state_text=_state_text(state, lang) if state else words(N_("not found in the register")), valid=verdict,
        message=say(message, lang))


__all__ = ["router", "today"]

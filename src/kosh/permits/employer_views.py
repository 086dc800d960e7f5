"""Pages of the employer's workspace: its details, applications for named workers with their
checks, its permits and reminders.

The application form follows the GOV.UK pattern of the host workspace: the form, a "check your
answers" page that runs every check of the application (the submit button is offered only when
none fails), and a confirmation with the reference. Every page works without JavaScript: another
worker is added by a submit button that shows the form again with one more block.

An application the akimat returned is corrected on the same form, prefilled as it was filed, and
filed again under its reference; an EAEU worker's contract that ended early is recorded on the
permit's page, which then gives the last day of the worker's lawful stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kosh.permits import ledger, reminders, rules, service
from kosh.permits.models import Employer
from kosh.permits.rules import CheckResult, Outcome, PermitRole, PermitState, Step
from kosh.permits.schemas import CHANNEL_WORDS, CHANNELS, SECTORS, ApplicationIn, EmployerIn, StepIn
from kosh.platform import clock
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, KoshError, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, optional_principal, require_principal
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.validation import validate_model
from kosh.platform.words import N_, Msg

router = APIRouter(include_in_schema=False)
Reference = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")]

WORKER_FIELDS = ("surname", "given_names", "patronymic", "surname_latin", "given_names_latin", "sex", "birth_date",
                 "citizenship", "document_number", "issuing_state", "work_region")
APPLICATION_FIELDS = ("channel", "category", "occupation", "vacancy_code", "vacancy_posted_on", "certificate",
                      "term_months", "starts_on", "staff_total", "staff_citizens", "first_start")
OPTIONAL_FIELDS = ("category", "vacancy_code", "vacancy_posted_on", "certificate", "staff_total", "staff_citizens",
                   "first_start")
DETAIL_FIELDS = ("employer_name", "region", "sector")
MAX_WORKERS = 20  # on the page; a larger group is filed through the API or an import
SEX_WORDS = {"M": N_("male"), "F": N_("female"), "X": N_("unspecified")}
QUOTA_CATEGORIES = ("1", "2", "3", "4", "seasonal")
VALID_OR_SUSPENDED = (PermitState.ISSUED, PermitState.EXTENDED, PermitState.SUSPENDED)

# Steps the trail records that are not steps of the lifecycle
TRAIL_WORDS = {"request_extension": N_("ask to extend the permit"),
               "lapse": N_("give the reserved places back to the quota")}

# Where to go back to when a check fails, and what to do about it
CHECK_FIELDS = {"vacancy_posting": "vacancy_posted_on", "local_content": "staff_citizens", "term": "term_months",
                "quota": "starts_on", "certificate": "certificate", "replacement_duty": "first_start",
                "transfer_share": "staff_citizens", "eaeu_citizenship": "channel"}
CHECK_ADVICE = {
    "vacancy_posting": N_("Apply once the vacancy has been posted for long enough, or correct the day it was posted."),
    "local_content": N_("Check the staff figures: citizens must make up at least the share the rule requires."),
    "term": N_("Choose a shorter term."),
    "quota": N_("Choose another region of work or a later start date, or wait until the quota has places."),
    "certificate": N_("Enter the number of the worker's certificate of qualification."),
    "replacement_duty": N_("Choose a shorter term, or correct the first day of the first such worker."),
    "transfer_share": N_("Check the number of transferred workers and of citizens on the staff."),
    "eaeu_citizenship": N_("Choose another channel for workers who are not citizens of an EAEU member state."),
}
OUTCOME_WORDS = {Outcome.PASSED: N_("check passed"), Outcome.FAILED: N_("check failed"),
                 Outcome.UNKNOWN: N_("not known"), Outcome.NOT_APPLICABLE: N_("does not apply")}


# -- helpers -------------------------------------------------------------------------------------

def _employer(request: Request) -> Principal:
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_APPLY)
    return principal


def _today(ctx: Context) -> dt.date:
    """Today in the jurisdiction's time zone (the day an application is filed and checked on)."""
    return clock.local_today(ctx.pack.zone)


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _countries(own: str, lang: str) -> list[tuple[str, str]]:
    """(alpha-3, name in the reader's language) of every country but the jurisdiction's own."""
    import pycountry

    from kosh.people.countries import country_name

    return sorted(((c.alpha_3, country_name(c.alpha_3, lang)) for c in pycountry.countries if c.alpha_3 != own),
                  key=lambda c: c[1])


def _regions(ctx: Context, lang: str) -> list[tuple[str, str]]:
    return sorted(((r.kato, r.name(lang)) for r in ctx.pack.regions), key=lambda r: r[1])


def _lists(ctx: Context, lang: str) -> dict[str, Any]:
    return {"countries": _countries(ctx.pack.citizenship or "", lang), "regions": _regions(ctx, lang),
            "sectors": SECTORS, "channel_words": CHANNEL_WORDS, "channels": CHANNELS, "sex_words": SEX_WORDS,
            "categories": [(c, ledger.CATEGORIES[c]) for c in QUOTA_CATEGORIES]}


def _field_errors(errors: Sequence[FieldError]) -> dict[str, str]:
    """The errors by the form's field names (a worker's `workers[1].surname` is `w1-surname`)."""
    out: dict[str, str] = {}
    for e in errors:
        name = e.field
        if name.startswith("workers["):
            index, _, rest = name.removeprefix("workers[").partition("]")
            name = f"w{index}-{rest.lstrip('.') or 'surname'}"
        elif name in WORKER_FIELDS:  # a worker's field named without its index: the first worker's
            name = f"w0-{name}"
        out.setdefault(name, e.message)
    return out


def _labels(count: int) -> dict[str, str]:
    """The label (msgid) of each form field, the workers' fields included (the error summary)."""
    from kosh.platform.words import label

    out = {name: label(name) or name for name in (*APPLICATION_FIELDS, *DETAIL_FIELDS)}
    out["workers"] = label("workers") or "workers"
    for i in range(count):
        out.update({f"w{i}-{name}": label(name) or name for name in WORKER_FIELDS})
    return out


# -- the application: what the form posts, as the use case takes it --------------------------------

def _count(form: Mapping[str, Any]) -> int:
    try:
        return min(max(int(str(form.get("workers_count") or "1")), 1), MAX_WORKERS)
    except ValueError:
        return 1


def _posted(form: Mapping[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    values = {k: str(form.get(k) or "").strip()[:200] for k in APPLICATION_FIELDS}
    workers = [{k: str(form.get(f"w{i}-{k}") or "").strip()[:200] for k in WORKER_FIELDS}
               for i in range(_count(form))]
    return values, workers


def _body(values: Mapping[str, str], workers: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in values.items() if v or k not in OPTIONAL_FIELDS}
    body["workers"] = []
    for w in workers:
        worker = {k: v for k, v in w.items() if v}
        worker.setdefault("issuing_state", w.get("citizenship", ""))  # the citizenship's, unless another is chosen
        body["workers"].append(worker)
    return body


def _application(values: Mapping[str, str], workers: Sequence[Mapping[str, str]]) -> ApplicationIn:
    return validate_model(ApplicationIn, _body(values, workers))


def _checks(ctx: Context, data: ApplicationIn, today: dt.date) -> list[CheckResult]:
    with ctx.transaction() as s:
        return service.application_checks(s, ctx, data, today)


@dataclass(frozen=True)
class Failing:
    """A failed check as the error summary shows it: its message, what to do, where to change."""

    check: str
    message: str
    advice: str
    field: str
    when: Msg | None = None  # the first day the check can pass, where the rule gives one


def _failing(ctx: Context, checks: Sequence[CheckResult], values: Mapping[str, str], today: dt.date) -> list[Failing]:
    out = []
    for c in checks:
        if c.outcome is not Outcome.FAILED:
            continue
        when = None
        posted = _day(values.get("vacancy_posted_on", ""))
        rule = ctx.pack.permits.vacancy_posting_on(today)
        if c.check == "vacancy_posting" and posted is not None and rule is not None:
            when = Msg(N_("You can apply from %(day)s."), day=posted + dt.timedelta(days=rule.wait_days))
        out.append(Failing(c.check, c.message, CHECK_ADVICE.get(c.check, N_("Change your answers.")),
                           CHECK_FIELDS.get(c.check, "channel"), when))
    return out


def _action(correcting: str) -> str:
    """Where the form posts: a new application, or the correction of a returned one."""
    return f"/employer/permits/{correcting}/correct" if correcting else "/employer/apply"


def _lang_post(request: Request, values: Mapping[str, str], workers: Sequence[Mapping[str, str]],
               step: str, correcting: str = "") -> dict[str, Any] | None:
    """A page that answers a POST switches language by posting its answers again (_lang.html)."""
    if request.method != "POST":
        return None
    fields = {**values, "workers_count": str(len(workers)), "step": step}
    for i, w in enumerate(workers):
        fields.update({f"w{i}-{k}": v for k, v in w.items()})
    return {"action": _action(correcting), "fields": fields}


def _form(request: Request, ctx: Context, values: Mapping[str, str], workers: Sequence[Mapping[str, str]], *,
          errors: Mapping[str, str] | None = None, focus: str | None = None, status_code: int = 200,
          correcting: str = "") -> Response:
    lang = request_lang(request)
    return render(request, "employer_apply.html", status_code=status_code, values=values, workers=workers,
                  errors=errors or {}, focus=focus, labels=_labels(len(workers)), max_workers=MAX_WORKERS,
                  action=_action(correcting), correcting=correcting,
                  lang_post=_lang_post(request, values, workers, "change", correcting), **_lists(ctx, lang))


def _check_page(request: Request, ctx: Context, values: Mapping[str, str], workers: Sequence[Mapping[str, str]],
                checks: Sequence[CheckResult], *, body_error: str = "", status_code: int = 200,
                correcting: str = "") -> Response:
    lang = request_lang(request)
    days = {k: _day(values.get(k, "")) for k in ("vacancy_posted_on", "starts_on", "first_start")}
    return render(request, "employer_check.html", status_code=status_code, values=values, workers=workers,
                  checks=checks, failing=_failing(ctx, checks, values, _today(ctx)), outcome_words=OUTCOME_WORDS,
                  body_error=body_error, labels=_labels(len(workers)), days=days, action=_action(correcting),
                  correcting=correcting, lang_post=_lang_post(request, values, workers, "check", correcting),
                  **_lists(ctx, lang))


def _answers_of(data: ApplicationIn) -> tuple[dict[str, str], list[dict[str, str]]]:
    """An application as the form's answers (the inverse of `_posted`): a returned one, prefilled."""
    def text(value: object) -> str:
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    values = {k: text(getattr(data, k)) for k in APPLICATION_FIELDS}
    workers = [{k: text(getattr(w, k)) for k in WORKER_FIELDS} for w in data.workers]
    return values, workers


def _same_application(session: Session, ctx: Context, principal: Principal, data: ApplicationIn,
                      today: dt.date) -> str | None:
    """The reference of an application with the same answers this employer filed today, if any.

    A form sent twice (a double click, a page sent again after a lost answer) is the same
    application: the employer's row is locked first so that two at once are filed in turn and the
    second finds the first. Compared: every answer and every worker as written."""
    employer = service.employer_of(session, ctx, principal)
    if employer is None:
        return None
    session.execute(select(Employer.id).where(Employer.id == employer.id).with_for_update())
    line = service.quota_category(data.channel, data.category) or data.category
    wanted = sorted((" ".join(x for x in (w.surname, w.given_names, w.patronymic) if x), w.document_number[-4:],
                     w.citizenship, w.work_region) for w in data.workers)
    page = service.list_permits(session, ctx, principal, states=[s.value for s in service.OPEN_STATES])
    for p in page.items:
        if (p.applied_on, p.channel, p.category, p.occupation, p.vacancy_code, p.vacancy_posted_on, p.certificate,
                p.term_months, p.starts_on, p.staff_total, p.staff_citizens, p.workers_count) != (
                today, data.channel, line, data.occupation, data.vacancy_code, data.vacancy_posted_on,
                data.certificate, data.term_months, data.starts_on, data.staff_total, data.staff_citizens,
                len(data.workers)):
            continue
        detail = service.get_permit(session, ctx, principal, p.reference, today)
        if sorted((w.name, w.document_tail, w.citizenship, w.work_region) for w in detail.workers) == wanted:
            return p.reference
    return None


# -- reminders ------------------------------------------------------------------------------------

def _reminders(ctx: Context, permits: Sequence[service.PermitView], today: dt.date,
               requested: Sequence[str] = ()) -> list[reminders.Reminder]:
    """What the employer has to do or wait for, soonest first (kosh.permits.reminders)."""
    return reminders.reminders(permits, ctx.pack.permits, today, extension_requested=requested)


def _extension_window(ctx: Context, permit: service.PermitView, today: dt.date) -> dict[str, Any] | None:
    window = ctx.pack.permits.extension_window
    if window is None or permit.valid_to is None or not permit.valid:
        return None
    first = permit.valid_to - dt.timedelta(days=window.earliest_days)
    last = permit.valid_to - dt.timedelta(days=window.latest_days)
    return {"first": first, "last": last, "open": first <= today <= last}


# -- pages ---------------------------------------------------------------------------------------

@router.get("/employer")
def start(request: Request, page: int = 1, ctx: Context = Depends(get_ctx)) -> Response:
    """Who the service is for and its rules (from the pack); for an employer, its details, its
    permits and what is due."""
    principal = optional_principal(request)
    today = _today(ctx)
    permits = ctx.pack.permits
    posting = permits.vacancy_posting_on(today)
    employer, found, due = None, None, []
    # an account that acts as an employer names its BIN or IIN (an administrator's does not)
    is_employer = principal is not None and principal.can(Permission.WORK_PERMIT_APPLY) and bool(
        principal.host_party)
    if principal is not None and is_employer:
        with ctx.transaction() as s:
            employer = service.employer_of(s, ctx, principal)
            found = service.list_permits(s, ctx, principal, page=max(1, min(page, 100_000)))
            # every permit's deadlines (not only this page's), household prepayments included
            due = service.open_reminders(s, ctx, principal, today)
    return render(request, "employer_start.html", employer=employer, found=found, reminders=due,
                  kind_words=reminders.KIND_WORDS,
                  posting=posting, local_content=permits.local_content, fee=permits.fee_deadline,
                  window=permits.extension_window, policy=permits.application, sectors=SECTORS,
                  state_words=rules.STATE_WORDS, done=request.query_params.get("done", "")[:20],
                  is_employer=is_employer)


@router.get("/employer/details")
def details_form(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _employer(request)
    with ctx.transaction() as s:
        employer = service.employer_of(s, ctx, principal)
    values = {"employer_name": employer.name, "region": employer.region, "sector": employer.sector} \
        if employer else {"sector": "other"}
    return _details(request, ctx, values, registered=employer is not None)


def _details(request: Request, ctx: Context, values: Mapping[str, str], *, registered: bool,
             errors: Mapping[str, str] | None = None, status_code: int = 200) -> Response:
    lang_post = {"action": "/employer/details", "fields": dict(values)} if request.method == "POST" else None
    return render(request, "employer_details.html", status_code=status_code, values=values, errors=errors or {},
                  registered=registered, labels=_labels(0), lang_post=lang_post, **_lists(ctx, request_lang(request)))


@router.post("/employer/details")
async def details_save(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _employer(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip()[:300] for k in DETAIL_FIELDS}
    try:
        data = validate_model(EmployerIn, {k: v for k, v in values.items() if v or k != "sector"})
        with ctx.transaction() as s:
            service.save_employer(s, ctx, principal, data)
    except ValidationFailed as exc:
        with ctx.transaction() as s:
            registered = service.employer_of(s, ctx, principal) is not None
        return _details(request, ctx, values, registered=registered, errors=_field_errors(exc.errors),
                        status_code=422)
    return RedirectResponse("/employer?done=details", status_code=303)


@router.get("/employer/apply")
def apply_form(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _employer(request)
    with ctx.transaction() as s:
        if service.employer_of(s, ctx, principal) is None:
            return RedirectResponse("/employer/details", status_code=303)
    today = _today(ctx)
    values = {"channel": "employer_quota", "category": "3", "term_months": "12",
              "starts_on": (today + dt.timedelta(days=14)).isoformat()}
    return _form(request, ctx, values, [{"sex": "M"}])


def _step_of(form: Mapping[str, Any]) -> str:
    return str(form.get("step") or ("change" if form.get("change") else "check"))


def _form_step(request: Request, ctx: Context, form: Mapping[str, Any], step: str, values: Mapping[str, str],
               workers: list[dict[str, str]], correcting: str = "") -> Response | None:
    """The form again for the steps that only edit the answers (`add`, `remove`, `change`); None
    for the steps that check or file them."""
    if step == "add":
        if len(workers) < MAX_WORKERS:
            workers.append({"sex": "M", "work_region": workers[-1].get("work_region", "")})
        return _form(request, ctx, values, workers, focus=f"w{len(workers) - 1}-surname", correcting=correcting)
    if step == "remove" and len(workers) > 1:
        return _form(request, ctx, values, workers[:-1], correcting=correcting)
    if step == "change":
        focus = str(form.get("change") or "")[:40]
        return _form(request, ctx, values, workers, focus=focus or None, correcting=correcting)
    return None


@router.post("/employer/apply")
async def apply_steps(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """The form's steps, one address: `add` (one more worker), `change` (the form again, with the
    answers), `check` (every check shown), `submit` (filed, once)."""
    principal = _employer(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values, workers = _posted(form)
    step = _step_of(form)
    shown = _form_step(request, ctx, form, step, values, workers)
    if shown is not None:
        return shown
    today = _today(ctx)
    try:
        data = _application(values, workers)
        checks = _checks(ctx, data, today)
    except ValidationFailed as exc:
        return _form(request, ctx, values, workers, errors=_field_errors(exc.errors), status_code=422)
    if step != "submit" or any(c.outcome is Outcome.FAILED for c in checks):
        return _check_page(request, ctx, values, workers, checks)
    try:
        with ctx.transaction() as s:
            reference = _same_application(s, ctx, principal, data, today)
            if reference is None:
                reference = service.submit(s, ctx, principal, data, today).reference
    except service.ChecksFailed as exc:  # a place taken meanwhile, a day passed: the checks as they are now
        return _check_page(request, ctx, values, workers, _checks(ctx, data, today), status_code=422,
                           body_error=exc.detail)
    except ValidationFailed as exc:
        return _form(request, ctx, values, workers, errors=_field_errors(exc.errors), status_code=422)
    except KoshError as exc:
        return _check_page(request, ctx, values, workers, checks, body_error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/employer/permits/{reference}/confirmation", status_code=303)


def _detail(request: Request, ctx: Context, principal: Principal, reference: str) -> service.PermitDetail:
    with ctx.transaction() as s:
        return service.get_permit(s, ctx, principal, reference, _today(ctx))


def _detail_context(request: Request, ctx: Context, detail: service.PermitDetail) -> dict[str, Any]:
    lang = request_lang(request)
    today = _today(ctx)
    reasons = {r.code: r.names.get(lang) or r.name for r in ctx.pack.permits.reason}
    requested = [detail.permit.reference] if detail.extension_requested else []
    return {"detail": detail, "permit": detail.permit, "state_words": rules.STATE_WORDS,
            "step_words": {**TRAIL_WORDS, **rules.TRAIL_WORDS},
            "role_words": {r.value: w for r, w in rules.ROLE_WORDS.items()}, "reasons": reasons,
            "outcome_words": OUTCOME_WORDS, "countries": dict(_countries(ctx.pack.citizenship or "", lang)),
            "channel_words": CHANNEL_WORDS, "category_words": ledger.CATEGORIES, "today": today,
            "reminders": reminders.reminders(
                [detail.permit], ctx.pack.permits, today, extension_requested=requested,
                next_payments={detail.permit.reference: detail.next_payment} if detail.next_payment else None),
            "kind_words": reminders.KIND_WORDS,
            "window": _extension_window(ctx, detail.permit, today),
            "certificate": detail.permit.state in VALID_OR_SUSPENDED, "employer_role": PermitRole.EMPLOYER.value,
            "pay_fee": Step.PAY_FEE.value in detail.steps,
            "extension": "request_extension" in detail.steps and not detail.extension_requested,
            "correct": detail.permit.state == PermitState.RETURNED,
            "returned": next((a for a in reversed(detail.actions) if a.step == Step.RETURN.value), None),
            "end_contract": _contract_window(ctx, detail.permit, today),
            "contract_ended": _contract_ended(ctx, detail)}


def _search_days(ctx: Context, channel: str) -> int:
    found = ctx.pack.permits.channel_for(channel)
    return (found.search_days_after_end or 0) if found is not None else 0


def _contract_window(ctx: Context, permit: service.PermitView, today: dt.date) -> dict[str, Any] | None:
    """An EAEU contract in force: the days its early end may be recorded on (its first valid day
    to today), and the search period that follows; None for any other permit."""
    if permit.channel != "eaeu_contract" or not permit.valid or permit.valid_from is None or permit.valid_to is None:
        return None
    return {"first": permit.valid_from, "last": min(permit.valid_to, today),
            "days": _search_days(ctx, permit.channel)}


def _contract_ended(ctx: Context, detail: service.PermitDetail) -> dict[str, Any] | None:
    """An EAEU contract that ended early: its last day, and the last day of the worker's lawful
    stay after it (the search period of the channel, counted as the service counts it)."""
    ended = next((a.on for a in reversed(detail.actions) if a.step == "end_contract"), None)
    if ended is None:
        return None
    days = _search_days(ctx, detail.permit.channel)
    return {"on": ended, "days": days, "until": ended + dt.timedelta(days=days)}


@router.get("/employer/permits/{reference}")
def permit(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _employer(request)
    detail = _detail(request, ctx, principal, reference)
    return render(request, "employer_permit.html", errors={}, values={"paid_on": _today(ctx).isoformat()},
                  done=request.query_params.get("done", "")[:20], **_detail_context(request, ctx, detail))


@router.get("/employer/permits/{reference}/confirmation")
def confirmation(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _employer(request)
    detail = _detail(request, ctx, principal, reference)
    return render(request, "employer_confirmation.html", done=request.query_params.get("done", "")[:20],
                  **_detail_context(request, ctx, detail))


@router.post("/employer/permits/{reference}/steps")
async def take_step(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """The employer's own steps: the fee paid (with the day of payment), an extension asked for."""
    principal = _employer(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    action = str(form.get("step") or "")[:30]
    paid_on = str(form.get("paid_on") or "").strip()[:20]
    note = str(form.get("note") or "").strip()[:500]
    try:
        if action not in (Step.PAY_FEE.value, "request_extension"):
            raise ValidationFailed([FieldError("step", Msg(N_("Choose one of the steps the page offers.")))])
        body: dict[str, Any] = {"step": action, "note": note}
        if action == Step.PAY_FEE.value:
            if not paid_on:
                raise ValidationFailed([FieldError("paid_on", Msg(N_("Enter the day the fee was paid.")))])
            body["paid_on"] = paid_on
        data = validate_model(StepIn, body)
        with ctx.transaction() as s:
            service.take_step(s, ctx, principal, reference, data, _today(ctx))
    except KoshError as exc:
        detail = _detail(request, ctx, principal, reference)
        errors = _field_errors(exc.errors) if exc.errors else {"body": exc.detail}
        values = {"step": action, "paid_on": paid_on, "note": note}
        return render(request, "employer_permit.html", status_code=exc.status, errors=errors, values=values, done="",
                      lang_post={"action": f"/employer/permits/{reference}/steps", "fields": values},
                      **_detail_context(request, ctx, detail))
    return RedirectResponse(f"/employer/permits/{reference}?done={action}", status_code=303)


# -- a returned application, corrected and filed again -----------------------------------------------

def _permit_state(request: Request, ctx: Context, principal: Principal, reference: str) -> service.PermitView:
    """The caller's permit (NotFound for an absent one or another employer's: the same answer)."""
    return _detail(request, ctx, principal, reference).permit


@router.get("/employer/permits/{reference}/correct")
def correct_form(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """The application form, prefilled with the returned application as it was filed."""
    principal = _employer(request)
    found = _permit_state(request, ctx, principal, reference)
    if found.state != PermitState.RETURNED:
        return RedirectResponse(f"/employer/permits/{found.reference}", status_code=303)
    with ctx.transaction() as s:
        data = service.application_of(s, ctx, principal, found.reference)
    values, workers = _answers_of(data)
    return _form(request, ctx, values, workers, correcting=found.reference)


@router.post("/employer/permits/{reference}/correct")
async def correct_steps(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """The correction's steps, as the application's (`add`, `remove`, `change`, `check`), then
    `submit`: filed again under the same reference (service.resubmit)."""
    principal = _employer(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    found = _permit_state(request, ctx, principal, reference)
    ref = found.reference
    step = _step_of(form)
    if found.state != PermitState.RETURNED:
        # filed again already (a second click, a page sent again): its confirmation; else its page
        done = step == "submit" and found.state in service.OPEN_STATES
        return RedirectResponse(f"/employer/permits/{ref}/confirmation?done=resubmit" if done
                                else f"/employer/permits/{ref}", status_code=303)
    values, workers = _posted(form)
    values["channel"] = found.channel  # a returned application keeps its channel
    shown = _form_step(request, ctx, form, step, values, workers, correcting=ref)
    if shown is not None:
        return shown
    today = _today(ctx)
    try:
        data = _application(values, workers)
        checks = _checks(ctx, data, today)
    except ValidationFailed as exc:
        return _form(request, ctx, values, workers, errors=_field_errors(exc.errors), status_code=422,
                     correcting=ref)
    if step != "submit" or any(c.outcome is Outcome.FAILED for c in checks):
        return _check_page(request, ctx, values, workers, checks, correcting=ref)
    try:
        with ctx.transaction() as s:
            service.resubmit(s, ctx, principal, ref, data, today)
    except service.ChecksFailed as exc:  # a place taken meanwhile, a day passed: the checks as they are now
        return _check_page(request, ctx, values, workers, _checks(ctx, data, today), status_code=422,
                           body_error=exc.detail, correcting=ref)
    except ValidationFailed as exc:
        return _form(request, ctx, values, workers, errors=_field_errors(exc.errors), status_code=422,
                     correcting=ref)
    except KoshError as exc:
        return _check_page(request, ctx, values, workers, checks, body_error=exc.detail, status_code=exc.status,
                           correcting=ref)
    return RedirectResponse(f"/employer/permits/{ref}/confirmation?done=resubmit", status_code=303)


# -- an EAEU contract that ended early -----------------------------------------------------------------

@router.post("/employer/permits/{reference}/contract-end")
async def end_contract(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """Record the early end of an EAEU worker's contract (its last day): the worker's stay stays
    lawful for the channel's search period after it."""
    principal = _employer(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    ended = str(form.get("ended_on") or "").strip()[:20]
    try:
        day = _day(ended)
        if day is None:
            raise ValidationFailed([FieldError("ended_on", Msg(N_("Enter the last day of the contract.")))])
        with ctx.transaction() as s:
            service.end_eaeu_contract(s, ctx, principal, reference, day, _today(ctx))
    except KoshError as exc:
        detail = _detail(request, ctx, principal, reference)
        errors = _field_errors(exc.errors) if exc.errors else {"body": exc.detail}
        values = {"ended_on": ended}
        return render(request, "employer_permit.html", status_code=exc.status, errors=errors, values=values, done="",
                      lang_post={"action": f"/employer/permits/{reference}/contract-end", "fields": values},
                      **_detail_context(request, ctx, detail))
    return RedirectResponse(f"/employer/permits/{reference}?done=end_contract", status_code=303)

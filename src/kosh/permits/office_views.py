"""Pages of the akimat's queue and the ministry's quotas: decisions on applications, the permit's
life, quotas set, moved and used.

    /permits/queue          applications awaiting a decision or a step, oldest first (akimat, admin)
    /permits                every permit the reader may see, by state and region (ministry, akimat)
    /permits/{reference}    one permit: its checks, workers, timeline, and a form per step allowed now
    /permits/{reference}/employer-change   a household worker's new employer (akimat, admin)
    /quotas                 a year's places per region × category, with a chart; the ministry's forms

Every page works without JavaScript; every POST carries the session's CSRF token and answers with
a redirect and a confirmation, or the same page with the error in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kosh.permits import ledger, quota_import, service
from kosh.permits.rules import ROLE_WORDS, STATE_WORDS, STEP_WORDS, TRAIL_WORDS, Outcome, PermitState
from kosh.permits.schemas import CHANNEL_WORDS, StepIn
from kosh.platform import clock
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, Forbidden, KoshError, NotFound, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.identifiers import iin
from kosh.platform.pages import render, request_lang
from kosh.platform.scope import sees_region
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.validation import field_errors
from kosh.platform.words import N_, Msg, field_labels

router = APIRouter(include_in_schema=False)
field_labels({"file": N_("Quota file (CSV)")})
Reference = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")]

QUEUE_STATES = service.QUEUE_STATES
EXTENSION = service.EXTENSION
QUEUE_PAGE = 50
REASON_STEPS = ("return", "refuse", "suspend", "revoke")
# The banner after a step (the page is reached by a redirect, so reloading it repeats nothing).
DONE_WORDS = {
    "approve": N_("The application is approved."),
    "return": N_("The application is returned to the employer for correction."),
    "refuse": N_("The application is refused."),
    "pay_fee": N_("The fee payment is recorded."),
    "issue": N_("The permit is issued."),
    "extend": N_("The permit is extended."),
    "suspend": N_("The permit is suspended."),
    "restore": N_("The permit is restored."),
    "revoke": N_("The permit is revoked."),
    "change_employer": N_("The change of employer is recorded."),
}
# Entries of the timeline that are not steps of the lifecycle.
ACTION_WORDS = {"request_extension": N_("the employer asked to extend the permit"),
                "lapse": N_("the hold on the quota places lapsed"),
                "end_contract": N_("the employment contract ended"),
                "change_employer": N_("the household worker changed employer")}
OUTCOME_WORDS = {Outcome.PASSED: N_("passed"), Outcome.FAILED: N_("failed"),
                 Outcome.UNKNOWN: N_("no rule in the sources"), Outcome.NOT_APPLICABLE: N_("does not apply")}
QUOTA_DONE = {"set": N_("The quota is set."), "move": N_("The places are moved."),
              "import": N_("The quota file is stored.")}
QUOTA_FORMS = {"set": ("quota_year", "region", "category", "allowed", "reason"),
               "move": ("quota_year", "category", "from_region", "to_region", "places", "reason"),
               "import": ("file", "reason")}
# A household worker's permit follows the worker to a new employer while it is in force.
IN_FORCE = (PermitState.ISSUED, PermitState.EXTENDED, PermitState.SUSPENDED)
EMPLOYER_FIELDS = ("iin", "name")


def _today(ctx: Context) -> dt.date:
    """Today where the pack's country is (through kosh.platform.clock, which tests may pin)."""
    return clock.local_today(ctx.pack.zone)


def _regions(ctx: Context, principal: Principal) -> list[Any]:
    """The pack's regions the reader may filter by: the ministry every one, an akimat its own."""
    if principal.role in (Role.MINISTRY, Role.ADMIN):
        return list(ctx.pack.regions)
    return [r for r in ctx.pack.regions if sees_region(principal, r.kato.ljust(9, "0"))]


def _page_number(text: str | None) -> int:
    raw = (text or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**6 else 1


def _link(path: str, filters: Mapping[str, str], **over: str) -> str:
    query = urlencode({k: v for k, v in {**filters, **over}.items() if v})
    return path + ("?" + query if query else "")


def _filters(params: Mapping[str, str], states: Sequence[str],
             regions: Sequence[Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A list's stage and region from the query, and an error for each not offered in its list."""
    filters = {"state": (params.get("state") or "").strip(), "region": (params.get("region") or "").strip()}
    errors: dict[str, str] = {}
    if filters["state"] and filters["state"] not in states:
        errors["state"] = Msg(N_("Choose a stage from the list."))
    if filters["region"] and filters["region"] not in {r.kato for r in regions}:
        errors["region"] = Msg(N_("Choose a region from the list."))
    return filters, errors


# --- the queue ---------------------------------------------------------------------------------------

@router.get("/permits/queue")
def queue_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_DECIDE)
    params = request.query_params
    regions = _regions(ctx, principal)
    filters, errors = _filters(params, (*QUEUE_STATES, EXTENSION), regions)
    today = _today(ctx)
    items: list[service.PermitView] = []
    requested: set[str] = set()
    if not errors:
        with ctx.transaction() as s:
            items, requested = service.queue(s, ctx, principal, filters["state"], filters["region"])
    total = len(items)
    pages = max(1, -(-total // QUEUE_PAGE))
    page = min(_page_number(params.get("page")), pages)
    shown = items[(page - 1) * QUEUE_PAGE: page * QUEUE_PAGE]
    return render(request, "office_queue.html", status_code=422 if errors else 200, items=shown, total=total,
                  late=sum(1 for v in items if v.late(today)), page=page, pages=pages, requested=requested,
                  filters=filters, errors=errors, regions=regions, today=today, **_words(),
                  link=lambda **over: _link("/permits/queue", filters, **over),
                  states=[*QUEUE_STATES, EXTENSION])


def _words() -> dict[str, Any]:
    return {"state_words": STATE_WORDS, "step_words": STEP_WORDS, "channel_words": CHANNEL_WORDS,
            "category_word": ledger.category_word, "role_words": ROLE_WORDS, "action_words": ACTION_WORDS,
            "outcome_words": OUTCOME_WORDS, "trail_words": TRAIL_WORDS}


# --- every permit ---------------------------------------------------------------------------------------

@router.get("/permits")
def permits_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_READ)
    params = request.query_params
    regions = _regions(ctx, principal)
    filters, errors = _filters(params, [s.value for s in PermitState], regions)
    found = None
    if not errors:
        with ctx.transaction() as s:
            found = service.list_permits(s, ctx, principal, states=[filters["state"]] if filters["state"] else (),
                                         region=filters["region"], page=_page_number(params.get("page")))
    return render(request, "office_list.html", status_code=422 if errors else 200, found=found, filters=filters,
                  errors=errors, regions=regions, today=_today(ctx), states=list(PermitState), **_words(),
                  link=lambda **over: _link("/permits", filters, **over))


# --- one permit -----------------------------------------------------------------------------------------

def _detail_page(request: Request, ctx: Context, principal: Principal, reference: str, *, done: str = "",
                 errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
                 status_code: int = 200) -> Response:
    today = _today(ctx)
    with ctx.transaction() as s:
        detail = service.get_permit(s, ctx, principal, reference, today)
    lang = request_lang(request)
    permits = ctx.pack.permits
    reasons = {step: [(r.code, r.names.get(lang) or r.name) for r in permits.reasons_for(step)]
               for step in REASON_STEPS}
    reason_names = {r.code: r.names.get(lang) or r.name for r in permits.reason}
    p = detail.permit
    # The service lets an akimat (or an admin) record the change on any household permit in force it reads.
    change_employer = (p.channel == "household_worker" and p.state in IN_FORCE
                       and principal.can(Permission.WORK_PERMIT_DECIDE) and principal.role in (Role.AKIMAT, Role.ADMIN))
    return render(request, "office_permit.html", status_code=status_code, detail=detail, p=p,
                  today=today, done=DONE_WORDS.get(done, ""), errors=dict(errors or {}), values=dict(values or {}),
                  reasons=reasons, reason_names=reason_names, reason_steps=REASON_STEPS,
                  line=service.quota_category(p.channel, p.category), change_employer=change_employer,
                  month_words=lambda key: _month_words(key, lang), amount=lambda kzt: format_decimal(kzt, locale=lang),
                  **_words())


def _month_words(key: str, lang: str) -> str:
    """A month "YYYY-MM" in words in the reader's language ("April 2026")."""
    year, month = key.split("-")
    return format_skeleton("yMMMM", dt.date(int(year), int(month), 1), locale=lang)


@router.get("/permits/{reference}")
def permit_page(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_READ)
    return _detail_page(request, ctx, principal, reference, done=request.query_params.get("done", "")[:20])


STEP_FIELDS = ("step", "reason_code", "note", "months", "paid_on")


def _take_step(ctx: Context, principal: Principal, reference: str, body: StepIn) -> service.PermitView:
    with ctx.transaction() as s:
        return service.take_step(s, ctx, principal, reference, body, _today(ctx))


@router.post("/permits/{reference}/step")
async def permit_step(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """Take one step (the form's `step`); back to the permit with a banner, or with the error."""
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_READ)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip()[:600] for k in STEP_FIELDS}
    if values["step"] == "request_extension":
        raise Forbidden()  # the employer's own step, asked on its pages; an officer decides on it
    errors: dict[str, str] = {}
    status_code = 422
    try:
        body = StepIn.model_validate({k: v for k, v in values.items() if v})
        view = await run_in_threadpool(_take_step, ctx, principal, reference, body)
    except ValidationError as exc:
        for e in field_errors(exc):
            errors.setdefault(e.field if e.field in STEP_FIELDS else "body", e.message)
    except NotFound:
        raise  # not among the permits the reader may see: the error page says so
    except KoshError as exc:  # a quota with no room left (Conflict), a step the stage does not allow (IllegalStep)
        status_code = exc.status
        for e in exc.errors:
            errors.setdefault(e.field if e.field in STEP_FIELDS else "body", e.message)
        if not exc.errors:
            errors["body"] = exc.detail
    else:
        return RedirectResponse(f"/permits/{view.reference}?done={body.step}#done", status_code=303)
    return await run_in_threadpool(lambda: _detail_page(request, ctx, principal, reference, errors=errors,
                                                        values=values, status_code=status_code))


def _change_employer(ctx: Context, principal: Principal, reference: str,
                     values: Mapping[str, str]) -> service.PermitView:
    with ctx.transaction() as s:
        return service.change_household_employer(s, ctx, principal, reference, values["iin"], values["name"],
                                                 _today(ctx))


@router.post("/permits/{reference}/employer-change")
async def permit_employer_change(request: Request, reference: Reference, ctx: Context = Depends(get_ctx)) -> Response:
    """Record that a household worker works for another individual now (their IIN and name); back to
    the permit with a banner, or with the errors beside the fields."""
    principal = require_principal(request)
    principal.require(Permission.WORK_PERMIT_DECIDE)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip()[:200] for k in EMPLOYER_FIELDS}
    values["iin"] = "".join(values["iin"].split())  # "900101 300017" as written on a contract
    # The page's error ids: the service names the IIN's errors "new_employer".
    errors: dict[str, str] = {}
    if not iin.is_valid(values["iin"]):
        errors["new_employer"] = Msg(N_("Enter the new employer's IIN (12 digits)"))
    if not values["name"]:
        errors["name"] = Msg(N_("Enter the new employer's name"))
    status_code = 422
    if not errors:
        try:
            view = await run_in_threadpool(_change_employer, ctx, principal, reference, values)
        except (NotFound, Forbidden):
            raise  # not among the permits the reader may see, or not the reader's to change: the error page
        except KoshError as exc:  # the same employer (422), a permit no longer in force (409)
            status_code = exc.status
            for e in exc.errors:
                errors.setdefault(e.field if e.field in ("new_employer", "name") else "body", e.message)
            if not exc.errors:
                errors["body"] = exc.detail
        else:
            return RedirectResponse(f"/permits/{view.reference}?done=change_employer#done", status_code=303)
    return await run_in_threadpool(lambda: _detail_page(request, ctx, principal, reference, errors=errors,
                                                        values={**values, "step": "change_employer"},
                                                        status_code=status_code))


# --- quotas ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegionBar:
    """One region's places of the year (the chosen category or all of them), for the chart."""

    region: str
    allowed: int
    reserved: int
    used: int

    @property
    def free(self) -> int:
        return self.allowed - self.reserved - self.used


def _quota_reader(request: Request) -> tuple[Principal, bool]:
    """The reader and whether they manage quotas (the ministry); an akimat reads its regions' cells."""
    principal = require_principal(request)
    if principal.can(Permission.QUOTA_MANAGE):
        return principal, True
    if principal.role == Role.AKIMAT and principal.can(Permission.AGGREGATES_READ):
        return principal, False
    raise Forbidden(Msg(N_("Quotas are shown to the ministry and the akimats.")))


def _year(text: str | None, today: dt.date) -> int | None:
    raw = (text or "").strip()
    if not raw:
        return today.year
    return int(raw) if raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2200 else None


def _quota_page(request: Request, ctx: Context, principal: Principal, manages: bool, params: Mapping[str, str], *,
                form: str = "", errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
                rejects: Sequence[quota_import.Reject] = (), status_code: int = 200) -> Response:
    today = _today(ctx)
    errors = dict(errors or {})
    year = _year(params.get("year"), today)
    if year is None:
        errors.setdefault("year", Msg(N_("Enter a year between 2000 and 2200")))
        year = today.year
    category = (params.get("category") or "").strip()
    if category and category not in ledger.CATEGORIES:
        errors.setdefault("category", Msg(N_("%(category)s is not a work-permit category"), category=category))
        category = ""
    mine = None if manages else sorted({r[:2] for r in principal.regions})
    with ctx.transaction() as s:
        cells = ledger.utilisation(s, ctx, principal, year=year, regions=mine)
    shown = [c for c in cells if not category or c.category == category]
    bars: dict[str, RegionBar] = {}
    for c in shown:
        b = bars.get(c.region, RegionBar(c.region, 0, 0, 0))
        bars[c.region] = RegionBar(c.region, b.allowed + c.allowed, b.reserved + c.reserved, b.used + c.used)
    totals = RegionBar("", sum(c.allowed for c in shown), sum(c.reserved for c in shown), sum(c.used for c in shown))
    years = sorted({today.year - 1, today.year, today.year + 1, year})
    if status_code == 200 and errors and not form:
        status_code = 422
    return render(request, "quota_page.html", status_code=status_code, year=year, years=years, category=category,
                  categories=ledger.CATEGORIES, cells=shown, bars=list(bars.values()), totals=totals, manages=manages,
                  regions=list(ctx.pack.regions), form=form, errors=errors, values=dict(values or {}),
                  rejects=list(rejects), done=QUOTA_DONE.get(params.get("done", ""), ""),
                  category_word=ledger.category_word,
                  error_ids={f: f"{form}-{f}" for f in QUOTA_FORMS.get(form, ())} | {"year": "f-year"})


@router.get("/quotas")
def quotas_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal, manages = _quota_reader(request)
    params = {k: v for k, v in request.query_params.items() if k in ("year", "category", "done")}
    return _quota_page(request, ctx, principal, manages, params)


async def _quota_form(request: Request, form_name: str) -> tuple[Principal, dict[str, str], Any]:
    principal, manages = _quota_reader(request)
    if not manages:
        raise Forbidden(Msg(N_("Only the ministry may set or move work-permit quotas.")))
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip()[:600] for k in QUOTA_FORMS[form_name] if k != "file"}
    return principal, values, form


def _whole(values: Mapping[str, str], name: str, errors: list[FieldError]) -> int:
    raw = values.get(name, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    errors.append(FieldError(name, Msg(N_("Enter a whole number from %(low)s to %(high)s"),
                                       low="0" if name == "allowed" else "1", high=str(ledger.MAX_PLACES))))
    return 0


def _quota_refused(request: Request, ctx: Context, principal: Principal, form_name: str, values: Mapping[str, str],
                   exc: KoshError) -> Response:
    errors = {e.field if e.field in QUOTA_FORMS[form_name] else "body": e.message for e in exc.errors} \
        if exc.errors else {"body": exc.detail}
    params = {"year": values.get("quota_year", ""), "category": ""}
    if not params["year"].isdigit():
        params["year"] = ""
    return _quota_page(request, ctx, principal, True, params, form=form_name, errors=errors, values=values,
                       status_code=exc.status)


def _set(ctx: Context, principal: Principal, values: Mapping[str, str]) -> None:
    errors: list[FieldError] = []
    year, allowed = _whole(values, "quota_year", errors), _whole(values, "allowed", errors)
    if errors:
        raise ValidationFailed(errors)
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, principal, year=year, region=values.get("region", ""),
                         category=values.get("category", ""), allowed=allowed, reason=values.get("reason", ""))


@router.post("/quotas/set")
async def quota_set(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal, values, _ = await _quota_form(request, "set")
    try:
        await run_in_threadpool(_set, ctx, principal, values)
    except KoshError as exc:
        return await run_in_threadpool(_quota_refused, request, ctx, principal, "set", values, exc)
    return RedirectResponse(f"/quotas?year={values['quota_year']}&done=set#done", status_code=303)


def _move(ctx: Context, principal: Principal, values: Mapping[str, str]) -> None:
    errors: list[FieldError] = []
    year, places = _whole(values, "quota_year", errors), _whole(values, "places", errors)
    if errors:
        raise ValidationFailed(errors)
    with ctx.transaction() as s:
        ledger.redistribute(s, ctx, principal, year=year, category=values.get("category", ""),
                            from_region=values.get("from_region", ""), to_region=values.get("to_region", ""),
                            places=places, reason=values.get("reason", ""))


@router.post("/quotas/move")
async def quota_move(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal, values, _ = await _quota_form(request, "move")
    try:
        await run_in_threadpool(_move, ctx, principal, values)
    except KoshError as exc:
        return await run_in_threadpool(_quota_refused, request, ctx, principal, "move", values, exc)
    return RedirectResponse(f"/quotas?year={values['quota_year']}&done=move#done", status_code=303)


class _FileRefused(Exception):
    """Raised inside the import's transaction so that nothing of a refused file is stored."""

    def __init__(self, rejects: list[quota_import.Reject]) -> None:
        super().__init__("quota file refused")
        self.rejects = rejects


def _import(ctx: Context, principal: Principal, data: bytes, reason: str) -> list[quota_import.QuotaRow]:
    rows, rejects = quota_import.parse(ctx, data)
    if rejects:
        raise _FileRefused(rejects)
    with ctx.transaction() as s:
        refused = quota_import.store(s, ctx, principal, rows, reason)
        if refused:
            raise _FileRefused(refused)  # the transaction rolls back: every cell stays as it was
    return rows


@router.post("/quotas/import")
async def quota_upload(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal, values, form = await _quota_form(request, "import")
    upload = form.get("file")
    data = await upload.read(quota_import.MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data:
        return await run_in_threadpool(_quota_refused, request, ctx, principal, "import", values, ValidationFailed(
            [FieldError("file", Msg(N_("Choose a CSV file with the columns year, region, category, allowed.")))]))
    try:
        rows = await run_in_threadpool(_import, ctx, principal, data, values.get("reason", ""))
    except _FileRefused as refused:
        rejects = refused.rejects
        return await run_in_threadpool(lambda: _quota_page(
            request, ctx, principal, True, {}, form="import", values=values, rejects=rejects,
            errors={"file": Msg(N_("Nothing was stored: %(n)s problems in the file, listed below."),
                                n=str(len(rejects)))}, status_code=422))
    except KoshError as exc:
        return await run_in_threadpool(_quota_refused, request, ctx, principal, "import", values, exc)
    year = rows[0].year if rows else ""
    return RedirectResponse(f"/quotas?year={year}&done=import#done", status_code=303)


__all__ = ["router"]

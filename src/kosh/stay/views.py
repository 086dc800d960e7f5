"""Pages of the stay registry: lists, the notification form, the calculator."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kosh.platform.context import Context
from kosh.platform.errors import FieldError, KoshError, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, optional_principal, require_principal
from kosh.platform.pages import render, request_lang
from kosh.platform.scope import sees_region
from kosh.platform.security import Permission, Role
from kosh.platform.validation import MAX_ID, field_errors, query_day
from kosh.platform.words import N_, Msg
from kosh.stay import (
    page_words,  # noqa: F401  (registers the stay filters of the templates)
    service,
)
from kosh.stay.list_export import csv_response
from kosh.stay.rules import NotAForeigner
from kosh.stay.schemas import CALCULATOR_PERMIT_KINDS, MAX_PERMITS, CalculatorIn, NotificationIn

router = APIRouter(include_in_schema=False)
# An id past the 32-bit id column names no batch: refused before any query (SQLite overflows at 2**63).
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_TRIPS = 200  # as many trips as the calculator's input takes (`CalculatorIn.trips`)

NOTIFICATION_FIELDS = ["host_kind", "host_id", "host_name", "surname", "given_names", "patronymic", "surname_latin",
                       "given_names_latin", "sex", "birth_date", "citizenship", "document_number", "issuing_state",
                       "kato", "address", "arrival_date", "expected_departure"]


LIST_PATHS = {"overstay": "/stay/overstays", "notification": "/stay/overdue-notifications"}
LIST_FIELDS = ("on", "region", "citizenship", "due_from", "due_to", "sort")


def _list_query(ctx: Context, params: dict[str, str]) -> service.ListQuery:
    """The list's filters from a page's query or form; bad values raise ValidationFailed naming each field."""
    errors: list[FieldError] = []

    def day(name: str) -> dt.date | None:
        try:
            return query_day(params.get(name), name)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            return None

    on, due_from, due_to = day("on"), day("due_from"), day("due_to")
    region = params.get("region") or None
    if region and not region.isdigit():
        errors.append(FieldError("region", Msg(N_("Choose a region from the list."))))
    if errors:
        raise ValidationFailed(errors)
    return service.ListQuery(on or service.local_today(ctx), region, params.get("citizenship") or None,
                             due_from, due_to, params.get("sort") or "due")


def _list_page(request: Request, ctx: Context, kind: str, params: dict[str, str], *, status_code: int = 200,
               errors: dict[str, str] | None = None) -> Response:
    principal = require_principal(request)
    lang = request_lang(request)
    errors = dict(errors or {})
    page = None
    try:
        q = _list_query(ctx, params)
        with ctx.transaction() as s:
            fn = service.list_overstays if kind == "overstay" else service.list_overdue_notifications
            page = fn(s, ctx, principal, q.on, q.region, params.get("cursor") or None, 50, q.citizenship,
                      sort=q.sort, due_from=q.due_from, due_to=q.due_to)
    except ValidationFailed as exc:
        for e in exc.errors:
            errors.setdefault(e.field, e.message)
        status_code = 422
    filters = {k: params.get(k, "") for k in LIST_FIELDS}
    filters["on"] = filters["on"] or service.local_today(ctx).isoformat()

    def link(**over: str) -> str:
        """This list's address with its filters and `over` (a new sort or page; a new sort starts at page one)."""
        return LIST_PATHS[kind] + "?" + urlencode({k: v for k, v in {**filters, **over}.items() if v})

    regions = [r for r in ctx.pack.regions if sees_region(principal, r.kato.ljust(9, "0"))]
    countries = service.calculator_countries(ctx, lang)
    return render(request, "stay_list.html", status_code=status_code, kind=kind, page=page, filters=filters,
                  errors=errors, regions=regions, countries=countries, country_names=dict(countries), link=link,
                  export_path=LIST_PATHS[kind] + "/export")


@router.get("/stay/overstays")
def overstays_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return _list_page(request, ctx, "overstay", {k: v.strip() for k, v in request.query_params.items()})


@router.get("/stay/overdue-notifications")
def overdue_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return _list_page(request, ctx, "notification", {k: v.strip() for k, v in request.query_params.items()})


async def _export(request: Request, ctx: Context, kind: str) -> Response:
    """The whole list as a CSV file, once the officer has stated the purpose (audited with it)."""
    form = await request.form()
    params = {k: str(form.get(k) or "").strip() for k in (*LIST_FIELDS, "purpose", "csrf_token")}
    # A file of many rows is read in a worker thread, not on the event loop.
    return await run_in_threadpool(_export_file, request, ctx, kind, params)


def _export_file(request: Request, ctx: Context, kind: str, params: dict[str, str]) -> Response:
    principal = require_principal(request)
    check_csrf(request, params.pop("csrf_token"))
    try:
        q = _list_query(ctx, params)
        with ctx.transaction() as s:
            rows = service.export_list(s, ctx, principal, kind, q, params["purpose"])
    except ValidationFailed as exc:
        return _list_page(request, ctx, kind, params, status_code=422,
                          errors={e.field: e.message for e in exc.errors})
    return csv_response(rows, kind, q.on, request_lang(request), ctx.pack)


@router.post("/stay/overstays/export")
async def overstays_export(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return await _export(request, ctx, "overstay")


@router.post("/stay/overdue-notifications/export")
async def overdue_export(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return await _export(request, ctx, "notification")


@router.get("/notifications/new")
def notification_form(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.NOTIFICATION_WRITE)
    if principal.role == Role.HOST:  # hosts notify in their workspace; the old address still leads there
        return RedirectResponse("/host/notify", status_code=303)
    values = {"host_kind": "individual", "sex": "M", "arrival_date": service.local_today(ctx).isoformat()}
    if principal.host_party:
        values["host_id"] = principal.host_party
        # A BIN's fifth digit is its entity type (4–6); an IIN's is a day-of-birth tens digit (0–3).
        values["host_kind"] = "organisation" if principal.host_party[4] in "456" else "individual"
    return render(request, "notification_form.html", values=values, errors={})


@router.post("/notifications/new")
async def notification_submit(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = {k: str(form.get(k) or "").strip() for k in NOTIFICATION_FIELDS}
    data = {k: v for k, v in values.items() if v}
    try:
        note = NotificationIn.model_validate(data, context=service.validation_context(ctx, principal))
        if not note.source_event_id:  # the reference the confirmation shows
            note = note.model_copy(update={"source_event_id": f"kosh-{uuid.uuid4()}"})
        with ctx.transaction() as s:
            result = service.record_notifications(s, ctx, principal, [note])
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in field_errors(exc):
            errors.setdefault(e.field or "body", e.message)
        return render(request, "notification_form.html", status_code=422, values=values, errors=errors)
    except KoshError as exc:
        return render(request, "notification_form.html", status_code=exc.status, values=values,
                      errors={"body": str(exc)})
    if principal.role == "host":
        return RedirectResponse("/host/guests", status_code=303)
    if result.person_ids:
        return RedirectResponse(f"/persons/{result.person_ids[0]}?submitted=1", status_code=303)
    # A person the officer does not see (registered elsewhere): the reply names no one. Redirected,
    # so that reloading the confirmation does not submit the notification again.
    return RedirectResponse(f"/notifications/recorded?ref={quote(note.source_event_id or '')}", status_code=303)


@router.get("/notifications/recorded")
def notification_recorded(request: Request, ref: str = "") -> Response:
    principal = require_principal(request)
    principal.require(Permission.NOTIFICATION_WRITE)
    return render(request, "notification_done.html", reference=ref[:100])


@router.get("/notifications/mine")
def my_notifications(request: Request) -> Response:
    """Replaced by the host's guest list; kept so that bookmarks still lead somewhere."""
    require_principal(request).require(Permission.NOTIFICATION_READ)
    return RedirectResponse("/host/guests", status_code=303)


def _removed(raw: str, rows: list[dict[str, str]]) -> int:
    """The row a "Remove" button names; past the last row when it names none (a hand-made query)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else len(rows)


@router.get("/calculator")
def calculator(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    optional_principal(request)
    params = request.query_params
    # a hand-made query may carry more starts than ends: the extra ones are dropped
    starts, ends = params.getlist("start"), params.getlist("end")
    rows = [{"start": s, "end": e} for s, e in zip(starts, ends, strict=False)][:MAX_TRIPS]
    # The visas and permits held, as rows of their own (none until one is added): kind, from, to.
    permits = [{"kind": k, "start": s, "end": e} for k, s, e in zip(
        params.getlist("permit_kind"), params.getlist("permit_start"), params.getlist("permit_end"),
        strict=False)][:MAX_PERMITS]
    # "Add another trip" and "Remove" are submit buttons of the same GET form, so both work without
    # JavaScript: the form comes back with what was typed, one row more or less, and nothing counted.
    # The permits' "Add a visa or permit" and "Remove" work the same way.
    focus = ""
    editing = any(k in params for k in ("add", "remove", "edit", "add_permit", "remove_permit"))
    if "remove" in params:
        gone = _removed(params["remove"], rows)
        if gone < len(rows):
            del rows[gone]
        # Focus moves to the trip that took the removed one's place, or to "Add another trip".
        focus = f"start-{min(gone, len(rows) - 1)}" if rows else "add-trip"
    if not rows:
        rows = [{"start": "", "end": ""}]
    if "add" in params and len(rows) < MAX_TRIPS:
        rows.append({"start": "", "end": ""})
        focus = f"start-{len(rows) - 1}"
    if "remove_permit" in params:
        gone = _removed(params["remove_permit"], permits)
        if gone < len(permits):
            del permits[gone]
        focus = f"permit-kind-{min(gone, len(permits) - 1)}" if permits else "add-permit"
    if "add_permit" in params and len(permits) < MAX_PERMITS:
        permits.append({"kind": "", "start": "", "end": ""})
        focus = f"permit-kind-{len(permits) - 1}"
    values: dict[str, object] = {"citizenship": params.get("citizenship", ""), "on": params.get("on", ""),
                                 "trips": rows, "permits": permits}
    # What the language switch asks for: this same form, without the button that was pressed.
    lang_query = [("citizenship", values["citizenship"]),
                  *[(k, t[k]) for t in rows for k in ("start", "end")],
                  *[(f"permit_{k}", p[k]) for p in permits for k in ("kind", "start", "end")], ("on", values["on"])]
    if editing:
        lang_query.append(("edit", "1"))
    result = None
    permit_notes: list[Msg] = []
    errors: dict[str, str] = {}
    if params.get("citizenship") is not None and not editing:
        trips = [{"start": s, **({"end": e} if e else {})} for s, e in zip(starts, ends, strict=False) if s or e]
        # A row left empty is no permit; a half-filled one is checked, so that what is missing is said.
        held = [{k: v for k, v in p.items() if v} for p in permits if any(p.values())]
        data = {"citizenship": params.get("citizenship", ""), "trips": trips, "permits": held,
                **({"on": params["on"]} if params.get("on") else {})}
        try:
            body = CalculatorIn.model_validate(data)
            on = body.on or service.local_today(ctx)
            result = service.calculate(ctx, body.citizenship, [(t.start, t.end) for t in body.trips], on,
                                       body.periods())
            permit_notes = body.permit_notes()
            values["on_used"] = on
        except ValidationError as exc:
            for e in field_errors(exc):
                errors.setdefault(e.field, e.message)
        except KoshError as exc:
            for e in exc.errors:
                errors.setdefault(e.field, e.message)
            if not exc.errors:
                errors["trips"] = exc.detail
        except ValueError as exc:  # the engine's own refusals: the pack's own citizens, or the trips
            said = exc.args[0] if exc.args else str(exc)
            errors["citizenship" if isinstance(exc, NotAForeigner) else "trips"] = said
    countries = service.calculator_countries(ctx, request_lang(request))
    return render(request, "calculator.html", values=values, result=result, errors=errors, countries=countries,
                  focus=focus, lang_query=lang_query if any(k != "lang" for k in params) else None,
                  permit_kinds=CALCULATOR_PERMIT_KINDS, max_permits=MAX_PERMITS, permit_notes=permit_notes)


@router.get("/stay/violations")
def violations_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """Violations recorded in a period (overstays, host notifications missed or late), filterable."""
    principal = require_principal(request)
    params = request.query_params
    lang = request_lang(request)
    today = service.local_today(ctx)
    filters = {"from": (params.get("from") or "").strip(), "to": (params.get("to") or "").strip(),
               "region": (params.get("region") or "").strip(), "citizenship": (params.get("citizenship") or "").strip()}
    kinds = [k.strip() for k in params.getlist("kind") if k.strip()]
    errors: dict[str, str] = {}
    rows: list[service.ViolationRow] = []
    nxt: str | None = None
    days: dict[str, dt.date] = {}
    for field, default in (("from", today - dt.timedelta(days=29)), ("to", today)):
        try:
            days[field] = query_day(filters[field], field) or default
        except ValidationFailed as exc:
            errors[field] = exc.errors[0].message
    if filters["region"] and not filters["region"].isdigit():
        errors["region"] = Msg(N_("Choose a region from the list."))
    status_code = 200
    if not errors:
        try:
            with ctx.transaction() as s:
                rows, nxt = service.list_violations(s, ctx, principal, days["from"], days["to"], kinds,
                                                    filters["region"] or None, filters["citizenship"] or None,
                                                    params.get("cursor") or None, 50)
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.setdefault(e.field, e.message)
        except KoshError as exc:  # a region outside the officer's (403) or a damaged page link (400)
            if exc.status not in (400, 403):
                raise
            errors.setdefault("region" if exc.status == 403 else "cursor", exc.detail)
            status_code = exc.status
    if errors and status_code == 200:
        status_code = 422
    filters = {"from": filters["from"] or days.get("from", today).isoformat(),
               "to": filters["to"] or days.get("to", today).isoformat(),
               "region": filters["region"], "citizenship": filters["citizenship"]}
    query = [(k, v) for k, v in filters.items() if v] + [("kind", k) for k in kinds]
    next_link = "/stay/violations?" + urlencode([*query, ("cursor", nxt)]) if nxt else None
    regions = [r for r in ctx.pack.regions if sees_region(principal, r.kato.ljust(9, "0"))]
    countries = service.calculator_countries(ctx, lang)
    return render(request, "violations_list.html", status_code=status_code, rows=rows, filters=filters,
                  kinds=kinds, all_kinds=service.VIOLATION_KINDS, errors=errors, regions=regions,
                  countries=countries, country_names=dict(countries), next_link=next_link)

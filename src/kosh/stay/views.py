"""Pages of the stay registry: lists, the notification form, the calculator."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from kosh.platform.context import Context
from kosh.platform.errors import FieldError, KoshError, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, optional_principal, require_principal
from kosh.platform.pages import render, request_lang
from kosh.platform.scope import sees_region
from kosh.platform.security import Permission
from kosh.platform.validation import MAX_ID, field_errors, query_day
from kosh.stay import service
from kosh.stay.schemas import CalculatorIn, NotificationIn

router = APIRouter(include_in_schema=False)
# An id past the 32-bit id column names no batch: refused before any query (SQLite overflows at 2**63).
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]

NOTIFICATION_FIELDS = ["host_kind", "host_id", "host_name", "surname", "given_names", "patronymic", "surname_latin",
                       "given_names_latin", "sex", "birth_date", "citizenship", "document_number", "issuing_state",
                       "kato", "address", "arrival_date", "expected_departure"]


def _list(request: Request, ctx: Context, kind: str, on: str | None, region: str | None, cursor: str | None,
          citizenship: str | None) -> Response:
    principal = require_principal(request)
    day = query_day(on, "on") or service.local_today(ctx)
    region = (region or "").strip() or None
    if region and not region.isdigit():
        raise ValidationFailed([FieldError("region", "choose a region from the list")])
    with ctx.transaction() as s:
        fn = service.list_overstays if kind == "overstay" else service.list_overdue_notifications
        rows, nxt = fn(s, ctx, principal, day, region, cursor, 50, citizenship=(citizenship or "").strip() or None)
    regions = [r for r in ctx.pack.regions if sees_region(principal, r.kato.ljust(9, "0"))]
    return render(request, "stay_list.html", kind=kind, rows=rows, next_cursor=nxt, on=day, region=region,
                  regions=regions, citizenship=(citizenship or "").strip())


@router.get("/stay/overstays")
def overstays_page(request: Request, on: str | None = None, region: str | None = None, cursor: str | None = None,
                   citizenship: str | None = None, ctx: Context = Depends(get_ctx)) -> Response:
    return _list(request, ctx, "overstay", on, region, cursor, citizenship)


@router.get("/stay/overdue-notifications")
def overdue_page(request: Request, on: str | None = None, region: str | None = None, cursor: str | None = None,
                 citizenship: str | None = None, ctx: Context = Depends(get_ctx)) -> Response:
    return _list(request, ctx, "notification", on, region, cursor, citizenship)


@router.get("/notifications/new")
def notification_form(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.NOTIFICATION_WRITE)
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
        return RedirectResponse("/notifications/mine?submitted=1", status_code=303)
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
def my_notifications(request: Request, page: int = 1, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    page = max(1, min(page, 1000))
    with ctx.transaction() as s:
        rows = service.my_notifications(s, ctx, principal, 50, (page - 1) * 50)
    return render(request, "my_notifications.html", rows=rows, page=page,
                  submitted=request.query_params.get("submitted") == "1")


@router.get("/calculator")
def calculator(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    optional_principal(request)
    params = request.query_params
    # a hand-made query may carry more starts than ends: the extra ones are dropped
    starts, ends = params.getlist("start"), params.getlist("end")
    values: dict[str, object] = {
        "citizenship": params.get("citizenship", ""), "on": params.get("on", ""),
        "trips": [{"start": s, "end": e} for s, e in zip(starts, ends, strict=False)] or [{"start": "", "end": ""}]}
    result = None
    errors: dict[str, str] = {}
    if params.get("citizenship") is not None:
        trips = [{"start": s, **({"end": e} if e else {})} for s, e in zip(starts, ends, strict=False) if s or e]
        data = {"citizenship": params.get("citizenship", ""), "trips": trips,
                **({"on": params["on"]} if params.get("on") else {})}
        try:
            body = CalculatorIn.model_validate(data)
            on = body.on or service.local_today(ctx)
            result = service.calculate(ctx, body.citizenship, [(t.start, t.end) for t in body.trips], on)
            values["on_used"] = on
        except ValidationError as exc:
            for e in field_errors(exc):
                errors.setdefault(e.field, e.message)
        except KoshError as exc:
            errors["citizenship"] = exc.detail
        except ValueError as exc:  # the engine refuses e.g. the pack's own citizens
            errors["citizenship"] = str(exc)
    countries = service.calculator_countries(ctx, request_lang(request))
    return render(request, "calculator.html", values=values, result=result, errors=errors, countries=countries)

"""Pages of the stay registry: the person page, lists, the notification form, the calculator, imports."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from urllib.parse import quote
from typing import Annotated
from pathlib import PurePath

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from kosh.core.context import Context
from kosh.core.errors import FieldError, KoshError, ValidationFailed
from kosh.core.files import open_private, private_dir
from kosh.core.i18n import say
from kosh.core.security import Permission, Principal
from kosh.core.validation import MAX_ID, field_errors
from kosh.identity import service as identity
from kosh.people import service as people
from kosh.stay import ingest, service
from kosh.stay.schemas import CalculatorIn, NotificationIn
from kosh.web.deps import check_csrf, get_ctx, optional_principal, require_principal
from kosh.web.templating import render, request_lang

router = APIRouter(include_in_schema=False)
# An id past the 32-bit id column names no batch: refused before any query (SQLite overflows at 2**63).
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]

NOTIFICATION_FIELDS = ["host_kind", "host_id", "host_name", "surname", "given_names", "patronymic", "surname_latin",
                       "given_names_latin", "sex", "birth_date", "citizenship", "document_number", "issuing_state",
                       "kato", "address", "arrival_date", "expected_departure"]


def _parse_day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed([FieldError(name, f"'{value}' is not a date (YYYY-MM-DD)")]) from None


@router.get("/persons/{person_id}")
def person_page(person_id: str, request: Request, on: str | None = None, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    return person_response(request, ctx, principal, person_id, _parse_day(on, "on"))


def person_response(request: Request, ctx: Context, principal: Principal, person_id: str, on: dt.date | None = None,
                    *, status_code: int = 200, undo_error: tuple[int, str] | None = None,
                    undo_reason: str = "") -> Response:
    """The person page; also shown again, with the message, when undoing one of its merges was refused."""
    with ctx.transaction() as s:
        st = service.person_stay(s, ctx, principal, person_id, on)
        shown = st.person.person.id  # a merged person's id leads to the person it went into
        merges = identity.merges_of(s, ctx, principal, shown, audited=False)
        partners = {m.merged_id if m.kept_id == shown else m.kept_id for m in merges}
        others = people.display_names(s, principal, sorted(people.visible_among(s, principal, sorted(partners))))
    timeline = sorted(
        [("entry" if e.direction == "entry" else "exit", e.occurred_on, e) for e in st.events]
        + [("notification", n.arrival_date, n) for n in st.notifications]
        + [("permit", p.valid_from, p) for p in st.permits], key=lambda t: (t[1], t[0]), reverse=True)
    undone = request.query_params.get("undone", "")
    return render(request, "person.html", status_code=status_code, st=st, view=st.person, a=st.assessment,
                  timeline=timeline, asked=person_id, merges=merges, others=others,
                  undone=int(undone) if undone.isdigit() else None, undo_error=undo_error, undo_reason=undo_reason)


def _list(request: Request, ctx: Context, kind: str, on: str | None, region: str | None, cursor: str | None,
          citizenship: str | None) -> Response:
    principal = require_principal(request)
    day = _parse_day(on, "on") or service.local_today(ctx)
    region = (region or "").strip() or None
    if region and not region.isdigit():
        raise ValidationFailed([FieldError("region", "choose a region from the list")])
    with ctx.transaction() as s:
        fn = service.list_overstays if kind == "overstay" else service.list_overdue_notifications
        rows, nxt = fn(s, ctx, principal, day, region, cursor, 50, citizenship=(citizenship or "").strip() or None)
    regions = [r for r in ctx.pack.regions if principal.sees_region(r.kato.ljust(9, "0"))]
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
        errors = {}
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
    starts, ends = params.getlist("start"), params.getlist("end")
    values = {"citizenship": params.get("citizenship", ""), "on": params.get("on", ""),
              "trips": [{"start": s, "end": e} for s, e in zip(starts, ends)] or [{"start": "", "end": ""}]}
    result, errors = None, {}
    if params.get("citizenship") is not None:
        trips = [{"start": s, **({"end": e} if e else {})} for s, e in zip(starts, ends) if s or e]
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


@router.get("/import")
def import_page(request: Request) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    return render(request, "import.html", kinds=ingest.kinds_for(principal))


def _wants_problem(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/problem+json" in accept or ("application/json" in accept and "text/html" not in accept)


def _import_refused(request: Request, principal: Principal, exc: KoshError) -> Response:
    """The import page with the reason (or RFC 9457 problem+json for a client that asks for JSON)."""
    if _wants_problem(request):
        body = exc.problem(instance=request.url.path) | {"detail": say(exc.detail, request_lang(request))}
        return JSONResponse(body, status_code=exc.status, media_type="application/problem+json")
    return render(request, "import.html", status_code=exc.status, kinds=ingest.kinds_for(principal), error=exc)


@router.post("/import")
async def import_upload(request: Request, kind: str = Form(...), csrf_token: str = Form(""),
                        file: UploadFile = File(...), ctx: Context = Depends(get_ctx)) -> Response:
    """Checks the whole file at once, then imports in the background; the page shows progress.
    The uploaded copy is owner-only and removed once its import is done, failed or refused."""
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    check_csrf(request, csrf_token)
    name = PurePath(file.filename or "upload").name
    uploads = private_dir(private_dir(ctx.settings.home) / "uploads")
    path = uploads / f"{uuid.uuid4().hex}{PurePath(name).suffix.lower()}"
    handed_over = False
    try:
        with open_private(path, "wb") as fh:
            while chunk := await file.read(1 << 20):
                fh.write(chunk)
        try:
            prepared = await run_in_threadpool(ingest.prepare_import, ctx, principal, path, kind)
        except KoshError as exc:
            return _import_refused(request, principal, exc)
        if prepared.report.already_imported:
            prepared.release()
            return render(request, "import.html", kinds=ingest.kinds_for(principal),
                          batch=ingest.batch(ctx, prepared.batch_id))

        def work() -> None:
            with prepared:  # holds the file's lock until the import has finished or failed
                try:
                    ingest.run_import(ctx, principal, prepared)
                except Exception:  # noqa: BLE001 — recorded on the batch; the file can be imported again to resume
                    ingest.mark_failed(ctx, prepared.batch_id)
                    raise
                finally:
                    path.unlink(missing_ok=True)

        threading.Thread(target=work, name=f"import-{prepared.batch_id}", daemon=True).start()
        handed_over = True
    finally:
        if not handed_over:
            path.unlink(missing_ok=True)
    return render(request, "import.html", kinds=ingest.kinds_for(principal),
                  batch=ingest.batch(ctx, prepared.batch_id))


@router.get("/import/batches/{batch_id}")
def import_progress(batch_id: BatchId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    found = ingest.batch_for(ctx, principal, batch_id)
    if found is None:
        raise KoshError(f"no import batch {batch_id}", status=404, title="Not found")
    interrupted = found.status == "running" and not ingest.being_imported(ctx, found)
    return render(request, "import_progress.html", batch=found, interrupted=interrupted)


@router.get("/import/rejects/{batch_id}")
def import_rejects(batch_id: BatchId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """Only the importer and admins: the rejects file holds document numbers."""
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    found = ingest.batch_for(ctx, principal, batch_id)
    path = ctx.settings.home / "rejects" / f"rejects-{batch_id}-{found.kind}.csv" if found else None
    if path is None or not path.is_file():
        raise KoshError(f"batch {batch_id} has no rejects file", status=404, title="Not found")
    return FileResponse(path, media_type="text/csv", filename=path.name)

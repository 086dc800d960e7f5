"""HTTP API of the stay registry: border events, notifications, permits, status, lists, calculator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal, require_principal_async
from kosh.platform.i18n import gettext_for
from kosh.platform.pages import request_lang
from kosh.platform.security import Permission, Principal
from kosh.stay import hosting, service
from kosh.stay.host_api import IdempotencyKey
from kosh.stay.host_api import router as host_router
from kosh.stay.list_export import csv_response
from kosh.stay.schemas import (
    BorderEventIn,
    BulkBorderEvents,
    CalculatorIn,
    ListItemOut,
    ListPageOut,
    NotificationIn,
    RecordedViolationOut,
    RecordedViolationsOut,
    ResidencePermitIn,
    StayStatusOut,
    assessment_out,
)

router = APIRouter(tags=["stay"])
router.include_router(host_router)  # the host workspace: /host/…
In = TypeVar("In", bound=BaseModel)


class RecordOut(BaseModel):
    accepted: int
    duplicates: int
    person_ids: list[str]


class NotificationOut(BaseModel):
    id: int
    source_event_id: str
    # Given only to callers who read persons: a host's own list names no person (a host may
    # notify for someone recorded in another region, and must not learn who that is).
    person_id: str | None = None
    host_kind: str
    host_name: str
    kato: str
    address: str
    arrival_date: dt.date
    expected_departure: dt.date | None
    submitted_at: dt.datetime


def _record(request: Request, ctx: Context, principal: Principal,
            fn: Callable[[Session, Context, Principal, Sequence[In]], service.RecordResult],
            items: Sequence[In]) -> RecordOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        r = fn(s, ctx, principal, items)
        return RecordOut(accepted=r.accepted, duplicates=r.duplicates, person_ids=r.person_ids)


@router.post("/border-events", status_code=201, response_model=RecordOut, summary="Record one border crossing")
def post_border_event(body: BorderEventIn, request: Request, ctx: Context = Depends(get_ctx),
                      principal: Principal = Depends(require_principal)) -> RecordOut:
    return _record(request, ctx, principal, service.record_border_events, [body])


@router.post("/border-events/bulk", status_code=201, response_model=RecordOut,
             summary="Record up to 10,000 crossings; any invalid event rejects the whole request")
def post_border_events(body: BulkBorderEvents, request: Request, ctx: Context = Depends(get_ctx),
                       principal: Principal = Depends(require_principal)) -> RecordOut:
    return _record(request, ctx, principal, service.record_border_events, body.events)


@router.post("/notifications", status_code=201, response_model=RecordOut,
             summary="Submit a host's arrival notification")
def post_notification(body: NotificationIn, request: Request, idempotency_key: IdempotencyKey = None,
                      ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> Response:
    """With an `Idempotency-Key`, a retry is answered as the first time and stores nothing; the
    same key with another body is refused (409)."""
    check_csrf(request, None)
    key = hosting.check_key(idempotency_key)

    def work(s: Session) -> tuple[int, dict | None, int | None]:
        r = service.record_notifications(s, ctx, principal, [body])
        return 201, RecordOut(accepted=r.accepted, duplicates=r.duplicates, person_ids=r.person_ids).model_dump(), None

    done = hosting.run_once(ctx, principal, "POST /api/v1/notifications", key,
                            hosting.fingerprint(body.model_dump(mode="json")), work)
    return JSONResponse(done.response, status_code=done.status_code,
                        headers={"Idempotent-Replayed": "true"} if done.replayed else None)


@router.get("/notifications/mine", response_model=list[NotificationOut], summary="The caller's own submissions")
def my_notifications(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=100_000),
                     ctx: Context = Depends(get_ctx),
                     principal: Principal = Depends(require_principal)) -> list[NotificationOut]:
    with ctx.transaction() as s:
        rows = [NotificationOut.model_validate(n, from_attributes=True)
                for n in service.my_notifications(s, ctx, principal, limit, offset)]
        if not principal.can(Permission.PERSON_READ):
            rows = [r.model_copy(update={"person_id": None}) for r in rows]
        return rows


@router.post("/residence-permits", status_code=201, response_model=RecordOut, summary="Record a TRP or visa")
def post_permit(body: ResidencePermitIn, request: Request, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> RecordOut:
    return _record(request, ctx, principal, service.record_residence_permits, [body])


@router.get("/persons/{person_id}/stay", response_model=StayStatusOut, summary="A person's stay status on a date")
def person_status(person_id: str, request: Request, on: dt.date | None = None, ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal_async)) -> StayStatusOut:
    with ctx.transaction() as s:
        citizenship, result, day = service.stay_status(s, ctx, principal, person_id, on)
        return assessment_out(result, day, citizenship, request_lang(request))


def _page(page: service.ListPage) -> ListPageOut:
    on = page.on
    return ListPageOut(on=on, next_cursor=page.next_cursor, prev_cursor=page.prev_cursor, total=page.total,
                       sort=page.sort, items=[ListItemOut(
        person_id=r.status.person_id, surname=r.surname, given_names=r.given_names,
        citizenship=r.status.citizenship, region_kato=r.status.region_kato, current_entry=r.status.current_entry,
        last_lawful_day=r.status.last_lawful_day, notification_due=r.status.notification_due,
        overstay_days=r.days if r.status.last_lawful_day and r.status.last_lawful_day < on else 0,
        overdue_days=r.days if r.status.notification_due and r.status.notification_due < on else 0)
        for r in page.rows])


class ListFilters:
    """The filters and order shared by the overstay and overdue-notification lists and their files."""

    def __init__(self, on: dt.date | None = None, region: str | None = Query(None, pattern=r"^\d{2,9}$"),
                 citizenship: str | None = Query(None, max_length=60, description="ISO 3166-1 code or name"),
                 due_from: dt.date | None = Query(None, description="the list's day (last lawful day, or the "
                                                                    "notification deadline) on or after this"),
                 due_to: dt.date | None = Query(None, description="the list's day on or before this"),
                 sort: str = Query("due", description="one of " + ", ".join(service.SORTS)
                                   + "; '-' reverses; ties are ordered by person id")) -> None:
        self.on, self.region, self.citizenship = on, region, citizenship
        self.due_from, self.due_to, self.sort = due_from, due_to, sort

    def query(self, ctx: Context) -> service.ListQuery:
        return service.ListQuery(self.on or service.local_today(ctx), self.region, self.citizenship, self.due_from,
                                 self.due_to, self.sort)

    def export(self, request: Request, ctx: Context, principal: Principal, kind: str) -> Response:
        raw = request.headers.get("x-purpose")
        try:  # a header is Latin-1 on the wire: a client sending UTF-8 (Cyrillic) gets it back whole
            purpose = raw.encode("latin-1").decode("utf-8") if raw else None
        except UnicodeError:
            purpose = raw
        q = self.query(ctx)
        with ctx.transaction() as s:
            rows = service.export_list(s, ctx, principal, kind, q, purpose, purpose_field="X-Purpose")
        return csv_response(rows, kind, q.on, request_lang(request), ctx.pack)


class ListQuery(ListFilters):
    """The filters, order and page of a list."""

    def __init__(self, filters: ListFilters = Depends(),
                 cursor: str | None = Query(None, max_length=400, description="next_cursor or prev_cursor of a page"),
                 limit: int = Query(50, ge=1, le=500)) -> None:
        self.__dict__.update(filters.__dict__)
        self.cursor, self.limit = cursor, limit

    def page(self, ctx: Context, principal: Principal, kind: str) -> ListPageOut:
        q = self.query(ctx)
        listing = service.list_overstays if kind == "overstay" else service.list_overdue_notifications
        with ctx.transaction() as s:
            return _page(listing(s, ctx, principal, q.on, q.region, self.cursor, self.limit, q.citizenship,
                                 sort=q.sort, due_from=q.due_from, due_to=q.due_to))


# Documented here; read from the request itself (see ListFilters.export) so that UTF-8 survives.
PurposeHeader = Header(None, alias="X-Purpose", description="why the file is taken: a case number or the reason "
                                                            "(required; audited with the filters and the row count)")


@router.get("/stay/overstays", response_model=ListPageOut, summary="Persons in the country past their last lawful day")
def overstays(q: ListQuery = Depends(), ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> ListPageOut:
    return q.page(ctx, principal, "overstay")


@router.get("/stay/overdue-notifications", response_model=ListPageOut,
            summary="Persons whose host notification is past its deadline")
def overdue(q: ListQuery = Depends(), ctx: Context = Depends(get_ctx),
            principal: Principal = Depends(require_principal)) -> ListPageOut:
    return q.page(ctx, principal, "notification")


_CSV_DESCRIPTION = ("Every row of the list (same scope and filters as its pages) as CSV; the X-Purpose header "
                    "(a case number or the reason) is required and is audited with the filters and the row count.")
_CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the CSV file"}}


@router.get("/stay/overstays/export", summary="The overstay list as a CSV file",
             description=_CSV_DESCRIPTION, responses=_CSV_RESPONSES, response_class=Response)
def overstays_csv(request: Request, q: ListFilters = Depends(), ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal),
                  x_purpose: str | None = PurposeHeader) -> Response:
    return q.export(request, ctx, principal, "overstay")


@router.get("/stay/overdue-notifications/export", summary="The overdue-notification list as a CSV file",
             description=_CSV_DESCRIPTION, responses=_CSV_RESPONSES, response_class=Response)
def overdue_csv(request: Request, q: ListFilters = Depends(), ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal), x_purpose: str | None = PurposeHeader) -> Response:
    return q.export(request, ctx, principal, "notification")


@router.get("/stay/violations", response_model=RecordedViolationsOut,
            summary="Violations recorded in a period (overstays, host notifications missed or late)")
def violations(request: Request, first: dt.date = Query(alias="from"), last: dt.date = Query(alias="to"),
               kind: list[str] = Query([], description="kinds to list (repeat); all when none"),
               region: str | None = Query(None, pattern=r"^\d{2,9}$"),
               citizenship: str | None = Query(None, max_length=60, description="ISO 3166-1 code or name"),
               cursor: str | None = Query(None, max_length=200), limit: int = Query(50, ge=1, le=500),
               ctx: Context = Depends(get_ctx),
               principal: Principal = Depends(require_principal)) -> RecordedViolationsOut:
    words = gettext_for(request_lang(request))
    with ctx.transaction() as s:
        rows, nxt = service.list_violations(s, ctx, principal, first, last, kind, region, citizenship, cursor, limit)
        return RecordedViolationsOut(first_day=first, last_day=last, next_cursor=nxt, items=[RecordedViolationOut(
            person_id=r.violation.person_id, surname=r.surname, given_names=r.given_names,
            citizenship=r.status.citizenship, region_kato=r.status.region_kato, kind=r.violation.kind,
            kind_text=words(r.violation.kind), first_day=r.violation.first_day, last_day=r.last_day,
            ongoing=r.violation.ongoing, days=r.days, stay_entry=r.violation.stay_entry, due=r.violation.due,
            filed=r.violation.filed) for r in rows])


@router.post("/stay/calculate", response_model=StayStatusOut, summary="Short-stay calculator (no sign-in)")
def calculate(body: CalculatorIn, request: Request, ctx: Context = Depends(get_ctx)) -> StayStatusOut:
    on = body.on or service.local_today(ctx)
    result = service.calculate(ctx, body.citizenship, [(t.start, t.end) for t in body.trips], on, body.periods())
    return assessment_out(result, on, body.citizenship, request_lang(request), body.permit_notes())

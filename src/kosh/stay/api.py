"""HTTP API of the stay registry: border events, notifications, permits, status, lists, calculator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal, require_principal_async
from kosh.platform.security import Permission, Principal
from kosh.stay import service
from kosh.stay.schemas import (
    BorderEventIn,
    BulkBorderEvents,
    CalculatorIn,
    ListItemOut,
    ListPageOut,
    NotificationIn,
    ResidencePermitIn,
    StayStatusOut,
    assessment_out,
)

router = APIRouter(tags=["stay"])
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
def post_notification(body: NotificationIn, request: Request, ctx: Context = Depends(get_ctx),
                      principal: Principal = Depends(require_principal)) -> RecordOut:
    return _record(request, ctx, principal, service.record_notifications, [body])


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
def person_status(person_id: str, on: dt.date | None = None, ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal_async)) -> StayStatusOut:
    with ctx.transaction() as s:
        citizenship, result, day = service.stay_status(s, ctx, principal, person_id, on)
        return assessment_out(result, day, citizenship)


def _page(rows: Sequence[service.ListRow], nxt: str | None, on: dt.date) -> ListPageOut:
    return ListPageOut(on=on, next_cursor=nxt, items=[ListItemOut(
        person_id=r.status.person_id, surname=r.surname, given_names=r.given_names,
        citizenship=r.status.citizenship, region_kato=r.status.region_kato, current_entry=r.status.current_entry,
        last_lawful_day=r.status.last_lawful_day, notification_due=r.status.notification_due,
        overstay_days=r.days if r.status.last_lawful_day and r.status.last_lawful_day < on else 0,
        overdue_days=r.days if r.status.notification_due and r.status.notification_due < on else 0) for r in rows])


class Listing(Protocol):
    """service.list_overstays or service.list_overdue_notifications."""

    def __call__(self, session: Session, ctx: Context, principal: Principal, on: dt.date, region: str | None,
                 cursor: str | None, limit: int, *,
                 citizenship: str | None) -> tuple[list[service.ListRow], str | None]: ...


class ListQuery:
    """The filters and cursor shared by the overstay and overdue-notification lists."""

    def __init__(self, on: dt.date | None = None, region: str | None = Query(None, pattern=r"^\d{2,9}$"),
                 citizenship: str | None = Query(None, max_length=60, description="ISO 3166-1 code or name"),
                 cursor: str | None = None, limit: int = Query(50, ge=1, le=500)) -> None:
        self.on, self.region, self.cursor, self.limit = on, region, cursor, limit
        self.citizenship = citizenship

    def page(self, ctx: Context, principal: Principal, listing: Listing) -> ListPageOut:
        on = self.on or service.local_today(ctx)
        with ctx.transaction() as s:
            rows, nxt = listing(s, ctx, principal, on, self.region, self.cursor, self.limit,
                                citizenship=self.citizenship)
            return _page(rows, nxt, on)


@router.get("/stay/overstays", response_model=ListPageOut, summary="Persons in the country past their last lawful day")
def overstays(q: ListQuery = Depends(), ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> ListPageOut:
    return q.page(ctx, principal, service.list_overstays)


@router.get("/stay/overdue-notifications", response_model=ListPageOut,
            summary="Persons whose host notification is past its deadline")
def overdue(q: ListQuery = Depends(), ctx: Context = Depends(get_ctx),
            principal: Principal = Depends(require_principal)) -> ListPageOut:
    return q.page(ctx, principal, service.list_overdue_notifications)


@router.post("/stay/calculate", response_model=StayStatusOut, summary="Short-stay calculator (no sign-in)")
def calculate(body: CalculatorIn, ctx: Context = Depends(get_ctx)) -> StayStatusOut:
    on = body.on or service.local_today(ctx)
    result = service.calculate(ctx, body.citizenship, [(t.start, t.end) for t in body.trips], on)
    return assessment_out(result, on, body.citizenship)

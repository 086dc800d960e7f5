"""HTTP API of the host workspace (mounted under the stay API, /api/v1/host/…): a host's own
notifications — submit, list (paged, with totals), read with versions, correct, cancel, report
departure. Every POST takes an `Idempotency-Key` header: the same key from the same user answers
as the first time; the same key with another body is a 409 problem."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from kosh.people.schemas import Country, DocumentNumber, IdentityFields, OptionalDate, Strict
from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.security import Principal
from kosh.platform.validation import MAX_ID, DisplayLines
from kosh.stay import hosting
from kosh.stay.schemas import Kato

router = APIRouter(prefix="/host", tags=["host workspace"])
NotificationId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="any string of 1–200 visible ASCII characters; "
                                                          "a retry with the same key is answered as the first time")]


class HostNotificationIn(IdentityFields):
    """A host's notification: the guest and the stay. The host is the caller's account's party."""

    document_number: DocumentNumber
    issuing_state: Country
    kato: Kato
    address: Annotated[DisplayLines, Field(min_length=3, max_length=500)]
    arrival_date: dt.date
    expected_departure: OptionalDate = None


class CancellationIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class DepartureIn(Strict):
    departed_on: dt.date


class GuestOut(BaseModel):
    surname: str = ""
    given_names: str = ""
    patronymic: str = ""
    surname_latin: str = ""
    given_names_latin: str = ""
    sex: str = ""
    birth_date: str = ""
    citizenship: str = ""
    document_number: str = ""
    issuing_state: str = ""


class HostNotificationOut(BaseModel):
    id: int
    reference: str
    version: int
    status: str = Field(description="active | corrected | cancelled | departed | superseded")
    guest: GuestOut
    kato: str
    address: str
    arrival_date: dt.date
    expected_departure: dt.date | None
    departed_on: dt.date | None
    submitted_at: dt.datetime
    superseded_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


class GuestPageOut(BaseModel):
    items: list[HostNotificationOut]
    total: int
    page: int
    per_page: int
    pages: int


class HostNotificationHistoryOut(BaseModel):
    current: HostNotificationOut
    versions: list[HostNotificationOut]


def _out(v: hosting.HostNotificationView) -> HostNotificationOut:
    return HostNotificationOut(
        id=v.id, reference=v.reference, version=v.version, status=v.status, guest=GuestOut(**v.guest), kato=v.kato,
        address=v.address, arrival_date=v.arrival_date, expected_departure=v.expected_departure,
        departed_on=v.departed_on, submitted_at=v.submitted_at, superseded_at=v.superseded_at,
        cancelled_at=v.cancelled_at, cancel_reason=v.cancel_reason)


def _once(request: Request, ctx: Context, principal: Principal, key: str | None, body: BaseModel | None,
          act: Any, status_code: int) -> JSONResponse:
    """Run `act(session) -> HostNotificationView` once per Idempotency-Key; a replay reads the
    notification again (the stored answer holds no personal data, only the notification's id)."""
    check_csrf(request, None)
    key = hosting.check_key(key)
    body_sha = hosting.fingerprint(body.model_dump(mode="json") if body is not None else None)

    def work(s: Session) -> tuple[int, dict[str, Any] | None, int | None]:
        made = act(s)
        return status_code, {"id": made.id}, made.id

    done = hosting.run_once(ctx, principal, f"{request.method} {request.url.path}", key, body_sha, work)
    target = done.notification_id or (done.response or {}).get("id")
    with ctx.transaction() as s:
        found = hosting.history(s, ctx, principal, int(target or 0))
    shown = next((v for v in found.versions if v.id == target), found.current)
    headers = {"Idempotent-Replayed": "true"} if done.replayed else {}
    return JSONResponse(_out(shown).model_dump(mode="json"), status_code=done.status_code, headers=headers)


@router.post("/notifications", status_code=201, response_model=HostNotificationOut,
             summary="Submit an arrival notification as the caller's host party")
def submit(body: HostNotificationIn, request: Request, idempotency_key: IdempotencyKey = None,
           ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> JSONResponse:
    return _once(request, ctx, principal, idempotency_key, body,
                 lambda s: hosting.submit(s, ctx, principal, body.model_dump()), 201)


@router.get("/guests", response_model=GuestPageOut, summary="The host's notifications, latest versions, newest first")
def guests(page: int = Query(1, ge=1, le=100_000), per_page: int = Query(20, ge=1, le=hosting.MAX_PER_PAGE),
           ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> GuestPageOut:
    with ctx.transaction() as s:
        found = hosting.list_guests(s, ctx, principal, page, per_page)
    return GuestPageOut(items=[_out(v) for v in found.items], total=found.total, page=found.page,
                        per_page=found.per_page, pages=found.pages)


@router.get("/guests/{notification_id}", response_model=HostNotificationHistoryOut,
            summary="One of the host's notifications with all its versions")
def guest(notification_id: NotificationId, ctx: Context = Depends(get_ctx),
          principal: Principal = Depends(require_principal)) -> HostNotificationHistoryOut:
    with ctx.transaction() as s:
        found = hosting.history(s, ctx, principal, notification_id)
    return HostNotificationHistoryOut(current=_out(found.current), versions=[_out(v) for v in found.versions])


@router.post("/guests/{notification_id}/correction", status_code=201, response_model=HostNotificationOut,
             summary="Correct a notification: a new version; the old one is kept, superseded")
def correct(notification_id: NotificationId, body: HostNotificationIn, request: Request,
            idempotency_key: IdempotencyKey = None, ctx: Context = Depends(get_ctx),
            principal: Principal = Depends(require_principal)) -> JSONResponse:
    return _once(request, ctx, principal, idempotency_key, body,
                 lambda s: hosting.correct(s, ctx, principal, notification_id, body.model_dump()), 201)


@router.post("/guests/{notification_id}/cancellation", response_model=HostNotificationOut,
             summary="Cancel a notification made in error (a reason is required; nothing is deleted)")
def cancel(notification_id: NotificationId, body: CancellationIn, request: Request,
           idempotency_key: IdempotencyKey = None, ctx: Context = Depends(get_ctx),
           principal: Principal = Depends(require_principal)) -> JSONResponse:
    return _once(request, ctx, principal, idempotency_key, body,
                 lambda s: hosting.cancel(s, ctx, principal, notification_id, body.reason), 200)


@router.post("/guests/{notification_id}/departure", response_model=HostNotificationOut,
             summary="Report the day the guest left (not before arrival)")
def departure(notification_id: NotificationId, body: DepartureIn, request: Request,
              idempotency_key: IdempotencyKey = None, ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> JSONResponse:
    return _once(request, ctx, principal, idempotency_key, body,
                 lambda s: hosting.report_departure(s, ctx, principal, notification_id, body.departed_on), 200)

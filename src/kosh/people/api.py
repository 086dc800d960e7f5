"""HTTP API of persons: /api/v1/persons."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from kosh.people import service
from kosh.people.schemas import PersonDetailOut, PersonIn, PersonOut, PersonSearchIn, Strict, detail_out, person_out
from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.models import BreakGlassGrant
from kosh.platform.security import Permission, Principal

router = APIRouter(prefix="/persons", tags=["persons"])


class PersonPageOut(BaseModel):
    items: list[PersonOut]
    total: int
    limit: int
    offset: int


@router.post("", status_code=201, response_model=PersonDetailOut, summary="Record a person and their documents")
def create_person(body: PersonIn, request: Request, ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal)) -> PersonDetailOut:
    check_csrf(request, None)
    principal.require(Permission.PERSON_WRITE)
    with ctx.transaction() as s:
        pid = service.create_person(s, ctx, principal, body)
        # The id this write created (an alias if the machine linked it to an older person) and
        # what the caller may read: the reply reveals no person the caller could not see before.
        return detail_out(service.get_person(s, ctx, principal, pid, audited=False)).model_copy(update={"id": pid})


@router.post("/search", response_model=PersonPageOut,
             summary="Search persons by name (any script), document number or part of it, date of birth",
             description="A POST with a JSON body, so that the query (often a document number) stays out of URLs, "
                         "server logs and browser history; there is no GET search. Every criterion given must "
                         "match, in records made in the caller's regions.")
def search_persons(body: PersonSearchIn, request: Request, ctx: Context = Depends(get_ctx),
                   principal: Principal = Depends(require_principal)) -> PersonPageOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        page = service.search_persons(s, ctx, principal, body.q, citizenship=body.citizenship, limit=body.limit,
                                      birth_date=body.birth_date, document_part=body.document_part, sort=body.sort,
                                      offset=body.offset)
        return PersonPageOut(items=[person_out(p) for p in page.items], total=page.total, limit=body.limit,
                             offset=body.offset)


@router.get("/{person_id}", response_model=PersonDetailOut, summary="A person with documents and known spellings")
def read_person(person_id: str, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> PersonDetailOut:
    with ctx.transaction() as s:
        return detail_out(service.get_person(s, ctx, principal, person_id))




# -- break-glass access ---------------------------------------------------------------------------

access_router = APIRouter(prefix="/break-glass", tags=["access"])


class BreakGlassIn(Strict):
    person_id: str | None = Field(None, max_length=36)
    issuing_state: str | None = Field(None, min_length=3, max_length=3, description="ISO 3166-1 alpha-3")
    document_number: str | None = Field(None, min_length=1, max_length=20)
    purpose: str = Field(min_length=1, max_length=500, description="a case or order number, and why")
    hours: int = Field(8, ge=1, le=720)


class BreakGlassOut(BaseModel):
    id: int
    username: str
    person_id: str
    purpose: str
    granted_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None


def _grant_out(g: BreakGlassGrant) -> BreakGlassOut:
    return BreakGlassOut.model_validate(g, from_attributes=True)


@access_router.post("", status_code=201, response_model=BreakGlassOut,
                    summary="Open one person outside your regions for a stated purpose, for a limited time")
def open_access(body: BreakGlassIn, request: Request, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> BreakGlassOut:
    check_csrf(request, None)
    document = (body.issuing_state.upper(), body.document_number) \
        if body.issuing_state and body.document_number else None
    with ctx.transaction() as s:
        grant = service.open_break_glass(s, ctx, principal, purpose=body.purpose, hours=body.hours,
                                         person_id=body.person_id, document=document)
        return _grant_out(grant)


@access_router.get("", response_model=list[BreakGlassOut],
                   summary="Break-glass grants: every one for auditors, one's own for officers")
def list_access(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
                ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> list[BreakGlassOut]:
    with ctx.transaction() as s:
        return [_grant_out(g) for g in service.break_glass_grants(s, ctx, principal, limit=limit, offset=offset)]


@access_router.post("/{grant_id}/end", response_model=BreakGlassOut, summary="End a grant before it expires")
def end_access(request: Request, grant_id: int = PathParam(ge=1, le=2**31 - 1),
               ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> BreakGlassOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return _grant_out(service.end_break_glass(s, ctx, principal, grant_id))

"""HTTP API of persons: /api/v1/persons."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from kosh.core.context import Context
from kosh.core.security import Permission, Principal
from kosh.people import service
from kosh.people.schemas import DocumentOut, PersonIn, PersonOut
from kosh.web.deps import check_csrf, get_ctx, require_principal

router = APIRouter(prefix="/persons", tags=["persons"])


class PersonDetailOut(PersonOut):
    documents: list[DocumentOut]
    spellings: list[str]


class PersonPageOut(BaseModel):
    items: list[PersonOut]
    total: int
    limit: int
    offset: int


def person_out(p) -> PersonOut:  # noqa: ANN001
    return PersonOut.model_validate(p, from_attributes=True)


def detail_out(view: service.PersonView) -> PersonDetailOut:
    return PersonDetailOut(**person_out(view.person).model_dump(),
                           documents=[DocumentOut(**d.__dict__) for d in view.documents],
                           spellings=[n.full_name for n in view.spellings])


@router.post("", status_code=201, response_model=PersonDetailOut, summary="Record a person and their documents")
def create_person(body: PersonIn, request: Request, ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal)) -> PersonDetailOut:
    check_csrf(request, None)
    principal.require(Permission.PERSON_WRITE)
    with ctx.transaction() as s:
        pid = service.create_person(s, ctx, principal, body)
        return detail_out(service.get_person(s, ctx, principal, pid, audited=False))


@router.get("", response_model=PersonPageOut, summary="Search persons by name (any script) or document number")
def search_persons(q: str = Query(min_length=2, max_length=200), citizenship: str | None = Query(None, max_length=3),
                   limit: int = Query(25, ge=1, le=200), offset: int = Query(0, ge=0, le=100_000),
                   ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> PersonPageOut:
    with ctx.transaction() as s:
        page = service.search_persons(s, ctx, principal, q, citizenship=citizenship, limit=limit, offset=offset)
        return PersonPageOut(items=[person_out(p) for p in page.items], total=page.total, limit=limit, offset=offset)


@router.get("/{person_id}", response_model=PersonDetailOut, summary="A person with documents and known spellings")
def read_person(person_id: str, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> PersonDetailOut:
    with ctx.transaction() as s:
        return detail_out(service.get_person(s, ctx, principal, person_id))



"""HTTP API of identity decisions: merge two persons, undo a merge, list a person's merges."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kosh.core.context import Context
from kosh.core.security import Principal
from kosh.identity import service
from kosh.people.schemas import Strict
from kosh.web.deps import check_csrf, get_ctx, require_principal

router = APIRouter(tags=["identity"])


class MergeIn(Strict):
    other: str = Field(min_length=1, max_length=36, description="the id of the person to merge with this one")
    reason: str = Field(min_length=1, max_length=2000, description="why the two are one person (kept in the audit)")


class UndoIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="why the merge was wrong (kept in the audit)")


class MergeOut(BaseModel):
    id: int
    kept_id: str
    merged_id: str
    reason: str
    decided_by: str
    decided_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: str | None
    undo_reason: str | None


def merge_out(record) -> MergeOut:  # noqa: ANN001
    return MergeOut.model_validate(record, from_attributes=True)


@router.post("/persons/{person_id}/merge", status_code=201, response_model=MergeOut,
             summary="Merge another person into this one (the older of the two is kept)")
def merge(person_id: str, body: MergeIn, request: Request, ctx: Context = Depends(get_ctx),
          principal: Principal = Depends(require_principal)) -> MergeOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return merge_out(service.merge(s, ctx, principal, person_id, body.other, body.reason))


@router.post("/merges/{merge_id}/undo", response_model=MergeOut,
             summary="Undo a merge: both persons get back exactly the records each had")
def undo(merge_id: int, body: UndoIn, request: Request, ctx: Context = Depends(get_ctx),
         principal: Principal = Depends(require_principal)) -> MergeOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return merge_out(service.unmerge(s, ctx, principal, merge_id, body.reason))


@router.get("/persons/{person_id}/merges", response_model=list[MergeOut],
            summary="Every merge a person took part in, newest first")
def merges(person_id: str, ctx: Context = Depends(get_ctx),
           principal: Principal = Depends(require_principal)) -> list[MergeOut]:
    with ctx.transaction() as s:
        return [merge_out(r) for r in service.merges_of(s, ctx, principal, person_id)]

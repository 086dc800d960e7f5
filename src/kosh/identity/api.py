"""HTTP API of identity decisions: merge two persons, undo a merge, list a person's merges."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from kosh.identity import registry, service
from kosh.identity.models import IdentityCandidate, PersonMerge, ReviewStatusName
from kosh.people.schemas import PersonDetailOut, Strict, detail_out
from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.security import Principal
from kosh.platform.validation import MAX_ID

router = APIRouter(tags=["identity"])
# Ids past the 32-bit id columns can name nothing: refused before any query (SQLite overflows at 2**63).
MergeId = Annotated[int, Path(ge=1, le=MAX_ID, description="the merge's id")]
CandidateId = Annotated[int, Path(ge=1, le=MAX_ID, description="the candidate pair's id")]


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


def merge_out(record: PersonMerge) -> MergeOut:
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
def undo(merge_id: MergeId, body: UndoIn, request: Request, ctx: Context = Depends(get_ctx),
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


class EvidenceOut(BaseModel):
    field: str
    level: str
    weight: float
    a: str
    b: str


class CandidateOut(BaseModel):
    id: int
    person_a: str
    person_b: str
    weight: float
    scorer: str
    status: str
    created_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    merge_id: int | None


class CandidateDetailOut(CandidateOut):
    evidence: list[EvidenceOut]
    a: PersonDetailOut
    b: PersonDetailOut


class DecisionIn(Strict):
    decision: Literal["accept", "reject", "defer"]
    reason: str = Field(min_length=1, max_length=2000, description="why (kept in the audit)")


class ScanOut(BaseModel):
    queued: int


def candidate_out(c: IdentityCandidate) -> CandidateOut:
    return CandidateOut.model_validate(c, from_attributes=True)


@router.post("/identity/scan", response_model=ScanOut,
             summary="Compare likely pairs of persons and queue those that may be one person")
def scan(request: Request, ctx: Context = Depends(get_ctx),
         principal: Principal = Depends(require_principal)) -> ScanOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return ScanOut(queued=registry.scan(s, ctx, principal))


@router.get("/identity/candidates", response_model=list[CandidateOut], summary="The review queue, strongest first")
def candidates(status: ReviewStatusName = "open",
               limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=100_000),
               ctx: Context = Depends(get_ctx),
               principal: Principal = Depends(require_principal)) -> list[CandidateOut]:
    with ctx.transaction() as s:
        return [candidate_out(c) for c in service.review_queue(s, ctx, principal, status, limit, offset)]


@router.get("/identity/candidates/{candidate_id}", response_model=CandidateDetailOut,
            summary="One candidate pair side by side with the per-field evidence")
def candidate(candidate_id: CandidateId, ctx: Context = Depends(get_ctx),
              principal: Principal = Depends(require_principal)) -> CandidateDetailOut:
    with ctx.transaction() as s:
        view = service.candidate(s, ctx, principal, candidate_id)
        return CandidateDetailOut(**candidate_out(view.candidate).model_dump(), evidence=view.evidence,
                                  a=detail_out(view.a), b=detail_out(view.b))


@router.post("/identity/candidates/{candidate_id}/decision", response_model=CandidateOut,
             summary="Accept (merge the two), reject or defer a candidate pair")
def decide(candidate_id: CandidateId, body: DecisionIn, request: Request, ctx: Context = Depends(get_ctx),
           principal: Principal = Depends(require_principal)) -> CandidateOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return candidate_out(service.decide(s, ctx, principal, candidate_id, body.decision, body.reason))

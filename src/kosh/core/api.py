"""HTTP API of the core: API tokens for machine clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

import datetime as dt

from fastapi import Query

from kosh.core import audit, auth
from kosh.core.context import Context
from kosh.core.errors import Unauthorized
from kosh.core.security import Permission, Principal
from kosh.web.deps import get_ctx, require_principal

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    name: str = Field("api", max_length=100)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    username: str
    role: str
    regions: list[str]


@router.post("/auth/tokens", response_model=TokenOut, status_code=201,
             summary="Exchange a username and password for a bearer token (rate-limited)")
def issue_token(body: TokenRequest, request: Request, ctx: Context = Depends(get_ctx)) -> TokenOut:
    client = request.client.host if request.client else ""
    with ctx.transaction() as s:
        result = auth.login(s, ctx, body.username, body.password, client)
        if result is not None:
            auth.logout(s, result.session_token)  # a token client needs no browser session
            return TokenOut(token=auth.issue_token(s, ctx, result.user, body.name))
    raise Unauthorized("wrong username or password")


@router.get("/me", response_model=MeOut)
def me(principal: Principal = Depends(require_principal)) -> MeOut:
    return MeOut(username=principal.username, role=principal.role.value, regions=list(principal.regions))


class AuditRecordOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    role: str
    purpose: str
    action: str
    subject_type: str
    subject_id: str
    detail: str
    mac: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str


@router.get("/audit/records", response_model=list[AuditRecordOut], tags=["audit"],
            summary="The audit trail from a sequence number (auditors)")
def audit_records(after_seq: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
                  ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal)) -> list[AuditRecordOut]:
    with ctx.transaction() as s:
        return [AuditRecordOut.model_validate(r, from_attributes=True)
                for r in audit.records(s, ctx.keyring, principal, after_seq=after_seq, limit=limit)]


@router.get("/audit/verify", response_model=AuditVerifyOut, tags=["audit"],
            summary="Check the whole chain (auditors)")
def audit_verify(ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> AuditVerifyOut:
    principal.require(Permission.AUDIT_READ)
    with ctx.transaction() as s:
        result = audit.verify(s, ctx.keyring)
    return AuditVerifyOut(**result.__dict__)

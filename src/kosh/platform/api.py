"""HTTP API of the platform: API tokens for machine clients, and who am I."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kosh.platform import audit, auth
from kosh.platform.context import Context
from kosh.platform.errors import Unauthorized
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.models import User
from kosh.platform.security import Permission, Principal
from kosh.platform.validation import MAX_ID, TextInput
from kosh.platform.words import N_, Msg

router = APIRouter(tags=["auth"])


class TokenRequest(TextInput):  # no NUL: PostgreSQL cannot look such a username up
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
        result = auth.login(s, ctx, body.username, body.password, client, web_session=False)
        if result is not None:
            return TokenOut(token=auth.issue_token(s, ctx, result.user, body.name))
    raise Unauthorized(Msg(N_("Wrong username or password.")))


class TokenInfoOut(BaseModel):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool
    revoked_at: dt.datetime | None


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    regions: list[str]
    active: bool
    created_at: dt.datetime
    valid_tokens: int = 0


class RevokedOut(BaseModel):
    revoked: int


TOKEN_ID = Path(ge=1, le=2**31 - 1, description="the token's id (GET /auth/tokens)")
USERNAME = Path(min_length=1, max_length=80)


def _user_out(user: User, valid_tokens: int = 0) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name or "", role=user.role,
                   regions=list(user.regions or []), active=user.active, created_at=user.created_at,
                   valid_tokens=valid_tokens)


@router.get("/auth/tokens", response_model=list[TokenInfoOut], summary="The caller's own API tokens")
def my_tokens(ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> list[TokenInfoOut]:
    with ctx.transaction() as s:
        return [TokenInfoOut.model_validate(t, from_attributes=True) for t in auth.tokens_of(s, ctx, principal)]


@router.delete("/auth/tokens/{token_id}", status_code=204, response_class=Response,
               summary="Revoke an API token: the caller's own (admins: anyone's); refused at once everywhere")
def revoke_token(request: Request, token_id: int = TOKEN_ID, ctx: Context = Depends(get_ctx),
                 principal: Principal = Depends(require_principal)) -> Response:
    check_csrf(request, None)
    with ctx.transaction() as s:
        auth.revoke_token(s, ctx, principal, token_id)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], tags=["users"], summary="Every user account (admins)")
def list_users(ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> list[UserOut]:
    with ctx.transaction() as s:
        return [_user_out(r.user, r.active_tokens) for r in auth.list_users(s, ctx, principal)]


@router.get("/users/{username}/tokens", response_model=list[TokenInfoOut], tags=["users"],
            summary="A user's API tokens (admins)")
def user_tokens(username: str = USERNAME, ctx: Context = Depends(get_ctx),
                principal: Principal = Depends(require_principal)) -> list[TokenInfoOut]:
    with ctx.transaction() as s:
        return [TokenInfoOut.model_validate(t, from_attributes=True)
                for t in auth.tokens_of(s, ctx, principal, username)]


@router.delete("/users/{username}/tokens", response_model=RevokedOut, tags=["users"],
               summary="Revoke every API token of a user (admins)")
def revoke_user_tokens(request: Request, username: str = USERNAME, ctx: Context = Depends(get_ctx),
                       principal: Principal = Depends(require_principal)) -> RevokedOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return RevokedOut(revoked=auth.revoke_user_tokens(s, ctx, principal, username))


@router.post("/users/{username}/deactivate", response_model=UserOut, tags=["users"],
             summary="Deactivate an account: its sessions and tokens end at once (admins)")
def deactivate_user(request: Request, username: str = USERNAME, ctx: Context = Depends(get_ctx),
                    principal: Principal = Depends(require_principal)) -> UserOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return _user_out(auth.set_active(s, ctx, principal, username, False))


@router.post("/users/{username}/activate", response_model=UserOut, tags=["users"],
             summary="Reactivate an account; revoked tokens stay revoked (admins)")
def activate_user(request: Request, username: str = USERNAME, ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal)) -> UserOut:
    check_csrf(request, None)
    with ctx.transaction() as s:
        return _user_out(auth.set_active(s, ctx, principal, username, True))


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
    prev_mac: str
    mac: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str


@router.get("/audit/records", response_model=list[AuditRecordOut], tags=["audit"],
            summary="The audit trail from a sequence number, oldest first, filtered (auditors)",
            description="The same filters as the audit pages. Paging: pass the last `seq` received as "
                        "`after_seq`. The `X-Total-Count` header tells how many records match the filters in "
                        "all; the `Link` header (rel=next) gives the next page while there is one.")
def audit_records(response: Response, request: Request, after_seq: int = Query(0, ge=0, le=MAX_ID),
                  limit: int = Query(100, ge=1, le=1000),
                  user: str = Query("", max_length=80, description="exact username"),
                  person: str = Query("", max_length=36, description="a person's id: records about them"),
                  action: str = Query("", max_length=40, description="e.g. read, search, export, login"),
                  purpose: str = Query("", max_length=200, description="words in the stated purpose"),
                  since: str = Query("", max_length=10, description="first day (YYYY-MM-DD, local time)"),
                  until: str = Query("", max_length=10, description="last day (YYYY-MM-DD, local time)"),
                  ctx: Context = Depends(get_ctx),
                  principal: Principal = Depends(require_principal)) -> list[AuditRecordOut]:
    from urllib.parse import urlencode

    from kosh.platform import audit_browse

    audit_browse.may_read(principal)  # before the filters: a refusal says nothing about them
    f = audit_browse.filters(user, person, action, purpose, since, until)
    with ctx.transaction() as s:
        rows, total = audit_browse.after(s, ctx, principal, f, after_seq=after_seq, limit=limit)
    response.headers["X-Total-Count"] = str(total)
    if len(rows) == limit:
        query = urlencode(f.said() | {"after_seq": rows[-1].seq, "limit": limit})
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return [AuditRecordOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/audit/verify", response_model=AuditVerifyOut, tags=["audit"],
            summary="Check the whole chain (auditors)")
def audit_verify(ctx: Context = Depends(get_ctx), principal: Principal = Depends(require_principal)) -> AuditVerifyOut:
    principal.require(Permission.AUDIT_READ)
    with ctx.transaction() as s:
        result = audit.verify(s, ctx.keyring)
    return AuditVerifyOut(**result.__dict__)

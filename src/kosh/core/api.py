"""HTTP API of the core: API tokens for machine clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kosh.core import auth
from kosh.core.context import Context
from kosh.core.errors import Unauthorized
from kosh.core.security import Principal
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

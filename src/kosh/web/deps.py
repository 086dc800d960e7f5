"""Request plumbing shared by API routes and pages: the context, the caller, CSRF, locale."""

from __future__ import annotations

import hmac

from fastapi import Request

from kosh.core import auth
from kosh.core.context import Context
from kosh.core.errors import Forbidden, Unauthorized
from kosh.core.security import Principal

SESSION_COOKIE = "kosh_session"
LANG_COOKIE = "kosh_lang"


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def optional_principal(request: Request) -> Principal | None:
    """The caller from a bearer token (API) or the session cookie (pages), else None."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    ctx = get_ctx(request)
    principal, csrf = None, None
    token = _bearer(request)
    with ctx.transaction() as s:
        if token:
            user = auth.token_user(s, token)
            if user is None:
                raise Unauthorized("the bearer token is unknown, expired or revoked")
            principal = auth.principal_for(user)
        elif cookie := request.cookies.get(SESSION_COOKIE):
            found = auth.session_user(s, cookie)
            if found:
                principal, csrf = auth.principal_for(found[0]), found[1]
    purpose = request.headers.get("x-purpose", "").strip()[:200]
    if principal is not None:
        principal = principal.with_purpose(purpose or f"{request.method} {request.url.path}")
    request.state.principal, request.state.csrf = principal, csrf
    request.state.via_token = bool(token)
    return principal


def require_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise Unauthorized()
    return principal


def check_csrf(request: Request, submitted: str | None) -> None:
    """Forms carry the session's CSRF token; bearer-token calls need none (no ambient cookie)."""
    if getattr(request.state, "via_token", False):
        return
    expected = getattr(request.state, "csrf", None)
    submitted = submitted or request.headers.get("x-csrf-token")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")

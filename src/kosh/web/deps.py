"""Request plumbing shared by API routes and pages: the context, the caller, CSRF, locale."""

from __future__ import annotations

import hmac
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from kosh.core import auth
from kosh.core.context import Context
from kosh.core.errors import Forbidden, Unauthorized
from kosh.core.security import Principal

SESSION_COOKIE = "kosh_session"
LANG_COOKIE = "kosh_lang"


async def get_ctx(request: Request) -> Context:
    # async: a plain attribute read should not cost a trip through the thread pool.
    return request.app.state.ctx


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


# Who a token or session cookie belongs to, kept briefly per process so that a busy API client
# costs no extra transaction per request. A revoked token or ended session stays usable for at
# most `auth_cache_seconds` in other worker processes (sign-out evicts it in its own process).
_seen: dict[str, tuple[float, Principal, str | None]] = {}


def forget_credential(secret: str) -> None:
    _seen.pop(secret, None)


def _cached(secret: str, now: float) -> tuple[Principal, str | None] | None:
    hit = _seen.get(secret)
    if hit and hit[0] > now:
        return hit[1], hit[2]
    return None


def _resolve(ctx: Context, token: str | None, cookie: str | None) -> tuple[Principal | None, str | None]:
    secret = token or cookie
    if not secret:
        return None, None
    now = time.monotonic()
    hit = _cached(secret, now)
    if hit:
        return hit
    principal, csrf = None, None
    with ctx.transaction() as s:
        if token:
            user = auth.token_user(s, token)
            if user is None:
                raise Unauthorized("the bearer token is unknown, expired or revoked")
            principal = auth.principal_for(user)
        else:
            found = auth.session_user(s, secret)
            if found:
                principal, csrf = auth.principal_for(found[0]), found[1]
    if principal is not None and ctx.settings.auth_cache_seconds > 0:
        if len(_seen) > 10_000:
            _seen.clear()
        _seen[secret] = (now + ctx.settings.auth_cache_seconds, principal, csrf)
    return principal, csrf


def optional_principal(request: Request) -> Principal | None:
    """The caller from a bearer token (API) or the session cookie (pages), else None."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    ctx: Context = request.app.state.ctx
    token = _bearer(request)
    principal, csrf = _resolve(ctx, token, None if token else request.cookies.get(SESSION_COOKIE))
    return _identified(request, token, principal, csrf)


def _identified(request: Request, token: str | None, principal: Principal | None, csrf: str | None) -> Principal | None:
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


async def require_principal_async(request: Request) -> Principal:
    """`require_principal` for busy API routes: a credential seen recently (or none at all) is
    settled on the event loop; only a lookup in the database goes through the thread pool."""
    if not hasattr(request.state, "principal"):
        token = _bearer(request)
        secret = token or request.cookies.get(SESSION_COOKIE)
        hit = _cached(secret, time.monotonic()) if secret else (None, None)
        if hit is None:
            return await run_in_threadpool(require_principal, request)
        _identified(request, token, *hit)
    return require_principal(request)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Forms carry the session's CSRF token; bearer-token calls need none (no ambient cookie)."""
    if getattr(request.state, "via_token", False):
        return
    expected = getattr(request.state, "csrf", None)
    submitted = submitted or request.headers.get("x-csrf-token")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")

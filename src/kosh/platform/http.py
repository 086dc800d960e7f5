"""Request plumbing shared by API routes and pages: the context, the caller, CSRF, locale."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kosh.platform import auth
from kosh.platform.context import Context
from kosh.platform.errors import Forbidden, KoshError, Unauthorized
from kosh.platform.security import Principal
from kosh.platform.words import N_, Msg

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


# Who a token or session cookie belongs to, kept briefly per application (one per worker
# process) so that a busy API client costs no extra transaction per request. Each entry carries
# the revocation epoch it was read under (core.auth.revocation_epoch: a stat of a file under
# KOSH_HOME); a revocation, sign-out or deactivation anywhere on this host changes the epoch and
# so ends every cached credential at once. Other hosts keep theirs up to `auth_cache_seconds`.
@dataclass
class CredentialCache:
    entries: dict[str, tuple[float, Principal, str | None, object]] = field(default_factory=dict)
    epoch: object = None


def _cache(request: Request) -> CredentialCache:
    state = request.app.state
    cache = getattr(state, "credentials", None)
    if cache is None:
        cache = state.credentials = CredentialCache()
    return cache


def forget_credential(request: Request, secret: str) -> None:
    _cache(request).entries.pop(secret, None)


def _epoch(ctx: Context, cache: CredentialCache) -> object:
    current = auth.revocation_epoch(ctx.settings.home)
    if current != cache.epoch:
        cache.entries.clear()  # revocations are rare: refilling costs one query per credential
        cache.epoch = current
    return current


def _cached(cache: CredentialCache, secret: str, now: float, epoch: object) -> tuple[Principal, str | None] | None:
    hit = cache.entries.get(secret)
    if hit and hit[0] > now and hit[3] == epoch:
        return hit[1], hit[2]
    return None


def _resolve(ctx: Context, cache: CredentialCache, token: str | None,
             cookie: str | None) -> tuple[Principal | None, str | None]:
    secret = token or cookie
    if not secret:
        return None, None
    now = time.monotonic()
    # Read before the database: a revocation committed meanwhile changes the epoch, so the entry
    # stored below is never used.
    epoch = _epoch(ctx, cache)
    hit = _cached(cache, secret, now, epoch)
    if hit:
        return hit
    principal, csrf = None, None
    with ctx.transaction() as s:
        if token:
            user = auth.token_user(s, token)
            if user is None:
                raise Unauthorized(Msg(N_("The bearer token is unknown, expired or revoked.")))
            principal = auth.principal_for(user, keyring=ctx.keyring)
        else:
            found = auth.session_user(s, secret)
            if found:
                # The session's stated purpose travels in the (cached) principal; stating a new
                # one moves the revocation epoch, so no process keeps the old one.
                principal = auth.principal_for(found[0], purpose=found[2], keyring=ctx.keyring)
                csrf = found[1]
    if principal is not None and ctx.settings.auth_cache_seconds > 0:
        if len(cache.entries) > 10_000:
            cache.entries.clear()
        cache.entries[secret] = (now + ctx.settings.auth_cache_seconds, principal, csrf, epoch)
    return principal, csrf


def optional_principal(request: Request) -> Principal | None:
    """The caller from a bearer token (API) or the session cookie (pages), else None."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    ctx: Context = request.app.state.ctx
    token = _bearer(request)
    principal, csrf = _resolve(ctx, _cache(request), token, None if token else request.cookies.get(SESSION_COOKIE))
    return _identified(request, token, principal, csrf)


def _identified(request: Request, token: str | None, principal: Principal | None, csrf: str | None) -> Principal | None:
    # The purpose of access: the X-Purpose header (API clients), else the one stated for the web
    # session (`kosh.platform.purpose`); without either, the audit records name the request.
    stated = request.headers.get("x-purpose", "").strip()[:200] or (principal.purpose if principal else "")
    if principal is not None:
        principal = principal.with_purpose(stated or f"{request.method} {request.url.path}")
    request.state.principal, request.state.csrf = principal, csrf
    request.state.stated_purpose = stated
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
        ctx: Context = request.app.state.ctx
        cache = _cache(request)
        hit = _cached(cache, secret, time.monotonic(), _epoch(ctx, cache)) if secret else (None, None)
        if hit is None:
            return await run_in_threadpool(require_principal, request)
        _identified(request, token, *hit)
    return require_principal(request)


def public_form_token(request: Request, cookie: str) -> str:
    """A public page's form token (no session: /status, /verify): the client's cookie, or a new
    one; the page sets it back with `keep_public_form_token`."""
    token = request.cookies.get(cookie) or secrets.token_urlsafe(32)
    request.state.csrf = token
    return token


R = TypeVar("R", bound=Response)


def keep_public_form_token(response: R, cookie: str, token: str, path: str, secure: bool) -> R:
    """Set the public form token's cookie (for the service's path only) and forbid caching."""
    response.set_cookie(cookie, token, httponly=True, samesite="strict", path=path, secure=secure)
    response.headers["cache-control"] = "no-store"
    return response


def public_form_token_ok(request: Request, cookie: str, submitted: str) -> bool:
    """The posted token is the one in the client's cookie (a double-submit check)."""
    request.state.csrf = request.cookies.get(cookie)
    try:
        check_csrf(request, submitted)
    except KoshError:
        return False
    return True


def check_csrf(request: Request, submitted: str | None) -> None:
    """Forms carry the session's CSRF token; bearer-token calls need none (no ambient cookie)."""
    if getattr(request.state, "via_token", False):
        return
    expected = getattr(request.state, "csrf", None)
    submitted = submitted or request.headers.get("x-csrf-token")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(Msg(N_("The form's security token is missing or out of date. Reload the page and try again.")))

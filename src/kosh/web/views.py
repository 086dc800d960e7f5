"""Pages of the core: start page, sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kosh.platform import auth
from kosh.platform.context import Context
from kosh.platform.errors import NotFound, TooManyRequests
from kosh.platform.http import (
    SESSION_COOKIE,
    check_csrf,
    forget_credential,
    get_ctx,
    optional_principal,
    require_principal,
)
from kosh.platform.pages import render
from kosh.platform.security import Permission, Principal
from kosh.platform.words import N_, Msg
from kosh.stay import service as stay

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would help phishing.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@router.get("/")
def home(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = optional_principal(request)
    figures = None
    if principal is not None and principal.can(Permission.AGGREGATES_READ):
        with ctx.transaction() as s:
            figures = stay.figures(s, ctx, principal, stay.local_today(ctx))
    return render(request, "home.html", figures=figures)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          ctx: Context = Depends(get_ctx)) -> Response:
    client = request.client.host if request.client else ""
    from kosh.platform.i18n import gettext_for
    from kosh.platform.pages import request_lang

    _ = gettext_for(request_lang(request))
    if "\x00" in username or "\x00" in password:  # no account has one, and PostgreSQL cannot even look it up
        return render(request, "login.html", status_code=422, next=_safe_next(next),
                      error=_("The username or password contains a character that is not allowed."))
    try:
        with ctx.transaction() as s:
            result = auth.login(s, ctx, username, password, client)
    except TooManyRequests as exc:
        seconds = exc.extra["retry_after"]
        page = render(request, "login.html", status_code=429,
                      error=_("Too many failed sign-ins from this device. Try again in %(seconds)s seconds.")
                      % {"seconds": seconds}, next=_safe_next(next), username=username)
        page.headers["Retry-After"] = str(seconds)
        return page
    if result is None:
        return render(request, "login.html", status_code=401, error=_("Wrong username or password."),
                      next=_safe_next(next), username=username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, result.session_token, httponly=True, samesite="strict",
                        secure=ctx.settings.cookie_secure, max_age=ctx.settings.session_hours * 3600, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    require_principal(request)
    check_csrf(request, csrf_token)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with ctx.transaction() as s:
        auth.sign_out(s, ctx, cookie)
    forget_credential(request, cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- account administration (admins) ------------------------------------------------------
# What each action asks and says once done; the POST only acts after the confirmation page.
ADMIN_ACTIONS = {
    "deactivate": (N_("Deactivate %(user)s?"),
                   N_("They are signed out everywhere at once and every API token of theirs stops working. "
                      "Their records and the audit trail are kept."),
                   N_("Yes, deactivate"), N_("%(user)s was deactivated: their sessions and tokens have ended.")),
    "activate": (N_("Reactivate %(user)s?"),
                 N_("They can sign in again. Tokens revoked before stay revoked; they ask for new ones."),
                 N_("Yes, reactivate"), N_("%(user)s can sign in again.")),
    "revoke-tokens": (N_("Revoke every API token of %(user)s?"),
                      N_("Every program using one of their tokens is refused at once. They can still sign in."),
                      N_("Yes, revoke all tokens"), N_("Every API token of %(user)s was revoked.")),
    "revoke-token": (N_("Revoke the API token “%(token)s” of %(user)s?"),
                     N_("A program using this token is refused at once."),
                     N_("Yes, revoke the token"), N_("The API token was revoked.")),
}


def _admin(request: Request) -> Principal:
    principal = require_principal(request)
    principal.require(Permission.USERS_MANAGE)
    return principal


def _action(action: str) -> tuple[str, str, str, str]:
    if action not in ADMIN_ACTIONS:
        raise NotFound(Msg(N_("There is no such action.")))
    return ADMIN_ACTIONS[action]


@router.get("/admin/users")
def admin_users(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _admin(request)
    with ctx.transaction() as s:
        rows = auth.list_users(s, ctx, principal)
    return render(request, "admin_users.html", rows=rows)


@router.get("/admin/users/{username}")
def admin_user(request: Request, username: str, done: str = "", ctx: Context = Depends(get_ctx)) -> Response:
    principal = _admin(request)
    with ctx.transaction() as s:
        user = auth.get_user(s, ctx, principal, username)
        tokens = auth.tokens_of(s, ctx, principal, username)
    notice = ADMIN_ACTIONS[done][3] if done in ADMIN_ACTIONS else None
    live = {t.id for t in tokens
            if not t.revoked and (t.expires_at is None or auth.aware(t.expires_at) > auth.utcnow())}
    return render(request, "admin_user.html", user=user, tokens=tokens, live=live, notice=notice)


@router.get("/admin/users/{username}/confirm")
def admin_confirm(request: Request, username: str, action: str, token_id: int | None = None,
                  ctx: Context = Depends(get_ctx)) -> Response:
    principal = _admin(request)
    question, warning, button, _done = _action(action)
    token = None
    with ctx.transaction() as s:
        user = auth.get_user(s, ctx, principal, username)
        if action == "revoke-token":
            token = next((t for t in auth.tokens_of(s, ctx, principal, username) if t.id == token_id), None)
            if token is None:
                raise NotFound(Msg(N_("%(username)s has no API token %(id)s."), username=user.username, id=token_id))
    return render(request, "admin_confirm.html", user=user, token=token, action=action, question=question,
                  warning=warning, button=button)


@router.post("/admin/users/{username}/{action}")
def admin_act(request: Request, username: str, action: str, csrf_token: str = Form(""),
              token_id: int | None = Form(None), ctx: Context = Depends(get_ctx)) -> Response:
    principal = _admin(request)
    check_csrf(request, csrf_token)
    _action(action)
    with ctx.transaction() as s:
        user = auth.get_user(s, ctx, principal, username)
        if action in ("deactivate", "activate"):
            auth.set_active(s, ctx, principal, user.username, action == "activate")
        elif action == "revoke-tokens":
            auth.revoke_user_tokens(s, ctx, principal, user.username)
        else:
            if token_id is None or token_id not in {t.id for t in auth.tokens_of(s, ctx, principal, user.username)}:
                raise NotFound(Msg(N_("%(username)s has no API token %(id)s."), username=user.username, id=token_id))
            auth.revoke_token(s, ctx, principal, token_id)
        name = user.username
    return RedirectResponse(f"/admin/users/{name}?done={action}", status_code=303)

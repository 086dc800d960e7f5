"""Pages of the core: start page, sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kosh.core import auth
from kosh.core.context import Context
from kosh.core.errors import TooManyRequests
from kosh.core.security import Permission
from kosh.stay import service as stay
from kosh.web.deps import (SESSION_COOKIE, check_csrf, forget_credential, get_ctx, optional_principal,
                           require_principal)
from kosh.web.templating import render

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
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),  # noqa: A002
          ctx: Context = Depends(get_ctx)) -> Response:
    client = request.client.host if request.client else ""
    from kosh.core.i18n import gettext_for
    from kosh.web.templating import request_lang

    _ = gettext_for(request_lang(request))
    try:
        with ctx.transaction() as s:
            result = auth.login(s, ctx, username, password, client)
    except TooManyRequests as exc:
        return render(request, "login.html", status_code=429, error=_("Too many failed sign-ins. Try again later.")
                      + f" ({exc.detail})", next=_safe_next(next), username=username)
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
        auth.logout(s, cookie)
    forget_credential(cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

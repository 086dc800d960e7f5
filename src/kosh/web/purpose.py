"""The page where a signed-in user states (or changes) the purpose of access of their web session;
the policy and how the purpose reaches the audit trail are in `kosh.platform.purpose`."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kosh.platform import purpose
from kosh.platform.context import Context
from kosh.platform.errors import Forbidden, NotFound, ValidationFailed
from kosh.platform.http import SESSION_COOKIE, check_csrf, forget_credential, get_ctx, require_principal
from kosh.platform.i18n import LOCALES
from kosh.platform.pages import render
from kosh.platform.security import Principal
from kosh.platform.words import N_, Msg
from kosh.web.views import _safe_next

router = APIRouter(include_in_schema=False)

NOT_FOR_ROLE = N_("Your role does not state a purpose of access.")


def stated(request: Request) -> str:
    """The purpose stated for this request (X-Purpose or the web session's), else ''."""
    return getattr(request.state, "stated_purpose", "") or ""


def purpose_first(request: Request) -> Response | None:
    """A browser session without a stated purpose is sent to state one, then back to this page."""
    if getattr(request.state, "via_token", False) or stated(request):
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    lang = request.query_params.get("lang")  # the language asked for carries on to the question
    ask = f"/purpose?next={quote(target, safe='')}" + (f"&lang={lang}" if lang in LOCALES else "")
    return RedirectResponse(ask, status_code=303)


def _target(next: str) -> str:
    """Where to go once the purpose is saved: a page of this site; none (this page) for itself."""
    target = _safe_next(next) if next else ""
    return "" if target == "/" and next != "/" or target.startswith("/purpose") else target


def _user(request: Request) -> Principal:
    principal = require_principal(request)
    if not purpose.asks_purpose(principal):
        raise Forbidden(Msg(NOT_FOR_ROLE))
    return principal


@router.get("/purpose")
def purpose_page(request: Request, next: str = "", saved: str = "") -> Response:
    _user(request)
    target = _target(next)
    return render(request, "purpose.html", current=stated(request), next=target, values={"purpose": stated(request)},
                  errors={}, saved=bool(saved), asked=bool(target.startswith("/persons/") and not stated(request)))


@router.post("/purpose")
def purpose_save(request: Request, purpose_text: str = Form("", alias="purpose"), next: str = Form(""),
                 csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    principal = _user(request)
    check_csrf(request, csrf_token)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if getattr(request.state, "via_token", False) or not cookie:
        raise NotFound(Msg(purpose.NO_SESSION))
    target = _target(next)
    try:
        with ctx.transaction() as s:
            purpose.state(s, ctx, principal, cookie, purpose_text)
    except ValidationFailed as exc:
        return render(request, "purpose.html", status_code=422, current=stated(request), next=target,
                      values={"purpose": purpose_text[:1000]}, errors={e.field: e.message for e in exc.errors},
                      saved=False, asked=False)
    forget_credential(request, cookie)
    return RedirectResponse(target or "/purpose?saved=1", status_code=303)

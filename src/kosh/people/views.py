"""Pages of persons: search by name in any script or by document number.

Searches are POSTed (with the form's CSRF token) and answered in place: a document number in the
URL would land in server and proxy logs, the browser's history and the Referer of the next page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kosh.people import service
from kosh.platform.context import Context
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import gettext_for
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission

router = APIRouter(include_in_schema=False)
PAGE = 25


@router.get("/persons")
def search_page(request: Request) -> Response:
    principal = require_principal(request)
    principal.require(Permission.PERSON_READ)  # say so before showing a form that cannot work
    return render(request, "person_search.html", q="", result=None, page=1, page_size=PAGE)


@router.post("/persons")
def search(request: Request, q: str = Form(""), page: int = Form(1), csrf_token: str = Form(""),
           ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.PERSON_READ)
    check_csrf(request, csrf_token)
    q = q.strip()[:200]
    page = max(1, min(page, 1000))
    template = "person_results.html" if request.headers.get("hx-request") else "person_search.html"
    if "\x00" in q:
        error = gettext_for(request_lang(request))("The search contains a character that is not allowed.")
        status = 200 if request.headers.get("hx-request") else 422  # htmx swaps in 2xx answers only
        return render(request, template, status_code=status, q="", result=None, page=1, page_size=PAGE, error=error)
    result = None
    if len(q) >= 2:
        with ctx.transaction() as s:
            result = service.search_persons(s, ctx, principal, q, limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, template, q=q, result=result, page=page, page_size=PAGE)

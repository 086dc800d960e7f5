"""Pages of persons: search by name in any script or by document number."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kosh.core.context import Context
from kosh.core.security import Permission
from kosh.people import service
from kosh.web.deps import get_ctx, require_principal
from kosh.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 25


@router.get("/persons")
def search_page(request: Request, q: str = "", page: int = 1, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.PERSON_READ)  # say so before showing a form that cannot work
    q = q.strip()[:200]
    page = max(1, min(page, 1000))
    result = None
    if len(q) >= 2:
        with ctx.transaction() as s:
            result = service.search_persons(s, ctx, principal, q, limit=PAGE, offset=(page - 1) * PAGE)
    template = "person_results.html" if request.headers.get("hx-request") else "person_search.html"
    return render(request, template, q=q, result=result, page=page, page_size=PAGE)

"""Pages of persons: search by name in any script or by document number.

Searches are POSTed (with the form's CSRF token) and answered in place: a document number in the
URL would land in server and proxy logs, the browser's history and the Referer of the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kosh.people import (
    page_words,  # noqa: F401  (registers the people filters of the templates)
    service,
)
from kosh.people.countries import country_name
from kosh.platform.context import Context
from kosh.platform.errors import ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import gettext_for
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission

router = APIRouter(include_in_schema=False)
PAGE = 25


def _country_namer(lang: str) -> Callable[[str], str]:
    def name(code: str) -> str:
        try:
            return country_name(code, lang)
        except ValueError:  # a code no table names: shown as recorded
            return code
    return name


@lru_cache(maxsize=8)
def _countries(lang: str) -> list[tuple[str, str]]:
    """(alpha-3, name in the interface language) of every country, by name: the citizenship filter."""
    import pycountry

    return sorted(((c.alpha_3, country_name(c.alpha_3, lang)) for c in pycountry.countries), key=lambda c: c[1])


def _form(lang: str, **values: Any) -> dict[str, Any]:
    fields = {"q": "", "birth_date": "", "document_part": "", "citizenship": "", "sort": "name"} | values
    return fields | {"page_size": PAGE, "country": _country_namer(lang), "countries": _countries(lang)}


@router.get("/persons")
def search_page(request: Request) -> Response:
    principal = require_principal(request)
    principal.require(Permission.PERSON_READ)  # say so before showing a form that cannot work
    return render(request, "person_search.html", **_form(request_lang(request)), errors={}, result=None, page=1)


@router.post("/persons")
def search(request: Request, q: str = Form(""), birth_date: str = Form(""), document_part: str = Form(""),
           citizenship: str = Form(""), sort: str = Form("name"), page: int = Form(1), csrf_token: str = Form(""),
           ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.PERSON_READ)
    check_csrf(request, csrf_token)
    q, birth_date, document_part = q.strip()[:200], birth_date.strip()[:10], document_part.strip()[:20]
    citizenship, sort = citizenship.strip()[:60], sort.strip()[:20] or "name"
    page = max(1, min(page, 1000))
    template = "person_results.html" if request.headers.get("hx-request") else "person_search.html"
    status = 200 if request.headers.get("hx-request") else 422  # htmx swaps in 2xx answers only
    lang = request_lang(request)
    fields = {"q": q, "birth_date": birth_date, "document_part": document_part, "citizenship": citizenship,
              "sort": sort}
    values = _form(lang, **fields)
    if "\x00" in "".join(fields.values()):
        error = gettext_for(lang)("The search contains a character that is not allowed.")
        return render(request, template, status_code=status, **_form(lang), errors={}, result=None, page=1,
                      error=error)
    result = None
    if len(q) >= 2 or birth_date or document_part:
        try:
            with ctx.transaction() as s:
                result = service.search_persons(s, ctx, principal, q if len(q) >= 2 else "", limit=PAGE,
                                                offset=(page - 1) * PAGE, birth_date=birth_date or None,
                                                document_part=document_part or None,
                                                citizenship=citizenship or None, sort=sort)
        except ValidationFailed as exc:
            return render(request, template, status_code=status, **values, result=None, page=1,
                          errors={e.field: e.message for e in exc.errors})
    # The language switch posts this search again (with its CSRF token) rather than dropping it.
    lang_post = {"action": "/persons", "fields": fields | {"page": page}} if result is not None else None
    return render(request, template, **values, errors={}, result=result, page=page, lang_post=lang_post)

"""The audit browser for auditors (and admins): the trail filtered and paged, one record in full,
the chain check in words, and the filtered records as CSV (`kosh.platform.audit_browse`)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from kosh.platform import audit_browse as browse
from kosh.platform.context import Context
from kosh.platform.errors import ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Principal
from kosh.platform.validation import MAX_ID
from kosh.platform.words import Msg
from kosh.web.when import moment_writer

router = APIRouter(include_in_schema=False)


def _auditor(request: Request) -> Principal:
    """The signed-in auditor (or admin); anyone else is refused (403) in their language."""
    principal = require_principal(request)
    browse.may_read(principal)
    return principal


def _page_context(request: Request, ctx: Context) -> dict:
    return {"when": moment_writer(ctx, request_lang(request)), "ACTIONS": browse.ACTIONS, "SUBJECTS": browse.SUBJECTS}


@router.get("/audit")
def audit_list(request: Request, user: str = "", person: str = "", action: str = "", purpose: str = "",
               since: str = "", until: str = "", page: str = "1", upto: str = "",
               ctx: Context = Depends(get_ctx)) -> Response:
    principal = _auditor(request)
    values = {"user": user[:80], "person": person[:36], "action": action[:40], "purpose": purpose[:200],
              "since": since[:10], "until": until[:10]}
    number = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    try:
        f = browse.filters(user, person, action, purpose, since, until)
    except ValidationFailed as exc:
        return render(request, "audit_list.html", status_code=422, values=values,
                      errors={e.field: e.message for e in exc.errors}, result=None, **_page_context(request, ctx))
    with ctx.transaction() as s:
        result = browse.search(s, ctx, principal, f, offset=(number - 1) * browse.PAGE_SIZE,
                               upto=int(upto) if upto.isdigit() and int(upto) <= MAX_ID else None)
    pages = max(1, -(-result.total // browse.PAGE_SIZE))
    query = f.said()

    def link(n: int) -> str:
        return "/audit?" + urlencode(query | {"upto": result.upto, "page": n})

    return render(request, "audit_list.html", values=values, errors={}, result=result, number=number, pages=pages,
                  previous=link(number - 1) if number > 1 else None,
                  next_page=link(number + 1) if number < pages else None,
                  export="/audit/export.csv" + ("?" + urlencode(query) if query else ""),
                  first=result.offset + 1, last=result.offset + len(result.records), **_page_context(request, ctx))


@router.get("/audit/records/{seq}")
def audit_record(request: Request, seq: int = Path(ge=1, le=MAX_ID), ctx: Context = Depends(get_ctx)) -> Response:
    principal = _auditor(request)
    with ctx.transaction() as s:
        rec = browse.one(s, ctx, principal, seq)
    return render(request, "audit_record.html", rec=rec, detail=browse.detail_items(rec), **_page_context(request, ctx))


@router.post("/audit/verify")
def audit_verify(request: Request, csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    principal = _auditor(request)
    check_csrf(request, csrf_token)
    with ctx.transaction() as s:
        check = browse.check_chain(s, ctx, principal)
    broken = check.result.first_broken_seq
    return render(request, "audit_verify.html", check=check,
                  said=Msg(browse.BREAKS[check.where], seq=broken if broken is not None else "—")
                  if check.where else None, **_page_context(request, ctx))


@router.get("/audit/export.csv")
def audit_export(request: Request, user: str = "", person: str = "", action: str = "", purpose: str = "",
                 since: str = "", until: str = "", ctx: Context = Depends(get_ctx)) -> Response:
    principal = _auditor(request)
    f = browse.filters(user, person, action, purpose, since, until)
    with ctx.transaction() as s:
        body, _count = browse.export_csv(s, ctx, principal, f)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="audit-{stamp}.csv"'})

"""Pages of break-glass access: an officer asks to read one person outside their regions, with
a stated purpose and for a limited time; auditors see every grant in a list of its own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kosh.people import service
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import KoshError, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import gettext_for
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission

router = APIRouter(include_in_schema=False)
HOURS = (1, 4, 8, 24)


def _form(request: Request, ctx: Context, values: dict, errors: dict, status_code: int = 200) -> Response:
    hours = [h for h in HOURS if h <= ctx.settings.break_glass_max_hours] or [ctx.settings.break_glass_max_hours]
    return render(request, "access_new.html", status_code=status_code, values=values, errors=errors, hours=hours)


@router.get("/access/new")
def access_form(request: Request, person: str = "", ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.BREAK_GLASS)
    return _form(request, ctx, {"person_id": person[:36], "hours": "8"}, {})


@router.post("/access")
def open_access(request: Request, person_id: str = Form(""), issuing_state: str = Form(""),
                document_number: str = Form(""), purpose: str = Form(""), hours: str = Form("8"),
                csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.BREAK_GLASS)
    check_csrf(request, csrf_token)
    values = {"person_id": person_id.strip()[:36], "issuing_state": issuing_state.strip().upper()[:3],
              "document_number": document_number.strip()[:20], "purpose": purpose[:500], "hours": hours}
    document = (values["issuing_state"], values["document_number"]) \
        if values["issuing_state"] and values["document_number"] else None
    try:
        with ctx.transaction() as s:
            grant = service.open_break_glass(s, ctx, principal, purpose=purpose,
                                             hours=int(hours) if hours.isdigit() else 0,
                                             person_id=values["person_id"] or None, document=document)
    except ValidationFailed as exc:
        return _form(request, ctx, values, _said(request, ctx, [e.field for e in exc.errors]), 422)
    except KoshError as exc:
        if exc.status != 404:
            raise
        return _form(request, ctx, values, _said(request, ctx, ["unknown"]), 404)
    return render(request, "access_done.html", grant=grant)


def _said(request: Request, ctx: Context, fields: list[str]) -> dict[str, str]:
    """Each refused field's message in the reader's language, keyed by the input it is about."""
    _ = gettext_for(request_lang(request))
    messages = {
        "purpose": ("purpose", _("State the purpose: the case or order number and why, in at least %(num)d characters.")
                    % {"num": service.BREAK_GLASS_MIN_PURPOSE}),
        "hours": ("hours", _("Choose how long the access lasts, from 1 to %(num)d hours.")
                  % {"num": ctx.settings.break_glass_max_hours}),
        "person": ("person_id", _("Give the person's id, or a passport number and its issuing state.")),
        "unknown": ("person_id", _("No person has this id or passport.")),
    }
    return dict(messages[f] for f in fields if f in messages)


@router.get("/access")
def access_list(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    if not principal.can(Permission.AUDIT_READ):
        principal.require(Permission.BREAK_GLASS)
    with ctx.transaction() as s:
        grants = service.break_glass_grants(s, ctx, principal, limit=200)
    return render(request, "access_list.html", grants=grants, now=utcnow(),
                  everyone=principal.can(Permission.AUDIT_READ))


@router.post("/access/{grant_id}/end")
def end_access(grant_id: int, request: Request, csrf_token: str = Form(""),
               ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    check_csrf(request, csrf_token)
    if not 1 <= grant_id <= 2**31 - 1:
        grant_id = 0
    with ctx.transaction() as s:
        service.end_break_glass(s, ctx, principal, grant_id)
    from fastapi.responses import RedirectResponse

    return RedirectResponse("/access", status_code=303)

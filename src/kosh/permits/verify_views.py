"""The public permit check: a permit's signed code (from its QR) verified offline against the
published key, and its state looked up online; and the printable certificate that carries the code.

The certificate is for those who may read the permit (its employer, the akimat of a region it
names, the ministry). The check pages have no account, in the pack's public languages like the
status pages (/status): the signature tells that Kosh issued the code as it reads, the online
state whether the permit still holds today. A POST carries a double-submitted form token
(a strict same-site cookie repeated in the form), as on the status pages.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from kosh.people.countries import country_name
from kosh.permits import ledger, service, signing
from kosh.permits.rules import STATE_WORDS, PermitState
from kosh.permits.schemas import CHANNEL_WORDS
from kosh.permits.signing import PermitPayload
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, ValidationFailed
from kosh.platform.http import (
    get_ctx,
    keep_public_form_token,
    public_form_token,
    public_form_token_ok,
    require_principal,
)
from kosh.platform.i18n import PUBLIC_LOCALES, say
from kosh.platform.pages import render, render_in, request_lang
from kosh.platform.ratelimit import SlidingWindow
from kosh.platform.words import N_, Msg

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "kosh_verify_csrf"
STALE_FORM = N_("The page was open too long or came from elsewhere. Send the form again.")
TOO_MANY = N_("Too many tries. For your safety, try again in %(minutes)s min.")
NOT_ISSUED = N_("A certificate is printed only for a permit that has been issued.")
UNKNOWN_PERMIT = N_("The signature is valid, but the registry holds no permit with this reference.")
CERTIFIED_STATES = (PermitState.ISSUED, PermitState.EXTENDED, PermitState.SUSPENDED)


def _today(ctx: Context) -> dt.date:
    return dt.datetime.now(ctx.pack.zone).date()


def _words(ctx: Context, lang: str) -> dict[str, Any]:
    """What the templates need to say a permit's channel, category, state and citizenship."""
    return {"channel_words": CHANNEL_WORDS, "state_words": STATE_WORDS,
            "category_word": lambda c: say(ledger.category_word(c), lang) if c else "",
            "country_of": lambda code: country_name(code, lang)}


# -- the certificate ----------------------------------------------------------------------------


def payloads(ctx: Context, detail: service.PermitDetail, employer_tail: str) -> list[tuple[service.WorkerView, str]]:
    """Each worker of an issued permit with the signed code of their certificate."""
    p = detail.permit
    if p.issued_on is None or p.valid_from is None or p.valid_to is None:
        raise Conflict(Msg(NOT_ISSUED))
    key_id = signing.permit_key_id(ctx.keyring)
    regions = tuple(sorted(p.regions, key=lambda r: (-p.regions[r], r)))  # the lead region first
    out = []
    for w in detail.workers:
        payload = PermitPayload(
            reference=p.reference, holder=w.name_latin, document_tail=w.document_tail, citizenship=w.citizenship,
            employer=p.employer_name, employer_id_tail=employer_tail, channel=p.channel, category=p.category,
            regions=regions, valid_from=p.valid_from, valid_to=p.valid_to, issued_on=p.issued_on, key_id=key_id)
        out.append((w, signing.encode(payload, ctx.keyring)))
    return out


def _scalable(svg: str) -> str:
    """The QR code's SVG with a viewBox, so that CSS may shrink it to a phone's width (segno gives
    only a width and a height, and shrinking those would crop the code)."""
    size = re.search(r'width="(\d+)" height="(\d+)"', svg)
    if size is None:
        return svg
    return svg.replace("<svg ", f'<svg viewBox="0 0 {size.group(1)} {size.group(2)}" ', 1)


@router.get("/permits/{reference}/certificate")
def certificate(request: Request, reference: str, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    lang = request_lang(request)
    with ctx.transaction() as s:
        detail = service.get_permit(s, ctx, principal, reference, _today(ctx))
        if detail.permit.state not in CERTIFIED_STATES:
            raise Conflict(Msg(NOT_ISSUED))
        tail = service.employer_party_tail(s, ctx, detail.permit.employer_id)
    label = say(Msg(signing.QR_LABEL), lang)
    sheets = [(w, token, _scalable(signing.qr_svg(token, label=label)))
              for w, token in payloads(ctx, detail, tail)]
    return render(request, "certificate.html", permit=detail.permit, sheets=sheets, employer_tail=tail,
                  verify_url=str(request.base_url) + "verify", **_words(ctx, lang))


# -- the public check -----------------------------------------------------------------------------


def _limit(request: Request) -> SlidingWindow:
    """Checks one client may make (per process, like the status pages' limits)."""
    state = request.app.state
    found: SlidingWindow | None = getattr(state, "permit_verify_limit", None)
    if found is None:
        settings = state.ctx.settings
        found = state.permit_verify_limit = SlidingWindow(settings.status_checks_per_client,
                                                          settings.status_window_seconds)
    return found


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A public page: in a public language, with this client's form token, never cached."""
    token = public_form_token(request, CSRF_COOKIE)
    ctx: Context = request.app.state.ctx
    lang = request_lang(request, PUBLIC_LOCALES)
    response = render_in(PUBLIC_LOCALES, request, template, status_code, **_words(ctx, lang), **context)
    return keep_public_form_token(response, CSRF_COOKIE, token, "/verify", ctx.settings.cookie_secure)


def _csrf_ok(request: Request, submitted: str) -> bool:
    return public_form_token_ok(request, CSRF_COOKIE, submitted)


@router.get("/verify")
def verify_form(request: Request, code: str = "") -> Response:
    return _page(request, "verify_form.html", values={"code": code[:signing.MAX_TOKEN_LENGTH]}, errors={})


@router.post("/verify")
def verify(request: Request, code: str = Form(""), csrf_token: str = Form(""),
           ctx: Context = Depends(get_ctx)) -> Response:
    lang = request_lang(request, PUBLIC_LOCALES)
    code = code.strip()
    values = {"code": code[:signing.MAX_TOKEN_LENGTH]}
    if not _csrf_ok(request, csrf_token):
        return _page(request, "verify_form.html", 403, values=values, errors={}, notice=say(Msg(STALE_FORM), lang))
    wait = _limit(request).hit(_client(request))
    if wait:
        page = _page(request, "verify_form.html", 429, values=values, errors={},
                     notice=say(Msg(TOO_MANY, minutes=max(1, math.ceil(wait / 60))), lang))
        page.headers["Retry-After"] = str(wait)
        return page
    try:
        payload = signing.decode(code, {signing.permit_key_id(ctx.keyring): ctx.keyring.permit_public_key()})
    except ValidationFailed as exc:
        return _page(request, "verify_form.html", 422, values=values,
                     errors={"code": say(exc.errors[0].message, lang)})
    with ctx.transaction() as s:
        state = service.public_standing(s, payload.reference, _today(ctx))
    return _page(request, "verify_result.html", payload=payload, state=state,
                 unknown=say(Msg(UNKNOWN_PERMIT), lang) if state is None else "",
                 lang_post={"action": "/verify", "fields": values})


@router.get("/verify/key.pem")
def public_key(ctx: Context = Depends(get_ctx)) -> Response:
    """The published permit key: with it anyone checks a code offline (`kosh permits verify`)."""
    return PlainTextResponse(signing.public_key_pem(ctx.keyring), headers={"cache-control": "public, max-age=3600"})

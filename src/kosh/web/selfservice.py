"""Migrants: check my status — the public pages under /status and their API (no account).

Pages follow the GOV.UK pattern: a start page, the question, the result, a printable proof with a
share code, and the page where a third party checks a proof. They are offered in the pack's public
languages (i18n.PUBLIC_LOCALES). With no session, a POST is protected by a double-submitted token:
a random value in a strict same-site cookie that the form must repeat (platform.http.check_csrf).
Replies carry `Cache-Control: no-store`: they show a person's record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from kosh.flows import selfservice as flow
from kosh.people.countries import country_name
from kosh.platform.context import Context
from kosh.platform.errors import NotFound, TooManyRequests, ValidationFailed
from kosh.platform.http import get_ctx, keep_public_form_token, public_form_token, public_form_token_ok
from kosh.platform.i18n import PUBLIC_LOCALES, say
from kosh.platform.pages import render_in, request_lang
from kosh.platform.words import N_, Msg
from kosh.stay import service as stay

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/public", tags=["public status"])

CSRF_COOKIE = "kosh_status_csrf"
STALE_FORM = N_("The page was open too long or came from elsewhere. Send the form again.")


def _limits(request: Request) -> flow.Limits:
    """The rate limits of this process (kept on the application)."""
    state = request.app.state
    limits = getattr(state, "status_limits", None)
    if limits is None:
        limits = state.status_limits = flow.Limits(state.ctx.settings)
    return limits


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _lang(request: Request) -> str:
    return request_lang(request, PUBLIC_LOCALES)


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A public page: in a public language, with this client's form token, never cached."""
    token = public_form_token(request, CSRF_COOKIE)
    lang = _lang(request)
    ctx: Context = request.app.state.ctx
    response = render_in(PUBLIC_LOCALES, request, template, status_code,
                      country=country_name(ctx.pack.citizenship, lang),
                      country_of=lambda code: flow.citizenship_name(code, lang), status_phrases=flow.STATUS_PHRASES,
                      violation_phrases=flow.VIOLATION_PHRASES, proof_days=ctx.settings.status_proof_days, **context)
    return keep_public_form_token(response, CSRF_COOKIE, token, "/status", ctx.settings.cookie_secure)


def _csrf_ok(request: Request, submitted: str) -> bool:
    return public_form_token_ok(request, CSRF_COOKIE, submitted)


def _typed_date(iso: str, day: str, month: str, year: str) -> str:
    """A date from the form's three fields (day, month, year), or as ISO from a hidden field; an
    incomplete or impossible one is passed on as typed, for the flow to say what is wrong with it."""
    parts = [p.strip() for p in (day, month, year)]
    if not any(parts):
        return iso.strip()
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return "-".join(parts) if all(parts) else ""
    return f"{parts[2]}-{int(parts[1]):02d}-{int(parts[0]):02d}"


def _date_values(day: str, month: str, year: str) -> dict[str, str]:
    return {"birth_date_day": day, "birth_date_month": month, "birth_date_year": year}


def _errors(exc: ValidationFailed, lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        out.setdefault(e.field, say(e.message, lang))
    return out


def _countries(ctx: Context, lang: str) -> list[tuple[str, str]]:
    return flow.citizenships(ctx, lang)


def _too_many(request: Request, template: str, exc: TooManyRequests, **context: Any) -> HTMLResponse:
    page = _page(request, template, 429, notice=say(exc.detail, _lang(request)), **context)
    page.headers["Retry-After"] = str(exc.extra["retry_after"])
    return page


# -- pages ------------------------------------------------------------------------------------


@router.get("/status")
def start(request: Request) -> Response:
    return _page(request, "status_start.html")


@router.get("/status/check")
def question_page(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    return _page(request, "status_question.html", values={}, errors={}, countries=_countries(ctx, _lang(request)))


@router.post("/status/check")
def result_page(request: Request, citizenship: str = Form(""), document_number: str = Form(""),
                birth_date: str = Form(""), birth_date_day: str = Form(""), birth_date_month: str = Form(""),
                birth_date_year: str = Form(""), on: str = Form(""), csrf_token: str = Form(""),
                ctx: Context = Depends(get_ctx)) -> Response:
    lang = _lang(request)
    birth_date = _typed_date(birth_date, birth_date_day, birth_date_month, birth_date_year)
    values = {"citizenship": citizenship, "document_number": document_number, "birth_date": birth_date, "on": on}
    form = {"values": values | _date_values(birth_date_day, birth_date_month, birth_date_year),
            "countries": _countries(ctx, lang)}
    if not _csrf_ok(request, csrf_token):
        return _page(request, "status_question.html", 403, errors={}, notice=say(
            Msg(STALE_FORM), lang),
            **form)
    try:
        q = flow.question(ctx, citizenship, document_number, birth_date, on or None)
        with ctx.transaction() as s:
            answer = flow.check_status(s, ctx, _limits(request), _client(request), q)
    except ValidationFailed as exc:
        return _page(request, "status_question.html", 422, errors=_errors(exc, lang), **form)
    except TooManyRequests as exc:
        return _too_many(request, "status_question.html", exc, errors={}, **form)
    if answer is None:
        return _page(request, "status_question.html", 404, errors={}, not_found=True, **form)
    today = stay.local_today(ctx)
    return _page(request, "status_result.html", answer=answer, snap=answer.snapshot, values=values,
                 proof_offered=answer.snapshot.on == today,
                 penalties=flow.penalties(ctx, answer.snapshot.on, lang), contacts=flow.contacts(ctx, lang),
                 notification_days=ctx.pack.notification_deadline_working_days,
                 month_words=flow.month_words, kzt=flow.kzt,
                 lang_post={"action": "/status/check", "fields": values})


@router.post("/status/proof")
def proof_page(request: Request, citizenship: str = Form(""), document_number: str = Form(""),
               birth_date: str = Form(""), birth_date_day: str = Form(""), birth_date_month: str = Form(""),
               birth_date_year: str = Form(""), csrf_token: str = Form(""),
               ctx: Context = Depends(get_ctx)) -> Response:
    lang = _lang(request)
    birth_date = _typed_date(birth_date, birth_date_day, birth_date_month, birth_date_year)
    values = {"citizenship": citizenship, "document_number": document_number, "birth_date": birth_date}
    form = {"values": values | _date_values(birth_date_day, birth_date_month, birth_date_year),
            "countries": _countries(ctx, lang)}
    if not _csrf_ok(request, csrf_token):
        return _page(request, "status_question.html", 403, errors={}, notice=say(
            Msg(STALE_FORM), lang),
            **form)
    try:
        q = flow.question(ctx, citizenship, document_number, birth_date)
        with ctx.transaction() as s:
            proof = flow.issue_proof(s, ctx, _limits(request), _client(request), q)
    except ValidationFailed as exc:
        return _page(request, "status_question.html", 422, errors=_errors(exc, lang), **form)
    except TooManyRequests as exc:
        return _too_many(request, "status_question.html", exc, errors={}, **form)
    if proof is None:
        return _page(request, "status_question.html", 404, errors={}, not_found=True, **form)
    zone = ctx.pack.zone
    return _page(request, "status_proof.html", proof=proof, snap=proof.snapshot,
                 issued_on=proof.issued_at.astimezone(zone).date(),
                 valid_until=proof.valid_until.astimezone(zone).date())


@router.get("/status/verify")
def verify_page(request: Request) -> Response:
    return _page(request, "status_verify.html", values={}, errors={})


@router.post("/status/verify")
def verify(request: Request, code: str = Form(""), birth_date: str = Form(""), birth_date_day: str = Form(""),
           birth_date_month: str = Form(""), birth_date_year: str = Form(""), csrf_token: str = Form(""),
           ctx: Context = Depends(get_ctx)) -> Response:
    lang = _lang(request)
    birth_date = _typed_date(birth_date, birth_date_day, birth_date_month, birth_date_year)
    values = {"code": code} | _date_values(birth_date_day, birth_date_month, birth_date_year)
    if not _csrf_ok(request, csrf_token):
        return _page(request, "status_verify.html", 403, values=values, errors={}, notice=say(
            Msg(STALE_FORM), lang))
    try:
        q = flow.proof_question(ctx, code, birth_date)
        with ctx.transaction() as s:
            found = flow.check_proof(s, ctx, _limits(request), _client(request), q)
    except ValidationFailed as exc:
        return _page(request, "status_verify.html", 422, values=values, errors=_errors(exc, lang))
    except TooManyRequests as exc:
        return _too_many(request, "status_verify.html", exc, values=values, errors={})
    zone = ctx.pack.zone
    message = found.message(zone)
    if message is not None:
        return _page(request, "status_verify.html", 404 if found.state == "not_valid" else 200, values=values,
                     errors={}, refusal=say(message, lang), state=found.state)
    assert found.issued_at is not None and found.valid_until is not None  # a valid proof has both
    return _page(request, "status_checked.html", snap=found.snapshot, code=flow.grouped(q.code),
                 issued_on=found.issued_at.astimezone(zone).date(),
                 valid_until=found.valid_until.astimezone(zone).date())


# -- API --------------------------------------------------------------------------------------


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizenship: str = Field(max_length=3, description="ISO 3166-1 alpha-3 code of the citizenship, e.g. UZB")
    document_number: str = Field(max_length=30, description="passport or travel document number")
    birth_date: str = Field(max_length=10, description="date of birth, YYYY-MM-DD")
    on: str | None = Field(None, max_length=10, description="the day asked about, YYYY-MM-DD (default: today)")


class DeadlineOut(BaseModel):
    kind: Literal["host_notification", "permit"]
    due: dt.date
    overdue: bool


class ViolationOut(BaseModel):
    kind: str
    first: dt.date
    last: dt.date
    days: int


class SnapshotOut(BaseModel):
    name: str
    citizenship: str
    on: dt.date
    status: str = Field(description="lawful, notification_overdue, overstay, no_lawful_basis or not_in_country")
    in_country: bool
    current_entry: dt.date | None
    days_used: int
    days_left: int | None
    window_days: int
    window_max_days: int | None
    last_lawful_day: dt.date | None
    deadlines: list[DeadlineOut]
    notified_on: dt.date | None = Field(description="the day a host notification for the current stay was "
                                                    "submitted, if one is on record")
    violations: list[ViolationOut]


class StatusOut(SnapshotOut):
    reasons: list[str] = Field(description="why the status is what it is, in English")


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=20, description="the share code, e.g. K7M-4QX-9TR")
    birth_date: str = Field(max_length=10, description="the holder's date of birth, YYYY-MM-DD")


class VerifyOut(BaseModel):
    state: Literal["valid", "expired"]
    issued_at: dt.datetime | None = None
    valid_until: dt.datetime
    snapshot: SnapshotOut | None = None


@api.post("/status", response_model=StatusOut,
          summary="Check one's own stay status (no account): citizenship, document number and date of birth",
          description="Found only on an exact match of all three; no match and more than one match give the "
                      "same 404. Rate-limited per client and per document number (429 with Retry-After). "
                      "Every look-up is audited as the person's own access.")
def status_api(body: StatusIn, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    q = flow.question(ctx, body.citizenship, body.document_number, body.birth_date, body.on)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, _limits(request), _client(request), q)
    if answer is None:
        raise NotFound(Msg(flow.NOT_FOUND))
    out = StatusOut.model_validate(answer.snapshot.to_json() | {"reasons": [str(r) for r in answer.reasons]})
    return JSONResponse(out.model_dump(mode="json"), headers={"cache-control": "no-store"})


@api.post("/status/verify", response_model=VerifyOut,
          summary="Check a proof of stay status by its share code and the holder's date of birth",
          description="A wrong code and a wrong date of birth give the same 404; an expired proof says only "
                      "when it expired. Rate-limited per client and per code (429 with Retry-After); audited.")
def verify_api(body: VerifyIn, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    q = flow.proof_question(ctx, body.code, body.birth_date)
    with ctx.transaction() as s:
        found = flow.check_proof(s, ctx, _limits(request), _client(request), q)
    if found.state == "not_valid" or found.valid_until is None:
        raise NotFound(Msg(flow.PROOF_NOT_VALID))
    out = VerifyOut(state=found.state, issued_at=found.issued_at, valid_until=found.valid_until,
                    snapshot=SnapshotOut.model_validate(found.snapshot.to_json()) if found.snapshot else None)
    return JSONResponse(out.model_dump(mode="json"), headers={"cache-control": "no-store"})

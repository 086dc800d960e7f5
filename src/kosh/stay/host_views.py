"""Pages of the host workspace: the start page, the notification form with its check-your-answers
step and confirmation, the receipt, and the host's guests with their history, correction,
cancellation and departure. Every page works without JavaScript; htmx only narrows the list of
towns as the host types."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from kosh.jurisdictions.schema import in_locale
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, KoshError, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, optional_principal, require_principal
from kosh.platform.i18n import format_day
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.validation import MAX_ID
from kosh.platform.words import N_, Msg
from kosh.stay import hosting, service

router = APIRouter(include_in_schema=False)
NotificationId = Annotated[int, Path(ge=1, le=MAX_ID)]

# What the form posts (the host's own fields are never read: the account's are used).
POSTED = (*hosting.GUEST_FIELDS, "settlement", "address", "arrival_date", "expected_departure")
LABELS = {
    "surname": N_("Surname"), "given_names": N_("Given names"), "patronymic": N_("Patronymic"),
    "surname_latin": N_("Surname, Latin (as in passport)"), "given_names_latin": N_("Given names, Latin"),
    "sex": N_("Sex"), "birth_date": N_("Date of birth"), "citizenship": N_("Citizenship"),
    "document_number": N_("Passport number"), "issuing_state": N_("Issuing state"),
    "settlement": N_("Town or city"), "address": N_("Address"), "arrival_date": N_("Arrival date"),
    "expected_departure": N_("Expected departure"), "reason": N_("Reason"), "departed_on": N_("Departure date"),
}
SEX_WORDS = {"M": N_("male"), "F": N_("female"), "X": N_("unspecified")}
PER_PAGE = 20
UNIT_WORDS = (N_("MCI"),)  # the pack's fine unit, shown by its code in the reader's language


# -- helpers -------------------------------------------------------------------------------------

def _host(request: Request, permission: Permission = Permission.NOTIFICATION_WRITE) -> Principal:
    principal = require_principal(request)
    principal.require(permission)
    return principal


def _posted(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(form.get(k) or "").strip() for k in POSTED}


def _answers(ctx: Context, values: Mapping[str, str]) -> tuple[dict[str, str], list[FieldError]]:
    """The posted values as the use case takes them: the town as its KATO code, the issuing state
    the citizenship unless another is chosen."""
    data = {k: v for k, v in values.items() if k in hosting.FORM_FIELDS}
    errors: list[FieldError] = []
    place = hosting.settlement_for(ctx.pack, values.get("settlement", ""))
    if place is None:
        errors.append(FieldError("settlement", Msg(N_("Choose the town or city from the list.")) if values.get(
            "settlement") else Msg(N_("Enter the town or city of the address."))))
    else:
        data["kato"] = place.kato
    if not data.get("issuing_state"):
        data["issuing_state"] = values.get("citizenship", "")
    return data, errors


def _field_errors(errors: list[FieldError]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in errors:
        name = "settlement" if e.field == "kato" else e.field
        out.setdefault(name if name in LABELS else "body", e.message)
    return out


def _validate(ctx: Context, principal: Principal, values: Mapping[str, str]) -> dict[str, str]:
    """Field errors of the answers (empty when they would be stored)."""
    data, errors = _answers(ctx, values)
    try:
        hosting.check(ctx, principal, data)
    except ValidationFailed as exc:
        errors = errors + list(exc.errors)
    return _field_errors(errors)


def _choices(ctx: Context, lang: str) -> dict[str, Any]:
    return {"countries": service.calculator_countries(ctx, lang),
            "settlements": [(hosting.settlement_label(ctx.pack, s, lang), s) for s in
                            ctx.pack.find_settlements("", lang, limit=len(ctx.pack.settlements))],
            "labels": LABELS, "sex_words": SEX_WORDS, "host": None}


def _late(ctx: Context, arrival: dt.date | None) -> dict[str, Any] | None:
    if arrival is None or not hosting.is_late(ctx, arrival):
        return None
    return {"due": hosting.due_day(ctx, arrival), "days": ctx.pack.notification_deadline_working_days,
            "penalty": ctx.pack.penalty("host_notification")}


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _form(request: Request, ctx: Context, principal: Principal, values: Mapping[str, str], *, token: str,
          action: str, errors: Mapping[str, str] | None = None, focus: str | None = None,
          correcting: hosting.HostNotificationView | None = None, status_code: int = 200) -> Response:
    lang = request_lang(request)
    return render(request, "host_form.html", status_code=status_code, values=values, errors=errors or {},
                  token=token, action=action, focus=focus, correcting=correcting,
                  identity=hosting.host_identity(principal), **_choices(ctx, lang))


def _check_page(request: Request, ctx: Context, principal: Principal, values: Mapping[str, str], *, token: str,
                action: str, correcting: hosting.HostNotificationView | None = None) -> Response:
    lang = request_lang(request)
    place = hosting.settlement_for(ctx.pack, values.get("settlement", ""))
    shown = dict(values)
    if place is not None:
        shown["settlement"] = hosting.settlement_label(ctx.pack, place, lang)
    for name in ("arrival_date", "expected_departure"):
        day = _day(values.get(name, ""))
        shown[name] = format_day(day, lang) if day else ""
    return render(request, "host_check.html", values=values, shown=shown, token=token, action=action,
                  correcting=correcting, late=_late(ctx, _day(values.get("arrival_date", ""))),
                  identity=hosting.host_identity(principal), **_choices(ctx, lang))


async def _steps(request: Request, ctx: Context, principal: Principal, action: str, scope: str,
                 correcting: hosting.HostNotificationView | None = None) -> Response:
    """The form's three steps, one address: `check` (the answers, shown back), `change` (the form
    again, with them), `submit` (stored once per form token)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    values = _posted(form)
    token = str(form.get("form_token") or "")
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(24)  # a form from before the tokens: it gets one now
    step = str(form.get("step") or ("change" if form.get("change") else "check"))
    if step == "change":
        focus = str(form.get("change") or "")
        return _form(request, ctx, principal, values, token=token, action=action,
                     focus=focus if focus in LABELS else None, correcting=correcting)
    errors = _validate(ctx, principal, values)
    if errors:
        return _form(request, ctx, principal, values, token=token, action=action, errors=errors,
                     correcting=correcting, status_code=422)
    if step != "submit":
        return _check_page(request, ctx, principal, values, token=token, action=action, correcting=correcting)
    data, _ = _answers(ctx, values)

    def work(s: Any) -> tuple[int, dict[str, Any] | None, int | None]:
        if correcting is None:
            made = hosting.submit(s, ctx, principal, data)
        else:
            made = hosting.correct(s, ctx, principal, correcting.id, data)
        return 303, {"id": made.id}, made.id

    try:
        done = hosting.run_once(ctx, principal, scope, token, hosting.fingerprint(data), work, same_body=False)
    except ValidationFailed as exc:
        return _form(request, ctx, principal, values, token=token, action=action,
                     errors=_field_errors(list(exc.errors)), correcting=correcting, status_code=422)
    except KoshError as exc:
        return _form(request, ctx, principal, values, token=token, action=action, errors={"body": exc.detail},
                     correcting=correcting, status_code=exc.status)
    target = done.notification_id or (done.response or {}).get("id")
    if target is None:  # the first submission's notification is gone (retention): the list says what is left
        return RedirectResponse("/host/guests", status_code=303)
    return RedirectResponse(f"/host/guests/{target}/confirmation", status_code=303)


def _values_of(note: hosting.HostNotificationView) -> dict[str, str]:
    values = {k: note.guest.get(k, "") for k in hosting.GUEST_FIELDS}
    values.update(settlement=note.kato, address=note.address, arrival_date=note.arrival_date.isoformat(),
                  expected_departure=note.expected_departure.isoformat() if note.expected_departure else "")
    return values


# -- pages ---------------------------------------------------------------------------------------

@router.get("/host")
def start(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    optional_principal(request)
    lang = request_lang(request)
    penalty = ctx.pack.penalty("host_notification")
    year = service.local_today(ctx).year
    unit_value = ctx.pack.mci_value(year)
    return render(request, "host_start.html", days=ctx.pack.notification_deadline_working_days, penalty=penalty,
                  law=in_locale(penalty.law, lang) if penalty else "", unit_value=unit_value, year=year,
                  unit=ctx.pack.fine_unit.code if ctx.pack.fine_unit else "", currency=ctx.pack.currency)


@router.get("/host/settlements")
def settlements(request: Request, settlement: str = "", q: str = "", ctx: Context = Depends(get_ctx)) -> Response:
    """The towns whose name starts with what is typed, as `<option>`s for the form's list (htmx)."""
    lang = request_lang(request)
    text = (q or settlement)[:100]
    found = ctx.pack.find_settlements(text, lang, limit=20)
    return render(request, "host_settlement_options.html",
                  options=[hosting.settlement_label(ctx.pack, s, lang) for s in found])


@router.get("/host/notify")
def notify_form(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _host(request)
    hosting.check_host(ctx, principal)
    values = {"sex": "M", "arrival_date": service.local_today(ctx).isoformat()}
    return _form(request, ctx, principal, values, token=secrets.token_urlsafe(24), action="/host/notify")


@router.post("/host/notify")
async def notify_steps(request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _host(request)
    hosting.check_host(ctx, principal)
    return await _steps(request, ctx, principal, "/host/notify", "form:new")


@router.get("/host/guests")
def guests(request: Request, page: int = 1, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _host(request, Permission.NOTIFICATION_READ)
    page = max(1, min(page, 100_000))
    with ctx.transaction() as s:
        found = hosting.list_guests(s, ctx, principal, page, PER_PAGE)
    return render(request, "host_guests.html", found=found, status_words=hosting.STATUS_WORDS,
                  first=(found.page - 1) * found.per_page + 1 if found.items else 0,
                  last=(found.page - 1) * found.per_page + len(found.items))


History = tuple[Principal, hosting.HostNotificationHistory]


def _history(request: Request, ctx: Context, notification_id: int,
             permission: Permission = Permission.NOTIFICATION_READ) -> History:
    principal = _host(request, permission)
    with ctx.transaction() as s:
        return principal, hosting.history(s, ctx, principal, notification_id)


def _place(ctx: Context, kato: str, lang: str) -> str:
    place = ctx.pack.settlement(kato)
    if place is not None:
        return hosting.settlement_label(ctx.pack, place, lang)
    region = ctx.pack.region_for_kato(kato) if len(kato) == 9 and kato.isdigit() else None
    return region.name(lang) if region else kato


def _detail_context(request: Request, ctx: Context, found: hosting.HostNotificationHistory) -> dict[str, Any]:
    lang = request_lang(request)
    return {"found": found, "note": found.current, "status_words": hosting.STATUS_WORDS, "sex_words": SEX_WORDS,
            "labels": LABELS, "places": {v.kato: _place(ctx, v.kato, lang) for v in found.versions},
            "countries": dict(service.calculator_countries(ctx, lang))}


@router.get("/host/guests/{notification_id}")
def guest(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    _, found = _history(request, ctx, notification_id)
    return render(request, "host_guest.html", done=request.query_params.get("done", "")[:20],
                  **_detail_context(request, ctx, found))


@router.get("/host/guests/{notification_id}/confirmation")
def confirmation(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    _, found = _history(request, ctx, notification_id)
    return render(request, "host_confirmation.html", late=_late(ctx, found.current.arrival_date)
                  if found.current.version == 1 else None, **_detail_context(request, ctx, found))


@router.get("/host/guests/{notification_id}/receipt")
def receipt(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    principal, found = _history(request, ctx, notification_id)
    return render(request, "host_receipt.html", identity=hosting.host_identity(principal),
                  **_detail_context(request, ctx, found))


@router.get("/host/guests/{notification_id}/correct")
def correct_form(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    principal, found = _history(request, ctx, notification_id, Permission.NOTIFICATION_WRITE)
    note = found.current
    if not note.in_force:
        return RedirectResponse(f"/host/guests/{note.id}", status_code=303)
    values = _values_of(note)
    place = ctx.pack.settlement(note.kato)
    values["settlement"] = hosting.settlement_label(ctx.pack, place, request_lang(request)) if place else ""
    return _form(request, ctx, principal, values, token=secrets.token_urlsafe(24),
                 action=f"/host/guests/{note.id}/correct", correcting=note)


@router.post("/host/guests/{notification_id}/correct")
async def correct_steps(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    principal, found = _history(request, ctx, notification_id, Permission.NOTIFICATION_WRITE)
    return await _steps(request, ctx, principal, f"/host/guests/{notification_id}/correct",
                        f"form:correct:{notification_id}", correcting=found.current)


@router.get("/host/guests/{notification_id}/cancel")
def cancel_form(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    _, found = _history(request, ctx, notification_id, Permission.NOTIFICATION_WRITE)
    return render(request, "host_cancel.html", errors={}, values={}, **_detail_context(request, ctx, found))


@router.post("/host/guests/{notification_id}/cancel")
async def cancel_submit(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    principal = _host(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    reason = str(form.get("reason") or "")
    try:
        with ctx.transaction() as s:
            hosting.cancel(s, ctx, principal, notification_id, reason)
    except ValidationFailed as exc:
        _, found = _history(request, ctx, notification_id)
        return render(request, "host_cancel.html", status_code=422, errors=_field_errors(list(exc.errors)),
                      values={"reason": reason[:500]}, **_detail_context(request, ctx, found))
    return RedirectResponse(f"/host/guests/{notification_id}?done=cancelled", status_code=303)


@router.get("/host/guests/{notification_id}/departure")
def departure_form(request: Request, notification_id: NotificationId, ctx: Context = Depends(get_ctx)) -> Response:
    _, found = _history(request, ctx, notification_id, Permission.NOTIFICATION_WRITE)
    return render(request, "host_departure.html", errors={},
                  values={"departed_on": service.local_today(ctx).isoformat()}, **_detail_context(request, ctx, found))


@router.post("/host/guests/{notification_id}/departure")
async def departure_submit(request: Request, notification_id: NotificationId,
                           ctx: Context = Depends(get_ctx)) -> Response:
    principal = _host(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    text = str(form.get("departed_on") or "").strip()
    try:
        day = _day(text)
        if day is None:
            raise ValidationFailed([FieldError("departed_on", Msg(N_("Enter a real date, for example %(example)s."),
                                                                  example="2026-03-15"))])
        with ctx.transaction() as s:
            hosting.report_departure(s, ctx, principal, notification_id, day)
    except ValidationFailed as exc:
        _, found = _history(request, ctx, notification_id)
        return render(request, "host_departure.html", status_code=422, errors=_field_errors(list(exc.errors)),
                      values={"departed_on": text[:20]}, **_detail_context(request, ctx, found))
    return RedirectResponse(f"/host/guests/{notification_id}?done=departed", status_code=303)

"""The person page: one person as the caller may see them, composed from three capabilities
(people: identity and documents; stay: the records and the assessment; identity: merges and their
undo). It lives in the web layer because no one capability may read the other two."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kosh.flows.selfservice import kzt, month_words
from kosh.identity import service as identity
from kosh.identity.api import MergeId
from kosh.people import service as people
from kosh.permits import service as permits
from kosh.permits.rules import STATE_WORDS
from kosh.permits.schemas import CHANNEL_WORDS
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import gettext_for, say
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.validation import query_day
from kosh.stay import service
from kosh.web.purpose import purpose_first

router = APIRouter(include_in_schema=False)


@router.get("/persons/{person_id}")
def person_page(person_id: str, request: Request, on: str | None = None, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    # Policy (kosh.platform.purpose): a person's record is opened only with a stated purpose.
    if principal.can(Permission.PERSON_READ) and (ask := purpose_first(request)) is not None:
        return ask
    return person_response(request, ctx, principal, person_id, query_day(on, "on"))


def person_response(request: Request, ctx: Context, principal: Principal, person_id: str, on: dt.date | None = None,
                    *, status_code: int = 200, undo_error: tuple[int, str] | None = None,
                    undo_reason: str = "") -> Response:
    """The person page; also shown again, with the message, when undoing one of its merges was refused."""
    with ctx.transaction() as s:
        st = service.person_stay(s, ctx, principal, person_id, on)
        shown = st.person.person.id  # a merged person's id leads to the person it went into
        merges = identity.merges_of(s, ctx, principal, shown, audited=False)
        partners = {m.merged_id if m.kept_id == shown else m.kept_id for m in merges}
        others = people.display_names(s, principal, sorted(people.visible_among(s, principal, sorted(partners))))
        # The person is in the caller's scope (person_stay checked it): their permits come with them.
        work = permits.permits_of_persons(s, ctx, [shown], service.local_today(ctx))
    timeline = sorted(
        [("entry" if e.direction == "entry" else "exit", e.occurred_on, e) for e in st.events]
        + [("notification", n.arrival_date, n) for n in st.notifications]
        + [("permit", p.valid_from, p) for p in st.permits], key=lambda t: (t[1], t[0]), reverse=True)
    undone = request.query_params.get("undone", "")
    return render(request, "person.html", status_code=status_code, st=st, view=st.person, a=st.assessment,
                  timeline=timeline, asked=person_id, merges=merges, others=others, work_permits=work,
                  channel_words=CHANNEL_WORDS, state_words=STATE_WORDS, basis_of=service.basis_of,
                  month_words=month_words, kzt=kzt,
                  undone=int(undone) if undone.isdigit() else None, undo_error=undo_error, undo_reason=undo_reason)



@router.post("/identity/merges/{merge_id}/undo")
def undo(merge_id: MergeId, request: Request, reason: str = Form(""), person: str = Form(""),
         csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    """Undo a merge from the person page; a refused undo shows that page again with the message."""
    principal = require_principal(request)
    principal.require(Permission.IDENTITY_MERGE)
    check_csrf(request, csrf_token)
    reason, person = reason.strip(), person.strip()[:36]
    try:
        with ctx.transaction() as s:
            record = identity.unmerge(s, ctx, principal, merge_id, reason)
    except (ValidationFailed, Conflict) as exc:
        if not person:
            raise
        lang = request_lang(request)
        _ = gettext_for(lang)
        if isinstance(exc, ValidationFailed):
            message = _("Give the reason for undoing this merge.") if not reason else "; ".join(
                say(e.message, lang) for e in exc.errors)
        else:
            message = _("This merge was undone already.") if isinstance(exc, identity.AlreadyUndone) \
                else say(exc.detail, lang)
        return person_response(request, ctx, principal, person, status_code=exc.status,
                               undo_error=(merge_id, message), undo_reason=reason)
    return RedirectResponse(f"/persons/{record.kept_id}?undone={record.id}", status_code=303)

"""Pages of identity decisions: the review queue of likely pairs, one pair side by side with its
evidence and the decision form, and undoing a merge from the person page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kosh.identity import (
    page_words,  # noqa: F401  (registers the identity filters of the templates)
    registry,
    service,
)
from kosh.identity.api import CandidateId
from kosh.identity.models import UNDECIDED, ReviewStatus
from kosh.people import service as people
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, ValidationFailed
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import gettext_for
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.words import N_

router = APIRouter(include_in_schema=False)
PAGE = 50


# Words for the codes the scorer and the queue store, shown in the interface language.
FIELDS = {"prior": N_("Before comparing: how rare it is that two records are one person"),
          "surname": N_("Surname"), "given_names": N_("Given names"), "patronymic": N_("Patronymic"),
          "birth_date": N_("Date of birth"), "document": N_("Travel document number"), "sex": N_("Sex"),
          "citizenship": N_("Citizenship")}
LEVELS = {  # identity.model level codes
    "exact": N_("identical"),
    "romanised": N_("the same in another script or romanisation"),
    "skeleton": N_("the same name, spelt differently"),
    "swapped": N_("surname and given name swapped"),
    "metaphone": N_("sounds the same"),
    "similar": N_("similar spelling"),
    "different": N_("different"),
    "day_month_swap": N_("day and month swapped"),
    "one_off": N_("one character differs"),
    "one_edit": N_("one character differs"),
    "same_year": N_("only the year is the same"),
    "missing": N_("not known for one of them"),
    "same": N_("the same"),
    "prior": N_("starting point"),
}
STATUSES: dict[str, str] = {ReviewStatus.OPEN: N_("Open"), ReviewStatus.DEFERRED: N_("Deferred"),
                            ReviewStatus.ACCEPTED: N_("Accepted (merged)"), ReviewStatus.REJECTED: N_("Rejected")}
SEXES = {"M": N_("male"), "F": N_("female"), "X": N_("unspecified")}
SOURCES = {"border": N_("border crossing"), "notification": N_("host notification"), "api": N_("entered by hand")}


def _words() -> dict:
    return {"FIELDS": FIELDS, "LEVELS": LEVELS, "STATUSES": STATUSES, "SEXES": SEXES, "SOURCES": SOURCES,
            "UNDECIDED": UNDECIDED, "ReviewStatus": ReviewStatus}


@router.get("/identity/review")
def review_queue(request: Request, status: str = ReviewStatus.OPEN, page: int = 1, queued: int | None = None,
                 ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IDENTITY_MERGE)
    page = max(1, min(page, 1000))
    with ctx.transaction() as s:
        rows = service.review_queue(s, ctx, principal, status, limit=PAGE, offset=(page - 1) * PAGE)
        # review_queue audits the listing
        persons = people.persons_in_scope(s, principal, {p for c in rows for p in (c.person_a, c.person_b)})
    return render(request, "review_queue.html", rows=rows, persons=persons, status=status, page=page,
                  page_size=PAGE, queued=queued, **_words())


@router.post("/identity/review/scan")
def scan(request: Request, csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IDENTITY_MERGE)
    check_csrf(request, csrf_token)
    with ctx.transaction() as s:
        queued = registry.scan(s, ctx, principal)
    return RedirectResponse(f"/identity/review?status={ReviewStatus.OPEN}&queued={queued}", status_code=303)


def _pair_page(request: Request, ctx: Context, principal: Principal, candidate_id: int, *, status_code: int = 200,
               errors: dict[str, str] | None = None, reason: str = "", conflict: str | None = None) -> Response:
    with ctx.transaction() as s:
        view = service.candidate(s, ctx, principal, candidate_id)
    found = view.candidate
    if conflict is not None:
        _ = gettext_for(request_lang(request))
        decided = found.status not in UNDECIDED
        errors = {"body": _("This pair was decided already: %(status)s.") % {"status": _(STATUSES[found.status])}
                  if decided else conflict}
    kept = service.kept_of(view.a.person, view.b.person)
    total = sum(e["weight"] for e in view.evidence)
    return render(request, "review_pair.html", status_code=status_code, c=found, view=view, kept=kept, total=total,
                  errors=errors or {}, reason=reason, decided=request.query_params.get("decided") == "1", **_words())


@router.get("/identity/review/{candidate_id}")
def pair(candidate_id: CandidateId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IDENTITY_MERGE)
    return _pair_page(request, ctx, principal, candidate_id)


@router.post("/identity/review/{candidate_id}/decision")
def decide(candidate_id: CandidateId, request: Request, decision: str = Form(""), reason: str = Form(""),
           csrf_token: str = Form(""), ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IDENTITY_MERGE)
    check_csrf(request, csrf_token)
    decision, reason = decision.strip(), reason.strip()
    try:
        with ctx.transaction() as s:
            service.decide(s, ctx, principal, candidate_id, decision, reason)
    except ValidationFailed as exc:
        _ = gettext_for(request_lang(request))
        errors = {e.field: e.message for e in exc.errors}
        if "decision" in errors:
            errors["decision"] = _("Choose accept, reject or defer.")
        if "reason" in errors and not reason:
            errors["reason"] = _("Give the reason for this decision.")
        return _pair_page(request, ctx, principal, candidate_id, status_code=exc.status, errors=errors, reason=reason)
    except Conflict as exc:
        return _pair_page(request, ctx, principal, candidate_id, status_code=exc.status, reason=reason,
                          conflict=exc.detail)
    return RedirectResponse(f"/identity/review/{candidate_id}?decided=1", status_code=303)

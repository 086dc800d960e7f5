"""The purpose of access a user states for a web session: a case or order number and why.

An officer, auditor or analyst states it once for the session and changes it whenever their work
moves to another case; it is kept with the session (`web_sessions.purpose`) and written to every
audit record the session makes, as the API's `X-Purpose` header is for a request
(`kosh.platform.http`). Stating or changing it is itself audited.

Policy: a person's record (the person page) is opened only once a purpose is stated — the page
asks for one first and then goes on to the person; lists and searches may be browsed without one
(their audit records name the request instead). API clients send `X-Purpose` with each request.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kosh.platform import audit, auth
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, NotFound, ValidationFailed
from kosh.platform.models import WebSession
from kosh.platform.security import Permission, Principal, token_digest
from kosh.platform.words import N_, Msg, field_labels

MIN_LENGTH = 3
MAX_LENGTH = 200  # the audit record's purpose column

TOO_SHORT = N_("State the purpose in at least %(min)s characters: the case or order number, and why.")
TOO_LONG = N_("Keep the purpose to at most %(max)s characters (this one has %(length)s).")
BAD_CHARACTERS = N_("The purpose may hold only letters, digits, spaces and punctuation.")
NO_SESSION = N_("This sign-in has ended; sign in again to state a purpose.")

field_labels({"purpose": N_("Purpose")})


def asks_purpose(principal: Principal | None) -> bool:
    """Whether this user states a purpose: everyone who reads personal data, figures or the trail."""
    return principal is not None and any(principal.can(p) for p in (
        Permission.PERSON_READ, Permission.AUDIT_READ, Permission.AGGREGATES_READ))


def clean(purpose: str) -> str:
    """The purpose as it is stored: blanks collapsed; refused when empty-ish, too long or holding
    control characters."""
    text = " ".join(purpose.split())
    if any(not c.isprintable() for c in text):
        raise ValidationFailed([FieldError("purpose", Msg(BAD_CHARACTERS))])
    if len(text) < MIN_LENGTH:
        raise ValidationFailed([FieldError("purpose", Msg(TOO_SHORT, min=MIN_LENGTH))])
    if len(text) > MAX_LENGTH:
        raise ValidationFailed([FieldError("purpose", Msg(TOO_LONG, max=MAX_LENGTH, length=len(text)))])
    return text


def state(session: Session, ctx: Context, principal: Principal, session_token: str, purpose: str) -> str:
    """Keep `purpose` with the caller's web session (audited); every process sees it at once."""
    text = clean(purpose)
    ws = session.execute(select(WebSession).where(WebSession.token_hash == token_digest(session_token))
                         .with_for_update()).scalar_one_or_none()
    if ws is None or ws.user_id != principal.user_id:
        raise NotFound(Msg(NO_SESSION))
    before, ws.purpose = ws.purpose or "", text
    audit.append(session, ctx.keyring, principal.with_purpose(text),
                 [audit.Access("purpose", "web_session", str(principal.user_id), {"before": before, "purpose": text})])
    # Cached credentials carry the purpose: moving the epoch drops them in every process.
    auth._revoke_after_commit(session, ctx)
    return text

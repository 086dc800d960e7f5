"""Purges of the platform's own short-lived rows (kosh retention run): expired sessions, old
sign-in attempts, expired or revoked API tokens. Each removes at most `limit` rows, so the
caller commits in short transactions while the server runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from kosh.platform.models import ApiToken, LoginAttempt, WebSession
from kosh.platform.orm import Base
from kosh.platform.sql import rowcount


def _delete_some(session: Session, model: type[Base], key: str, where: ColumnElement[bool], limit: int) -> int:
    column = getattr(model, key)
    ids = list(session.execute(select(column).where(where).order_by(column).limit(limit)).scalars())
    if not ids:
        return 0
    return rowcount(session.execute(delete(model).where(column.in_(ids)))) or 0


def purge_sessions(session: Session, expired_before: dt.datetime, limit: int = 5000) -> int:
    """Sessions that expired before `expired_before`."""
    return _delete_some(session, WebSession, "token_hash", WebSession.expires_at < expired_before, limit)


def purge_login_attempts(session: Session, before: dt.datetime, limit: int = 5000) -> int:
    """Sign-in attempts made before `before`."""
    return _delete_some(session, LoginAttempt, "id", LoginAttempt.at < before, limit)


def purge_api_tokens(session: Session, expired_before: dt.datetime, limit: int = 5000) -> int:
    """Revoked tokens, and tokens that expired before `expired_before`."""
    return _delete_some(session, ApiToken, "id",
                        or_(ApiToken.revoked.is_(True), ApiToken.expires_at < expired_before), limit)

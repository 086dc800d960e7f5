"""Users, password login with rate limiting, browser sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kosh.core import audit
from kosh.core.context import Context
from kosh.core.errors import Conflict, FieldError, TooManyRequests, ValidationFailed
from kosh.core.models import ApiToken, LoginAttempt, User, WebSession
from kosh.core.security import (Principal, Role, hash_password, new_token, system_principal, token_digest, utcnow,
                                verify_password)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10


def principal_for(user: User, purpose: str = "") -> Principal:
    return Principal(username=user.username, role=Role(user.role), user_id=user.id, regions=tuple(user.regions or ()),
                     host_party=user.host_party, purpose=purpose, display_name=user.display_name or user.username)


def create_user(session: Session, ctx: Context, *, username: str, password: str, role: str,
                regions: list[str] | None = None, host_party: str | None = None, display_name: str = "",
                locale: str = "en", actor: Principal | None = None) -> User:
    errors = []
    if not USERNAME.match(username):
        errors.append(FieldError("username", "use 2–80 lower-case letters, digits, '.', '_' or '-'"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", f"must have at least {MIN_PASSWORD} characters"))
    if role not in {r.value for r in Role}:
        errors.append(FieldError("role", f"unknown role '{role}': use {', '.join(r.value for r in Role)}"))
    regions = [r.strip() for r in (regions or []) if r.strip()]
    if role == Role.OFFICER and not regions:
        errors.append(FieldError("regions", "an officer needs at least one region (KATO prefix)"))
    for r in regions:
        if not r.isdigit() or ctx.pack.region_for_kato(r.ljust(9, "0")) is None:
            errors.append(FieldError("regions", f"'{r}' is not a KATO prefix of a known region"))
    if role == Role.HOST:
        from kosh.people import bin as bin_rules, iin
        if not host_party or not (iin.is_valid(host_party) or bin_rules.is_valid(host_party)):
            errors.append(FieldError("host_party", "a host needs a valid IIN or BIN to submit as"))
    if errors:
        raise ValidationFailed(errors, "The user cannot be created")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"user '{username}' exists")
    user = User(username=username, password_hash=hash_password(password), role=role, regions=regions,
                host_party=host_party if role == Role.HOST else None, display_name=display_name, locale=locale)
    session.add(user)
    session.flush()
    audit.append(session, ctx.keyring, actor or system_principal("user administration"),
                 [audit.Access("create", "user", str(user.id), {"username": username, "role": role})])
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_token: str
    csrf_token: str


def _recent_failures(session: Session, ctx: Context, username: str, client: str) -> int:
    since = utcnow() - dt.timedelta(minutes=ctx.settings.login_window_minutes)
    by_user = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).scalar_one()
    by_client = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.client == client, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).scalar_one()
    # Per account against guessing one password; per client (looser) against spraying many accounts.
    return max(by_user, by_client // 4)


def login(session: Session, ctx: Context, username: str, password: str, client: str = "") -> LoginResult | None:
    """None on wrong credentials; the caller commits so that the failed attempt counts."""
    username = username.strip().lower()
    if _recent_failures(session, ctx, username, client) >= ctx.settings.login_max_failures:
        raise TooManyRequests(f"too many failed sign-ins; try again in {ctx.settings.login_window_minutes} minutes",
                              retry_after=ctx.settings.login_window_minutes * 60)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    session.add(LoginAttempt(username=username, client=client, success=ok))
    if not ok:
        return None
    token, csrf = new_token(), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_digest(token), user_id=user.id, csrf_token=csrf,
                           expires_at=utcnow() + dt.timedelta(hours=ctx.settings.session_hours)))
    audit.append(session, ctx.keyring, principal_for(user, "sign-in"), [audit.Access("login", "user", str(user.id))])
    return LoginResult(user, token, csrf)


def logout(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def session_user(session: Session, token: str) -> tuple[User, str] | None:
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == token_digest(token))).first()
    if row is None:
        return None
    ws, user = row
    if _aware(ws.expires_at) < utcnow() or not user.active:
        return None
    return user, ws.csrf_token


def token_user(session: Session, token: str) -> User | None:
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == token_digest(token))).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked or not user.active or (tok.expires_at and _aware(tok.expires_at) < utcnow()):
        return None
    return user


def issue_token(session: Session, ctx: Context, user: User, name: str, days: int | None = 90) -> str:
    token = new_token("kosh_")
    session.add(ApiToken(user_id=user.id, name=name, token_hash=token_digest(token),
                         expires_at=utcnow() + dt.timedelta(days=days) if days else None))
    audit.append(session, ctx.keyring, system_principal("token administration"),
                 [audit.Access("create", "api_token", str(user.id), {"name": name})])
    return token


def user_by_name(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()

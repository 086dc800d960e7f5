"""Users, password login with throttling, browser sessions and API tokens, and their revocation."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import weakref
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from kosh.platform import audit
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring
from kosh.platform.errors import Conflict, FieldError, KoshError, NotFound, TooManyRequests, ValidationFailed
from kosh.platform.models import ApiToken, LoginAttempt, User, WebSession
from kosh.platform.security import (
    Permission,
    Principal,
    Role,
    hash_password,
    new_token,
    system_principal,
    token_digest,
    verify_password,
)
from kosh.platform.sql import rowcount
from kosh.platform.words import N_, Msg

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10
# Equal to the stay registry's HOST_ID_CONTEXT, so a host user's keyed hash equals their
# notifications' host_id_index.
HOST_PARTY_CONTEXT = "host_id"

# The plain IIN/BIN of users loaded or created in this process: memory only, never stored.
_plain_host_party: weakref.WeakKeyDictionary[User, str] = weakref.WeakKeyDictionary()


def host_party_of(user: User, keyring: Keyring | None) -> str | None:
    """The IIN/BIN a host user submits as, decrypted."""
    if user.host_party_encrypted is None:
        return None
    plain = _plain_host_party.get(user)
    if plain is None:
        if keyring is None:
            raise KoshError("the host's IIN/BIN cannot be read without the keys", status=500)
        plain = keyring.decrypt(user.host_party_encrypted, HOST_PARTY_CONTEXT)
        _plain_host_party[user] = plain
    return plain


def principal_for(user: User, purpose: str = "", keyring: Keyring | None = None) -> Principal:
    return Principal(username=user.username, role=Role(user.role), user_id=user.id, regions=tuple(user.regions or ()),
                     host_party=host_party_of(user, keyring), purpose=purpose,
                     display_name=user.display_name or user.username)


def create_user(session: Session, ctx: Context, *, username: str, password: str, role: str,
                regions: list[str] | None = None, host_party: str | None = None, display_name: str = "",
                locale: str = "en", actor: Principal | None = None) -> User:
    errors = []
    if not USERNAME.match(username):
        errors.append(FieldError("username", Msg(N_("use 2–80 lower-case letters, digits, '.', '_' or '-'"))))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", Msg(N_("must be at least %(min_length)s character(s) long"),
                                                min_length=MIN_PASSWORD)))
    if role not in {r.value for r in Role}:
        errors.append(FieldError("role", Msg(N_("must be one of: %(expected)s"), expected=[r.value for r in Role])))
    regions = [r.strip() for r in (regions or []) if r.strip()]
    if role in (Role.OFFICER, Role.AKIMAT) and not regions:
        errors.append(FieldError("regions", Msg(N_("an officer needs at least one region"))))
    for r in regions:
        if not r.isdigit() or ctx.pack.region_for_kato(r.ljust(9, "0")) is None:
            errors.append(FieldError("regions", Msg(N_("%(code)s is not the code of a known region"), code=r)))
    if role in (Role.HOST, Role.EMPLOYER):
        from kosh.platform.identifiers import bin as bin_rules
        from kosh.platform.identifiers import iin

        if not host_party or not (iin.is_valid(host_party) or bin_rules.is_valid(host_party)):
            errors.append(FieldError("host_party", Msg(N_("a host needs a valid IIN or BIN to submit as"))))
    if errors:
        raise ValidationFailed(errors, Msg(N_("The user cannot be created.")))
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(Msg(N_("A user named %(username)s exists already."), username=username))
    user = User(username=username, password_hash=hash_password(password), role=role, regions=regions,
                display_name=display_name, locale=locale)
    if role in (Role.HOST, Role.EMPLOYER) and host_party:
        user.host_party_encrypted = ctx.keyring.encrypt(host_party, HOST_PARTY_CONTEXT)
        user.host_party_index = ctx.keyring.blind_index(host_party, HOST_PARTY_CONTEXT)
        _plain_host_party[user] = host_party
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


# -- throttling ---------------------------------------------------------------------------
def throttle_delay(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after the latest failure: none for the first `free` failures, then
    2, 4, 8 … seconds, at most `cap`."""
    if failures < free:
        return 0
    return min(cap, 2 ** min(failures - free + 1, 40))


def _remaining(last: dt.datetime, delay: int, now: dt.datetime) -> int:
    left = (aware(last) + dt.timedelta(seconds=delay) - now).total_seconds()
    return max(0, -int(-left // 1))  # whole seconds, rounded up


def login_wait(session: Session, ctx: Context, username: str, client: str, now: dt.datetime | None = None) -> int:
    """Seconds `client` must wait before it may try `username` again; 0 when it may try now.

    Counted per (account, client) pair against guessing one password, and per client (looser)
    against spraying many accounts; another client's failures never delay this one, so nobody
    elsewhere can lock the real user out."""
    settings = ctx.settings
    now = now or utcnow()
    since = now - dt.timedelta(minutes=settings.login_window_minutes)
    # The pair's failures since its last success (a success from another client does not count).
    recent = session.execute(
        select(LoginAttempt.at, LoginAttempt.success)
        .where(LoginAttempt.username == username, LoginAttempt.client == client, LoginAttempt.at >= since)
        .order_by(LoginAttempt.at.desc()).limit(settings.login_max_failures + 40)).all()
    pair_failures, pair_last = 0, None
    for at, success in recent:
        if success:
            break
        pair_failures += 1
        pair_last = pair_last or at
    client_failures, client_last = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(LoginAttempt.client == client, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).one()
    cap = settings.login_max_delay_seconds
    waits = [0]
    if pair_last is not None:
        waits.append(_remaining(pair_last, throttle_delay(pair_failures, settings.login_max_failures, cap), now))
    if client_last is not None:
        waits.append(_remaining(client_last, throttle_delay(client_failures, settings.login_client_max_failures, cap),
                                now))
    return max(waits)


@cache
def _dummy_hash() -> str:
    # Made by the same hasher (same cost) as real hashes, so verifying against it takes as long.
    return hash_password(secrets.token_urlsafe(16))


def login(session: Session, ctx: Context, username: str, password: str, client: str = "", *,
          web_session: bool = True) -> LoginResult | None:
    """None on wrong credentials; the caller commits so that the failed attempt counts."""
    # NUL cannot be stored in PostgreSQL text and is in no username.
    username, client = username.replace("\x00", "").strip().lower()[:80], client[:64]
    now = utcnow()
    wait = login_wait(session, ctx, username, client, now)
    if wait:
        raise TooManyRequests(Msg(N_("Too many failed sign-ins from this device. Try again in %(seconds)s seconds."),
                                  seconds=wait),
                              retry_after=wait)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    # An unknown or inactive account is verified against a dummy hash: it fails in the same time
    # as a wrong password, so timing does not tell which usernames exist.
    usable = user if user is not None and user.active else None
    ok = verify_password(usable.password_hash if usable is not None else _dummy_hash(), password)
    session.add(LoginAttempt(username=username, client=client, at=now, success=ok and usable is not None))
    if not ok or usable is None:
        return None
    token, csrf = (new_token(), secrets.token_urlsafe(32)) if web_session else ("", "")
    if web_session:
        session.add(WebSession(token_hash=token_digest(token), user_id=usable.id, csrf_token=csrf,
                               expires_at=now + dt.timedelta(hours=ctx.settings.session_hours)))
    audit.append(session, ctx.keyring, principal_for(usable, "sign-in", ctx.keyring),
                 [audit.Access("login", "user", str(usable.id))])
    return LoginResult(usable, token, csrf)


# -- revocation reaching every process ----------------------------------------------------
# A file under KOSH_HOME grows by one byte at each revocation; every request stats it (about a
# microsecond) and a process drops its cached credentials when its size or inode changed. A
# counter row in the database would cost a round trip per request, the very thing the cache
# saves. Limit: only processes sharing KOSH_HOME's file system see it at once; on other hosts a
# cached credential lasts up to KOSH_AUTH_CACHE_SECONDS (set it to 0 for several hosts).
EPOCH_FILE = "revocations"


def revocation_epoch(home: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(home / EPOCH_FILE)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size


def bump_revocation_epoch(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    # O_APPEND: writers in several processes never lose a byte, so the size only grows.
    fd = os.open(home / EPOCH_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)


def _revoke_after_commit(session: Session, ctx: Context) -> None:
    """Tell every process once the transaction has committed (before, a process could re-read
    the old state and cache it under the new epoch)."""
    if session.info.get("kosh_revocation"):
        return
    session.info["kosh_revocation"] = True
    home = ctx.settings.home

    def bump(s: Session) -> None:
        s.info.pop("kosh_revocation", None)
        bump_revocation_epoch(home)

    event.listen(session, "after_commit", bump, once=True)


def logout(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def sign_out(session: Session, ctx: Context, token: str) -> None:
    """End a browser session at once, in every process."""
    logout(session, token)
    _revoke_after_commit(session, ctx)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def session_user(session: Session, token: str) -> tuple[User, str, str] | None:
    """The user of a live browser session, its CSRF token and the purpose of access stated for it."""
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == token_digest(token))).first()
    if row is None:
        return None
    ws, user = row
    if aware(ws.expires_at) < utcnow() or not user.active:
        return None
    return user, ws.csrf_token, ws.purpose or ""


def token_user(session: Session, token: str) -> User | None:
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == token_digest(token))).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked or not user.active or (tok.expires_at and aware(tok.expires_at) < utcnow()):
        return None
    return user


def issue_token(session: Session, ctx: Context, user: User, name: str, days: int | None = None) -> str:
    """A bearer token for `user`, valid `days` (default: the token_days setting; 0 = no expiry)."""
    days = ctx.settings.token_days if days is None else days
    token = new_token("kosh_")
    row = ApiToken(user_id=user.id, name=name, token_hash=token_digest(token),
                   expires_at=utcnow() + dt.timedelta(days=days) if days else None)
    session.add(row)
    session.flush()
    audit.append(session, ctx.keyring, principal_for(user, "token issue", ctx.keyring),
                 [audit.Access("create", "api_token", str(row.id), {"user_id": user.id, "name": name})])
    return token


def user_by_name(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


# -- account administration ---------------------------------------------------------------
@dataclass(frozen=True)
class UserSummary:
    user: User
    active_tokens: int


def _user_or_404(session: Session, username: str) -> User:
    name = username.strip().lower()
    user = user_by_name(session, name) if USERNAME.match(name) else None
    if user is None:
        raise NotFound(Msg(N_("There is no user named %(username)s."), username=username))
    return user


def list_users(session: Session, ctx: Context, actor: Principal) -> list[UserSummary]:
    actor.require(Permission.USERS_MANAGE)
    live = (select(ApiToken.user_id, func.count().label("n")).where(ApiToken.revoked.is_(False))
            .where((ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > utcnow()))
            .group_by(ApiToken.user_id).subquery())
    rows = session.execute(select(User, func.coalesce(live.c.n, 0)).outerjoin(live, live.c.user_id == User.id)
                           .order_by(User.username)).all()
    return [UserSummary(user, n) for user, n in rows]


def get_user(session: Session, ctx: Context, actor: Principal, username: str) -> User:
    actor.require(Permission.USERS_MANAGE)
    return _user_or_404(session, username)


def tokens_of(session: Session, ctx: Context, actor: Principal, username: str | None = None) -> list[ApiToken]:
    """A user's tokens, newest first: an admin's view of anyone, or (no username) the caller's own."""
    if username is None:
        if actor.user_id is None:
            return []
        user_id = actor.user_id
    else:
        user_id = get_user(session, ctx, actor, username).id
    return list(session.execute(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).scalars())


def _end_access(session: Session, user_id: int) -> tuple[int, int]:
    """End every session and revoke every token of a user: (sessions ended, tokens revoked)."""
    sessions = rowcount(session.execute(delete(WebSession).where(WebSession.user_id == user_id)))
    tokens = rowcount(session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
                                      .values(revoked=True, revoked_at=utcnow())))
    return sessions or 0, tokens or 0


def set_active(session: Session, ctx: Context, actor: Principal, username: str, active: bool) -> User:
    """Deactivate (ending every session and token at once) or reactivate an account. A
    reactivated user signs in again; their old tokens stay revoked."""
    user = get_user(session, ctx, actor, username)
    if not active and actor.user_id == user.id:
        raise Conflict(Msg(N_("You cannot deactivate your own account.")))
    detail: dict[str, object] = {"username": user.username}
    if not active:
        ended, revoked = _end_access(session, user.id)
        detail |= {"sessions_ended": ended, "tokens_revoked": revoked}
    user.active = active
    audit.append(session, ctx.keyring, actor,
                 [audit.Access("activate" if active else "deactivate", "user", str(user.id), detail)])
    _revoke_after_commit(session, ctx)
    return user


def revoke_token(session: Session, ctx: Context, actor: Principal, token_id: int) -> ApiToken:
    """Revoke one token: the caller's own, or anyone's for an admin. Revoking twice is harmless."""
    tok = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    # Someone else's token is "not found" rather than forbidden: ids of others' tokens stay unknown.
    if tok is None or (tok.user_id != actor.user_id and not actor.can(Permission.USERS_MANAGE)):
        raise NotFound(Msg(N_("There is no API token %(id)s."), id=token_id))
    if not tok.revoked:
        tok.revoked, tok.revoked_at = True, utcnow()
        audit.append(session, ctx.keyring, actor,
                     [audit.Access("revoke", "api_token", str(tok.id), {"user_id": tok.user_id, "name": tok.name})])
        _revoke_after_commit(session, ctx)
    return tok


def revoke_user_tokens(session: Session, ctx: Context, actor: Principal, username: str) -> int:
    """Revoke every token of a user; returns how many were still valid."""
    user = get_user(session, ctx, actor, username)
    n = rowcount(session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                                 .values(revoked=True, revoked_at=utcnow()))) or 0
    audit.append(session, ctx.keyring, actor,
                 [audit.Access("revoke", "api_token", f"user:{user.id}", {"username": user.username, "revoked": n})])
    _revoke_after_commit(session, ctx)
    return n

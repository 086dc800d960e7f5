"""Accounts on both databases: sign-in throttling that cannot lock out the real user, equal work
for unknown and known usernames, revocation and deactivation, host IINs encrypted at rest."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.platform import auth, db
from kosh.platform.errors import Conflict, Forbidden, NotFound, TooManyRequests
from kosh.platform.models import ApiToken, AuditRecord, User, WebSession
from kosh.platform.security import Principal, Role, system_principal

PASSWORD = "correct-horse-battery"
T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(auth, "utcnow", c)
    return c


def _user(ctx, name="alice", role="officer", **kw):
    with ctx.transaction() as s:
        kw.setdefault("regions", ["75"] if role == "officer" else [])
        return auth.create_user(s, ctx, username=name, password=PASSWORD, role=role, **kw).id


def _try(ctx, username, password, client):
    """One sign-in: the LoginResult, None for wrong credentials, or the seconds to wait (429)."""
    try:
        with ctx.transaction() as s:
            return auth.login(s, ctx, username, password, client)
    except TooManyRequests as exc:
        return exc.extra["retry_after"]


def test_an_attackers_failures_never_stop_the_user_signing_in_elsewhere(ctx, clock):
    _user(ctx)
    for _ in range(40):  # far past any limit, from one client
        _try(ctx, "alice", "wrong-password", "203.0.113.9")
        clock.advance(1)
    assert isinstance(_try(ctx, "alice", "wrong-password", "203.0.113.9"), int)  # the attacker waits
    assert isinstance(_try(ctx, "alice", PASSWORD, "198.51.100.7"), auth.LoginResult)  # the user does not
    # and the user's success does not lift the attacker's delay
    assert isinstance(_try(ctx, "alice", PASSWORD, "203.0.113.9"), int)


def test_delays_grow_for_one_client_and_one_account(ctx, clock):
    _user(ctx)
    free = ctx.settings.login_max_failures
    for _ in range(free):
        assert _try(ctx, "alice", "wrong-password", "203.0.113.9") is None
    waits = []
    for _ in range(5):
        wait = _try(ctx, "alice", "wrong-password", "203.0.113.9")
        assert isinstance(wait, int)
        waits.append(wait)
        clock.advance(wait - 1)
        assert _try(ctx, "alice", "wrong-password", "203.0.113.9") == 1  # not a second early
        clock.advance(1)
        assert _try(ctx, "alice", "wrong-password", "203.0.113.9") is None  # then one more try
    assert waits == [2, 4, 8, 16, 32]


def test_delay_is_capped_and_failures_are_forgotten_after_the_window(ctx, clock):
    ctx.settings.login_max_delay_seconds = 10
    _user(ctx)
    failures = 0
    while failures < 9:
        wait = _try(ctx, "alice", "wrong-password", "203.0.113.9")
        if wait is None:
            failures += 1
        else:
            assert wait <= 10
            clock.advance(wait)
    assert _try(ctx, "alice", "wrong-password", "203.0.113.9") == 10
    clock.advance(ctx.settings.login_window_minutes * 60 + 1)
    assert isinstance(_try(ctx, "alice", PASSWORD, "203.0.113.9"), auth.LoginResult)


def test_a_success_from_the_same_client_starts_afresh(ctx, clock):
    _user(ctx)
    for _ in range(ctx.settings.login_max_failures):
        _try(ctx, "alice", "typo-typo-typo", "198.51.100.7")
    clock.advance(2)
    assert isinstance(_try(ctx, "alice", PASSWORD, "198.51.100.7"), auth.LoginResult)
    assert _try(ctx, "alice", "typo-typo-typo", "198.51.100.7") is None  # no delay left over


def test_spraying_many_accounts_from_one_client_is_slowed_but_not_other_clients(ctx, clock):
    _user(ctx)
    for i in range(ctx.settings.login_client_max_failures):
        assert _try(ctx, f"guess{i}", "password123", "203.0.113.9") is None
    assert _try(ctx, "someone-new", "password123", "203.0.113.9") == 2
    assert isinstance(_try(ctx, "alice", PASSWORD, "198.51.100.7"), auth.LoginResult)


@pytest.fixture
def verify_calls(monkeypatch):
    calls: list[str] = []
    real = auth.verify_password

    def counting(stored_hash: str, password: str) -> bool:
        calls.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


def test_unknown_inactive_and_known_usernames_all_verify_one_argon2_hash(ctx, verify_calls):
    _user(ctx)
    _user(ctx, "bob")
    with ctx.transaction() as s:
        s.execute(sa.update(User).where(User.username == "bob").values(active=False))
        alice_hash = auth.user_by_name(s, "alice").password_hash
    for name in ("nobody-here", "bob", "alice"):
        assert _try(ctx, name, "wrong-password", f"client-{name}") is None
    assert len(verify_calls) == 3
    assert verify_calls[2] == alice_hash
    assert verify_calls[0] == verify_calls[1] != alice_hash and verify_calls[0].startswith("$argon2")
    # the inactive user's right password still fails, after the same work
    assert _try(ctx, "bob", PASSWORD, "client-x") is None and len(verify_calls) == 4


def _issue(ctx, name):
    with ctx.transaction() as s:
        return auth.issue_token(s, ctx, auth.user_by_name(s, name), "script")


def _principal(ctx, name):
    with ctx.transaction() as s:
        return auth.principal_for(auth.user_by_name(s, name), keyring=ctx.keyring)


def test_tokens_last_the_configured_days(ctx):
    _user(ctx)
    _issue(ctx, "alice")
    with ctx.transaction() as s:
        tok = s.execute(sa.select(ApiToken)).scalar_one()
        lifetime = auth.aware(tok.expires_at) - auth.aware(tok.created_at)
    assert dt.timedelta(days=29, hours=23) < lifetime <= dt.timedelta(days=30)


def test_deactivation_ends_sessions_and_tokens_and_is_audited(ctx):
    _user(ctx)
    token = _issue(ctx, "alice")
    with ctx.transaction() as s:
        cookie = auth.login(s, ctx, "alice", PASSWORD, "c").session_token
    with ctx.transaction() as s:
        auth.set_active(s, ctx, system_principal("test"), "alice", False)
    with ctx.transaction() as s:
        assert auth.token_user(s, token) is None and auth.session_user(s, cookie) is None
        assert s.execute(sa.select(sa.func.count()).select_from(WebSession)).scalar_one() == 0
        assert s.execute(sa.select(ApiToken.revoked)).scalars().all() == [True]
        actions = s.execute(sa.select(AuditRecord.action).order_by(AuditRecord.seq)).scalars().all()
        assert actions[-1] == "deactivate"
    assert _try(ctx, "alice", PASSWORD, "c") is None
    with ctx.transaction() as s:
        auth.set_active(s, ctx, system_principal("test"), "alice", True)
    assert isinstance(_try(ctx, "alice", PASSWORD, "c"), auth.LoginResult)
    with ctx.transaction() as s:
        assert auth.token_user(s, token) is None  # reactivation does not bring old tokens back


def test_only_admins_manage_accounts_and_nobody_deactivates_themselves(ctx):
    _user(ctx)
    _user(ctx, "root", "admin")
    alice, root = _principal(ctx, "alice"), _principal(ctx, "root")
    with ctx.transaction() as s, pytest.raises(Forbidden, match="manage users"):
        auth.set_active(s, ctx, alice, "root", False)
    with ctx.transaction() as s, pytest.raises(Forbidden):
        auth.list_users(s, ctx, alice)
    with ctx.transaction() as s, pytest.raises(Conflict, match="your own account"):
        auth.set_active(s, ctx, root, "root", False)
    with ctx.transaction() as s, pytest.raises(NotFound, match="^There is no user named ghost\\.$"):
        auth.set_active(s, ctx, root, "ghost", False)
    with ctx.transaction() as s:
        assert [u.active for u in s.execute(sa.select(User).order_by(User.id)).scalars()] == [True, True]


def test_a_user_revokes_their_own_token_but_not_anothers(ctx):
    _user(ctx)
    _user(ctx, "bob")
    _issue(ctx, "alice")
    bob_token = _issue(ctx, "bob")
    alice, bob = _principal(ctx, "alice"), _principal(ctx, "bob")
    with ctx.transaction() as s:
        bob_id = auth.tokens_of(s, ctx, bob)[0].id
        assert [t.id for t in auth.tokens_of(s, ctx, alice)] != [bob_id]
    with ctx.transaction() as s, pytest.raises(NotFound):
        auth.revoke_token(s, ctx, alice, bob_id)
    with ctx.transaction() as s:
        assert auth.token_user(s, bob_token) is not None
        auth.revoke_token(s, ctx, bob, bob_id)
    with ctx.transaction() as s:
        assert auth.token_user(s, bob_token) is None
        assert s.execute(sa.select(AuditRecord.action).order_by(AuditRecord.seq.desc())).scalars().first() == "revoke"


def test_revoke_every_token_of_a_user(ctx):
    _user(ctx)
    tokens = [_issue(ctx, "alice") for _ in range(3)]
    with ctx.transaction() as s:
        assert auth.revoke_user_tokens(s, ctx, system_principal("test"), "alice") == 3
    with ctx.transaction() as s:
        assert all(auth.token_user(s, t) is None for t in tokens)
        assert auth.revoke_user_tokens(s, ctx, system_principal("test"), "alice") == 0


def test_a_revocation_changes_the_epoch_only_once_committed(ctx):
    _user(ctx)
    _issue(ctx, "alice")
    before = auth.revocation_epoch(ctx.settings.home)
    with pytest.raises(RuntimeError):
        with ctx.transaction() as s:
            auth.revoke_user_tokens(s, ctx, system_principal("test"), "alice")
            raise RuntimeError("rolled back")
    assert auth.revocation_epoch(ctx.settings.home) == before
    with ctx.transaction() as s:
        auth.revoke_user_tokens(s, ctx, system_principal("test"), "alice")
    assert auth.revocation_epoch(ctx.settings.home) != before


def test_host_iin_is_stored_encrypted_and_read_back_at_runtime(ctx):
    from kosh.stay.service import HOST_ID_CONTEXT

    _user(ctx, "host", "host", host_party=f.HOST_IIN)
    with ctx.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM users WHERE username = 'host'")).mappings().one()
    assert "host_party" not in row
    assert not any(f.HOST_IIN in (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for v in row.values())
    assert row["host_party_index"] == ctx.keyring.blind_index(f.HOST_IIN, HOST_ID_CONTEXT)
    with ctx.transaction() as s:  # a fresh session: decrypted from the row, not remembered
        assert auth.principal_for(auth.user_by_name(s, "host"), keyring=ctx.keyring).host_party == f.HOST_IIN
    assert _principal(ctx, "host").host_party == f.HOST_IIN


def test_the_migration_encrypts_existing_host_iins_and_keeps_sessions_and_tokens(ctx):
    from alembic import command

    cfg = db.alembic_config(ctx.engine)
    cfg.attributes["keyring"] = ctx.keyring
    command.downgrade(cfg, "0006")
    with ctx.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, username, display_name, password_hash, role, regions, host_party, locale, active,"
            " created_at) VALUES (7, 'host', '', 'x', 'host', '[]', :iin, 'en', :t, CURRENT_TIMESTAMP)"),
            {"iin": f.HOST_IIN, "t": True})
        conn.execute(sa.text("INSERT INTO api_tokens (user_id, name, token_hash, created_at, revoked) "
                             "VALUES (7, 'api', 'h', CURRENT_TIMESTAMP, :f)"), {"f": False})
        conn.execute(sa.text("INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
                             "VALUES ('s', 7, 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    command.upgrade(cfg, "head")
    with ctx.transaction() as s:
        user = s.get(User, 7)
        assert ctx.keyring.decrypt(user.host_party_encrypted, auth.HOST_PARTY_CONTEXT) == f.HOST_IIN
        assert s.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar_one() == 1
        assert s.execute(sa.select(sa.func.count()).select_from(WebSession)).scalar_one() == 1
    command.downgrade(cfg, "0006")  # and back: the plain value returns
    with ctx.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT host_party FROM users WHERE id = 7")).scalar_one() == f.HOST_IIN
    command.upgrade(cfg, "head")


def test_principal_without_the_keys_cannot_read_an_unknown_host(ctx):
    _user(ctx, "host", "host", host_party=f.HOST_IIN)
    with ctx.transaction() as s:
        user = auth.user_by_name(s, "host")
        with pytest.raises(Exception, match="without the keys"):
            auth.principal_for(user)
    assert Principal("x", Role.ANALYST).host_party is None

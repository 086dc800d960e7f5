"""`kosh users …` account commands on a temporary home (SQLite)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import factories as f
from kosh.cli import app
from kosh.platform import auth
from kosh.platform.context import open_context

runner = CliRunner()
PASSWORD = "correct-horse-battery"


@pytest.fixture
def home(home):  # the shared temporary home (conftest), initialised
    assert runner.invoke(app, ["init"]).exit_code == 0
    return home


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_deactivate_list_tokens_revoke_and_activate(home):
    assert _run("users", "add", "alice", "--role", "officer", "--regions", "75", "--password", PASSWORD).exit_code == 0
    assert _run("users", "add", "inn", "--role", "host", "--host-party", f.HOST_IIN,
                "--password", PASSWORD).exit_code == 0
    ctx = open_context()
    with ctx.transaction() as s:
        tokens = [auth.issue_token(s, ctx, auth.user_by_name(s, "alice"), n) for n in ("one", "two")]
    epoch = auth.revocation_epoch(home)

    r = _run("users", "tokens", "alice")
    assert r.exit_code == 0 and "one" in r.output and "two" in r.output and "valid" in r.output
    with ctx.transaction() as s:
        first_id = min(t.id for t in auth.tokens_of(s, ctx, auth.principal_for(auth.user_by_name(s, "alice"))))
    r = _run("users", "revoke-token", str(first_id))
    assert r.exit_code == 0 and f"token {first_id} revoked" in r.output
    assert auth.revocation_epoch(home) != epoch  # running servers on this host drop their caches
    with ctx.transaction() as s:
        assert auth.token_user(s, tokens[0]) is None and auth.token_user(s, tokens[1]) is not None

    r = _run("users", "deactivate", "alice")
    assert r.exit_code == 0 and "deactivated" in r.output
    with ctx.transaction() as s:
        assert auth.token_user(s, tokens[1]) is None and not auth.user_by_name(s, "alice").active
    r = _run("users", "list")
    assert r.exit_code == 0 and "alice" in r.output and "no" in r.output
    assert f.HOST_IIN not in r.output
    assert _run("users", "activate", "alice").exit_code == 0
    with ctx.transaction() as s:
        assert auth.user_by_name(s, "alice").active
    assert "0 token(s)" in _run("users", "revoke-tokens", "alice").output


def test_unknown_user_or_token_is_a_clear_error(home):
    r = _run("users", "deactivate", "ghost")
    assert r.exit_code == 2 and "There is no user named ghost." in r.output
    r = _run("users", "revoke-token", "99999999999")
    assert r.exit_code == 2 and "no API token" in r.output

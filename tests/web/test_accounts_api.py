"""Accounts over HTTP on both databases: throttled sign-in answers 429 with Retry-After, and a
revocation, deactivation or sign-out made through one app instance is refused at once by another
(each instance has its own credential cache, as each worker process does)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kosh.platform import auth
from kosh.platform.security import system_principal
from kosh.web.app import create_app
from web.conftest import PASSWORD, token_for

PROBLEM = "application/problem+json"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return r.json()


@pytest.fixture
def other(ctx):
    """A second app on the same database and KOSH_HOME: another worker process."""
    with TestClient(create_app(ctx), client=("198.51.100.7", 50000)) as c:
        yield c


def _first_delay(client) -> int:
    """The policy's wait after the failures a client may make for free (2 s by default)."""
    settings = client.app.state.ctx.settings
    return auth.throttle_delay(settings.login_max_failures, settings.login_max_failures,
                               settings.login_max_delay_seconds)


def _me(client, headers=None):
    return client.get("/api/v1/me", headers=headers or {})


def test_throttled_sign_in_is_a_429_problem_with_retry_after_and_spares_other_clients(client, other, users):
    for _ in range(5):
        _problem(client.post("/api/v1/auth/tokens", json={"username": "admin", "password": "nope"}), 401)
    r = client.post("/api/v1/auth/tokens", json={"username": "admin", "password": users})
    body = _problem(r, 429)
    # The wait is what is left of the policy's delay after the fifth failure, in whole seconds
    # rounded up: the policy's 2 s, or less on a slow run (the exact sequence is tested with a
    # fixed clock in tests/platform/test_accounts.py).
    wait = body["retry_after"]
    assert 1 <= wait <= _first_delay(client) and r.headers["retry-after"] == str(wait)
    assert f"Try again in {wait} second" in body["detail"]
    assert other.post("/api/v1/auth/tokens", json={"username": "admin", "password": users}).status_code == 201


def test_throttled_sign_in_page_says_how_long_in_the_readers_language(client, users):
    for _ in range(5):
        client.post("/login", data={"username": "admin", "password": "nope"})
    r = client.post("/login?lang=ru", data={"username": "admin", "password": users}, follow_redirects=False)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= _first_delay(client)
    assert "Повторите попытку через 2 с." in r.text


def test_a_token_revoked_through_one_instance_is_refused_at_once_by_another(client, other, users, ctx):
    h = token_for(client, "almaty")
    assert _me(other, h).status_code == 200  # now cached in the other instance
    token_id = client.get("/api/v1/auth/tokens", headers=h).json()[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=h).status_code == 204
    body = _problem(_me(other, h), 401)
    assert "revoked" in body["detail"]


def test_a_revocation_from_the_command_line_is_refused_at_once(client, other, users, ctx):
    h = token_for(client, "almaty")
    assert _me(other, h).status_code == 200 and _me(client, h).status_code == 200
    with ctx.transaction() as s:  # what `kosh users revoke-tokens almaty` does, outside any app
        assert auth.revoke_user_tokens(s, ctx, system_principal("test"), "almaty") == 1
    _problem(_me(other, h), 401)
    _problem(_me(client, h), 401)


def test_deactivation_through_the_api_ends_tokens_and_sessions_everywhere(client, other, users, ctx):
    h = token_for(other, "almaty")
    other.post("/login", data={"username": "almaty", "password": PASSWORD})
    assert _me(other, h).status_code == 200 and _me(other).status_code == 200  # token and cookie, cached
    admin = token_for(client, "admin")
    r = client.post("/api/v1/users/almaty/deactivate", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    _problem(_me(other, h), 401)
    _problem(_me(other), 401)  # the browser session ended too
    _problem(other.post("/api/v1/auth/tokens", json={"username": "almaty", "password": PASSWORD}), 401)
    assert client.post("/api/v1/users/almaty/activate", headers=admin).json()["active"] is True
    _problem(_me(other, h), 401)  # old tokens stay revoked
    assert other.post("/api/v1/auth/tokens", json={"username": "almaty", "password": PASSWORD}).status_code == 201


def test_sign_out_ends_the_session_in_every_instance(client, users, ctx):
    client.post("/login", data={"username": "almaty", "password": PASSWORD})
    cookie = client.cookies.get("kosh_session")
    with TestClient(create_app(ctx), cookies={"kosh_session": cookie}) as second:
        assert _me(second).status_code == 200
        page = client.get("/persons").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        _problem(_me(second), 401)


def test_user_administration_is_for_admins_only(client, users):
    almaty = token_for(client, "almaty")
    for method, path in [("get", "/api/v1/users"), ("get", "/api/v1/users/admin/tokens"),
                         ("post", "/api/v1/users/admin/deactivate"), ("delete", "/api/v1/users/admin/tokens")]:
        body = _problem(getattr(client, method)(path, headers=almaty), 403)
        assert "manage users" in body["detail"]
    admin = token_for(client, "admin")
    _problem(client.post("/api/v1/users/ghost/deactivate", headers=admin), 404)
    _problem(client.post("/api/v1/users/Bad%20Name!/deactivate", headers=admin), 404)
    _problem(client.post("/api/v1/users/admin/deactivate", headers=admin), 409)
    _problem(client.delete("/api/v1/auth/tokens/99999999999", headers=admin), 422)
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert listed["almaty"]["regions"] == ["75"] and listed["almaty"]["valid_tokens"] == 1
    assert listed["admin"]["active"] is True and "host_party" not in listed["host"]


def test_a_user_cannot_revoke_someone_elses_token(client, users):
    admin = token_for(client, "admin")
    almaty = token_for(client, "almaty")
    admin_token_id = client.get("/api/v1/auth/tokens", headers=admin).json()[0]["id"]
    _problem(client.delete(f"/api/v1/auth/tokens/{admin_token_id}", headers=almaty), 404)
    assert _me(client, admin).status_code == 200
    r = client.delete("/api/v1/users/almaty/tokens", headers=admin)
    assert r.json() == {"revoked": 1}
    _problem(_me(client, almaty), 401)


def test_a_cookie_session_needs_the_csrf_token_to_revoke(client, users):
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    body = _problem(client.post("/api/v1/users/almaty/deactivate"), 403)
    assert "security token" in body["detail"]
    assert {u["username"]: u["active"] for u in client.get("/api/v1/users").json()}["almaty"] is True


@pytest.mark.parametrize("lang, words", [("en", ["Deactivate almaty?", "Yes, deactivate"]),
                                         ("ru", ["Отключить учётную запись almaty?", "Да, отключить"]),
                                         ("kk", ["almaty тіркелгісін өшіру керек пе?", "Иә, өшіру"])])
def test_admin_page_deactivates_after_a_confirmation(client, users, ctx, lang, words):
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    listing = client.get(f"/admin/users?lang={lang}")
    assert listing.status_code == 200 and 'data-user="almaty"' in listing.text
    confirm = client.get("/admin/users/almaty/confirm?action=deactivate")
    assert all(w in confirm.text for w in words)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)
    assert client.post("/admin/users/almaty/deactivate", data={}, follow_redirects=False).status_code == 403
    with ctx.transaction() as s:
        assert auth.user_by_name(s, "almaty").active
    r = client.post("/admin/users/almaty/deactivate", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/users/almaty?done=deactivate"
    done = client.get(r.headers["location"])
    assert 'data-active="no"' in done.text and 'role="status"' in done.text
    with ctx.transaction() as s:
        assert not auth.user_by_name(s, "almaty").active


def test_admin_page_revokes_one_token(client, users, ctx):
    almaty = token_for(client, "almaty")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    page = client.get("/admin/users/almaty").text
    token_id = re.search(r'data-token="(\d+)"', page).group(1)
    confirm = client.get(f"/admin/users/almaty/confirm?action=revoke-token&token_id={token_id}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    r = client.post("/admin/users/almaty/revoke-token", data={"csrf_token": csrf, "token_id": token_id})
    assert r.status_code == 200 and "The API token was revoked." in r.text
    _problem(_me(client, almaty), 401)


def test_admin_pages_are_refused_to_others(client, users):
    client.post("/login", data={"username": "almaty", "password": PASSWORD})
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/admin/confirm?action=deactivate").status_code == 403

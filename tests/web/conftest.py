from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import factories as f
from kosh.platform import auth
from kosh.web.app import create_app

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client(ctx):
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def users(ctx):
    with ctx.transaction() as s:
        for name, role, regions, party in [("admin", "admin", [], None), ("almaty", "officer", ["75"], None),
                                           ("south", "officer", ["61", "79"], None), ("analyst", "analyst", [], None),
                                           ("host", "host", [], f.HOST_IIN), ("border", "border", [], None)]:
            auth.create_user(s, ctx, username=name, password=PASSWORD, role=role, regions=regions, host_party=party)
    return PASSWORD


def token_for(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/tokens", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}

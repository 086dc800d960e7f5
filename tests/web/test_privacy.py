"""Nothing personal leaks through URLs, caches or logs: searches are POSTed, signed-in pages and
API answers are never cached, errors are logged as a class and a request id only."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.platform import db
from kosh.platform.models import User
from kosh.web.app import create_app
from web.conftest import token_for

PROBLEM = "application/problem+json"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(client, users):
    r = client.post("/login", data={"username": "almaty", "password": users}, follow_redirects=False)
    assert r.status_code == 303
    return client


# --- search by POST ---------------------------------------------------------------------------

def test_the_search_page_posts_and_finds_by_document_number_without_it_in_any_url(signed_in, users):
    admin = token_for(signed_in, "admin")
    pid = signed_in.post("/api/v1/notifications", json=f.notification(), headers=admin).json()["person_ids"][0]
    form = signed_in.get("/persons")
    assert form.status_code == 200 and 'method="post"' in form.text and 'hx-get' not in form.text
    r = signed_in.post("/persons", data={"q": "FA1234567", "csrf_token": _csrf(form.text)})
    assert r.status_code == 200 and f'href="/persons/{pid}"' in r.text
    assert str(r.url).endswith("/persons")  # answered in place: the number is in no address
    assert "FA1234567" not in "".join(re.findall(r'(?:href|action|hx-post|hx-get)="([^"]*)"', r.text))


def test_a_search_without_the_forms_token_is_refused(signed_in):
    r = signed_in.post("/persons", data={"q": "FA1234567"})
    assert r.status_code == 403


def test_the_next_page_of_results_is_a_post_too(signed_in, users, ctx):
    ctx.settings.identity_link_at_ingest = False  # 26 namesakes stay 26 persons
    admin = token_for(signed_in, "admin")
    for n in range(26):
        signed_in.post("/api/v1/notifications", headers=admin, json=f.notification(
            document_number=f"FC{n:07d}", birth_date=f"19{60 + n}-01-15"))
    token = _csrf(signed_in.get("/persons").text)
    first = signed_in.post("/persons", data={"q": "Абдуллаев", "csrf_token": token})
    assert "?q=" not in first.text and 'name="page" value="2"' in first.text
    second = signed_in.post("/persons", data={"q": "Абдуллаев", "page": "2", "csrf_token": token})
    assert second.status_code == 200 and second.text.count('href="/persons/') == 1


def test_a_nul_in_the_search_box_is_refused_on_the_page(signed_in):
    token = _csrf(signed_in.get("/persons").text)
    r = signed_in.post("/persons", data={"q": "FA12\x0034567", "csrf_token": token})
    assert r.status_code == 422 and "character that is not allowed" in r.text


def test_the_api_searches_by_post_only_and_documents_it(client, users, ctx):
    admin = token_for(client, "admin")
    pid = client.post("/api/v1/notifications", json=f.notification(), headers=admin).json()["person_ids"][0]
    r = client.post("/api/v1/persons/search", json={"q": "FA1234567"}, headers=admin)
    assert r.status_code == 200 and [p["id"] for p in r.json()["items"]] == [pid]
    assert client.get("/api/v1/persons", params={"q": "FA1234567"}, headers=admin).status_code == 405
    bad = client.post("/api/v1/persons/search", json={"q": "FA\x001234567"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "q"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/persons/search"] and "get" not in paths["/api/v1/persons"]


# --- caching ----------------------------------------------------------------------------------

def test_signed_in_pages_and_personal_api_answers_are_never_cached(signed_in, users):
    admin = token_for(signed_in, "admin")
    pid = signed_in.post("/api/v1/notifications", json=f.notification(), headers=admin).json()["person_ids"][0]
    for r in (signed_in.get(f"/persons/{pid}"), signed_in.get("/persons"), signed_in.get("/stay/overstays"),
              signed_in.get(f"/api/v1/persons/{pid}", headers=admin), signed_in.get("/calculator")):
        assert r.status_code == 200, r.url
        assert r.headers["cache-control"] == "no-store", r.url
    static = signed_in.get("/static/kosh.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


# --- request ids and logs ---------------------------------------------------------------------

SECRET = "Zhaksybekova-Secret-Name"


def _failing_app(ctx):
    """The app with two extra routes that fail inside the database, quoting a personal value."""
    app = create_app(ctx)

    @app.post("/api/v1/test/duplicate-user")
    def duplicate_user() -> dict:
        with ctx.transaction() as s:
            for _ in range(2):  # past the service's own check: the unique index refuses the second
                s.add(User(username=SECRET.lower(), password_hash="x", role="officer"))
                s.flush()
        return {}

    @app.get("/api/v1/test/broken-query")
    def broken_query() -> dict:
        with ctx.transaction() as s:
            s.execute(sa.text("SELECT no_such_column FROM persons WHERE surname = :name"), {"name": SECRET})
        return {}

    return app


def test_an_unhandled_error_is_a_500_problem_with_a_request_id_and_a_log_without_values(ctx, caplog):
    with TestClient(_failing_app(ctx), raise_server_exceptions=False) as c, caplog.at_level(logging.INFO):
        r = c.get("/api/v1/test/broken-query")
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["request_id"] == r.headers["x-request-id"] and len(body["request_id"]) == 32
    assert SECRET not in r.text and "no_such_column" not in r.text
    assert body["request_id"] in caplog.text
    assert "ProgrammingError" in caplog.text or "OperationalError" in caplog.text
    assert SECRET not in caplog.text and "no_such_column" not in caplog.text


def test_an_integrity_errors_log_holds_no_parameter_values(ctx, caplog):
    with TestClient(_failing_app(ctx), raise_server_exceptions=False) as c, caplog.at_level(logging.INFO):
        r = c.post("/api/v1/test/duplicate-user")
    assert r.status_code in (409, 500) and r.headers["content-type"].startswith(PROBLEM)
    assert "IntegrityError" in caplog.text or "UniqueViolation" in caplog.text
    assert SECRET.lower() not in caplog.text.lower() and SECRET.lower() not in r.text.lower()


def test_every_response_carries_a_fresh_request_id(client):
    ids = {client.get(url).headers["x-request-id"]
           for url in ("/calculator", "/api/v1/openapi.json", "/static/kosh.css", "/nowhere")}
    assert len(ids) == 4


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
def test_engines_keep_sql_parameters_out_of_error_messages(url):
    engine = db.make_engine(url)
    assert engine.hide_parameters


def test_a_database_errors_message_names_no_parameter(sqlite_ctx):
    engine = db.make_engine(str(sqlite_ctx.engine.url))
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.connect() as conn:
        conn.execute(sa.text("SELECT no_such_column FROM persons WHERE surname = :name"), {"name": SECRET})
    assert SECRET not in str(caught.value)
    engine.dispose()


# --- the OpenAPI document says how errors look -------------------------------------------------

def test_every_operation_declares_its_errors_as_problems(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            for status in ("4XX", "5XX"):
                assert list(responses[status]["content"]) == [PROBLEM], (method, path)

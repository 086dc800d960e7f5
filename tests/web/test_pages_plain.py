"""Pages without a browser: language choice, sign-in flow, CSRF on forms, headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kosh.platform import auth, i18n
from kosh.web.app import create_app


@pytest.fixture
def web(sqlite_ctx):
    with sqlite_ctx.transaction() as s:
        auth.create_user(s, sqlite_ctx, username="officer", password="x" * 12, role="officer", regions=["75"])
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


@pytest.mark.parametrize("header, expected", [("ru-RU,ru;q=0.9,en;q=0.5", "ru"), ("kk", "kk"),
                                              ("de-DE, fr;q=0.5", "en"), ("en;q=0.1, kk;q=0.8", "kk")])
def test_language_from_accept_language(web, header, expected):
    r = web.get("/calculator", headers={"accept-language": header})
    assert f'<html lang="{expected}">' in r.text


def test_language_choice_sticks_in_a_cookie(web):
    r = web.get("/calculator?lang=kk")
    assert i18n.translations("kk").gettext("Stay calculator") in r.text
    assert web.cookies.get("kosh_lang") == "kk"
    assert '<html lang="kk">' in web.get("/calculator").text


def test_pages_need_sign_in_and_protect_forms(web):
    r = web.get("/persons", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    bad = web.post("/login", data={"username": "officer", "password": "wrong"})
    assert bad.status_code == 401 and "Wrong username or password" in bad.text
    ok = web.post("/login", data={"username": "officer", "password": "x" * 12}, follow_redirects=False)
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    r = web.post("/notifications/new", data={"host_kind": "individual"})
    assert r.status_code == 403 and "security token" in r.text


def test_security_headers_and_no_external_assets(web):
    r = web.get("/calculator")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in r.text.replace("http://127.0.0.1", "") and "https://" not in r.text
    assert web.get("/static/vendor/htmx.min.js").status_code == 200


def test_open_redirect_is_refused(web):
    r = web.post("/login", data={"username": "officer", "password": "x" * 12, "next": "//evil.example/"},
                 follow_redirects=False)
    assert r.headers["location"] == "/"


def test_calculator_explains_itself_in_the_chosen_language(web):
    from kosh.platform.i18n import translations
    from kosh.stay import rules

    query = "citizenship=UZB&start=2026-01-05&end=2026-02-10&on=2026-04-01"
    ru = web.get(f"/calculator?{query}&lang=ru").text
    en = web.get(f"/calculator?{query}&lang=en").text
    opening = translations("ru").gettext(rules.PER_ENTRY).split("%")[0]
    assert opening and opening in ru and opening not in en
    assert "30 days per entry ended on" not in ru and "days per entry ended on" in en


def test_a_host_is_told_at_once_that_person_search_is_not_for_them(web, sqlite_ctx):
    import factories as f

    with sqlite_ctx.transaction() as s:
        auth.create_user(s, sqlite_ctx, username="host", password="x" * 12, role="host", host_party=f.HOST_IIN)
    web.post("/login", data={"username": "host", "password": "x" * 12})
    r = web.get("/persons")
    assert r.status_code == 403 and "may not read persons" in r.text
    assert 'rel="icon" href="/static/favicon.svg"' in web.get("/notifications/mine").text
    assert web.get("/static/favicon.svg").status_code == 200


def test_import_progress_says_when_rows_are_stored_and_statuses_are_being_recomputed(web, sqlite_ctx):
    from kosh.stay.models import ImportBatch

    with sqlite_ctx.transaction() as s:
        batch = ImportBatch(kind="border_events", filename="feed.csv", content_sha256="0" * 64, rows_total=10,
                            rows_done=10, started_by="officer", status="running")
        s.add(batch)
        s.flush()
        batch_id = batch.id
    web.post("/login", data={"username": "officer", "password": "x" * 12})
    recomputing = "bringing the stay status of the persons concerned up to date"
    from kosh.flows import intake

    importer = intake.try_lock(sqlite_ctx, "border_events", "0" * 64)  # its importer is at work
    r = web.get(f"/import/batches/{batch_id}")
    importer.release()
    assert r.status_code == 200 and recomputing in r.text and "Finished." not in r.text
    with sqlite_ctx.transaction() as s:
        s.get(ImportBatch, batch_id).status = "done"
    r = web.get(f"/import/batches/{batch_id}")
    assert recomputing not in r.text and "Finished." in r.text

"""The public status pages (/status) and their API: languages, CSRF without a session, errors beside
the fields, not-found alike, rate limits (429 with Retry-After), proofs and their check."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

import factories as f
from kosh.flows import selfservice as flow
from kosh.platform.i18n import format_day
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn, NotificationIn
from kosh.web.app import create_app

ADMIN = system_principal("tests")
DETAILS = {"citizenship": "UZB", "document_number": "FA1234567", "birth_date": "1990-05-17"}


@pytest.fixture
def site(sqlite_ctx):
    vc = service.validation_context(sqlite_ctx)
    with sqlite_ctx.transaction() as s:
        service.record_border_events(s, sqlite_ctx, ADMIN, [validate_model(BorderEventIn, f.border_event(
            occurred_at="2026-03-02T09:00:00+05:00"), vc)])
        service.record_notifications(s, sqlite_ctx, ADMIN, [validate_model(NotificationIn, f.notification(
            submitted_at="2026-03-04T10:00:00+05:00"), vc)])
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


def token(client, path="/status/check", lang="en") -> str:
    page = client.get(f"{path}?lang={lang}")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def post(client, path, lang, **fields):
    return client.post(f"{path}?lang={lang}", data={"csrf_token": token(client, lang=lang), **fields})


def test_start_page_offers_six_languages_and_no_sign_in(site):
    page = site.get("/status?lang=uz")
    assert page.status_code == 200
    assert "Boʻlish maqomingizni tekshiring" in page.text  # "Check your stay status"
    for name in ("Қазақша", "Русский", "English", "Oʻzbekcha", "Тоҷикӣ", "Кыргызча"):
        assert name in page.text
    assert "/login" not in page.text and 'lang="uz"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_citizenship_is_chosen_by_localized_name(site):
    page = site.get("/status/check?lang=ru")
    assert '<option value="UZB">Узбекистан</option>' in page.text
    assert ">UZB<" not in page.text
    assert '<option value="XXA">Лицо без гражданства</option>' in page.text  # stateless persons can ask too
    assert '<option value="KAZ">' not in page.text  # the country's own citizens are no migrants


def test_result_in_uzbek(site):
    answer = post(site, "/status/check", "uz", **DETAILS, on="2026-03-10")
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert "Qonuniy boʻlish" in text  # "Lawful stay"
    assert format_day(dt.date(2026, 3, 31), "uz") in text  # the last lawful day, written for the locale
    assert format_day(dt.date(2026, 3, 4), "uz") in text  # the notification is on record, with its day
    row = f.notification()
    for secret in (row["address"], row["host_name"], row["host_id"]):
        assert secret not in text
    assert "1414" in text and "517(3)" in text
    assert answer.headers["cache-control"] == "no-store"


def test_not_found_looks_the_same_for_any_wrong_detail(site):
    pages = [post(site, "/status/check", "ru", **(DETAILS | wrong))
             for wrong in ({"document_number": "FA7654321"}, {"birth_date": "1990-05-18"}, {"citizenship": "TJK"})]
    assert {p.status_code for p in pages} == {404}
    # The pages differ only in what was typed back into the form.
    bodies = {re.sub(r'\s(value="[^"]*"|selected)', "", p.text) for p in pages}
    assert len(bodies) == 1
    assert "Мы не нашли запись с такими данными" in pages[0].text


def test_bad_input_shows_the_error_beside_the_field_in_the_language(site):
    page = post(site, "/status/check", "ru", citizenship="", document_number="FA#1", birth_date="1990-02-30")
    assert page.status_code == 422
    assert 'id="e-citizenship">Выберите гражданство.' in page.text
    assert 'id="e-document_number">Номер документа состоит только из латинских букв' in page.text
    assert 'id="e-birth_date">Такой даты нет' in page.text
    assert 'value="FA#1"' in page.text  # what was typed stays in the form


def test_the_birth_date_is_typed_as_day_month_and_year(site):
    parts = {"citizenship": "UZB", "document_number": "fa 1234567", "on": "2026-03-10"}
    page = post(site, "/status/check", "en", **parts, birth_date_day="17", birth_date_month="5",
                birth_date_year="1990")
    assert page.status_code == 200 and "Lawful stay" in page.text
    wrong = post(site, "/status/check", "kk", **parts, birth_date_day="31", birth_date_month="2",
                 birth_date_year="1990")
    assert wrong.status_code == 422
    assert 'id="e-birth_date">Мұндай күн жоқ' in wrong.text
    assert 'name="birth_date_day" type="text" inputmode="numeric" maxlength="2" value="31"' in wrong.text
    short = post(site, "/status/check", "en", **parts, birth_date_day="17", birth_date_month="5", birth_date_year="")
    assert short.status_code == 422 and "full date: day, month and year" in short.text


def test_a_post_without_the_form_token_is_refused_and_nothing_is_looked_up(site):
    site.get("/status/check")
    page = site.post("/status/check?lang=kk", data={**DETAILS, "csrf_token": "forged"})
    assert page.status_code == 403
    assert "Бет тым ұзақ ашық тұрды" in page.text
    assert "Заңды болу" not in page.text


def test_too_many_tries_page_says_when_in_the_language(site, sqlite_ctx):
    site.app.state.status_limits = flow.Limits(sqlite_ctx.settings.model_copy(update={"status_lookups_per_client": 1}))
    assert post(site, "/status/check", "tg", **DETAILS).status_code == 200
    page = post(site, "/status/check", "tg", **DETAILS)
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert "Кӯшишҳо аз ҳад зиёданд" in page.text and "60 дақ." in page.text


def test_proof_then_verify_then_wrong_birth_date(site):
    proof = post(site, "/status/proof", "ky", **DETAILS)
    assert proof.status_code == 200, proof.text
    code = re.search(r'id="share-code">([^<]+)<', proof.text)
    assert code and re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}", code.group(1))
    assert "Болуу статусун тастыктоо" in proof.text and "Аты-жөнү" in proof.text
    checked = post(site, "/status/verify", "en", code=code.group(1).lower(), birth_date="1990-05-17")
    assert checked.status_code == 200
    assert "This proof is valid." in checked.text and code.group(1) in checked.text
    wrong = post(site, "/status/verify", "en", code=code.group(1), birth_date="1990-05-18")
    assert wrong.status_code == 404
    assert "the share code or the date of birth is wrong" in wrong.text
    assert "This proof is valid." not in wrong.text


def test_api_status_verify_and_problems(site, sqlite_ctx):
    ok = site.post("/api/v1/public/status", json=DETAILS | {"on": "2026-03-10"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["status"] == "lawful" and body["last_lawful_day"] == "2026-03-31"
    assert body["notified_on"] == "2026-03-04" and "address" not in ok.text
    missing = site.post("/api/v1/public/status", json=DETAILS | {"birth_date": "1990-05-18"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    bad = site.post("/api/v1/public/status", json=DETAILS | {"citizenship": "ZZZ"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "citizenship"
    assert site.post("/api/v1/public/status/verify", json={"code": "K7M-4QX-9TR", "birth_date": "1990-05-17"}
                     ).status_code == 404
    one_each = sqlite_ctx.settings.model_copy(update={"status_lookups_per_document": 1})
    site.app.state.status_limits = flow.Limits(one_each)
    assert site.post("/api/v1/public/status", json=DETAILS).status_code == 200
    limited = site.post("/api/v1/public/status", json=DETAILS)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.headers["content-type"] == "application/problem+json"


def test_api_is_documented(site):
    spec = site.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/public/status", "/api/v1/public/status/verify"):
        assert spec["paths"][path]["post"]["summary"]

"""Codes are shown as words on the pages, in the reader's language: sex, document type, countries,
checkpoints, where a spelling came from, regions, the rule applied, data-quality findings,
automatic-merge reasons; refusals and field errors come from the catalogs with the field's label."""

from __future__ import annotations

import datetime as dt
import html

import pytest

import factories as f
from kosh.platform.i18n import format_day, translations

from .conftest import token_for


def _sign_in(client, users, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": users}, follow_redirects=False)
    assert r.status_code == 303


@pytest.fixture
def person(client, users):
    admin = token_for(client, "admin")
    r = client.post("/api/v1/border-events/bulk", headers=admin, json={"events": [
        f.border_event(occurred_at="2026-03-02T09:00:00+05:00"),
        f.border_event(occurred_at="2026-03-20T09:00:00+05:00")]})  # two entries, no exit between
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/notifications", headers=admin, json=f.notification()).status_code == 201
    return r.json()["person_ids"][0]


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_person_page_says_codes_as_words(client, users, person, lang):
    _sign_in(client, users, "admin")  # every region: the border records are the south's
    page = client.get("/purpose").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/purpose", data={"purpose": "case 2026-417", "next": "/", "csrf_token": token},
                       follow_redirects=False).status_code == 303
    page = html.unescape(client.get(f"/persons/{person}", params={"lang": lang}).text)
    words = translations(lang).gettext
    identity = page.split('id="id-h"')[1].split("</section>")[0]
    assert words("male") in identity and ">M<" not in identity
    assert ("Өзбекстан" if lang == "kk" else "Узбекистан") in identity and ">UZB<" not in identity
    assert format_day(dt.date(1990, 5, 17), lang) in identity  # a full date, written locally
    assert words("border crossing") in identity and words("host notification") in identity  # spellings' sources
    documents = page.split('id="docs-h"')[1].split("</section>")[0]
    assert words("passport") in documents
    timeline = page.split('id="tl-h"')[1].split("</section>")[0]
    assert "Zhibek Zholy" in timeline and "ZHIBEK-ZHOLY" not in timeline  # the checkpoint by name
    status = page.split('id="status-h"')[1].split("</section>")[0]
    rule = status.split('class="muted source"')[0]
    assert ("Узбекистан" if lang == "ru" else "Өзбекстан") in rule and "days per entry" not in rule
    findings = page.split('id="dq-h"')[1].split("</section>")[0]
    assert format_day(dt.date(2026, 3, 2), lang) in findings and "presence is assumed" not in findings


def test_the_start_page_names_the_officers_regions(client, users):
    _sign_in(client, users, "south")
    page = html.unescape(client.get("/", params={"lang": "ru"}).text)
    line = page.split(translations("ru").gettext("Your regions:"))[1].split("</p>")[0]
    assert "Туркестанская область" in line and "Шымкент" in line and "61" not in line


def test_a_refusal_names_the_regions_in_the_callers_language(client, users):
    officer = token_for(client, "almaty")
    r = client.post("/api/v1/notifications", headers={**officer, "accept-language": "kk"},
                    json=f.notification(kato="791000000"))
    assert r.status_code == 403
    body = r.json()
    assert r.headers["content-language"] == "kk"
    assert body["title"] == translations("kk").gettext("Forbidden")
    assert "Шымкент" in body["detail"] and "Алматы" in body["detail"] and "79" not in body["detail"]


def test_field_errors_of_a_page_form_are_said_with_the_fields_label(client, users):
    r = client.get("/calculator", params={"citizenship": "UZB", "start": "2026-13-40", "end": "", "lang": "ru"})
    page = html.unescape(r.text)
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert translations("ru").gettext("Entry date") in summary or translations("ru").gettext("Trips") in summary
    assert "Input should" not in page and "YYYY-MM-DD" not in page.replace("ГГГГ-ММ-ДД", "")

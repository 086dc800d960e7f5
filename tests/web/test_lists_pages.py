"""The officers' list pages and their CSV export (page and API), and the person search form's
date-of-birth and document-part fields, in English and Russian."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

import factories as f
from kosh.people.countries import country_name
from kosh.platform.i18n import format_day, gettext_for
from web.conftest import token_for

PROBLEM = "application/problem+json"
ON = "2026-06-01"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def data(client, users):
    admin = token_for(client, "admin")
    events = [f.border_event(document_number=f"FA60000{i:02d}", checkpoint="ALA-AIRPORT",
                             occurred_at=f"2026-01-{i + 1:02d}T09:00:00+05:00") for i in range(3)]
    events.append(f.border_event(document_number="FA6000099", checkpoint="ZHIBEK-ZHOLY",
                                 occurred_at="2026-01-20T09:00:00+05:00"))
    r = client.post("/api/v1/border-events/bulk", json={"events": events}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()["person_ids"]


def sign_in(client, users, name="almaty"):
    r = client.post("/login", data={"username": name, "password": users}, follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_overstay_page_shows_total_names_and_local_dates(ctx, client, users, data, lang):
    sign_in(client, users)
    r = client.get(f"/stay/overstays?on={ON}&lang={lang}")
    assert r.status_code == 200
    say = gettext_for(lang)
    assert (say("Persons on this list: %(n)s") == "Persons on this list: %(n)s") == (lang == "en")  # translated
    assert say("Persons on this list: %(n)s") % {"n": 3} in r.text  # the Almaty three, not the south's
    assert country_name("UZB", lang) in r.text
    almaty = ctx.pack.region_for_kato("751700000").name(lang)
    assert f"<td data-label=\"{say('Region')}\">{almaty}</td>" in r.text
    assert format_day(dt.date(2026, 1, 31), lang) in r.text  # the first one's last lawful day
    assert ">UZB<" not in r.text and ">75" not in r.text
    # Sorting by a column heading, then the reverse; the filter form offers the same sorts.
    assert 'href="/stay/overstays?on=2026-06-01&amp;sort=-due"' in r.text
    assert '<option value="-entry"' in r.text


def test_overstay_page_filters_and_refuses_bad_input_beside_the_field(client, users, data):
    sign_in(client, users)
    r = client.get(f"/stay/overstays?on={ON}&citizenship=KGZ")
    assert r.status_code == 200 and "Nobody on this list." in r.text
    r = client.get(f"/stay/overstays?on={ON}&due_from=2026-02-01&due_to=2026-01-01&lang=ru")
    assert r.status_code == 422
    assert 'id="e-due_to"' in r.text and gettext_for("ru")("The end of the date range is before its start.") in r.text
    r = client.get(f"/stay/overstays?on={ON}&sort=password")
    assert r.status_code == 422 and 'id="e-sort"' in r.text
    r = client.get("/stay/overdue-notifications?on=2026-01-20&sort=-due&lang=ru")
    assert r.status_code == 200 and gettext_for("ru")("Notification due") in r.text
    assert gettext_for("ru")("Persons on this list: %(n)s") % {"n": 3} in r.text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_export_from_the_page_needs_a_purpose_and_gives_a_safe_file(client, users, data, lang):
    sign_in(client, users)
    page = client.get(f"/stay/overstays?on={ON}&lang={lang}")
    token = _csrf(page.text)
    refused = client.post("/stay/overstays/export", data={"on": ON, "csrf_token": token, "purpose": ""})
    assert refused.status_code == 422 and 'id="e-purpose"' in refused.text
    message = gettext_for(lang)("State the purpose of the export (a case number or the reason) in at least "
                                "%(n)s characters.") % {"n": 4}
    assert message in refused.text
    r = client.post("/stay/overstays/export", data={"on": ON, "csrf_token": token, "purpose": "case 7/2026"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="overstays-2026-06-01.csv"'
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][1] == gettext_for(lang)("Surname") and len(table) == 4
    assert client.post("/stay/overstays/export", data={"on": ON, "csrf_token": "x", "purpose": "case 7"}
                       ).status_code == 403


def test_api_lists_count_and_page_both_ways(client, users, data):
    almaty = token_for(client, "almaty")
    first = client.get(f"/api/v1/stay/overstays?on={ON}&limit=2", headers=almaty).json()
    assert first["total"] == 3 and first["prev_cursor"] is None and len(first["items"]) == 2
    second = client.get(f"/api/v1/stay/overstays?on={ON}&limit=2&cursor={first['next_cursor']}",
                        headers=almaty).json()
    back = client.get(f"/api/v1/stay/overstays?on={ON}&limit=2&cursor={second['prev_cursor']}",
                      headers=almaty).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert [i["person_id"] for i in back["items"]] == [i["person_id"] for i in first["items"]]
    r = client.get(f"/api/v1/stay/overstays?on={ON}&sort=name", headers=almaty)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


def test_api_export_needs_x_purpose_and_is_scoped(client, users, data):
    almaty = token_for(client, "almaty")
    r = client.get(f"/api/v1/stay/overstays/export?on={ON}", headers=almaty)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "X-Purpose"
    r = client.get(f"/api/v1/stay/overstays/export?on={ON}",
                   headers=almaty | {"X-Purpose": "дело 15".encode()})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and {row["Person id"] for row in rows} < set(data)
    r = client.get(f"/api/v1/stay/overstays/export?on={ON}&region=61", headers=almaty | {"X-Purpose": "case 15"})
    assert r.status_code == 403
    r = client.get(f"/api/v1/stay/overdue-notifications/export?on={ON}", headers=almaty | {"X-Purpose": "case 15"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_person_search_form_by_birth_date_and_part_of_a_number(client, users, lang):
    admin = token_for(client, "admin")
    pid = client.post("/api/v1/notifications", json=f.notification(), headers=admin).json()["person_ids"][0]
    sign_in(client, users)
    token = _csrf(client.get(f"/persons?lang={lang}").text)
    say = gettext_for(lang)
    r = client.post("/persons", data={"document_part": "123", "csrf_token": token})
    assert r.status_code == 422 and 'id="e-document_part"' in r.text
    assert say("Give at least %(n)s letters or digits of the document number, as written in the document.") % {
        "n": 4} in r.text
    r = client.post("/persons", data={"document_part": "3456", "birth_date": "1990-05-17", "csrf_token": token})
    assert r.status_code == 200 and f'href="/persons/{pid}"' in r.text
    assert country_name("UZB", lang) in r.text
    r = client.post("/persons", data={"birth_date": "1991", "csrf_token": token})
    assert r.status_code == 200 and f'href="/persons/{pid}"' not in r.text
    # The citizenship filter is chosen by name (the value sent is the code); the sort from a list.
    form = client.get("/persons").text
    assert f'<option value="UZB">{country_name("UZB", lang)}</option>' in form and '<option value="-born">' in form
    r = client.post("/persons", data={"q": "Абдуллаев", "citizenship": "UZB", "sort": "-born", "csrf_token": token})
    assert r.status_code == 200 and f'href="/persons/{pid}"' in r.text
    r = client.post("/persons", data={"q": "Абдуллаев", "citizenship": "KGZ", "csrf_token": token})
    assert r.status_code == 200 and f'href="/persons/{pid}"' not in r.text
    r = client.post("/persons", data={"q": "Абдуллаев", "sort": "surname; --", "csrf_token": token})
    assert r.status_code == 422 and 'id="e-sort"' in r.text
    r = client.post("/api/v1/persons/search", json={"document_part": "12"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document_part"
    r = client.post("/api/v1/persons/search", json={}, headers=admin)
    assert r.status_code == 422
    r = client.post("/api/v1/persons/search", json={"birth_date": "1990-05-17"}, headers=admin)
    assert [p["id"] for p in r.json()["items"]] == [pid]

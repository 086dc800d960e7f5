"""The violations list (page and API) and the person's missed-notification violations, over HTTP
on both databases, in English and Russian: filters, errors beside their fields, scope."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

import factories as f
from kosh.platform import i18n
from web.conftest import token_for

PERIOD = {"from": "2026-03-01", "to": "2026-12-01"}


def day(y: int, m: int, d: int, lang: str = "en") -> str:
    return i18n.format_day(dt.date(y, m, d), lang)


@pytest.fixture
def recorded(client, users) -> dict[str, str]:
    """An Uzbek in 2026-03-02 – 04-10 (40 days), notified late (Mon Mar 9) in Almaty; a Tajik in
    Jun 1–20 at Zhibek Zholy (Turkistan), never notified."""
    admin = token_for(client, "admin")
    uzb = client.post("/api/v1/border-events/bulk", headers=admin, json={"events": [
        f.border_event(occurred_at="2026-03-02T09:00:00+05:00"),
        f.border_event(direction="exit", occurred_at="2026-04-10T18:00:00+05:00")]}).json()["person_ids"][0]
    r = client.post("/api/v1/notifications", headers=admin,
                    json=f.notification(arrival_date="2026-03-02", submitted_at="2026-03-09T10:00:00+05:00"))
    assert r.status_code == 201, r.text
    tajik = {"document_number": "TJ0000001", "issuing_state": "TJK", "nationality": "TJK", "surname": "RAHIMOV"}
    tjk = client.post("/api/v1/border-events/bulk", headers=admin, json={"events": [
        f.border_event(occurred_at="2026-06-01T09:00:00+05:00", **tajik),
        f.border_event(direction="exit", occurred_at="2026-06-20T09:00:00+05:00", **tajik)]}).json()["person_ids"][0]
    return {"uzb": uzb, "tjk": tjk}


def sign_in(client, users, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": users}, follow_redirects=False)
    assert r.status_code == 303


def test_the_list_in_english_shows_kinds_in_words_and_the_due_day(client, users, recorded):
    sign_in(client, users, "admin")
    r = client.get("/stay/violations", params=PERIOD)
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert '<a href="/stay/violations">Violations</a>' in page  # beside the other lists
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr ")[1:]
    assert [row.split('data-kind="')[1].split('"')[0] for row in rows] == [
        "notification_late", "per_entry", "notification_missed"]
    late, _, missed = rows
    assert f'href="/persons/{recorded["uzb"]}"' in late and "host notification submitted late" in late
    assert day(2026, 3, 5) in late and f"submitted {day(2026, 3, 9)}" in late and "Uzbekistan" in late
    assert f'href="/persons/{recorded["tjk"]}"' in missed and "host notification not submitted" in missed
    assert day(2026, 6, 4) in missed and "Tajikistan" in missed
    only = html.unescape(client.get("/stay/violations", params={**PERIOD, "kind": "per_entry"}).text)
    assert "past the limit per entry" in only and "host notification" not in only.split("<tbody>")[1]


def test_the_list_in_russian_with_an_error_beside_the_field(client, users, recorded):
    sign_in(client, users, "almaty")
    ru = i18n.translations("ru").gettext
    r = client.get("/stay/violations", params={**PERIOD, "lang": "ru"})
    page = html.unescape(r.text)
    assert r.status_code == 200 and '<html lang="ru">' in page
    assert ru("Violations in a period") in page and ru("notification_late") in page
    assert "уведомление о прибытии подано с опозданием" in page
    assert f'/persons/{recorded["tjk"]}' not in page  # registered in Turkistan: not this officer's
    bad = client.get("/stay/violations", params={"from": "2026-05-01", "to": "2026-04-01", "lang": "ru"})
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    assert 'id="e-to"' in text and "должна быть не раньше первого дня" in text
    assert 'aria-invalid="true" aria-describedby="e-to"' in text and "<tbody>" not in text
    outside = client.get("/stay/violations", params={**PERIOD, "region": "61"})
    assert outside.status_code == 403 and 'id="e-region"' in outside.text


def test_the_api_lists_violations_in_words_and_refuses_bad_filters(client, users, recorded):
    almaty = token_for(client, "almaty")
    r = client.get("/api/v1/stay/violations", params=PERIOD, headers={**almaty, "accept-language": "ru"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(v["person_id"], v["kind"], v["first_day"], v["last_day"], v["days"], v["due"], v["filed"])
            for v in items] == [
        (recorded["uzb"], "notification_late", "2026-03-06", "2026-03-09", 4, "2026-03-05", "2026-03-09"),
        (recorded["uzb"], "per_entry", "2026-04-01", "2026-04-10", 10, None, None)]
    assert items[0]["kind_text"] == "уведомление о прибытии подано с опозданием"
    bad = client.get("/api/v1/stay/violations", params={**PERIOD, "kind": "speeding"}, headers=almaty)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "kind"
    assert client.get("/api/v1/stay/violations", params={**PERIOD, "region": "61"}, headers=almaty).status_code == 403
    assert client.get("/api/v1/stay/violations", params={"from": "2026-03-01"}, headers=almaty).status_code == 422


def test_the_person_page_and_status_json_show_the_missed_notification(client, users, recorded):
    admin = token_for(client, "admin")
    r = client.get(f"/api/v1/persons/{recorded['tjk']}/stay", params={"on": "2026-07-01"},
                   headers={**admin, "accept-language": "ru"})
    missed = [v for v in r.json()["violations"] if v["kind"] == "notification_missed"]
    assert [(v["first_day"], v["last_day"], v["days"], v["due"]) for v in missed] == [
        ("2026-06-05", "2026-06-20", 16, "2026-06-04")]
    assert missed[0]["kind_text"] == "уведомление о прибытии не подано"
    assert "нужно было подать до" in missed[0]["text"]
    sign_in(client, users, "admin")
    form = client.get("/purpose")  # a person's record is opened with a stated purpose
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/purpose", data={"purpose": "Case 7/2026: stay check", "csrf_token": token})
    page = html.unescape(client.get(f"/persons/{recorded['tjk']}", params={"on": "2026-07-01"}).text)
    row = page.split('data-kind="notification_missed"')[1].split("</tr>")[0]
    assert "host notification not submitted" in row and day(2026, 6, 4) in row and ">16<" in row
    assert f"the host notification was due on {day(2026, 6, 4)} and none was submitted" in page

"""The host workspace's pages through the app (no browser): start page, form, check your answers,
confirmation, guests, detail, correct, cancel, departure — in English and Russian."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.platform import auth, i18n
from kosh.stay.models import HostNotification
from kosh.web.app import create_app

PASSWORD = "x" * 12
GUEST = {"surname": "Абдуллаев", "given_names": "Шухрат", "patronymic": "", "surname_latin": "ABDULLAEV",
         "given_names_latin": "SHUKHRAT", "sex": "M", "birth_date": "1990-05-17", "citizenship": "UZB",
         "document_number": "FA1234567", "issuing_state": "", "settlement": "Almaty",
         "address": "ул. Абая 10, кв. 5", "arrival_date": "2026-03-02", "expected_departure": ""}


@pytest.fixture
def web(sqlite_ctx):
    with sqlite_ctx.transaction() as s:
        auth.create_user(s, sqlite_ctx, username="hotel", password=PASSWORD, role="host", host_party=f.HOST_IIN,
                         display_name="Hotel Abai")
        auth.create_user(s, sqlite_ctx, username="employer", password=PASSWORD, role="host", host_party=f.HOST_BIN)
        auth.create_user(s, sqlite_ctx, username="officer", password=PASSWORD, role="officer", regions=["75"])
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


def sign_in(web, username: str) -> None:
    r = web.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def rows(ctx):
    with ctx.transaction() as s:
        return s.execute(sa.select(HostNotification).order_by(HostNotification.id)).scalars().all()


def fill(web, **over):
    form = web.get("/host/notify")
    assert form.status_code == 200
    data = {**GUEST, **over, "csrf_token": hidden(form.text, "csrf_token"),
            "form_token": hidden(form.text, "form_token"), "step": "check"}
    return form, data


def send(web, **over):
    _, data = fill(web, **over)
    check = web.post("/host/notify", data=data)
    assert check.status_code == 200, check.text
    return web.post("/host/notify", data={**data, "step": "submit"}, follow_redirects=False), data


def test_start_page_says_who_when_and_the_penalty(web, sqlite_ctx):
    r = web.get("/host")
    assert r.status_code == 200
    days = sqlite_ctx.pack.notification_deadline_working_days
    assert f"Within {days} working days" in r.text
    penalty = sqlite_ctx.pack.penalty("host_notification")
    assert penalty is not None and f"article {penalty.article}" in r.text
    assert f"{penalty.bands[0].min_units} to {penalty.bands[0].max_units}" in r.text
    assert 'href="/host/notify"' in r.text and "Start now" in r.text
    ru = web.get("/host?lang=ru")
    assert i18n.translations("ru").gettext("Start now") in ru.text and "Start now" not in ru.text


def test_the_form_prefills_the_host_and_offers_towns_and_countries(web):
    sign_in(web, "hotel")
    r = web.get("/host/notify")
    assert f.HOST_IIN in r.text and "Hotel Abai" in r.text
    assert 'name="host_id"' not in r.text  # not a field: the account's party is used
    assert '<option value="Almaty">' in r.text and '<option value="Karaganda, Karaganda Region">' in r.text
    assert '<option value="UZB">Uzbekistan</option>' in r.text
    ru = web.get("/host/notify?lang=ru")
    assert '<option value="UZB">Узбекистан</option>' in ru.text
    assert '<option value="Караганда, Карагандинская область">' in ru.text


def test_town_search_endpoint_answers_htmx_in_the_readers_language(web):
    r = web.get("/host/settlements", params={"settlement": "кара"}, headers={"accept-language": "ru"})
    assert r.status_code == 200 and '<option value="Караганда, Карагандинская область">' in r.text
    assert "Алматы" not in r.text
    assert '<option value="Oskemen, East Kazakhstan Region">' in web.get("/host/settlements?q=Oske").text


def test_check_answers_then_confirmation_with_a_reference(web, sqlite_ctx):
    sign_in(web, "hotel")
    _, data = fill(web, host_id="111111111111", host_name="Impostor")
    check = web.post("/host/notify", data=data)
    assert "Check your answers" in check.text and "Uzbekistan" in check.text and "Change" in check.text
    assert "This notification is late" in check.text  # arrival in March, notified in December
    assert rows(sqlite_ctx) == []  # the check stores nothing
    done = web.post("/host/notify", data={**data, "step": "submit"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/confirmation")
    (row,) = rows(sqlite_ctx)
    assert row.host_name == "Hotel Abai" and row.kato == "750000000"
    assert row.host_id_index == sqlite_ctx.keyring.blind_index(f.HOST_IIN, "host_id")
    page = web.get(done.headers["location"])
    assert row.reference in page.text and "Notification sent" in page.text
    receipt = web.get(f"/host/guests/{row.id}/receipt")
    assert row.reference in receipt.text and 'href="/static/host.css"' in receipt.text
    assert "@media print" in web.get("/static/host.css").text


def test_change_link_returns_to_the_form_with_the_values(web):
    sign_in(web, "hotel")
    _, data = fill(web)
    r = web.post("/host/notify#f-address", data={**data, "step": "", "change": "address"})
    assert r.status_code == 200 and 'id="f-address"' in r.text
    assert 'value="ул. Абая 10, кв. 5"' in r.text and "autofocus" in r.text
    assert hidden(r.text, "form_token") == data["form_token"]


def test_the_same_form_sent_twice_is_stored_once(web, sqlite_ctx):
    sign_in(web, "hotel")
    first, data = send(web)
    again = web.post("/host/notify", data={**data, "step": "submit"}, follow_redirects=False)
    assert again.headers["location"] == first.headers["location"]
    assert len(rows(sqlite_ctx)) == 1


def test_errors_stand_beside_the_fields_and_nothing_is_stored(web, sqlite_ctx):
    sign_in(web, "hotel")
    _, data = fill(web, settlement="Atlantis", surname="", citizenship="")
    r = web.post("/host/notify", data=data)
    assert r.status_code == 422
    assert 'id="e-settlement"' in r.text and "Choose the town or city from the list" in r.text
    assert 'id="e-surname"' in r.text and 'id="e-citizenship"' in r.text
    ru = web.post("/host/notify?lang=ru", data=data)
    assert i18n.translations("ru").gettext("Choose the town or city from the list.") in ru.text
    assert rows(sqlite_ctx) == []


def test_guests_list_detail_correct_cancel_and_departure(web, sqlite_ctx):
    sign_in(web, "hotel")
    send(web)
    send(web, document_number="FA7654321", surname="Каримов", arrival_date="2026-03-05")
    first, second = rows(sqlite_ctx)
    listed = web.get("/host/guests")
    assert "Showing 1 to 2 of 2" in listed.text
    assert listed.text.index("Каримов") < listed.text.index("Абдуллаев")  # newest first
    assert "FA7654321" in listed.text and ">active<" in listed.text
    # correct the first: a new version, the old kept
    form = web.get(f"/host/guests/{first.id}/correct")
    assert 'value="ул. Абая 10, кв. 5"' in form.text and 'value="Almaty"' in form.text
    data = {**GUEST, "address": "ул. Абая 12", "csrf_token": hidden(form.text, "csrf_token"),
            "form_token": hidden(form.text, "form_token"), "step": "submit"}
    done = web.post(f"/host/guests/{first.id}/correct", data=data, follow_redirects=False)
    assert done.status_code == 303
    detail = web.get(done.headers["location"].replace("/confirmation", ""))
    assert "ул. Абая 12" in detail.text and ">superseded<" in detail.text and ">corrected<" in detail.text
    # cancel needs a reason
    current = rows(sqlite_ctx)[-1]
    csrf = hidden(web.get(f"/host/guests/{current.id}/cancel").text, "csrf_token")
    refused = web.post(f"/host/guests/{current.id}/cancel", data={"csrf_token": csrf, "reason": " "})
    assert refused.status_code == 422 and "Say why the notification is cancelled" in refused.text
    ok = web.post(f"/host/guests/{current.id}/cancel", data={"csrf_token": csrf, "reason": "The guest did not come"})
    assert ok.status_code == 200 and "The notification is cancelled" in ok.text and "The guest did not come" in ok.text
    # departure: not before arrival
    refused = web.post(f"/host/guests/{second.id}/departure", data={"csrf_token": csrf, "departed_on": "2026-03-01"})
    assert refused.status_code == 422 and "cannot be before the arrival" in refused.text
    gone = web.post(f"/host/guests/{second.id}/departure", data={"csrf_token": csrf, "departed_on": "2026-03-20"})
    assert ">departed<" in gone.text
    assert len(rows(sqlite_ctx)) == 3  # nothing deleted


def test_pages_in_russian(web):
    sign_in(web, "hotel")
    send(web)
    ru = i18n.translations("ru").gettext
    listed = web.get("/host/guests?lang=ru")
    assert ru("Your guests") in listed.text and ru("active") in listed.text and ru("Your guests") != "Your guests"
    form = web.get("/host/notify?lang=ru")
    assert ru("Arrival notification") in form.text and ru("Town or city") in form.text


def test_another_host_and_an_officer_see_nothing(web, sqlite_ctx):
    sign_in(web, "hotel")
    send(web)
    (row,) = rows(sqlite_ctx)
    web.post("/logout", data={"csrf_token": hidden(web.get("/host/guests").text, "csrf_token")})
    sign_in(web, "employer")
    assert web.get(f"/host/guests/{row.id}").status_code == 404
    assert web.get(f"/host/guests/{row.id}/receipt").status_code == 404
    assert "You have not notified any arrival yet" in web.get("/host/guests").text
    web.post("/logout", data={"csrf_token": hidden(web.get("/host/guests").text, "csrf_token")})
    sign_in(web, "officer")
    assert web.get("/host/guests").status_code == 403
    assert web.get("/host/notify").status_code == 403


def test_old_addresses_lead_to_the_workspace(web):
    sign_in(web, "hotel")
    assert web.get("/notifications/new", follow_redirects=False).headers["location"] == "/host/notify"
    assert web.get("/notifications/mine", follow_redirects=False).headers["location"] == "/host/guests"

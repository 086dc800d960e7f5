"""The REST API on both databases: problem+json errors, nothing stored on bad input, scoping."""

from __future__ import annotations

import re

import factories as f
from conftest_helpers import count
from kosh.people.models import Person
from kosh.platform.i18n import translations
from kosh.stay.models import BorderEvent, HostNotification
from web.conftest import token_for

PROBLEM = "application/problem+json"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_openapi_and_unauthenticated(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/border-events" in spec["paths"] and "/api/v1/stay/calculate" in spec["paths"]
    body = _problem(client.get("/api/v1/stay/overstays"), 401)
    assert body["instance"] == "/api/v1/stay/overstays"


def test_record_event_then_read_status(client, users, ctx):
    h = token_for(client, "admin")
    r = client.post("/api/v1/border-events", json=f.border_event(occurred_at="2026-03-02T09:00:00+05:00"), headers=h)
    assert r.status_code == 201 and r.json()["accepted"] == 1
    pid = r.json()["person_ids"][0]
    st = client.get(f"/api/v1/persons/{pid}/stay", params={"on": "2026-04-04"}, headers=h).json()
    assert st["status"] == "overstay" and st["overstay_days"] == 4 and st["last_lawful_day"] == "2026-03-31"
    assert st["rule"]["code"].startswith("uzbekistan@") and "30 days" in st["rule"]["text"]
    page = client.get("/api/v1/stay/overstays", params={"on": "2026-04-04"}, headers=h).json()
    assert [i["person_id"] for i in page["items"]] == [pid] and page["items"][0]["overstay_days"] == 4


def test_malformed_json_is_a_problem_and_stores_nothing(client, users, ctx):
    h = token_for(client, "admin") | {"content-type": "application/json"}
    body = _problem(client.post("/api/v1/border-events", content=b'{"direction": "entry",', headers=h), 422)
    assert "not valid JSON" in body["errors"][0]["message"]
    assert count(ctx, BorderEvent) == 0


def test_wrong_types_and_bad_values_name_each_field(client, users, ctx):
    h = token_for(client, "admin")
    bad = f.border_event(direction="sideways", nationality="XYZ", birth_date="2090-01-01",
                         occurred_at="not a time", document_number="№!")
    body = _problem(client.post("/api/v1/border-events", json=bad, headers=h), 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) >= {"direction", "nationality", "birth_date", "occurred_at", "document_number"}
    assert "XYZ" in fields["nationality"] and "future" in fields["birth_date"]
    assert count(ctx, BorderEvent) == 0 and count(ctx, Person) == 0


def test_bulk_with_one_bad_event_stores_none(client, users, ctx):
    h = token_for(client, "admin")
    events = [f.border_event(), f.border_event(document_number="FA0000002", checkpoint="NOWHERE")]
    body = _problem(client.post("/api/v1/border-events/bulk", json={"events": events}, headers=h), 422)
    assert body["errors"][0]["field"] == "events[1].checkpoint"
    assert count(ctx, BorderEvent) == 0


def test_invalid_iin_and_mrz(client, users, ctx):
    h = token_for(client, "admin")
    wrong_check = f.HOST_IIN[:-1] + str((int(f.HOST_IIN[-1]) + 1) % 10)
    body = _problem(client.post("/api/v1/notifications", json=f.notification(host_id=wrong_check), headers=h), 422)
    assert body["errors"] == [{"field": "host_id", "label": "Host IIN or BIN",
                               "message": f"has a wrong check digit ({wrong_check[-1]}); check the number"}]
    person = {"surname": "ERIKSSON", "given_names": "ANNA MARIA", "birth_date": "1974-08-12", "citizenship": "SWE",
              "documents": [{"mrz": ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                                     "L898902C37UTO7408122F1204159ZE184226B<<<<<10"]}]}
    body = _problem(client.post("/api/v1/persons", json=person, headers=h), 422)
    assert body["errors"][0]["field"].startswith("documents[0]")
    assert body["errors"][0]["message"] == "the check digit of the document number is wrong: check the lines"
    assert count(ctx, HostNotification) == 0 and count(ctx, Person) == 0


def test_person_from_valid_mrz(client, users, ctx):
    h = token_for(client, "admin")
    person = {"surname": "ERIKSSON", "given_names": "ANNA MARIA", "birth_date": "1974-08-12", "citizenship": "SWE",
              "sex": "F", "documents": [{"mrz": ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                                                 "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]}]}
    r = client.post("/api/v1/persons", json=person, headers=h)
    assert r.status_code == 201, r.text
    doc = r.json()["documents"][0]
    assert doc["number"] == "L898902C3" and doc["issuing_state"] == "UTO"
    assert client.get(f"/api/v1/persons/{r.json()['id']}", headers=h).json()["surname"] == "ERIKSSON"


def test_oversized_body_is_refused(client, users, ctx):
    h = token_for(client, "admin") | {"content-type": "application/json"}
    big = b'{"events": [' + b",".join([b'{"x": "' + b"a" * 1000 + b'"}'] * 6000) + b"]}"
    body = _problem(client.post("/api/v1/border-events/bulk", content=big, headers=h), 413)
    assert "over the limit" in body["detail"]
    assert count(ctx, BorderEvent) == 0
    ru = client.post("/api/v1/border-events/bulk", content=big, headers=h | {"accept-language": "ru"})
    assert ru.status_code == 413 and ru.headers["content-language"] == "ru"
    assert ru.json()["title"] == translations("ru").gettext("Payload too large") != "Payload too large"


def test_scoping_over_http(client, users, ctx):
    admin = token_for(client, "admin")
    r = client.post("/api/v1/notifications", json=f.notification(kato="611010000"), headers=admin)
    pid = r.json()["person_ids"][0]
    _problem(client.get(f"/api/v1/persons/{pid}", headers=token_for(client, "almaty")), 404)
    assert client.get(f"/api/v1/persons/{pid}", headers=token_for(client, "south")).status_code == 200
    _problem(client.get(f"/api/v1/persons/{pid}", headers=token_for(client, "analyst")), 403)
    _problem(client.post("/api/v1/persons/search", json={"q": "Абдуллаев"}, headers=token_for(client, "host")), 403)
    mine = client.get("/api/v1/notifications/mine", headers=token_for(client, "host")).json()
    assert len(mine) == 1  # made as the host's IIN by the admin's batch


def test_login_rate_limit(client, users, ctx):
    for _ in range(5):
        _problem(client.post("/api/v1/auth/tokens", json={"username": "admin", "password": "nope"}), 401)
    body = _problem(client.post("/api/v1/auth/tokens", json={"username": "admin", "password": users}), 429)
    assert body["detail"].startswith("Too many failed sign-ins from this device. Try again in ")


def test_calculator_is_public(client):
    r = client.post("/api/v1/stay/calculate", json={"citizenship": "UZB", "on": "2026-04-01",
                                                    "trips": [{"start": "2026-01-05", "end": "2026-02-10"},
                                                              {"start": "2026-03-01"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days_used"] == 37 + 32 and body["status"] == "overstay"
    _problem(client.post("/api/v1/stay/calculate", json={"citizenship": "XX", "trips": []}), 422)


def test_cookie_post_without_csrf_is_refused(client, users, ctx):
    r = client.post("/login", data={"username": "admin", "password": users}, follow_redirects=False)
    assert r.status_code == 303
    body = _problem(client.post("/api/v1/border-events", json=f.border_event()), 403)
    assert "security token" in body["detail"]
    assert count(ctx, BorderEvent) == 0


def test_auditor_reads_and_verifies_the_trail_others_cannot(client, users, ctx):
    from kosh.platform import auth

    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="auditor", password=users, role="auditor")
    admin = token_for(client, "admin")
    client.post("/api/v1/border-events", json=f.border_event(), headers=admin)
    h = token_for(client, "auditor")
    trail = client.get("/api/v1/audit/records", headers=h).json()
    assert [r["seq"] for r in trail] == list(range(1, len(trail) + 1))
    assert any(r["subject_type"] == "border_event" and r["actor"] == "admin" for r in trail)
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True
    _problem(client.get("/api/v1/audit/records", headers=token_for(client, "almaty")), 403)


def test_list_parameters_are_checked(client, users):
    h = token_for(client, "admin")
    body = _problem(client.get("/api/v1/stay/overstays", params={"region": "7a"}, headers=h), 422)
    assert body["errors"][0]["field"].endswith("region")
    _problem(client.get("/api/v1/stay/overdue-notifications", params={"limit": 0}, headers=h), 422)
    body = _problem(client.get("/api/v1/stay/overstays", params={"cursor": "!!"}, headers=h), 400)
    assert [e["field"] for e in body["errors"]] == ["cursor"]
    _problem(client.get("/api/v1/stay/overstays", params={"region": "61"}, headers=token_for(client, "almaty")), 403)


CYRILLIC = re.compile("[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def test_a_field_error_is_said_in_the_callers_language(client, users, ctx):
    h = {**token_for(client, "admin"), "Accept-Language": "ru"}
    r = client.post("/api/v1/notifications", json=f.notification(kato="75171"), headers=h)
    body = _problem(r, 422)
    assert r.headers["content-language"] == "ru"
    ru = translations("ru").gettext
    assert body["title"] == ru("Validation failed") != "Validation failed"
    (error,) = body["errors"]
    assert error["field"] == "kato"
    assert error["label"] == ru("Settlement") != "Settlement"  # the field's label, in Russian
    message = error["message"]
    # Pydantic's own English ("String should match pattern '^\\d{9}$'") is not what the reader gets
    assert "pattern" not in message and "String should" not in message
    assert CYRILLIC.search(message) and "9" in message
    assert count(ctx, HostNotification) == 0


def test_not_found_is_said_in_the_language_asked_for(client, users):
    h = token_for(client, "admin")
    english = _problem(client.get("/api/v1/persons/999999", headers=h), 404)
    r = client.get("/api/v1/persons/999999", params={"lang": "kk"}, headers=h)
    body = _problem(r, 404)
    assert r.headers["content-language"] == "kk"
    assert body["title"] == translations("kk").gettext("Not found") != english["title"] == "Not found"
    assert body["detail"] != english["detail"] and CYRILLIC.search(body["detail"]) and "999999" in body["detail"]
    assert body["type"] == english["type"] == "urn:kosh:problem:not-found"

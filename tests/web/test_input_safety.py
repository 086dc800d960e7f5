"""No input reaches a 500: calculator dates and open trips, NUL bytes, names that display as
something else, ids past the id columns — each a 4xx problem naming the field, nothing stored;
and timestamps always come back in UTC with their offset. On both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import factories as f
from conftest_helpers import count
from kosh.people.models import Person
from kosh.platform.models import LoginAttempt
from kosh.stay.models import HostNotification
from kosh.web.app import create_app
from web.conftest import token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def client(ctx):
    # raise_server_exceptions=False: a 500 must show as the response the user gets, not a traceback.
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return r.json()


def _fields(r, status: int = 422) -> dict[str, str]:
    return {e["field"]: e["message"] for e in _problem(r, status)["errors"]}


# --- the calculator (no sign-in) --------------------------------------------------------------

def _calc(client, trips, **extra):
    return client.post("/api/v1/stay/calculate", json={"citizenship": "UZB", "trips": trips, **extra})


def test_two_open_ended_trips_are_refused_by_field(client):
    fields = _fields(_calc(client, [{"start": "2026-01-05"}, {"start": "2026-02-01"}], on="2026-03-01"))
    assert "only one trip" in fields["trips"] and "1, 2" in fields["trips"]


def test_an_open_trip_after_the_assessment_day_is_refused(client):
    fields = _fields(_calc(client, [{"start": "2026-05-01"}], on="2026-03-01"))
    assert fields["trips"].startswith("Trip 1 has no exit date but starts after Mar 1, 2026")


@pytest.mark.parametrize("trip, on, field", [
    ({"start": "9999-12-31", "end": "9999-12-31"}, "9999-12-31", "trips[0].start"),
    ({"start": "2026-01-01", "end": "9999-12-31"}, "2026-03-01", "trips[0].end"),
    ({"start": "2026-01-01"}, "9999-12-31", "on"),
    ({"start": "0001-01-01", "end": "0001-01-02"}, "2026-03-01", "trips[0].start"),
])
def test_dates_outside_the_calendar_the_engine_counts_in_are_refused(client, trip, on, field):
    fields = _fields(_calc(client, [trip], on=on))
    assert field in fields
    assert fields[field].endswith(" is outside the dates Kosh accepts (Jan 1, 2000 to Dec 31, 2099)")


def test_the_jurisdictions_own_citizens_are_a_field_error(client):
    body = {"citizenship": "KAZ", "trips": [{"start": "2026-01-01"}]}
    fields = _fields(client.post("/api/v1/stay/calculate", json=body))
    assert "not foreigners" in fields["citizenship"]


def test_a_planned_trip_up_to_the_last_day_still_answers(client):
    r = _calc(client, [{"start": "2099-12-01", "end": "2099-12-31"}], on="2099-11-30")
    assert r.status_code == 200, r.text


# --- NUL bytes --------------------------------------------------------------------------------

def test_a_nul_in_a_username_is_refused_not_looked_up(client, users, ctx):
    fields = _fields(client.post("/api/v1/auth/tokens", json={"username": "ad\x00min", "password": "x"}))
    assert "NUL" in fields["username"]
    page = client.post("/login", data={"username": "ad\x00min", "password": "x"})
    assert page.status_code == 422 and "character that is not allowed" in page.text
    assert count(ctx, LoginAttempt) == 0


@pytest.mark.parametrize("field", ["surname", "given_names", "host_name", "address", "source_event_id"])
def test_a_nul_in_any_text_field_names_the_field_and_stores_nothing(client, users, ctx, field):
    value = {"surname": "ABDU\x00LLAYEV", "given_names": "SHUKH\x00RAT", "host_name": "ТОО\x00 Альфа",
             "address": "Алматы, ул. Абая\x00 1", "source_event_id": "N-\x001"}[field]
    r = client.post("/api/v1/notifications", json=f.notification(**{field: value}), headers=token_for(client, "admin"))
    assert "NUL" in _fields(r)[field]
    assert count(ctx, HostNotification) == 0 and count(ctx, Person) == 0


def test_a_nul_in_a_path_or_query_is_a_bad_request(client, users):
    h = token_for(client, "admin")
    for url in ("/api/v1/persons/ab%00cd", "/api/v1/persons/ab%00cd/stay", "/api/v1/stay/overstays?cursor=%00x"):
        body = _problem(client.get(url, headers=h), 400)
        assert "NUL" in body["detail"]


# --- names that display as something else -----------------------------------------------------

@pytest.mark.parametrize("surname, says", [
    ("\u200b\u200c\u200d", "has no visible characters"),
    ("\u2060\ufeff", "has no visible characters"),
    ("\u3164", "has no visible characters"),
    ("ABDU\u202eVEYALL", "contains a bidirectional control character (U+202E)"),
    ("\u2066ABDULLAYEV\u2069", "contains a bidirectional control character (U+2066)"),
    ("ABDU\x07LLAYEV", "contains a control character (U+0007)"),
])
def test_a_person_name_that_hides_or_reorders_text_is_refused(client, users, ctx, surname, says):
    h = token_for(client, "admin")
    person = {"surname": surname, "birth_date": "1990-01-01", "citizenship": "UZB",
              "documents": [{"number": "FA7000001", "issuing_state": "UZB"}]}
    errors = _problem(client.post("/api/v1/persons", json=person, headers=h), 422)["errors"]
    (error,) = [e for e in errors if e["field"] == "surname"]
    # the field is named by its label beside the message, not inside it
    assert error["label"] == "Surname" and error["message"].startswith(says)
    assert count(ctx, Person) == 0


def test_host_names_and_addresses_are_checked_too(client, users, ctx):
    h = token_for(client, "admin")
    fields = _fields(client.post("/api/v1/notifications", headers=h, json=f.notification(
        host_name="\u200b\u200b\u200b", address="ул. Абая 1\u202e")))
    assert "no visible characters" in fields["host_name"] and "bidirectional" in fields["address"]
    assert count(ctx, HostNotification) == 0


def test_a_name_joined_with_zero_width_joiners_and_a_two_line_address_are_kept(client, users):
    r = client.post("/api/v1/notifications", headers=token_for(client, "admin"), json=f.notification(
        given_names="Мехр\u200cали", address="Алматы,\nул. Абая 1"))
    assert r.status_code == 201, r.text


# --- ids past the id columns ------------------------------------------------------------------

@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_past_the_id_columns_are_refused_before_any_query(client, users, big):
    h = token_for(client, "admin")
    calls = [client.post(f"/api/v1/merges/{big}/undo", json={"reason": "x"}, headers=h),
             client.get(f"/api/v1/identity/candidates/{big}", headers=h),
             client.post(f"/api/v1/identity/candidates/{big}/decision", json={"decision": "defer", "reason": "x"},
                         headers=h),
             client.get("/api/v1/audit/records", params={"after_seq": big}, headers=h)]
    for r in calls:
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    page = client.get(f"/identity/review/{big}", headers=h)
    assert page.status_code == 422


def test_the_largest_id_is_still_simply_not_found(client, users):
    h = token_for(client, "admin")
    _problem(client.get(f"/api/v1/identity/candidates/{2**31 - 1}", headers=h), 404)
    _problem(client.post(f"/api/v1/merges/{2**31 - 1}/undo", json={"reason": "x"}, headers=h), 404)


# --- timestamps -------------------------------------------------------------------------------

def _utc(value: str) -> bool:
    return value.endswith("Z") or value.endswith("+00:00")


def test_merge_candidate_and_audit_times_come_back_in_utc_with_their_offset(client, users, ctx):
    ctx.settings.identity_link_at_ingest = False  # so that the scan queues the pair
    h = token_for(client, "admin")
    a = client.post("/api/v1/border-events", headers=h, json=f.border_event(
        document_number="FA1000001", checkpoint="ALA-AIRPORT")).json()["person_ids"][0]
    client.post("/api/v1/notifications", headers=h, json=f.notification(document_number="FB2000002",
                                                                         kato="751700000"))
    assert client.post("/api/v1/identity/scan", headers=h).json() == {"queued": 1}
    (cand,) = client.get("/api/v1/identity/candidates", headers=h).json()
    assert _utc(cand["created_at"]), cand
    decided = client.post(f"/api/v1/identity/candidates/{cand['id']}/decision", headers=h,
                          json={"decision": "accept", "reason": "same man"}).json()
    assert _utc(decided["created_at"]) and _utc(decided["decided_at"]), decided
    (merge,) = client.get(f"/api/v1/persons/{a}/merges", headers=h).json()
    undone = client.post(f"/api/v1/merges/{merge['id']}/undo", json={"reason": "not him"}, headers=h).json()
    assert _utc(merge["decided_at"]) and _utc(undone["undone_at"]), undone
    records = client.get("/api/v1/audit/records", headers=h).json()
    assert records and all(_utc(r["at"]) for r in records)

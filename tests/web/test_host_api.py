"""The host workspace's API: submit, list (paged, totals), read with versions, correct, cancel,
report departure; problem+json errors; Idempotency-Key on every POST."""

from __future__ import annotations

import sqlalchemy as sa

import factories as f
from kosh.stay.models import HostNotification
from web.conftest import token_for

BODY = {k: v for k, v in f.notification().items()
        if k not in ("source_event_id", "host_kind", "host_id", "host_name", "submitted_at")}


def _count(ctx) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(HostNotification)).scalar_one()


def test_host_submits_lists_reads_corrects_cancels_and_reports_departure(client, users, ctx):
    h = token_for(client, "host")
    made = client.post("/api/v1/host/notifications", json=BODY, headers=h)
    assert made.status_code == 201, made.text
    first = made.json()
    assert first["status"] == "active" and first["reference"].startswith("KZ-")
    assert first["guest"]["document_number"] == BODY["document_number"] and "person_id" not in first
    other = client.post("/api/v1/host/notifications", json={**BODY, "document_number": "FA7654321"}, headers=h).json()
    page = client.get("/api/v1/host/guests?per_page=1", headers=h).json()
    assert (page["total"], page["pages"], [i["id"] for i in page["items"]]) == (2, 2, [other["id"]])
    fixed = client.post(f"/api/v1/host/guests/{first['id']}/correction", json={**BODY, "address": "Алматы, 12"},
                        headers=h)
    assert fixed.status_code == 201 and fixed.json()["version"] == 2 and fixed.json()["status"] == "corrected"
    seen = client.get(f"/api/v1/host/guests/{first['id']}", headers=h).json()
    assert [v["status"] for v in seen["versions"]] == ["superseded", "corrected"]
    assert seen["current"]["id"] == fixed.json()["id"]
    gone = client.post(f"/api/v1/host/guests/{other['id']}/departure", json={"departed_on": "2026-03-20"}, headers=h)
    assert gone.status_code == 200 and gone.json()["status"] == "departed"
    cancelled = client.post(f"/api/v1/host/guests/{fixed.json()['id']}/cancellation",
                            json={"reason": "The guest did not come"}, headers=h)
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "The guest did not come"
    assert _count(ctx) == 3


def test_errors_are_problems_and_store_nothing(client, users, ctx):
    h = token_for(client, "host")
    made = client.post("/api/v1/host/notifications", json=BODY, headers=h).json()
    for path, body, status, field in [
        (f"/api/v1/host/guests/{made['id']}/cancellation", {"reason": "   "}, 422, "reason"),
        (f"/api/v1/host/guests/{made['id']}/departure", {"departed_on": "2026-03-01"}, 422, "departed_on"),
        ("/api/v1/host/notifications", {**BODY, "kato": "123"}, 422, "kato"),
    ]:
        r = client.post(path, json=body, headers=h)
        assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    missing = client.get("/api/v1/host/guests/999999", headers=h)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert _count(ctx) == 1


def test_another_host_and_an_officer_get_nothing(client, users, ctx):
    from kosh.platform import auth

    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="employer", password=users, role="host", host_party=f.HOST_BIN)
    made = client.post("/api/v1/host/notifications", json=BODY, headers=token_for(client, "host")).json()
    e = token_for(client, "employer")
    assert client.get(f"/api/v1/host/guests/{made['id']}", headers=e).status_code == 404
    assert client.post(f"/api/v1/host/guests/{made['id']}/cancellation", json={"reason": "x"},
                       headers=e).status_code == 404
    assert client.get("/api/v1/host/guests", headers=e).json()["total"] == 0
    assert client.get("/api/v1/host/guests", headers=token_for(client, "almaty")).status_code == 403


def test_idempotency_key_answers_a_retry_once_and_refuses_another_body(client, users, ctx):
    h = {**token_for(client, "host"), "Idempotency-Key": "retry-7f3a"}
    first = client.post("/api/v1/host/notifications", json=BODY, headers=h)
    again = client.post("/api/v1/host/notifications", json=BODY, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert _count(ctx) == 1
    clash = client.post("/api/v1/host/notifications", json={**BODY, "address": "elsewhere 1"}, headers=h)
    assert clash.status_code == 409 and clash.headers["content-type"].startswith("application/problem+json")
    assert _count(ctx) == 1
    bad = client.post("/api/v1/host/notifications", json=BODY, headers={**h, "Idempotency-Key": "has space"})
    assert bad.status_code == 422


def test_idempotency_key_on_the_notifications_endpoint(client, users, ctx):
    h = {**token_for(client, "host"), "Idempotency-Key": "n-1"}
    body = {k: v for k, v in f.notification().items() if k not in ("source_event_id", "submitted_at")}
    first = client.post("/api/v1/notifications", json=body, headers=h)
    again = client.post("/api/v1/notifications", json=body, headers=h)
    assert first.status_code == again.status_code == 201 and first.json()["accepted"] == 1
    assert again.json() == first.json() and _count(ctx) == 1
    clash = client.post("/api/v1/notifications", json={**body, "address": "elsewhere 1"}, headers=h)
    assert clash.status_code == 409 and _count(ctx) == 1
    # without a key, each call is a new notification (no source id given: each gets its own)
    client.post("/api/v1/notifications", json=body, headers=token_for(client, "host"))
    assert _count(ctx) == 2

"""Merging and unmerging persons over the API, on both databases."""

from __future__ import annotations

import factories as f
from web.conftest import token_for

PROBLEM = "application/problem+json"


def _two(client, h) -> tuple[str, str]:
    a = client.post("/api/v1/border-events", json=f.border_event(
        document_number="FA1000001", occurred_at="2026-03-02T09:00:00+05:00", checkpoint="ALA-AIRPORT"), headers=h)
    b = client.post("/api/v1/border-events", json=f.border_event(
        document_number="FB2000002", direction="exit", occurred_at="2026-03-20T09:00:00+05:00",
        checkpoint="ALA-AIRPORT"), headers=h)
    return a.json()["person_ids"][0], b.json()["person_ids"][0]


def test_merge_read_and_undo_over_the_api(client, users, ctx):
    h = token_for(client, "almaty")
    a, b = _two(client, token_for(client, "admin"))  # crossings come from the feed, not from officers
    before = client.get(f"/api/v1/persons/{a}/stay", params={"on": "2026-04-20"}, headers=h).json()
    r = client.post(f"/api/v1/persons/{b}/merge", json={"other": a, "reason": "second passport"}, headers=h)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["kept_id"], m["merged_id"], m["reason"]) == (a, b, "second passport")
    person = client.get(f"/api/v1/persons/{b}", headers=h).json()
    assert person["id"] == a and len(person["documents"]) == 2
    after = client.get(f"/api/v1/persons/{b}/stay", params={"on": "2026-04-20"}, headers=h).json()
    assert before["in_country"] and not after["in_country"]
    listed = client.get(f"/api/v1/persons/{a}/merges", headers=h).json()
    assert [x["id"] for x in listed] == [m["id"]]
    undone = client.post(f"/api/v1/merges/{m['id']}/undo", json={"reason": "not him"}, headers=h)
    assert undone.status_code == 200 and undone.json()["undone_by"] == "almaty"
    assert client.get(f"/api/v1/persons/{b}", headers=h).json()["id"] == b


def test_merge_errors_are_problems(client, users, ctx):
    admin = token_for(client, "admin")
    a, b = _two(client, admin)
    r = client.post(f"/api/v1/persons/{a}/merge", json={"other": b}, headers=admin)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert {e["field"] for e in r.json()["errors"]} == {"reason"}
    r = client.post(f"/api/v1/persons/{a}/merge", json={"other": b, "reason": "x"},
                    headers=token_for(client, "analyst"))
    assert r.status_code == 403 and "merge or unmerge persons" in r.json()["detail"]
    r = client.post(f"/api/v1/persons/{a}/merge", json={"other": b, "reason": "x"}, headers=token_for(client, "south"))
    assert r.status_code == 404  # outside the officer's regions, as if absent
    r = client.post(f"/api/v1/persons/{a}/merge", json={"other": a, "reason": "x"}, headers=admin)
    assert r.status_code == 409
    r = client.post("/api/v1/merges/12345/undo", json={"reason": "x"}, headers=admin)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    # nothing was merged by any refused call
    assert client.get(f"/api/v1/persons/{a}/merges", headers=admin).json() == []


def test_review_queue_over_the_api(client, users, ctx):
    ctx.settings.identity_link_at_ingest = False  # so that the scan finds the pair
    h = token_for(client, "almaty")
    a = client.post("/api/v1/border-events", json=f.border_event(
        document_number="FA1000001", checkpoint="ALA-AIRPORT"),
        headers=token_for(client, "admin")).json()["person_ids"][0]
    b = client.post("/api/v1/notifications", json=f.notification(document_number="FB2000002", kato="751700000"),
                    headers=token_for(client, "admin")).json()["person_ids"][0]
    assert client.post("/api/v1/identity/scan", headers=h).json() == {"queued": 1}
    (cand,) = client.get("/api/v1/identity/candidates", headers=h).json()
    detail = client.get(f"/api/v1/identity/candidates/{cand['id']}", headers=h).json()
    assert {detail["a"]["id"], detail["b"]["id"]} == {a, b}
    assert {e["field"] for e in detail["evidence"]} == {"prior", "surname", "given_names", "patronymic", "birth_date",
                                                        "document", "sex", "citizenship"}
    bad = client.post(f"/api/v1/identity/candidates/{cand['id']}/decision", json={"decision": "maybe", "reason": "x"},
                      headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "decision"
    ok = client.post(f"/api/v1/identity/candidates/{cand['id']}/decision",
                     json={"decision": "accept", "reason": "same man"}, headers=h)
    assert ok.status_code == 200 and ok.json()["status"] == "accepted" and ok.json()["merge_id"]
    assert client.get("/api/v1/identity/candidates", headers=h).json() == []
    assert client.get(f"/api/v1/persons/{b}", headers=h).json()["id"] == a
    assert client.get("/api/v1/identity/candidates", headers=token_for(client, "analyst")).status_code == 403

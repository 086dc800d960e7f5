"""GET /api/v1/persons/{id}/stay over HTTP, on both databases: who may ask, problem+json
answers, the response headers, and one audit record per answer."""

from __future__ import annotations

import sqlalchemy as sa

import factories as f
from kosh.platform.models import AuditRecord
from web.conftest import token_for

PROBLEM = "application/problem+json"


def _person(client, h) -> str:
    r = client.post("/api/v1/notifications", json=f.notification(kato="751710000"), headers=h)
    assert r.status_code == 201, r.text
    return r.json()["person_ids"][0]


def _audited(ctx) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(AuditRecord)
                         .where(AuditRecord.detail.contains('"view": "status"'))).scalar_one()


def test_status_answer_headers_and_audit(client, users, ctx):
    admin = token_for(client, "admin")
    pid = _person(client, admin)
    almaty = token_for(client, "almaty")
    r = client.get(f"/api/v1/persons/{pid}/stay", params={"on": "2026-03-10"}, headers=almaty)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"on", "citizenship", "status", "in_country", "current_entry", "days_used", "days_left",
                         "last_lawful_day", "overstay_days", "deadlines", "violations", "rule", "reasons"}
    assert body["on"] == "2026-03-10" and body["citizenship"] == "UZB"
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    client.get(f"/api/v1/persons/{pid}/stay", headers=almaty)  # the cached credential, again
    assert _audited(ctx) == 2


def test_status_refusals_are_problems(client, users, ctx):
    admin = token_for(client, "admin")
    pid = _person(client, admin)
    cases = [({}, 401), ({"authorization": "Bearer nonsense"}, 401), (token_for(client, "south"), 404),
             (token_for(client, "analyst"), 403), (token_for(client, "host"), 403)]
    for headers, status in cases:
        r = client.get(f"/api/v1/persons/{pid}/stay", headers=headers)
        assert r.status_code == status, (headers, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["instance"] == f"/api/v1/persons/{pid}/stay"
        assert r.headers["x-content-type-options"] == "nosniff"
    # The credential is checked before the query: a bad date without one is still a 401.
    assert client.get(f"/api/v1/persons/{pid}/stay", params={"on": "soon"}).status_code == 401
    assert client.get(f"/api/v1/persons/{pid}/stay", params={"on": "soon"}, headers=admin).status_code == 422
    assert "in your regions" in client.get(f"/api/v1/persons/{pid}/stay",
                                           headers=token_for(client, "south")).json()["detail"]
    assert _audited(ctx) == 0


def test_api_docs_page_allows_its_inline_styles_only(client):
    csp = client.get("/api/v1/docs").headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp and "script-src 'self';" in csp
    assert client.get("/calculator").headers.get("cache-control") is None


def test_a_past_overstay_is_a_violation_not_todays_status(client, users, ctx):
    """Entered 2026-03-02, left 2026-04-15 (44 days; day 31 is Apr 1, so Apr 1–15 is 15 days past
    30 per entry), back on 2026-06-01: on 2026-06-03 the migrant is lawfully present, and the past
    overstay is listed with its first and last day."""
    admin = token_for(client, "admin")
    for direction, day in (("entry", "2026-03-02"), ("exit", "2026-04-15"), ("entry", "2026-06-01")):
        r = client.post("/api/v1/border-events", headers=admin,
                        json=f.border_event(direction=direction, occurred_at=f"{day}T09:00:00+05:00"))
        assert r.status_code == 201, r.text
    pid = _person(client, admin)
    body = client.get(f"/api/v1/persons/{pid}/stay", params={"on": "2026-06-03"}, headers=admin).json()
    assert body["status"] in ("lawful", "notification_overdue") and body["overstay_days"] == 0
    assert body["violations"] == [{"kind": "per_entry", "kind_text": "past the limit per entry",
                                   "first_day": "2026-04-01", "last_day": "2026-04-15", "days": 15,
                                   "stay_entry": "2026-03-02", "planned": False, "due": None, "filed": None,
                                   "text": None}]
    page = client.get(f"/persons/{pid}", params={"on": "2026-06-03", "lang": "ru"}, headers=admin)
    assert "Нарушения" in page.text and "превышен срок на один въезд" in page.text

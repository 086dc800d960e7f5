"""The work-permit API end to end, on SQLite and PostgreSQL: an employer registers and applies,
the akimat approves, the employer pays the fee, the akimat issues; failed checks are a 422
problem naming each check in the caller's language; scope (another region's akimat, another
employer), illegal steps, quotas set and moved by the ministry only, the public check of a
permit's signed code (revoked after revocation, an altered code refused), reminders and the
workforce."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

import factories as f
from kosh.permits import api as permits_api
from kosh.permits import signing
from kosh.platform import auth
from kosh.platform.i18n import gettext_for
from kosh.platform.identifiers import bin as bin_rules
from kosh.web.app import create_app
from web.conftest import PASSWORD, token_for

BIN = next(b for s in range(1, 50) if (b := bin_rules.make(2018, 2, "4", "0", s)))  # a valid BIN
TODAY = dt.date(2026, 3, 2)
PROBLEM = "application/problem+json"


@pytest.fixture
def client(ctx, monkeypatch):
    monkeypatch.setattr(permits_api, "today", lambda _ctx: TODAY)
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def h(ctx, client) -> dict[str, dict[str, str]]:
    """Bearer headers of each user: employer, rival (another employer), almaty and astana
    (akimats), ministry."""
    with ctx.transaction() as s:
        for name, role, regions, party in [("employer", "employer", [], BIN), ("rival", "employer", [], f.HOST_BIN),
                                           ("almaty", "akimat", ["75"], None), ("astana", "akimat", ["71"], None),
                                           ("ministry", "ministry", [], None)]:
            auth.create_user(s, ctx, username=name, password=PASSWORD, role=role, regions=regions, host_party=party)
    return {name: token_for(client, name) for name in ("employer", "rival", "almaty", "astana", "ministry")}


def _worker(n: int, region: str = "75") -> dict:
    return {"surname": f"Karimov{chr(65 + n)}", "given_names": "Aziz", "birth_date": f"1990-01-0{1 + n % 9}",
            "citizenship": "UZB", "document_number": f"FA{1000000 + n}", "issuing_state": "UZB",
            "work_region": region, "sex": "M"}


def _application(workers: list[dict], **over) -> dict:
    return {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-01", "term_months": 12, "starts_on": "2026-03-10", "staff_total": 100,
            "staff_citizens": 95, "workers": workers, **over}


def _quota(client, h, region: str, places: int, category: str = "3") -> None:
    r = client.put(f"/api/v1/quotas/2026/{region}/{category}", json={"allowed": places, "reason": "2026 decree"},
                   headers=h["ministry"])
    assert r.status_code == 200, r.text


def _register(client, h, who: str = "employer") -> None:
    r = client.put("/api/v1/employers/me", json={"employer_name": "Qurylys LLP", "region": "75",
                                                 "sector": "construction"}, headers=h[who])
    assert r.status_code == 200, r.text


def _apply(client, h, workers: list[dict], **over) -> dict:
    r = client.post("/api/v1/permits", json=_application(workers, **over), headers=h["employer"])
    assert r.status_code == 201, r.text
    return r.json()


def _step(client, h, who: str, ref: str, step: str, status: int = 200, **body) -> dict:
    r = client.post(f"/api/v1/permits/{ref}/steps", json={"step": step, **body}, headers=h[who])
    assert r.status_code == status, r.text
    return r.json()


def _issued(client, h) -> dict:
    _quota(client, h, "75", 5)
    _register(client, h)
    made = _apply(client, h, [_worker(1), _worker(2)])
    _step(client, h, "almaty", made["reference"], "approve")
    _step(client, h, "employer", made["reference"], "pay_fee")
    return _step(client, h, "almaty", made["reference"], "issue")


def test_employer_applies_akimat_approves_employer_pays_akimat_issues(client, h):
    _quota(client, h, "75", 5)
    missing = client.get("/api/v1/employers/me", headers=h["employer"])
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    _register(client, h)
    me = client.get("/api/v1/employers/me?lang=ru", headers=h["employer"]).json()
    assert (me["kind"], me["party_tail"], me["sector"]) == ("organisation", BIN[-4:], "construction")
    assert me["sector_text"] != "construction"  # said in Russian

    preview = client.post("/api/v1/permits/checks", json=_application([_worker(1), _worker(2)]),
                          headers=h["employer"]).json()
    assert preview["passed"] is True
    assert [c["name"] for c in preview["checks"]] == ["vacancy_posting", "local_content", "term", "quota"]
    assert preview["checks"][0]["source"]["document"] == "docs/sources/kazakhstan-rules.md"

    made = client.post("/api/v1/permits", json=_application([_worker(1), _worker(2)]), headers=h["employer"])
    assert made.status_code == 201, made.text
    ref = made.json()["reference"]
    assert made.headers["location"] == f"/api/v1/permits/{ref}"
    assert made.json()["state"] == "checked" and made.json()["regions"] == {"75": 2}

    queue = client.get("/api/v1/permits?state=checked&region=75", headers=h["almaty"]).json()
    assert [p["reference"] for p in queue["items"]] == [ref] and queue["total"] == 1
    seen = client.get(f"/api/v1/permits/{ref}", headers=h["almaty"]).json()
    steps = {s["step"]: s for s in seen["steps"]}
    assert {"approve", "return", "refuse"} <= set(steps) and steps["refuse"]["reasons"]
    assert [w["name"] for w in seen["workers"]] == ["KarimovB Aziz", "KarimovC Aziz"]
    assert all(w["person_id"] is None for w in seen["workers"])  # an akimat reads no person records
    assert [r["kind"] for r in seen["reminders"]] == ["decision_due"]

    approved = _step(client, h, "almaty", ref, "approve")
    assert approved["state"] == "approved" and approved["fee_due_on"] == "2026-03-17"
    feed = client.get("/api/v1/permits/reminders", headers=h["employer"]).json()
    assert [(r["kind"], r["reference"], r["due"], r["late"]) for r in feed["items"]] == [
        ("fee_due", ref, "2026-03-17", False)]

    assert _step(client, h, "employer", ref, "pay_fee")["state"] == "fee_paid"
    issued = _step(client, h, "almaty", ref, "issue")
    assert (issued["state"], issued["valid_from"], issued["valid_to"]) == ("issued", "2026-03-10", "2027-03-09")

    team = client.get("/api/v1/employers/me/workforce", headers=h["employer"]).json()
    assert team["total"] == 2
    assert {(w["reference"], w["state"], w["work_region"], w["valid_to"]) for w in team["items"]} == {
        (ref, "issued", "75", "2027-03-09")}
    quotas = client.get("/api/v1/quotas?year=2026", headers=h["ministry"]).json()
    assert [(c["region"], c["category"], c["allowed"], c["used"], c["free"]) for c in quotas["items"]] == [
        ("75", "3", 5, 2, 3)]
    assert quotas["totals"][0]["used"] == 2
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()
    assert [a["step"] for a in detail["actions"]] == ["submit", "check", "approve", "pay_fee", "issue"]
    assert detail["steps"] == [{"step": "request_extension", "text": "ask to extend the permit", "reasons": []}]


def test_failed_checks_are_a_422_problem_naming_each_check_in_russian(client, h, ctx):
    _quota(client, h, "75", 5)
    _register(client, h)
    r = client.post("/api/v1/permits?lang=ru", json=_application([_worker(1)], vacancy_posted_on="2026-02-20",
                                                                  staff_citizens=80), headers=h["employer"])
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["type"] == "urn:kosh:problem:checks-failed" and r.headers["content-language"] == "ru"
    errors = {e["field"]: e for e in problem["errors"]}
    assert set(errors) == {"vacancy_posting", "local_content"}
    ru = gettext_for("ru")
    assert errors["vacancy_posting"]["label"] == ru("Vacancy posting") != "Vacancy posting"
    assert errors["local_content"]["label"] == ru("Citizens' share of the staff")
    assert "вакансия" in errors["vacancy_posting"]["message"].lower() and "15" in errors["vacancy_posting"]["message"]
    assert "90" in errors["local_content"]["message"] and "80" in errors["local_content"]["message"]
    # Accept-Language works as ?lang= does; nothing was stored
    again = client.post("/api/v1/permits", json=_application([_worker(1)], staff_citizens=80),
                        headers={**h["employer"], "Accept-Language": "ru-RU,ru;q=0.9"})
    assert again.status_code == 422 and again.json()["errors"][0]["label"] == ru("Citizens' share of the staff")
    assert client.get("/api/v1/permits", headers=h["employer"]).json()["total"] == 0
    preview = client.post("/api/v1/permits/checks?lang=ru", json=_application([_worker(1)], staff_citizens=80),
                          headers=h["employer"]).json()
    assert preview["passed"] is False
    assert [c["outcome"] for c in preview["checks"]] == ["passed", "failed", "passed", "passed"]


def test_scope_another_regions_akimat_may_not_decide_another_employer_sees_nothing(client, h):
    _quota(client, h, "75", 5)
    _quota(client, h, "71", 5)
    _register(client, h)
    _register(client, h, "rival")
    made = _apply(client, h, [_worker(1, "75"), _worker(2, "75"), _worker(3, "71")])
    ref = made["reference"]
    assert made["lead_region"] == "75"
    # Astana sees the permit (a worker of it works there) but Almaty, the lead region, decides
    assert client.get(f"/api/v1/permits/{ref}", headers=h["astana"]).status_code == 200
    refused = client.post(f"/api/v1/permits/{ref}/steps", json={"step": "approve"}, headers=h["astana"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
    # another employer: neither the permit nor a step on it
    for r in (client.get(f"/api/v1/permits/{ref}", headers=h["rival"]),
              client.post(f"/api/v1/permits/{ref}/steps", json={"step": "pay_fee"}, headers=h["rival"])):
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert client.get("/api/v1/permits", headers=h["rival"]).json()["total"] == 0
    assert client.get("/api/v1/permits/reminders", headers=h["rival"]).json()["items"] == []
    # an employer does not decide its own application
    assert client.post(f"/api/v1/permits/{ref}/steps", json={"step": "approve"},
                       headers=h["employer"]).status_code == 403
    assert _step(client, h, "almaty", ref, "approve")["state"] == "approved"


def test_an_illegal_step_is_a_409_naming_the_state(client, h):
    _quota(client, h, "75", 5)
    _register(client, h)
    ref = _apply(client, h, [_worker(1)])["reference"]
    r = client.post(f"/api/v1/permits/{ref}/steps", json={"step": "pay_fee"}, headers=h["employer"])
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert "application checked" in r.json()["detail"]
    ru = client.post(f"/api/v1/permits/{ref}/steps?lang=ru", json={"step": "issue"}, headers=h["almaty"])
    assert ru.status_code == 409 and gettext_for("ru")("application checked") in ru.json()["detail"]
    # a reason is required to refuse, and must be one of the pack's
    bad = client.post(f"/api/v1/permits/{ref}/steps", json={"step": "refuse", "reason_code": "whim"},
                      headers=h["almaty"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason_code"
    assert client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()["permit"]["state"] == "checked"


def test_quotas_are_set_and_moved_by_the_ministry_only(client, h):
    _quota(client, h, "75", 10)
    moved = client.post("/api/v1/quotas/2026/redistribute", json={
        "category": "3", "from_region": "75", "to_region": "71", "places": 4, "reason": "Astana's building season"},
        headers=h["ministry"])
    assert moved.status_code == 200, moved.text
    assert {(c["region"], c["allowed"]) for c in moved.json()["items"]} == {("75", 6), ("71", 4)}
    assert moved.json()["totals"] == [{"category": "3", "category_text": "category 3 (specialists)", "allowed": 10,
                                       "reserved": 0, "used": 0, "free": 10}]
    too_many = client.post("/api/v1/quotas/2026/redistribute", json={
        "category": "3", "from_region": "75", "to_region": "71", "places": 7, "reason": "more"}, headers=h["ministry"])
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "places"
    for r in (client.put("/api/v1/quotas/2026/75/3", json={"allowed": 50}, headers=h["almaty"]),
              client.post("/api/v1/quotas/2026/redistribute", json={
                  "category": "3", "from_region": "75", "to_region": "71", "places": 1, "reason": "x"},
                  headers=h["almaty"]),
              client.put("/api/v1/quotas/2026/75/3", json={"allowed": 50}, headers=h["employer"])):
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    seen = client.get("/api/v1/quotas?year=2026&region=75", headers=h["almaty"])
    assert seen.status_code == 200 and [c["allowed"] for c in seen.json()["items"]] == [6]
    assert client.get("/api/v1/quotas", headers=h["employer"]).status_code == 403


def test_the_public_check_accepts_a_genuine_code_says_revoked_and_refuses_an_altered_one(client, h, ctx):
    permit = _issued(client, h)
    code = signing.encode(signing.PermitPayload(
        reference=permit["reference"], holder="KARIMOVB AZIZ", document_tail="0001", citizenship="UZB",
        employer="Qurylys LLP", employer_id_tail=BIN[-4:], channel="employer_quota", category="3", regions=("75",),
        valid_from=dt.date.fromisoformat(permit["valid_from"]), valid_to=dt.date.fromisoformat(permit["valid_to"]),
        issued_on=TODAY, key_id=signing.permit_key_id(ctx.keyring)), ctx.keyring)
    before = client.post("/api/v1/public/permits/verify", json={"token": code})  # no sign-in
    assert before.status_code == 200, before.text
    assert before.json()["state"] == "issued" and before.json()["holder"] == "KARIMOVB AZIZ"
    assert before.json()["valid"] is False and "2026" in before.json()["message"]  # in force from 10 March
    reason = ctx.pack.permits.reasons_for("revoke")[0].code
    _step(client, h, "almaty", permit["reference"], "revoke", reason_code=reason)
    after = client.post("/api/v1/public/permits/verify?lang=uz", json={"token": code})
    assert after.status_code == 200 and after.json()["state"] == "revoked" and after.json()["valid"] is False
    english = client.post("/api/v1/public/permits/verify", json={"token": code}).json()
    assert "revoked" in english["message"] and english["state_text"] == "permit revoked"
    prefix, body, signature = code.split(".")
    altered = ".".join((prefix, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], signature))
    for token in (altered, "not a code", code[:-3]):
        bad = client.post("/api/v1/public/permits/verify", json={"token": token})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
        assert bad.json()["errors"][0]["field"] == "token"
    in_uzbek = client.post("/api/v1/public/permits/verify", json={"token": altered}, headers={"accept-language": "uz"})
    assert in_uzbek.headers["content-language"] == "uz"  # a public route: the six public languages
    assert in_uzbek.json()["errors"][0]["message"] != bad.json()["errors"][0]["message"]


def test_reminders_feed_and_detail_show_the_extension_window(client, h, monkeypatch):
    permit = _issued(client, h)
    ref = permit["reference"]
    valid_to = dt.date.fromisoformat(permit["valid_to"])
    monkeypatch.setattr(permits_api, "today", lambda _ctx: valid_to - dt.timedelta(days=45))
    feed = client.get("/api/v1/permits/reminders?lang=ru", headers=h["employer"]).json()
    assert [(r["kind"], r["due"]) for r in feed["items"]] == [
        ("extension_window", (valid_to - dt.timedelta(days=30)).isoformat())]
    assert ref in feed["items"][0]["message"] and feed["items"][0]["kind_text"] != "Extension window"
    assert client.get("/api/v1/permits/reminders", headers=h["almaty"]).json()["items"][0]["reference"] == ref
    asked = _step(client, h, "employer", ref, "request_extension")
    assert asked["state"] == "issued"
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()
    assert detail["extension_requested"] is True and detail["reminders"] == []
    assert client.get("/api/v1/permits/reminders", headers=h["employer"]).json()["items"] == []


def test_bad_input_is_a_problem_never_a_server_error(client, h):
    _register(client, h)
    for method, path, body in [
        ("post", "/api/v1/permits", _application([_worker(1)], starts_on="9999-12-01")),
        ("post", "/api/v1/permits/checks", _application([_worker(1)], first_start="0001-01-01", category="4")),
        ("post", "/api/v1/permits", _application([_worker(1, "99")])),
        ("put", "/api/v1/employers/me", {"employer_name": "X", "region": "99"}),
        ("post", "/api/v1/permits/WP-0000-0000/steps", {"step": "approve"}),
        ("get", "/api/v1/permits/not%20a%20ref", None),
    ]:
        r = client.request(method.upper(), path, json=body, headers=h["employer"])
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(PROBLEM), (path, r.text)
    assert client.get("/api/v1/permits", headers={}).status_code == 401


def test_a_household_permit_shows_its_next_prepayment_in_the_workforce_and_the_reminders(client, h, ctx):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="family", password=PASSWORD, role="employer", host_party=f.HOST_IIN)
    h["family"] = token_for(client, "family")
    _quota(client, h, "75", 3, category="household")
    _register(client, h, "family")
    made = client.post("/api/v1/permits", json=_application([_worker(7)], channel="household_worker", category="",
                                                            vacancy_code="", vacancy_posted_on=None),
                       headers=h["family"])
    assert made.status_code == 201, made.text
    ref = made.json()["reference"]
    _step(client, h, "almaty", ref, "approve")
    _step(client, h, "family", ref, "pay_fee")
    _step(client, h, "almaty", ref, "issue")
    team = client.get("/api/v1/employers/me/workforce", headers=h["family"]).json()
    assert [(w["reference"], w["next_payment"]["month"]) for w in team["items"]] == [(ref, "2026-03")]
    assert team["items"][0]["next_payment"]["amount_kzt"] > 0
    feed = client.get("/api/v1/permits/reminders", headers=h["family"]).json()["items"]
    assert [(r["kind"], r["due"]) for r in feed] == [("household_payment", "2026-03-09")]
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["family"]).json()
    assert [r["kind"] for r in detail["reminders"]] == ["household_payment"]


def _returned(client, h, ctx) -> str:
    _quota(client, h, "75", 5)
    _register(client, h)
    ref = _apply(client, h, [_worker(1), _worker(2)])["reference"]
    reason = ctx.pack.permits.reasons_for("return")[0].code
    assert _step(client, h, "almaty", ref, "return", reason_code=reason, note="wrong passport")["state"] == "returned"
    return ref


def test_a_returned_application_is_read_and_filed_again_corrected(client, h, ctx):
    ref = _returned(client, h, ctx)
    filed = client.get(f"/api/v1/permits/{ref}/application", headers=h["employer"])
    assert filed.status_code == 200, filed.text
    body = filed.json()
    assert (body["channel"], body["category"], body["occupation"], body["starts_on"]) == (
        "employer_quota", "3", "7112", "2026-03-10")
    assert [(w["surname"], w["document_number"], w["work_region"]) for w in body["workers"]] == [
        ("KarimovB", "FA1000001", "75"), ("KarimovC", "FA1000002", "75")]
    # another employer's permit and an absent one: the same 404; an akimat files nothing
    for who, path in (("rival", ref), ("employer", "WP-0000-0000")):
        r = client.get(f"/api/v1/permits/{path}/application", headers=h[who])
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"/api/v1/permits/{ref}/application", headers=h["almaty"]).status_code == 403

    # a check fails: 422 naming it, nothing changes
    bad = client.put(f"/api/v1/permits/{ref}/application", json={**body, "staff_citizens": 10},
                     headers=h["employer"])
    assert bad.status_code == 422 and bad.json()["type"] == "urn:kosh:problem:checks-failed"
    assert [e["field"] for e in bad.json()["errors"]] == ["local_content"]
    channel = client.put(f"/api/v1/permits/{ref}/application", json={**body, "channel": "business_immigrant"},
                         headers=h["employer"])
    assert channel.status_code == 422 and channel.json()["errors"][0]["field"] == "channel"
    assert client.put(f"/api/v1/permits/{ref}/application", json=body, headers=h["rival"]).status_code == 404
    assert client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()["permit"]["state"] == "returned"

    body["workers"] = body["workers"][:1]
    again = client.put(f"/api/v1/permits/{ref}/application", json=body, headers=h["employer"])
    assert again.status_code == 200, again.text
    assert (again.json()["reference"], again.json()["state"], again.json()["regions"]) == (ref, "checked", {"75": 1})
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()
    assert [a["step"] for a in detail["actions"]] == ["submit", "check", "return", "submit", "check"]
    # filed again already: only a returned application is (409, naming the state)
    twice = client.put(f"/api/v1/permits/{ref}/application", json=body, headers=h["employer"])
    assert twice.status_code == 409 and twice.headers["content-type"].startswith(PROBLEM)
    assert "application checked" in twice.json()["detail"]


def test_an_eaeu_contract_ends_early_through_the_api(client, h, monkeypatch):
    _register(client, h)
    made = _apply(client, h, [{**_worker(1), "citizenship": "KGZ", "issuing_state": "KGZ"}], channel="eaeu_contract",
                  category="", vacancy_code="", vacancy_posted_on=None, starts_on="2026-03-02", term_months=12)
    ref = made["reference"]
    assert made["state"] == "issued" and made["valid_from"] == "2026-03-02"
    monkeypatch.setattr(permits_api, "today", lambda _ctx: dt.date(2026, 5, 1))
    for who, path, status in (("rival", ref, 404), ("employer", "WP-0000-0000", 404), ("almaty", ref, 403)):
        r = client.post(f"/api/v1/permits/{path}/contract-end", json={"ended_on": "2026-04-30"}, headers=h[who])
        assert r.status_code == status and r.headers["content-type"].startswith(PROBLEM), (who, r.text)
    late = client.post(f"/api/v1/permits/{ref}/contract-end", json={"ended_on": "2026-05-02"}, headers=h["employer"])
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "ended_on"
    assert client.post(f"/api/v1/permits/{ref}/contract-end", json={"ended_on": "not a day"},
                       headers=h["employer"]).status_code == 422
    ended = client.post(f"/api/v1/permits/{ref}/contract-end", json={"ended_on": "2026-04-30"}, headers=h["employer"])
    assert ended.status_code == 200, ended.text
    assert (ended.json()["state"], ended.json()["valid_to"]) == ("expired", "2026-04-30")
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["employer"]).json()
    assert ("end_contract", "employment contract ended") in [(a["step"], a["step_text"]) for a in detail["actions"]]
    twice = client.post(f"/api/v1/permits/{ref}/contract-end", json={"ended_on": "2026-04-30"}, headers=h["employer"])
    assert twice.status_code == 409 and twice.headers["content-type"].startswith(PROBLEM)
    # not an EAEU contract: 409
    _quota(client, h, "75", 5)
    other = _apply(client, h, [_worker(3)])["reference"]
    assert client.post(f"/api/v1/permits/{other}/contract-end", json={"ended_on": "2026-04-30"},
                       headers=h["employer"]).status_code == 409


def test_an_akimat_records_a_household_workers_new_employer(client, h, ctx):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="family", password=PASSWORD, role="employer", host_party=f.HOST_IIN)
    h["family"] = token_for(client, "family")
    _quota(client, h, "75", 3, category="household")
    _quota(client, h, "75", 3)
    _register(client, h, "family")
    _register(client, h)
    ref = client.post("/api/v1/permits", json=_application([_worker(7)], channel="household_worker", category="",
                                                           vacancy_code="", vacancy_posted_on=None),
                      headers=h["family"]).json()["reference"]
    new = {"iin": "850315400005", "name": "Dana Omarova"}
    early = client.post(f"/api/v1/permits/{ref}/employer-change", json=new, headers=h["almaty"])
    assert early.status_code == 409 and early.headers["content-type"].startswith(PROBLEM)  # not in force yet
    _step(client, h, "almaty", ref, "approve")
    _step(client, h, "family", ref, "pay_fee")
    _step(client, h, "almaty", ref, "issue")
    for who in ("family", "employer", "ministry"):  # employers and the ministry do not decide
        r = client.post(f"/api/v1/permits/{ref}/employer-change", json=new, headers=h[who])
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    absent = client.post("/api/v1/permits/WP-0000-0000/employer-change", json=new, headers=h["almaty"])
    assert absent.status_code == 404 and absent.headers["content-type"].startswith(PROBLEM)
    bad = client.post(f"/api/v1/permits/{ref}/employer-change", json={**new, "iin": "850315400006"},
                      headers=h["almaty"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "iin"
    same = client.post(f"/api/v1/permits/{ref}/employer-change", json={"iin": f.HOST_IIN, "name": "x"},
                       headers=h["almaty"])
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "new_employer"
    moved = client.post(f"/api/v1/permits/{ref}/employer-change", json=new, headers=h["almaty"])
    assert moved.status_code == 200, moved.text
    assert (moved.json()["employer_name"], moved.json()["state"]) == ("Dana Omarova", "issued")
    detail = client.get(f"/api/v1/permits/{ref}", headers=h["almaty"]).json()
    assert detail["actions"][-1]["step"] == "change_employer"
    assert client.get(f"/api/v1/permits/{ref}", headers=h["family"]).status_code == 404  # no longer its permit
    # an employer's permit within the quota does not change employer this way
    other = _apply(client, h, [_worker(3)])["reference"]
    assert client.post(f"/api/v1/permits/{other}/employer-change", json=new,
                       headers=h["almaty"]).status_code == 409

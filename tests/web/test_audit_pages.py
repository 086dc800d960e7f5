"""The audit browser: filters, totals and paging, one record in full, the chain check in words
(intact and after tampering), the CSV export (audited, formula-safe), the API's filters, and
everyone but auditors (and admins) refused in their language."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.platform import audit_browse, auth
from kosh.platform.i18n import translations
from kosh.platform.models import AuditRecord
from kosh.web.app import create_app
from web.conftest import PASSWORD, token_for

FORMULA = "=HYPERLINK(\"http://evil.example\",\"case\")"


@pytest.fixture
def client(ctx, users):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="auditor", password=PASSWORD, role="auditor")
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def trail(client, ctx):
    """Two persons registered by the admin; the Almaty officer reads one with a stated purpose (as
    a formula, as a careless or hostile user might write it) and the other without."""
    admin = token_for(client, "admin")
    first = client.post("/api/v1/notifications", json=f.notification(), headers=admin).json()["person_ids"][0]
    second = client.post("/api/v1/notifications", json=f.notification(document_number="FB7654321", surname="Каримов"),
                         headers=admin).json()["person_ids"][0]
    almaty = token_for(client, "almaty")
    assert client.get(f"/api/v1/persons/{first}", headers=almaty | {"X-Purpose": FORMULA}).status_code == 200
    assert client.get(f"/api/v1/persons/{second}", headers=almaty | {"X-Purpose": "Case 9/2026"}).status_code == 200
    return first, second


def _sign_in(client: TestClient, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _records(ctx, **where) -> list[AuditRecord]:
    with ctx.transaction() as s:
        q = sa.select(AuditRecord).order_by(AuditRecord.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        rows = list(s.execute(q).scalars())
        s.expunge_all()
    return rows


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-seq="(\d+)">', html)]


def test_filters_narrow_the_list_and_the_total_counts_every_match(client, ctx, trail):
    first, second = trail
    _sign_in(client, "auditor")
    expected = [r.seq for r in reversed(_records(ctx, subject_id=first, actor="almaty"))]
    page = client.get("/audit", params={"user": "almaty", "person": first})
    assert page.status_code == 200
    assert _shown(page.text) == expected and expected  # newest first
    assert f'<h2 id="audit-total">Records found: {len(expected)}</h2>' in page.text
    by_purpose = client.get("/audit", params={"purpose": "case 9/"})  # words of the purpose, any case
    assert _shown(by_purpose.text) == [r.seq for r in reversed(_records(ctx, purpose="Case 9/2026"))]
    logins = client.get("/audit", params={"action": "login"})
    assert set(_shown(logins.text)) == {r.seq for r in _records(ctx, action="login")}
    day = _records(ctx)[0].at.date().isoformat()
    assert _shown(client.get("/audit", params={"since": "2000-01-01", "until": "2000-01-02"}).text) == []
    assert _shown(client.get("/audit", params={"user": "almaty", "since": day}).text)
    # The auditor's own searches were recorded, with the filters.
    searches = _records(ctx, actor="auditor", action="search")
    assert len(searches) == 5 and f'"person": "{first}"' in searches[0].detail


def test_the_list_is_paged_with_totals(client, ctx, trail, monkeypatch):
    monkeypatch.setattr(audit_browse, "PAGE_SIZE", 3)
    _sign_in(client, "auditor")
    total = len(_records(ctx))
    one = client.get("/audit")
    assert _shown(one.text) == [total, total - 1, total - 2]
    assert f"Records found: {total}<" in one.text and 'rel="next"' in one.text and 'rel="prev"' not in one.text
    following = re.search(r'<a href="([^"]+)" rel="next">', one.text).group(1).replace("&amp;", "&")
    two = client.get(following)  # the pages stay put although reading them adds records
    assert _shown(two.text) == [total - 3, total - 4, total - 5] and 'rel="prev"' in two.text
    assert f"Records found: {total}<" in two.text


def test_bad_filters_are_named_beside_their_fields(client, trail):
    _sign_in(client, "auditor")
    r = client.get("/audit", params={"since": "31.03.2026", "person": "not an id!", "lang": "ru"})
    assert r.status_code == 422
    ru = translations("ru").gettext
    assert 'id="e-since"' in r.text and ru(audit_browse.BAD_DAY) in r.text
    assert 'id="e-person"' in r.text
    reversed_days = client.get("/audit", params={"since": "2026-04-02", "until": "2026-04-01", "lang": "en"})
    assert reversed_days.status_code == 422 and "The first day must not be after the last day." in reversed_days.text


def test_one_record_is_shown_in_full(client, ctx, trail):
    first, _ = trail
    rec = _records(ctx, subject_id=first, actor="almaty")[0]
    _sign_in(client, "auditor")
    page = client.get(f"/audit/records/{rec.seq}", params={"lang": "ru"})
    assert page.status_code == 200
    for value in (rec.mac, rec.prev_mac, rec.subject_id, rec.actor):
        assert value in page.text
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page.text  # escaped, never markup
    assert translations("ru").gettext("officer") in page.text  # the role in words
    assert _records(ctx, actor="auditor", action="read", subject_id=str(rec.seq))  # audited
    missing = client.get("/audit/records/999999", params={"lang": "ru"})
    assert missing.status_code == 404
    assert translations("ru").gettext(audit_browse.NO_RECORD) % {"seq": 999999} in missing.text


def _verify(client: TestClient, lang: str = "en"):
    return client.post(f"/audit/verify?lang={lang}", data={"csrf_token": _csrf(client.get("/audit").text)})


def test_the_chain_check_says_intact_then_where_it_was_altered(client, ctx, trail):
    _sign_in(client, "auditor")
    ok = _verify(client)
    assert ok.status_code == 200 and 'data-chain="intact"' in ok.text and "The chain is intact." in ok.text
    assert _records(ctx, actor="auditor", action="verify")
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(AuditRecord).where(AuditRecord.seq == 3).values(subject_id="someone-else"))
    broken = _verify(client, "ru")
    assert 'data-chain="broken"' in broken.text
    said = translations("ru").gettext(audit_browse.BREAKS["altered"]) % {"seq": 3}
    assert said in broken.text and 'href="/audit/records/3"' in broken.text


def test_the_chain_check_names_a_removed_record(client, ctx, trail):
    _sign_in(client, "auditor")
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 2))
    broken = _verify(client)
    assert (audit_browse.BREAKS["missing"] % {"seq": 2}) in broken.text


def test_the_chain_check_needs_the_forms_token(client, trail):
    _sign_in(client, "auditor")
    assert client.post("/audit/verify", data={}).status_code == 403


def test_the_export_is_formula_safe_filtered_and_audited(client, ctx, trail):
    first, _ = trail
    _sign_in(client, "auditor")
    r = client.get("/audit/export.csv", params={"person": first, "user": "almaty"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    expected = _records(ctx, subject_id=first, actor="almaty")
    assert [int(row["seq"]) for row in rows] == [rec.seq for rec in expected]
    assert rows[0]["purpose"] == "'" + FORMULA  # a spreadsheet reads it as text
    assert rows[0]["mac"] == expected[0].mac and rows[0]["prev_mac"] == expected[0].prev_mac
    (export,) = _records(ctx, actor="auditor", action="export")
    assert f'"count": {len(rows)}' in export.detail and first in export.detail
    refused = client.get("/audit/export.csv", params={"until": "31/03/2026", "lang": "ru"})
    assert refused.status_code == 422 and translations("ru").gettext(audit_browse.BAD_DAY) in refused.text
    assert len(_records(ctx, actor="auditor", action="export")) == 1  # nothing exported, nothing recorded


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("who", ["almaty", "analyst", "host"])
def test_everyone_else_is_refused_in_their_language(client, who, lang):
    _sign_in(client, who)
    said = translations(lang).gettext(audit_browse.MAY_NOT_READ)
    assert (said == audit_browse.MAY_NOT_READ) == (lang == "en")  # really in Russian
    for r in (client.get(f"/audit?lang={lang}"), client.get(f"/audit/records/1?lang={lang}"),
              client.get(f"/audit/export.csv?lang={lang}"), client.post(f"/audit/verify?lang={lang}", data={})):
        assert r.status_code == 403 and said in r.text, r.url
    api = client.get("/api/v1/audit/records", params={"lang": lang}, headers=token_for(client, who))
    assert api.status_code == 403 and api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["detail"] == said
    assert 'href="/audit"' not in client.get("/").text  # no link in their navigation


def test_admins_may_browse_and_auditors_see_the_link(client):
    _sign_in(client, "admin")
    assert client.get("/audit").status_code == 200
    auditor = TestClient(client.app)
    _sign_in(auditor, "auditor")
    assert 'href="/audit"' in auditor.get("/").text


def test_the_api_takes_the_same_filters_and_gives_totals_and_the_next_page(client, ctx, trail):
    first, _ = trail
    auditor = token_for(client, "auditor")
    matching = _records(ctx, actor="almaty")
    r = client.get("/api/v1/audit/records", params={"user": "almaty", "limit": 2}, headers=auditor)
    assert r.status_code == 200 and int(r.headers["x-total-count"]) == len(matching)
    assert [x["seq"] for x in r.json()] == [rec.seq for rec in matching[:2]]
    assert r.json()[0]["prev_mac"] == matching[0].prev_mac
    link = re.match(r"<([^>]+)>; rel=\"next\"", r.headers["link"]).group(1)
    rest = client.get(link, headers=auditor).json()
    assert [x["seq"] for x in rest] == [rec.seq for rec in matching[2:4]]
    about = client.get("/api/v1/audit/records", params={"person": first, "action": "read"}, headers=auditor).json()
    assert about and {x["subject_id"] for x in about} == {first}
    bad = client.get("/api/v1/audit/records", params={"since": "yesterday"}, headers=auditor)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_pages_speak_the_readers_language_with_actions_roles_and_times_in_words(client, ctx, trail, lang):
    from kosh.web.when import moment_writer

    _sign_in(client, "auditor")
    tr = translations(lang).gettext
    page = client.get("/audit", params={"user": "almaty", "lang": lang}).text
    rec = _records(ctx, actor="almaty", action="read")[-1]
    assert tr("Audit trail") != "Audit trail" and tr("Audit trail") in page
    assert tr(audit_browse.ACTIONS["read"]) in page and tr("officer") in page
    assert moment_writer(ctx, lang)(rec.at) in page  # the time in the locale's format and the local zone
    verified = _verify(client, lang).text
    assert tr("The chain is intact.") in verified

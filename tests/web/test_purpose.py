"""The purpose of access of a web session: stated, validated, kept with the session, shown in the
header, asked before a person's record opens, and written to every audit record of the session."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.platform import auth
from kosh.platform.i18n import translations
from kosh.platform.models import AuditRecord, WebSession
from kosh.web.app import create_app
from web.conftest import PASSWORD, token_for

CASE = "Case 2-114/2026: checking a stay extension"


@pytest.fixture
def client(ctx, users):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="auditor", password=PASSWORD, role="auditor")
    with TestClient(create_app(ctx)) as c:
        yield c


def _sign_in(client: TestClient, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _state(client: TestClient, purpose: str, next: str = "", lang: str = "en"):
    form = client.get(f"/purpose?lang={lang}")
    return client.post(f"/purpose?lang={lang}", data={"purpose": purpose, "next": next, "csrf_token": _csrf(form.text)},
                       follow_redirects=False)


def _person(client: TestClient) -> str:
    admin = token_for(client, "admin")
    r = client.post("/api/v1/notifications", json=f.notification(), headers=admin)
    assert r.status_code in (200, 201), r.text
    return r.json()["person_ids"][0]


def _reads_of(ctx, person_id: str) -> list[AuditRecord]:
    with ctx.transaction() as s:
        rows = list(s.execute(sa.select(AuditRecord).where(AuditRecord.subject_id == person_id,
                                                           AuditRecord.action == "read")
                              .order_by(AuditRecord.seq)).scalars())
        s.expunge_all()
    return rows


def test_the_purpose_is_kept_with_the_session_and_written_to_the_records_of_page_reads(client, ctx):
    pid = _person(client)
    _sign_in(client, "almaty")
    r = _state(client, f"  {CASE}  ")
    assert r.status_code == 303 and r.headers["location"] == "/purpose?saved=1"
    with ctx.transaction() as s:
        assert s.execute(sa.select(WebSession.purpose)).scalars().all() == [CASE]  # blanks trimmed
    page = client.get(f"/persons/{pid}")
    assert page.status_code == 200 and "Абдуллаев" in page.text
    assert 'id="purpose-now"' in page.text and CASE[:20] in page.text  # the header shows it
    reads = _reads_of(ctx, pid)
    assert reads and {r.purpose for r in reads} == {CASE} and {r.actor for r in reads} == {"almaty"}
    stated = [r for r in _all(ctx) if r.action == "purpose"]
    assert len(stated) == 1 and stated[0].actor == "almaty" and CASE in stated[0].detail


def _all(ctx) -> list[AuditRecord]:
    with ctx.transaction() as s:
        rows = list(s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars())
        s.expunge_all()
    return rows


def test_a_changed_purpose_is_used_at_once(client, ctx):
    pid = _person(client)
    _sign_in(client, "almaty")
    assert _state(client, "First case 1/2026").status_code == 303
    client.get(f"/persons/{pid}")  # the credential is now cached with the first purpose
    assert _state(client, "Second case 2/2026").status_code == 303
    client.get(f"/persons/{pid}")
    assert [r.purpose for r in _reads_of(ctx, pid)][-1] == "Second case 2/2026"
    changed = [r for r in _all(ctx) if r.action == "purpose"][-1]
    assert '"before": "First case 1/2026"' in changed.detail and changed.purpose == "Second case 2/2026"


def test_a_person_page_asks_for_a_purpose_first_then_goes_on(client, ctx):
    pid = _person(client)
    _sign_in(client, "almaty")
    r = client.get(f"/persons/{pid}?on=2026-03-10", follow_redirects=False)
    assert r.status_code == 303
    target = f"/persons/{pid}?on=2026-03-10"
    assert r.headers["location"] == f"/purpose?next={quote(target, safe='')}"
    asked = client.get(r.headers["location"])
    assert asked.status_code == 200 and 'id="purpose-asked"' in asked.text
    assert f'name="next" value="{target}"' in asked.text
    assert _reads_of(ctx, pid) == []  # nothing was read before the purpose
    done = _state(client, CASE, next=target)
    assert done.status_code == 303 and done.headers["location"] == target
    assert client.get(target).status_code == 200
    assert {r.purpose for r in _reads_of(ctx, pid)} == {CASE}


def test_lists_may_be_browsed_without_a_purpose(client):
    _sign_in(client, "almaty")
    page = client.get("/persons", follow_redirects=False)
    assert page.status_code == 200 and "State a purpose" in page.text


def test_an_unsafe_next_is_not_followed(client):
    _sign_in(client, "almaty")
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/purpose"):
        r = _state(client, CASE, next=elsewhere)
        assert r.status_code == 303 and r.headers["location"] == "/purpose?saved=1", elsewhere
    assert _state(client, CASE, next="/stay/overstays").headers["location"] == "/stay/overstays"


@pytest.mark.parametrize(("lang", "purpose", "msgid"), [
    ("en", "ab", "State the purpose in at least %(min)s characters: the case or order number, and why."),
    ("ru", "ab", "State the purpose in at least %(min)s characters: the case or order number, and why."),
    ("ru", "x" * 201, "Keep the purpose to at most %(max)s characters (this one has %(length)s)."),
    ("en", "case\x07 12", "The purpose may hold only letters, digits, spaces and punctuation."),
])
def test_a_bad_purpose_is_refused_beside_the_field_in_the_readers_language(client, ctx, lang, purpose, msgid):
    _sign_in(client, "almaty")
    r = _state(client, purpose, lang=lang)
    assert r.status_code == 422
    said = translations(lang).gettext(msgid) % {"min": 3, "max": 200, "length": len(purpose)}
    assert (translations(lang).gettext(msgid) == msgid) == (lang == "en")  # really in the reader's language
    assert 'id="e-purpose"' in r.text and said.replace("'", "&#39;") in r.text
    with ctx.transaction() as s:
        assert s.execute(sa.select(WebSession.purpose)).scalars().all() == [""]  # nothing stored


def test_the_api_purpose_header_wins_and_a_host_states_none(client, ctx):
    pid = _person(client)
    almaty = token_for(client, "almaty")
    assert client.get(f"/api/v1/persons/{pid}", headers=almaty | {"X-Purpose": "API case 7"}).status_code == 200
    assert "API case 7" in {r.purpose for r in _reads_of(ctx, pid)}
    _sign_in(client, "host")
    assert client.get("/purpose").status_code == 403
    assert 'id="purpose-now"' not in client.get("/").text


def test_an_auditor_states_a_purpose_too(client, ctx):
    _sign_in(client, "auditor")
    assert _state(client, "Quarterly review Q1").status_code == 303
    client.get("/audit")
    searched = [r for r in _all(ctx) if r.action == "search" and r.subject_type == "audit_log"]
    assert searched and searched[-1].purpose == "Quarterly review Q1"

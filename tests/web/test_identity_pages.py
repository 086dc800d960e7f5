"""Pages of the identity review queue on both databases: scan, scope, decision errors, accept
(merge) and undoing the merge from the person page."""

from __future__ import annotations

import re

import sqlalchemy as sa

from identity.test_merge import ADMIN
from identity.test_review import second_passport_case
from kosh.identity import registry
from kosh.identity import service as identity
from kosh.identity.models import IdentityCandidate, PersonMerge
from kosh.platform.i18n import translations


def _sign_in(client, username: str, password: str) -> None:
    r = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    # A person's page opens once the session has a purpose of access (kosh.platform.purpose).
    form = client.get("/purpose")
    if form.status_code == 200:
        client.post("/purpose", data={"purpose": "Identity review tests", "csrf_token": _csrf(form.text)})


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _queued(ctx) -> int:
    with ctx.transaction() as s:
        registry.scan(s, ctx, ADMIN)
        (cand,) = identity.review_queue(s, ctx, ADMIN)
    return cand.id


def _status(ctx, candidate_id: int) -> str:
    with ctx.transaction() as s:
        return s.get(IdentityCandidate, candidate_id).status


def test_the_queue_lists_a_scanned_pair(client, users, ctx):
    ctx.settings.identity_link_at_ingest = False  # so that the scan finds the pair
    a, b, stranger = second_passport_case(ctx)
    _sign_in(client, "almaty", users)
    page = client.get("/identity/review")
    assert page.status_code == 200 and '<a href="/identity/review">Review</a>' in page.text
    assert "No pairs with this status" in page.text
    r = client.post("/identity/review/scan", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/identity/review?status=open&queued=1"
    text = client.get(r.headers["location"]).text
    assert "1 likely pair(s) put in the queue." in text
    (cand,) = re.findall(r'href="/identity/review/(\d+)"', text)
    row = text[text.index(f'data-candidate="{cand}"'):]
    row = row[:row.index("</tr>")]
    for expected in ("ABDULLAYEV SHUKHRAT", "Абдуллаев Шухрат", "May 17, 1990", "Uzbekistan"):  # codes as words
        assert expected in row
    assert "IVANOV" not in text
    pair = client.get(f"/identity/review/{cand}").text
    assert "FA1000001" in pair and "FB2000002" in pair and a in pair and b in pair and stranger not in pair
    assert 'data-level="romanised"' in pair and "the same in another script or romanisation" in pair
    assert '<label for="f-reason">' in pair and 'name="decision" value="accept"' in pair
    ru = client.get("/identity/review?lang=ru").text
    assert f"<h1>{translations('ru').gettext('Identity review')}</h1>" in ru
    assert translations("ru").gettext("Identity review") != "Identity review"


def test_other_roles_and_regions_do_not_reach_the_pair(client, users, ctx):
    second_passport_case(ctx)
    cand = _queued(ctx)
    _sign_in(client, "south", users)  # both persons are in Almaty
    assert client.get(f"/identity/review/{cand}").status_code == 404
    assert "No pairs with this status" in client.get("/identity/review").text
    token = _csrf(client.get("/identity/review").text)
    r = client.post(f"/identity/review/{cand}/decision", data={"csrf_token": token, "decision": "accept",
                                                               "reason": "looks alike"})
    assert r.status_code == 404 and _status(ctx, cand) == "open"
    client.cookies.clear()
    _sign_in(client, "analyst", users)
    assert client.get("/identity/review").status_code == 403
    assert 'href="/identity/review"' not in client.get("/").text


def test_a_decision_needs_a_reason_and_is_made_once(client, users, ctx):
    second_passport_case(ctx)
    cand = _queued(ctx)
    _sign_in(client, "almaty", users)
    token = _csrf(client.get(f"/identity/review/{cand}").text)
    r = client.post(f"/identity/review/{cand}/decision",
                    data={"csrf_token": token, "decision": "accept", "reason": " "})
    assert r.status_code == 422 and "Give the reason for this decision." in r.text
    assert 'aria-invalid="true" aria-describedby="e-reason"' in r.text and 'role="alert"' in r.text
    assert _status(ctx, cand) == "open"
    r = client.post(f"/identity/review/{cand}/decision", data={"decision": "accept", "reason": "same man"})
    assert r.status_code == 403 and _status(ctx, cand) == "open"  # no CSRF token
    with ctx.transaction() as s:
        identity.decide(s, ctx, ADMIN, cand, "reject", "two brothers")
    r = client.post(f"/identity/review/{cand}/decision", data={"csrf_token": token, "decision": "accept",
                                                               "reason": "same man"})
    assert r.status_code == 409 and "This pair was decided already: Rejected." in r.text
    assert 'name="decision"' not in r.text and _status(ctx, cand) == "rejected"


def test_accept_merges_and_undo_on_the_person_page_restores(client, users, ctx):
    a, b, _ = second_passport_case(ctx)
    cand = _queued(ctx)
    _sign_in(client, "almaty", users)
    token = _csrf(client.get(f"/identity/review/{cand}").text)
    r = client.post(f"/identity/review/{cand}/decision", data={"csrf_token": token, "decision": "accept",
                                                               "reason": "same photo, same birth date"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/identity/review/{cand}?decided=1"
    done = client.get(r.headers["location"]).text
    assert "Decision saved." in done and 'data-pair-status="accepted"' in done and f'href="/persons/{a}"' in done
    assert f'href="/identity/review/{cand}"' not in client.get("/identity/review").text
    assert f'href="/identity/review/{cand}"' in client.get("/identity/review?status=accepted").text

    person = client.get(f"/persons/{b}").text  # the merged id shows the kept person
    assert f"<code>{a}</code>" in person and f'data-merged-from="{b}"' in person
    assert "FA1000001" in person and "FB2000002" in person
    with ctx.transaction() as s:
        (merge,) = s.execute(sa.select(PersonMerge)).scalars()
    assert f'action="/identity/merges/{merge.id}/undo"' in person and "same photo, same birth date" in person
    assert f'<label for="f-undo-{merge.id}">' in person

    r = client.post(f"/identity/merges/{merge.id}/undo", data={"csrf_token": token, "person": a, "reason": ""})
    assert r.status_code == 422 and "Give the reason for undoing this merge." in r.text
    assert f'aria-describedby="e-undo-{merge.id}"' in r.text
    r = client.post(f"/identity/merges/{merge.id}/undo", data={"csrf_token": token, "person": a,
                                                               "reason": "two brothers"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/persons/{a}?undone={merge.id}"
    kept = client.get(r.headers["location"]).text
    assert "The merge was undone" in kept and f'href="/persons/{b}"' in kept and "two brothers" in kept
    assert "FB2000002" not in kept and 'action="/identity/merges/' not in kept
    restored = client.get(f"/persons/{b}").text
    assert f"<code>{b}</code>" in restored and "data-merged-from" not in restored and "FB2000002" in restored
    assert _status(ctx, cand) == "rejected"
    r = client.post(f"/identity/merges/{merge.id}/undo", data={"csrf_token": token, "person": a, "reason": "again"})
    assert r.status_code == 409 and "This merge was undone already." in r.text

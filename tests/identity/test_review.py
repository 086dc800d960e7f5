"""The review queue on both databases: scan, scope, accept (merge), reject, defer, unmerge."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from identity.test_merge import ADMIN, ALMATY, ANALYST, SOUTH, crossing, notice
from kosh.identity import registry
from kosh.identity import service as identity
from kosh.identity.models import IdentityCandidate
from kosh.people import service as people
from kosh.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed


def second_passport_case(ctx) -> tuple[str, str, str]:
    """A border record in Latin and a landlord's notification in Cyrillic under another passport
    of the same man; a stranger of the same citizenship and birth date."""
    a = crossing(ctx, document_number="FA1000001", surname="ABDULLAYEV", given_names="SHUKHRAT",
                 birth_date="1990-05-17", checkpoint="ALA-AIRPORT")
    b = notice(ctx, document_number="FB2000002", surname="Абдуллаев", given_names="Шухрат", patronymic="",
               birth_date="1990-05-17", citizenship="UZB", issuing_state="UZB", kato="751700000")
    c = crossing(ctx, document_number="FC3000003", surname="IVANOV", given_names="PETR", birth_date="1990-05-17",
                 checkpoint="ALA-AIRPORT")
    assert len({a, b, c}) == 3
    return a, b, c


def test_a_new_person_who_may_be_someone_known_is_queued_at_ingest_with_evidence(ctx):
    a, b, c = second_passport_case(ctx)
    with ctx.transaction() as s:
        (cand,) = identity.review_queue(s, ctx, ADMIN)
        view = identity.candidate(s, ctx, ADMIN, cand.id)
        assert registry.scan(s, ctx, ADMIN) == 0  # a pair is queued once
    assert {cand.person_a, cand.person_b} == {a, b} and c not in (cand.person_a, cand.person_b)
    assert ctx.settings.identity_review_weight <= cand.weight < ctx.settings.identity_link_weight
    levels = {e["field"]: e["level"] for e in view.evidence}
    assert levels == {"prior": "prior", "surname": "romanised", "given_names": "romanised", "patronymic": "missing",
                      "birth_date": "exact", "document": "different", "sex": "same", "citizenship": "same"}
    assert sum(e["weight"] for e in view.evidence) == pytest.approx(cand.weight, abs=0.05)
    assert {e["field"]: (e["a"], e["b"]) for e in view.evidence}["surname"] in (("ABDULLAYEV", "Абдуллаев"),
                                                                              ("Абдуллаев", "ABDULLAYEV"))
    assert {d.number for d in view.a.documents} | {d.number for d in view.b.documents} == {"FA1000001", "FB2000002"}
    assert "FA1000001" not in json.dumps(view.evidence) and "FB2000002" not in json.dumps(view.evidence)


def test_scan_queues_the_likely_pair_when_ingest_does_not_link(ctx):
    ctx.settings.identity_link_at_ingest = False
    a, b, c = second_passport_case(ctx)
    with ctx.transaction() as s:
        assert identity.review_queue(s, ctx, ADMIN) == []
        assert registry.scan(s, ctx, ADMIN) == 1
        assert registry.scan(s, ctx, ADMIN) == 0  # a pair is queued once
        (cand,) = identity.review_queue(s, ctx, ADMIN)
    assert {cand.person_a, cand.person_b} == {a, b}


def test_accepting_merges_and_unmerging_rejects(ctx):
    a, b, _ = second_passport_case(ctx)
    with ctx.transaction() as s:
        registry.scan(s, ctx, ADMIN)
        (cand,) = identity.review_queue(s, ctx, ALMATY)
        decided = identity.decide(s, ctx, ALMATY, cand.id, "accept", "same face, same birth date")
        assert decided.status == "accepted" and decided.merge_id is not None
    with ctx.transaction() as s:
        assert people.get_person(s, ctx, ADMIN, b).person.id == people.get_person(s, ctx, ADMIN, a).person.id
        assert identity.review_queue(s, ctx, ADMIN) == []
        with pytest.raises(Conflict, match="accepted already"):
            identity.decide(s, ctx, ADMIN, cand.id, "reject", "changed my mind")
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ADMIN, decided.merge_id, "two brothers")
        again = s.get(IdentityCandidate, cand.id)
        assert again.status == "rejected" and "two brothers" in again.decision_reason
    with ctx.transaction() as s:
        assert registry.scan(s, ctx, ADMIN) == 0  # a decided pair is not queued again


def test_defer_then_reject_and_refusals(ctx):
    second_passport_case(ctx)
    with ctx.transaction() as s:
        registry.scan(s, ctx, ADMIN)
        (cand,) = identity.review_queue(s, ctx, ADMIN)
        with pytest.raises(ValidationFailed):
            identity.decide(s, ctx, ADMIN, cand.id, "maybe", "hm")
        with pytest.raises(ValidationFailed):
            identity.decide(s, ctx, ADMIN, cand.id, "reject", " ")
        with pytest.raises(Forbidden):
            identity.review_queue(s, ctx, ANALYST)
        with pytest.raises(NotFound):  # both persons are in Almaty
            identity.candidate(s, ctx, SOUTH, cand.id)
        assert identity.review_queue(s, ctx, SOUTH) == []
        identity.decide(s, ctx, ADMIN, cand.id, "defer", "ask the host for the passport")
        assert [c.id for c in identity.review_queue(s, ctx, ADMIN, status="deferred")] == [cand.id]
        identity.decide(s, ctx, ADMIN, cand.id, "reject", "different fathers")
        stored = s.get(IdentityCandidate, cand.id)
        assert stored.status == "rejected" and stored.merge_id is None
        assert [e["field"] for e in json.loads(stored.evidence)][:2] == ["prior", "surname"]
        assert s.execute(sa.select(sa.func.count()).select_from(IdentityCandidate)).scalar_one() == 1

"""Merging two persons into one and undoing it, on both databases: stable ids, exact restore,
records recorded since the merge, scope, permissions, audit."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.identity import service as identity
from kosh.people import service as people
from kosh.people.models import Person, PersonName, PersonNameToken, TravelDocument
from kosh.platform import audit
from kosh.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service as stay
from kosh.stay.models import BorderEvent, DataQualityFinding, HostNotification, StayStatus
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("identity tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))
ANALYST = Principal("analyst", Role.ANALYST, user_id=12)
ON = dt.date(2026, 4, 20)


def crossing(ctx, **row) -> str:
    vc = stay.validation_context(ctx)
    with ctx.transaction() as s:
        return stay.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, f.border_event(**row), vc)]
                                         ).person_ids[0]


def notice(ctx, **row) -> str:
    vc = stay.validation_context(ctx)
    with ctx.transaction() as s:
        return stay.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, f.notification(**row), vc)]
                                         ).person_ids[0]


def two_records_of_one_man(ctx) -> tuple[str, str]:
    """The same man under two passports: entered on the first (Almaty airport), left on the second."""
    a = crossing(ctx, document_number="FA1000001", occurred_at="2026-03-02T09:00:00+05:00",
                 checkpoint="ALA-AIRPORT")
    b = crossing(ctx, document_number="FB2000002", direction="exit", occurred_at="2026-03-20T09:00:00+05:00",
                 checkpoint="ALA-AIRPORT", surname="ABDULLAEV")
    assert a != b
    return a, b


def snapshot(ctx) -> dict:
    """Who holds which row, and every stored status and finding."""
    with ctx.transaction() as s:
        def holders(model):
            return sorted(s.execute(sa.select(model.id, model.person_id)).all())
        return {
            "documents": holders(TravelDocument), "names": holders(PersonName), "events": holders(BorderEvent),
            "notifications": holders(HostNotification),
            "tokens": sorted(s.execute(sa.select(PersonNameToken.person_id, PersonNameToken.token)).all()),
            "status": sorted((r.person_id, r.in_country, r.current_entry, r.last_lawful_day, r.notification_due)
                             for r in s.execute(sa.select(StayStatus)).scalars()),
            "findings": sorted(s.execute(sa.select(DataQualityFinding.person_id, DataQualityFinding.code,
                                                   DataQualityFinding.on)).all()),
            "merged_into": sorted(s.execute(sa.select(Person.id, Person.merged_into)).all()),
        }


def test_merge_keeps_the_older_person_and_the_other_id_leads_to_it(ctx):
    a, b = two_records_of_one_man(ctx)
    with ctx.transaction() as s:
        before = stay.person_stay(s, ctx, ADMIN, a, ON).assessment
    assert before.in_country  # the exit was on another passport
    with ctx.transaction() as s:
        record = identity.merge(s, ctx, ADMIN, b, a, "same man, second passport (photo and birth date)")
    assert (record.kept_id, record.merged_id) == (a, b)
    with ctx.transaction() as s:
        view = people.get_person(s, ctx, ADMIN, b)
        after = stay.person_stay(s, ctx, ADMIN, b, ON)
        status_citizenship, status, _ = stay.stay_status(s, ctx, ADMIN, b, ON)
        found = people.search_persons(s, ctx, ADMIN, "Abdullaev")
    assert view.person.id == a
    assert {d.number for d in view.documents} == {"FA1000001", "FB2000002"}
    assert after.person.person.id == a and len(after.events) == 2
    assert not after.assessment.in_country and not status.in_country  # the exit now counts
    assert [p.id for p in found.items] == [a]  # the merged person is not found twice


def test_unmerge_restores_both_histories_exactly(ctx):
    a, b = two_records_of_one_man(ctx)
    notice(ctx, document_number="FB2000002", surname="Абдуллаев", given_names="Шухрат")
    original = snapshot(ctx)
    with ctx.transaction() as s:
        merged = identity.merge(s, ctx, ADMIN, a, b, "same man")
    assert snapshot(ctx) != original
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ALMATY, merged.id, "different fathers' names on the two passports")
    restored = snapshot(ctx)
    assert restored == original


def test_records_since_the_merge_follow_their_document_back(ctx):
    a, b = two_records_of_one_man(ctx)
    with ctx.transaction() as s:
        merged = identity.merge(s, ctx, ADMIN, a, b, "same man")
    later = crossing(ctx, document_number="FB2000002", occurred_at="2026-04-01T09:00:00+05:00",
                     checkpoint="ALA-AIRPORT")
    assert later == a  # the second passport belongs to the kept person now
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ADMIN, merged.id, "not the same man")
        by_person = dict(s.execute(sa.select(BorderEvent.source_event_id, BorderEvent.person_id)).all())
        stay_b = stay.person_stay(s, ctx, ADMIN, b, ON).assessment
    assert sorted(by_person.values()).count(b) == 2  # its exit and the new entry
    assert stay_b.in_country and stay_b.current_entry == dt.date(2026, 4, 1)


def test_merge_and_unmerge_are_audited_with_their_reason(ctx):
    a, b = two_records_of_one_man(ctx)
    with ctx.transaction() as s:
        m = identity.merge(s, ctx, ADMIN, a, b, "same man, reviewed")
        identity.unmerge(s, ctx, ADMIN, m.id, "merged by mistake")
    with ctx.transaction() as s:
        trail = [(r.action, r.subject_id, r.detail) for r in s.execute(
            sa.select(audit.AuditRecord).order_by(audit.AuditRecord.seq)).scalars()]
        assert audit.verify(s, ctx.keyring).ok
    actions = [(act, subj) for act, subj, _ in trail if act in ("merge", "unmerge")]
    assert actions == [("merge", a), ("unmerge", a)]
    assert "same man, reviewed" in next(d for act, _, d in trail if act == "merge")
    assert "merged by mistake" in next(d for act, _, d in trail if act == "unmerge")


def test_who_may_merge_and_what_is_refused(ctx):
    a, b = two_records_of_one_man(ctx)
    elsewhere = crossing(ctx, document_number="FC3000003", checkpoint="ZHIBEK-ZHOLY")  # Turkistan region
    with ctx.transaction() as s:
        with pytest.raises(Forbidden):
            identity.merge(s, ctx, ANALYST, a, b, "x")
        with pytest.raises(ValidationFailed):
            identity.merge(s, ctx, ADMIN, a, b, "   ")
        with pytest.raises(Conflict):
            identity.merge(s, ctx, ADMIN, a, a, "same")
        with pytest.raises(NotFound):  # an officer merges only persons of their regions
            identity.merge(s, ctx, ALMATY, a, elsewhere, "same man")
        with pytest.raises(NotFound):
            identity.merge(s, ctx, SOUTH, a, b, "same man")
    with ctx.transaction() as s:
        m = identity.merge(s, ctx, ALMATY, a, b, "same man")
    with ctx.transaction() as s:
        with pytest.raises(Conflict, match="merged into"):
            identity.merge(s, ctx, ADMIN, b, elsewhere, "again")
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ADMIN, m.id, "mistake")
    with ctx.transaction() as s:
        with pytest.raises(Conflict, match="undone"):
            identity.unmerge(s, ctx, ADMIN, m.id, "twice")
        with pytest.raises(NotFound):
            identity.unmerge(s, ctx, ADMIN, 9999, "none")


def test_a_merge_chain_is_undone_newest_first(ctx):
    a, b = two_records_of_one_man(ctx)
    c = crossing(ctx, document_number="FC3000003", occurred_at="2026-04-02T09:00:00+05:00", checkpoint="ALA-AIRPORT")
    with ctx.transaction() as s:
        first = identity.merge(s, ctx, ADMIN, b, c, "same man")  # b is older than c: b kept
        second = identity.merge(s, ctx, ADMIN, a, b, "same man")  # a is older than b: a kept
    with ctx.transaction() as s:
        assert people.get_person(s, ctx, ADMIN, c).person.id == a  # c → b → a
        with pytest.raises(Conflict, match=f"merge {second.id}"):
            identity.unmerge(s, ctx, ADMIN, first.id, "wrong order")
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ADMIN, second.id, "mistake")
        identity.unmerge(s, ctx, ADMIN, first.id, "mistake")
        assert {people.get_person(s, ctx, ADMIN, p).person.id for p in (a, b, c)} == {a, b, c}
        assert [m.id for m in identity.merges_of(s, ctx, ADMIN, b)] == [second.id, first.id]

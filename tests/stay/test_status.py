"""The status read behind GET /persons/{id}/stay, on both databases: one query for the scope
check and the records, the same answer as the person page, one audit record per read."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.people import service as people
from kosh.platform import audit
from kosh.platform.errors import Forbidden, NotFound, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import repository, service
from kosh.stay.schemas import BorderEventIn, NotificationIn, ResidencePermitIn

ADMIN = system_principal("tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))
# The traveller crosses at a Turkistan checkpoint (61) and lives in Almaty (75): no record of
# theirs is made in Almaty Region (19).
ELSEWHERE = Principal("officer.elsewhere", Role.OFFICER, user_id=14, regions=("19",))
NOWHERE = Principal("officer.none", Role.OFFICER, user_id=13, regions=())
ANALYST = Principal("analyst", Role.ANALYST, user_id=12)


def _record(ctx, fn, schema, *rows):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return fn(s, ctx, ADMIN, [validate_model(schema, r, vc) for r in rows])


def _status_inputs(s, principal, person_id):
    return repository.status_inputs(s, principal, people.visible_template(principal), person_id)


@pytest.fixture
def traveller(ctx) -> str:
    """Two stays, a host notification (Almaty) and a visa: every kind of record the engine reads."""
    pid = _record(ctx, service.record_border_events, BorderEventIn,
                  f.border_event(occurred_at="2026-03-02T09:00:00+05:00"),
                  f.border_event(direction="exit", occurred_at="2026-03-20T18:00:00+05:00"),
                  f.border_event(occurred_at="2026-05-04T08:00:00+05:00")).person_ids[0]
    _record(ctx, service.record_notifications, NotificationIn,
            f.notification(arrival_date="2026-05-04", submitted_at="2026-05-05T10:00:00+05:00"))
    _record(ctx, service.record_residence_permits, ResidencePermitIn,
            {"source_event_id": "V-1", "document_number": "FA1234567", "issuing_state": "UZB", "kind": "visa",
             "valid_from": "2026-05-01", "valid_to": "2026-07-31", "kato": "751710000"})
    return pid


def test_one_query_brings_what_the_three_record_queries_bring(ctx, traveller):
    with ctx.transaction() as s:
        found = _status_inputs(s, ADMIN, traveller)
        crossings, notes, permits = repository.records_for(s, [traveller])
    assert found is not None and found.citizenship == "UZB"
    assert sorted(found.crossings) == sorted((c.direction, c.occurred_on, c.source_event_id)
                                             for c in crossings[traveller])
    assert [(n.arrival_date, n.submitted_at) for n in found.notifications] == \
        [(n.arrival_date, n.submitted_at) for n in notes[traveller]]
    assert found.permits == [("visa", dt.date(2026, 5, 1), dt.date(2026, 7, 31))]
    assert len(found.crossings) == 3 and len(found.notifications) == 1


@pytest.mark.parametrize("on", [dt.date(2026, 3, 10), dt.date(2026, 4, 1), dt.date(2026, 6, 15),
                                dt.date(2026, 9, 1)])
def test_status_is_the_person_pages_assessment(ctx, traveller, on):
    with ctx.transaction() as s:
        citizenship, result, day = service.stay_status(s, ctx, ADMIN, traveller, on)
        page = service.person_stay(s, ctx, ADMIN, traveller, on)
    assert (citizenship, day) == ("UZB", on)
    assert result == page.assessment


def test_status_respects_the_officers_regions(ctx, traveller):
    with ctx.transaction() as s:
        assert service.stay_status(s, ctx, ALMATY, traveller, dt.date(2026, 6, 1))[0] == "UZB"
        # Turkistan's officers hold the crossings made at their checkpoint: they see the person too.
        assert service.stay_status(s, ctx, SOUTH, traveller, dt.date(2026, 6, 1))[0] == "UZB"
        for outsider in (ELSEWHERE, NOWHERE):
            with pytest.raises(NotFound, match=f"no person {traveller} in your regions"):
                service.stay_status(s, ctx, outsider, traveller, dt.date(2026, 6, 1))
            assert _status_inputs(s, outsider, traveller) is None
        with pytest.raises(NotFound, match="no person nobody in your regions"):
            service.stay_status(s, ctx, ADMIN, "nobody")
        with pytest.raises(Forbidden):
            service.stay_status(s, ctx, ANALYST, traveller)


def test_any_of_the_officers_prefixes_will_do(ctx, traveller):
    with ctx.transaction() as s:
        for regions in (("7",), ("61", "75"), ("751710000",)):
            assert _status_inputs(s, Principal("o", Role.OFFICER, regions=regions), traveller) is not None
        assert _status_inputs(s, Principal("o", Role.OFFICER, regions=("76", "751")), traveller) is not None
        assert _status_inputs(s, Principal("o", Role.OFFICER, regions=("76", "752")), traveller) is None


def test_every_read_is_audited_once_and_the_chain_holds(ctx, traveller):
    with ctx.transaction() as s:
        before = s.execute(sa.select(sa.func.count()).select_from(AuditRecord)).scalar_one()
    for on in (dt.date(2026, 6, 1), dt.date(2026, 6, 2)):
        with ctx.transaction() as s:
            service.stay_status(s, ctx, ALMATY.with_purpose("case 7"), traveller, on)
    with ctx.transaction() as s:
        with pytest.raises(NotFound):
            service.stay_status(s, ctx, ELSEWHERE, traveller)
    with ctx.transaction() as s:
        recs = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        assert audit.verify(s, ctx.keyring).ok
    assert len(recs) == before + 2
    last = recs[-1]
    assert (last.actor, last.role, last.purpose, last.action, last.subject_type, last.subject_id) == \
        ("officer.almaty", "officer", "case 7", "read", "person", traveller)
    assert last.detail == '{"on": "2026-06-02", "view": "status"}'
    assert recs[-2].at <= last.at and last.prev_mac == recs[-2].mac


@pytest.mark.parametrize("on", [dt.date(9999, 12, 31), dt.date(2100, 1, 1), dt.date(1999, 12, 31)])
def test_a_day_outside_the_accepted_range_is_refused_by_name(ctx, traveller, on):
    """Not "year 10000 is out of range": the day asked and the range Kosh accepts."""
    with ctx.transaction() as s:
        with pytest.raises(ValidationFailed) as caught:
            service.stay_status(s, ctx, ADMIN, traveller, on)
        with pytest.raises(ValidationFailed):
            service.person_stay(s, ctx, ADMIN, traveller, on)
    (error,) = caught.value.errors
    assert error.field == "on"
    assert error.message == f"{on.isoformat()} is outside the dates Kosh accepts (2000-01-01 to 2099-12-31)"

"""Stay registry use cases against both databases: recording, status, lists, scoping."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.people import service as people
from kosh.platform.errors import Forbidden, NotFound
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.models import BorderEvent, StayStatus
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))
ANALYST = Principal("analyst", Role.ANALYST, user_id=12)


def events(ctx, *rows):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, r, vc) for r in rows])


def notes(ctx, *rows, principal=ADMIN):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_notifications(s, ctx, principal, [validate_model(NotificationIn, r, vc) for r in rows])


def test_entry_then_status_then_overstay_list(ctx):
    pid = events(ctx, f.border_event(occurred_at="2026-03-02T09:00:00+05:00")).person_ids[0]
    with ctx.transaction() as s:
        st = service.person_stay(s, ctx, ADMIN, pid, dt.date(2026, 3, 20))
    a = st.assessment
    assert a.in_country and a.current_entry == dt.date(2026, 3, 2)
    assert a.days_used == 19  # 2..20 March, both ends counted
    assert a.last_lawful_day == dt.date(2026, 3, 31)  # 30 days per entry for Uzbekistan
    with ctx.transaction() as s:
        rows = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 4, 5)).rows
        before = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 3, 31)).rows
    assert [r.status.person_id for r in rows] == [pid] and rows[0].days == 5
    assert before == []


def test_exit_removes_from_overstay_list_and_keeps_history(ctx):
    pid = events(ctx, f.border_event(occurred_at="2026-03-02T09:00:00+05:00")).person_ids[0]
    events(ctx, f.border_event(direction="exit", occurred_at="2026-04-03T18:00:00+05:00"))
    with ctx.transaction() as s:
        rows = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 4, 10)).rows
        st = service.person_stay(s, ctx, ADMIN, pid, dt.date(2026, 4, 10))
    assert rows == []
    assert not st.assessment.in_country
    assert len(st.events) == 2


def test_notification_clears_overdue_list(ctx):
    pid = events(ctx, f.border_event(occurred_at="2026-03-02T09:00:00+05:00")).person_ids[0]
    with ctx.transaction() as s:
        rows = service.list_overdue_notifications(s, ctx, ADMIN, dt.date(2026, 3, 10)).rows
    assert [r.status.person_id for r in rows] == [pid]
    assert rows[0].status.notification_due == dt.date(2026, 3, 5)  # Mon 2 March + 3 working days
    notes(ctx, f.notification(arrival_date="2026-03-02", submitted_at="2026-03-09T10:00:00+05:00"))
    with ctx.transaction() as s:
        rows = service.list_overdue_notifications(s, ctx, ADMIN, dt.date(2026, 3, 10)).rows
    assert rows == []


def test_same_source_event_twice_adds_nothing(ctx):
    row = f.border_event()
    first = events(ctx, row)
    again = events(ctx, row, row)
    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 2)
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(BorderEvent)).scalar_one() == 1


def test_same_passport_is_one_person_across_sources(ctx):
    a = events(ctx, f.border_event()).person_ids
    b = notes(ctx, f.notification()).person_ids
    assert a == b
    with ctx.transaction() as s:
        view = people.get_person(s, ctx, ADMIN, a[0])
    spellings = {n.full_name for n in view.spellings}
    assert "ABDULLAYEV SHUKHRAT" in spellings and "Абдуллаев Шухрат Бахтиёрович" in spellings
    assert [d.number for d in view.documents] == ["FA1234567"]


def test_officer_sees_only_own_regions(ctx):
    in_almaty = notes(ctx, f.notification(kato="751710000")).person_ids[0]
    in_south = notes(ctx, f.notification(kato="611010000", document_number="FA7654321",
                                         surname="Юсупов")).person_ids[0]
    with ctx.transaction() as s:
        assert people.get_person(s, ctx, ALMATY, in_almaty).person.id == in_almaty
        with pytest.raises(NotFound):
            people.get_person(s, ctx, ALMATY, in_south)
        assert [p.id for p in people.search_persons(s, ctx, SOUTH, "Юсупов").items] == [in_south]
        assert people.search_persons(s, ctx, ALMATY, "Юсупов").items == []
        rows = service.list_overdue_notifications(s, ctx, SOUTH, dt.date(2026, 6, 1)).rows
        assert all(r.status.region_kato.startswith(("61", "79")) for r in rows)
        with pytest.raises(Forbidden, match="outside your regions"):
            service.list_overstays(s, ctx, ALMATY, dt.date(2026, 6, 1), region="61")


def test_analyst_never_reads_a_person(ctx):
    pid = events(ctx, f.border_event()).person_ids[0]
    with ctx.transaction() as s:
        with pytest.raises(Forbidden):
            people.get_person(s, ctx, ANALYST, pid)
        with pytest.raises(Forbidden):
            people.search_persons(s, ctx, ANALYST, "Abdullayev")
        with pytest.raises(Forbidden):
            service.list_overstays(s, ctx, ANALYST, dt.date(2026, 6, 1))
        # Aggregates only: counts for the whole country, never a name.
        assert service.figures(s, ctx, ANALYST, dt.date(2026, 6, 1)) == {
            "persons": 1, "in_country": 1, "overstays": 1, "overdue": 1}


def test_host_submits_only_as_itself_and_sees_own(ctx):
    from kosh.platform import auth

    with ctx.transaction() as s:
        host = auth.principal_for(auth.create_user(s, ctx, username="host", password="x" * 12, role="host",
                                                   host_party=f.HOST_IIN))
        other = auth.principal_for(auth.create_user(s, ctx, username="host2", password="x" * 12, role="host",
                                                    host_party=f.HOST_BIN))
    notes(ctx, f.notification(), principal=host)
    with pytest.raises(Forbidden, match="^You may submit notifications only as the host of your account\\.$"):
        notes(ctx, f.notification(document_number="FA0000009"), principal=other)
    with ctx.transaction() as s:
        mine = service.my_notifications(s, ctx, host)
        theirs = service.my_notifications(s, ctx, other)
        with pytest.raises(Forbidden):
            people.search_persons(s, ctx, host, "Абдуллаев")
    assert len(mine) == 1 and theirs == []


def test_list_cursor_pages_through_everyone_once(ctx):
    rows = [f.border_event(document_number=f"FA10000{i:02d}", occurred_at=f"2026-01-{i + 1:02d}T09:00:00+05:00")
            for i in range(7)]
    events(ctx, *rows)
    seen, cursor = [], None
    with ctx.transaction() as s:
        while True:
            page = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 5, 1), cursor=cursor, limit=3)
            cursor = page.next_cursor
            seen += [r.status.person_id for r in page.rows]
            if not cursor:
                break
        total = s.execute(sa.select(sa.func.count()).select_from(StayStatus)).scalar_one()
    assert len(seen) == len(set(seen)) == total == 7


def test_feed_gaps_become_findings_not_silence(ctx):
    from kosh.stay.models import DataQualityFinding

    pid = events(ctx, f.border_event(direction="exit", occurred_at="2026-02-10T09:00:00+05:00"),
                 f.border_event(occurred_at="2026-03-01T09:00:00+05:00"),
                 f.border_event(occurred_at="2026-03-20T09:00:00+05:00")).person_ids[0]
    with ctx.transaction() as s:
        found = {(x.code, x.on) for x in s.execute(sa.select(DataQualityFinding)
                                                   .where(DataQualityFinding.person_id == pid)).scalars()}
        stored = s.execute(sa.select(sa.func.count()).select_from(BorderEvent)).scalar_one()
    assert ("exit_without_entry", dt.date(2026, 2, 10)) in found
    assert ("entry_without_exit", dt.date(2026, 3, 1)) in found
    assert stored == 3  # every crossing is kept; the gap is reported, not dropped
    # Recomputing (another write for the person) does not duplicate findings.
    events(ctx, f.border_event(direction="exit", occurred_at="2026-03-25T09:00:00+05:00"))
    with ctx.transaction() as s:
        again = s.execute(sa.select(sa.func.count()).select_from(DataQualityFinding)
                          .where(DataQualityFinding.person_id == pid)).scalar_one()
    assert again == len(found)


def test_lists_filter_by_citizenship(ctx):
    from kosh.platform.errors import ValidationFailed

    events(ctx, f.border_event(occurred_at="2026-01-05T09:00:00+05:00"),
           f.border_event(document_number="AC7000001", nationality="KGZ", issuing_state="KGZ", checkpoint="KORDAY",
                          occurred_at="2026-01-05T09:00:00+05:00"))
    with ctx.transaction() as s:
        both = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 6, 1)).rows
        kyrgyz = service.list_overstays(s, ctx, ADMIN, dt.date(2026, 6, 1), citizenship="kg").rows
        with pytest.raises(ValidationFailed):
            service.list_overstays(s, ctx, ADMIN, dt.date(2026, 6, 1), citizenship="Atlantis")
    assert {r.status.citizenship for r in both} == {"UZB", "KGZ"}
    assert [r.status.citizenship for r in kyrgyz] == ["KGZ"]


def test_notification_due_belongs_to_the_current_stay(ctx):
    # An earlier stay went unnotified; after leaving and coming back, the list must show the
    # deadline of the new entry, not the old one. Stored statuses are computed as of today,
    # so the dates are relative to it.
    from kosh.stay.rules import add_working_days

    today = service.local_today(ctx)
    first, left, back = today - dt.timedelta(days=60), today - dt.timedelta(days=50), today - dt.timedelta(days=10)
    def at(d: dt.date) -> str:
        return f"{d.isoformat()}T09:00:00+05:00"

    events(ctx, f.border_event(occurred_at=at(first)), f.border_event(direction="exit", occurred_at=at(left)),
           f.border_event(occurred_at=at(back)))
    with ctx.transaction() as s:
        rows = service.list_overdue_notifications(s, ctx, ADMIN, today + dt.timedelta(days=1)).rows
    assert len(rows) == 1
    assert rows[0].status.current_entry == back
    assert rows[0].status.notification_due == add_working_days(back, 3, ctx.pack.calendar)

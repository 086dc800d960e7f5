"""The officers' lists on both databases: totals, keyset pages both ways, sorting, filters,
regional scope (rows, counts and files) and the audited CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

import factories as f
from kosh.platform.errors import Forbidden, KoshError, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.list_export import csv_text
from kosh.stay.models import StayStatus
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))
ON = dt.date(2026, 6, 1)


def record(ctx, *rows):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, r, vc) for r in rows])


@pytest.fixture
def registry(ctx):
    """Overstayers: 7 Uzbek and 2 Kyrgyz citizens who entered at Almaty airport (region 75) on
    different days, 3 Uzbeks at Zhibek Zholy (region 61); two Almaty entries share a day."""
    almaty = [f.border_event(document_number=f"FA20000{i:02d}", checkpoint="ALA-AIRPORT",
                             occurred_at=f"2026-01-{min(i, 5) + 1:02d}T09:00:00+05:00") for i in range(7)]
    almaty += [f.border_event(document_number=f"AC70000{i:02d}", nationality="KGZ", issuing_state="KGZ",
                              checkpoint="ALA-AIRPORT", occurred_at=f"2026-02-{i + 1:02d}T09:00:00+05:00")
               for i in range(2)]
    south = [f.border_event(document_number=f"FA30000{i:02d}", checkpoint="ZHIBEK-ZHOLY",
                            occurred_at=f"2026-01-{i + 10:02d}T09:00:00+05:00") for i in range(3)]
    ids_75 = set(record(ctx, *almaty).person_ids)
    ids_61 = set(record(ctx, *south).person_ids)
    assert len(ids_75) == 9 and len(ids_61) == 3
    return ids_75, ids_61


def statuses(ctx, ids):
    with ctx.transaction() as s:
        return {r.person_id: r for r in s.execute(sa.select(StayStatus).where(StayStatus.person_id.in_(ids))).scalars()}


def walk(ctx, principal, limit, **kw):
    """Every page forwards, then backwards from the last page; returns both sequences of pages."""
    forward, cursor = [], None
    with ctx.transaction() as s:
        while True:
            page = service.list_overstays(s, ctx, principal, ON, cursor=cursor, limit=limit, **kw)
            forward.append(page)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        backward = [forward[-1]]
        while backward[-1].prev_cursor:
            backward.append(service.list_overstays(s, ctx, principal, ON, cursor=backward[-1].prev_cursor,
                                                   limit=limit, **kw))
    return forward, backward


def ids(page):
    return [r.status.person_id for r in page.rows]


def test_total_and_pages_forwards_and_back(ctx, registry):
    ids_75, _ = registry
    forward, backward = walk(ctx, ALMATY, 4)
    seen = [pid for p in forward for pid in ids(p)]
    assert sorted(seen) == sorted(ids_75) and len(seen) == len(set(seen))
    assert {p.total for p in forward} == {len(ids_75)}
    assert [len(p.rows) for p in forward] == [4, 4, 1]
    assert forward[0].prev_cursor is None and forward[-1].next_cursor is None
    # Backwards from the last page gives the same pages in reverse.
    assert [ids(p) for p in backward] == [ids(p) for p in reversed(forward)]
    assert backward[-1].prev_cursor is None
    # Expected order, worked out from the stored statuses: last lawful day, then person id.
    st = statuses(ctx, ids_75)
    assert seen == sorted(ids_75, key=lambda pid: (st[pid].last_lawful_day, pid))
    assert all(r.days == (ON - r.status.last_lawful_day).days for p in forward for r in p.rows)


@pytest.mark.parametrize("sort", ["due", "-due", "entry", "-entry", "citizenship", "-citizenship", "region"])
def test_every_sort_pages_through_everyone_once_in_its_order(ctx, registry, sort):
    ids_75, ids_61 = registry
    everyone = ids_75 | ids_61
    forward, backward = walk(ctx, ADMIN, 5, sort=sort)
    seen = [pid for p in forward for pid in ids(p)]
    st = statuses(ctx, everyone)
    key = sort.lstrip("-")

    def value(pid):
        s = st[pid]
        return {"due": s.last_lawful_day, "entry": s.current_entry, "citizenship": s.citizenship,
                "region": s.region_kato}[key]

    assert seen == sorted(everyone, key=lambda pid: (value(pid), pid), reverse=sort.startswith("-"))
    assert [ids(p) for p in backward] == [ids(p) for p in reversed(forward)]


def test_sort_is_a_whitelist_and_a_cursor_keeps_its_sort(ctx, registry):
    with ctx.transaction() as s:
        with pytest.raises(ValidationFailed) as refused:
            service.list_overstays(s, ctx, ADMIN, ON, sort="surname; drop table persons")
        assert [e.field for e in refused.value.errors] == ["sort"]
        page = service.list_overstays(s, ctx, ADMIN, ON, limit=2)
        with pytest.raises(KoshError) as stale:
            service.list_overstays(s, ctx, ADMIN, ON, cursor=page.next_cursor, sort="-due")
        assert stale.value.status == 400
        with pytest.raises(KoshError):
            service.list_overstays(s, ctx, ADMIN, ON, cursor="not-a-cursor")


def test_filters_citizenship_and_day_range(ctx, registry):
    ids_75, _ = registry
    st = statuses(ctx, ids_75)
    days = sorted({s.last_lawful_day for s in st.values()})
    start, end = days[1], days[-2]
    with ctx.transaction() as s:
        kyrgyz = service.list_overstays(s, ctx, ALMATY, ON, citizenship="Kyrgyzstan")
        ranged = service.list_overstays(s, ctx, ALMATY, ON, due_from=start, due_to=end)
        with pytest.raises(ValidationFailed) as backwards:
            service.list_overstays(s, ctx, ALMATY, ON, due_from=end, due_to=start)
    assert {r.status.citizenship for r in kyrgyz.rows} == {"KGZ"}
    assert kyrgyz.total == sum(1 for x in st.values() if x.citizenship == "KGZ") == 2
    assert sorted(ids(ranged)) == sorted(pid for pid, x in st.items() if start <= x.last_lawful_day <= end)
    assert ranged.total == len(ranged.rows) and 0 < ranged.total < len(ids_75)
    assert [e.field for e in backwards.value.errors] == ["due_to"]


def test_overdue_notifications_list_has_the_same_paging_and_range(ctx):
    rows = [f.border_event(document_number=f"FA40000{i:02d}", checkpoint="ALA-AIRPORT",
                           occurred_at=f"2026-03-{i + 2:02d}T09:00:00+05:00") for i in range(5)]
    everyone = set(record(ctx, *rows).person_ids)
    st = statuses(ctx, everyone)
    on = dt.date(2026, 3, 20)
    assert all(x.notification_due for x in st.values())
    with ctx.transaction() as s:
        first = service.list_overdue_notifications(s, ctx, ALMATY, on, limit=2)
        second = service.list_overdue_notifications(s, ctx, ALMATY, on, limit=2, cursor=first.next_cursor)
        back = service.list_overdue_notifications(s, ctx, ALMATY, on, limit=2, cursor=second.prev_cursor)
        due = sorted(x.notification_due for x in st.values())
        ranged = service.list_overdue_notifications(s, ctx, ALMATY, on, due_from=due[2])
    assert first.total == 5 and ids(back) == ids(first)
    assert set(ids(first)).isdisjoint(ids(second))
    assert sorted(ids(ranged)) == sorted(pid for pid, x in st.items() if x.notification_due >= due[2])


def test_an_officer_never_sees_another_regions_rows_count_or_file(ctx, registry):
    ids_75, ids_61 = registry
    with ctx.transaction() as s:
        almaty = service.list_overstays(s, ctx, ALMATY, ON, limit=500)
        south = service.list_overstays(s, ctx, SOUTH, ON, limit=500)
        almaty_file = service.export_list(s, ctx, ALMATY, "overstay", service.ListQuery(ON), "case 12-345")
        with pytest.raises(Forbidden):
            service.list_overstays(s, ctx, ALMATY, ON, region="61")
        with pytest.raises(Forbidden):
            service.export_list(s, ctx, ALMATY, "overstay", service.ListQuery(ON, region="61"), "case 12-345")
    assert set(ids(almaty)) == ids_75 and almaty.total == len(ids_75)
    assert set(ids(south)) == ids_61 and south.total == len(ids_61)
    assert {r.status.person_id for r in almaty_file} == ids_75


def test_export_requires_a_purpose_and_is_audited_with_it(ctx, registry):
    ids_75, _ = registry
    q = service.ListQuery(ON, citizenship="UZB", sort="-entry")
    with ctx.transaction() as s:
        for purpose in (None, "", "   ", "ab", "x" * 201, "case\x07 1"):
            with pytest.raises(ValidationFailed) as refused:
                service.export_list(s, ctx, ALMATY, "overstay", q, purpose)
            assert [e.field for e in refused.value.errors] == ["purpose"]
        before = s.execute(sa.select(sa.func.count()).select_from(AuditRecord)
                           .where(AuditRecord.action == "export")).scalar_one()
    assert before == 0  # a refused export leaves no trace of a download
    with ctx.transaction() as s:
        rows = service.export_list(s, ctx, ALMATY, "overstay", q, "  Case 2026/17:  check  ")
    with ctx.transaction() as s:
        rec = s.execute(sa.select(AuditRecord).where(AuditRecord.action == "export")).scalar_one()
    detail = json.loads(rec.detail)
    assert rec.purpose == "Case 2026/17: check" and detail["purpose"] == "Case 2026/17: check"
    assert detail["rows"] == len(rows) == 7 and detail["citizenship"] == "UZB" and detail["sort"] == "-entry"
    assert set(detail["persons"]) == {r.status.person_id for r in rows} <= ids_75
    entries = [r.status.current_entry for r in rows]
    assert entries == sorted(entries, reverse=True)


def test_a_name_that_is_a_formula_comes_out_inert(ctx):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, f.notification(
            surname='=HYPERLINK("http://evil.example","x")', given_names="+1", document_number="FA5000001",
            arrival_date="2026-03-02"), vc)])
    record(ctx, f.border_event(document_number="FA5000001", checkpoint="ALA-AIRPORT",
                               occurred_at="2026-03-01T09:00:00+05:00"))
    with ctx.transaction() as s:
        rows = service.export_list(s, ctx, ALMATY, "overstay", service.ListQuery(ON), "case 1")
        text = csv_text(rows, "overstay", "ru", ctx.pack)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][1] == "Фамилия"  # headers in the reader's language
    assert len(table) == 2
    assert table[1][1] == '\'=HYPERLINK("http://evil.example","x")' and table[1][2] == "'+1"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)
    assert table[1][6] == "Алматы"  # the region by name

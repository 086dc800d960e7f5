"""Violations recorded at every recompute of a stay status, and the officers' list of violations in
a period, on both databases: stored, replaced, moved by a merge and back, removed on forgetting;
filters, scope, bad input and audit."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.identity import service as identity
from kosh.platform import events
from kosh.platform.errors import Forbidden, KoshError, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.models import StayViolation
from kosh.stay.schemas import BorderEventIn, NotificationIn

D = dt.date
ADMIN = system_principal("tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))


def events_(ctx, *rows) -> list[str]:
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, r, vc) for r in rows]
                                            ).person_ids


def notes(ctx, *rows) -> list[str]:
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, r, vc) for r in rows]
                                            ).person_ids


def stored(ctx, person_id: str | None = None) -> list[tuple]:
    with ctx.transaction() as s:
        stmt = sa.select(StayViolation)
        if person_id is not None:
            stmt = stmt.where(StayViolation.person_id == person_id)
        return sorted((v.person_id, v.kind, v.first_day, v.last_day, v.ongoing, v.due, v.filed)
                      for v in s.execute(stmt).scalars())


def forty_days(ctx, **over) -> str:
    """Uzbekistan, Mon 2026-03-02 to 2026-04-10 (40 days; 30 per entry) at Zhibek Zholy (Turkistan)."""
    return events_(ctx, f.border_event(occurred_at="2026-03-02T09:00:00+05:00", **over),
                   f.border_event(direction="exit", occurred_at="2026-04-10T18:00:00+05:00", **over))[0]


def test_violations_are_stored_when_the_status_is_recomputed_and_replaced_at_the_next(ctx):
    pid = forty_days(ctx)
    # Day 30 is Mar 31: Apr 1–10 past the limit. Notification due Thu Mar 5 (3 working days), never
    # made: Mar 6 – Apr 10 (the stay's last day) without it.
    assert stored(ctx) == [
        (pid, "notification_missed", D(2026, 3, 6), D(2026, 4, 10), False, D(2026, 3, 5), None),
        (pid, "per_entry", D(2026, 4, 1), D(2026, 4, 10), False, None, None)]
    # The host notifies on Mon Mar 9: late, Mar 6–9.
    notes(ctx, f.notification(arrival_date="2026-03-02", submitted_at="2026-03-09T10:00:00+05:00"))
    assert stored(ctx) == [
        (pid, "notification_late", D(2026, 3, 6), D(2026, 3, 9), False, D(2026, 3, 5), D(2026, 3, 9)),
        (pid, "per_entry", D(2026, 4, 1), D(2026, 4, 10), False, None, None)]


def test_a_notification_on_time_leaves_only_the_overstay(ctx):
    pid = forty_days(ctx)
    notes(ctx, f.notification(arrival_date="2026-03-02", submitted_at="2026-03-05T10:00:00+05:00"))
    assert [k for _, k, *_ in stored(ctx, pid)] == ["per_entry"]


def test_a_stay_still_going_on_is_stored_as_ongoing_and_what_is_coming_too(ctx):
    today = service.local_today(ctx)
    long_ago = events_(ctx, f.border_event(occurred_at="2026-03-02T09:00:00+05:00"))[0]
    rows = stored(ctx, long_ago)
    assert [(k, first, ongoing) for _, k, first, _, ongoing, _, _ in rows] == [
        ("notification_missed", D(2026, 3, 6), True), ("per_entry", D(2026, 4, 1), True)]
    assert {last for _, _, _, last, *_ in rows} == {max(today, D(2026, 3, 2))}
    # Entered today: lawful for now; the overstay from day 31 and the notification past its due
    # day are stored ahead, for nothing is recomputed when those days come.
    arrived = events_(ctx, f.border_event(document_number="FA7654321", surname="KARIMOV",
                                          occurred_at=f"{today.isoformat()}T09:00:00+05:00"))[0]
    ahead = {k: (first, ongoing) for _, k, first, _, ongoing, _, _ in stored(ctx, arrived)}
    assert ahead["per_entry"] == (today + dt.timedelta(days=30), True)
    assert ahead["notification_missed"][0] > today + dt.timedelta(days=3)
    with ctx.transaction() as s:
        rows_today, _ = service.list_violations(s, ctx, ADMIN, today, today)
    # Nothing of the newcomer is listed before it happens; the long stay's are, still going on.
    assert {r.violation.person_id for r in rows_today} == {long_ago}
    assert all(r.last_day is None and r.days == (today - r.violation.first_day).days + 1 for r in rows_today)


def test_a_merge_moves_the_violations_and_the_undo_restores_them(ctx):
    # Entered on one passport, left on another: apart, the first looks still present.
    a = events_(ctx, f.border_event(document_number="FA1000001", occurred_at="2026-03-02T09:00:00+05:00",
                                    checkpoint="ALA-AIRPORT"))[0]
    b = events_(ctx, f.border_event(document_number="FB2000002", direction="exit", surname="ABDULLAEV",
                                    occurred_at="2026-03-20T09:00:00+05:00", checkpoint="ALA-AIRPORT"))[0]
    apart = stored(ctx)
    assert {(p, k, ongoing) for p, k, _, _, ongoing, _, _ in apart} == {
        (a, "notification_missed", True), (a, "per_entry", True)}
    with ctx.transaction() as s:
        merge = identity.merge(s, ctx, ADMIN, a, b, "same man")
    # One stay, Mar 2–20: within 30 days; the notification missed from Mar 6 to the exit.
    assert stored(ctx) == [(a, "notification_missed", D(2026, 3, 6), D(2026, 3, 20), False, D(2026, 3, 5), None)]
    with ctx.transaction() as s:
        identity.unmerge(s, ctx, ADMIN, merge.id, "not the same man")
    assert [(p, k, first, ongoing) for p, k, first, _, ongoing, _, _ in stored(ctx)] == [
        (p, k, first, ongoing) for p, k, first, _, ongoing, _, _ in apart]


def test_forgetting_a_person_removes_their_violations(ctx):
    pid = forty_days(ctx)
    other = forty_days(ctx, document_number="FA7654321", surname="KARIMOV")
    with ctx.transaction() as s:
        events.publish(s, ctx, events.PersonsForgotten((pid,)))
    assert {p for p, *_ in stored(ctx)} == {other}


@pytest.fixture
def two_people(ctx) -> tuple[str, str]:
    """An Uzbek registered in Almaty (75; notified late) and a Tajik seen only at Zhibek Zholy (61)."""
    almaty = forty_days(ctx)
    notes(ctx, f.notification(arrival_date="2026-03-02", submitted_at="2026-03-09T10:00:00+05:00"))
    south = events_(ctx, f.border_event(document_number="TJ0000001", issuing_state="TJK", nationality="TJK",
                                        surname="RAHIMOV", occurred_at="2026-06-01T09:00:00+05:00"),
                    f.border_event(document_number="TJ0000001", issuing_state="TJK", nationality="TJK",
                                   surname="RAHIMOV", direction="exit", occurred_at="2026-06-20T09:00:00+05:00"))[0]
    return almaty, south


def listed(ctx, principal, first, last, **kw) -> list[tuple]:
    with ctx.transaction() as s:
        rows, _ = service.list_violations(s, ctx, principal, first, last, **kw)
    return [(r.violation.person_id, r.violation.kind, r.violation.first_day, r.days) for r in rows]


def test_the_period_list_takes_violations_overlapping_the_period(ctx, two_people):
    almaty, south = two_people
    # The Tajik's notification was due Thu Jun 4: missed Jun 5–20.
    assert listed(ctx, ADMIN, D(2026, 3, 1), D(2026, 12, 1)) == [
        (almaty, "notification_late", D(2026, 3, 6), 4), (almaty, "per_entry", D(2026, 4, 1), 10),
        (south, "notification_missed", D(2026, 6, 5), 16)]
    assert listed(ctx, ADMIN, D(2026, 3, 9), D(2026, 3, 9)) == [(almaty, "notification_late", D(2026, 3, 6), 4)]
    assert listed(ctx, ADMIN, D(2026, 3, 10), D(2026, 3, 31)) == []  # between the two
    assert listed(ctx, ADMIN, D(2026, 4, 10), D(2026, 6, 5)) == [
        (almaty, "per_entry", D(2026, 4, 1), 10), (south, "notification_missed", D(2026, 6, 5), 16)]


def test_the_period_list_filters_by_kind_citizenship_and_region(ctx, two_people):
    almaty, south = two_people
    year = (D(2026, 1, 1), D(2026, 12, 1))
    kinds = ["notification_missed", "notification_late"]
    assert [(p, k) for p, k, _, _ in listed(ctx, ADMIN, *year, kinds=kinds)] == [
        (almaty, "notification_late"), (south, "notification_missed")]
    assert {p for p, *_ in listed(ctx, ADMIN, *year, citizenship="Tajikistan")} == {south}
    assert {p for p, *_ in listed(ctx, ADMIN, *year, region="75")} == {almaty}
    # Officers see the persons registered in their regions only.
    assert {p for p, *_ in listed(ctx, ALMATY, *year)} == {almaty}
    assert {p for p, *_ in listed(ctx, SOUTH, *year)} == {south}
    with pytest.raises(Forbidden):
        listed(ctx, ALMATY, *year, region="61")


def test_the_period_list_pages_with_a_cursor(ctx, two_people):
    seen, cursor = [], None
    while True:
        with ctx.transaction() as s:
            rows, cursor = service.list_violations(s, ctx, ADMIN, D(2026, 1, 1), D(2026, 12, 1), cursor=cursor,
                                                   limit=2)
        seen += [(r.violation.kind, r.violation.first_day) for r in rows]
        if cursor is None:
            break
    assert seen == [("notification_late", D(2026, 3, 6)), ("per_entry", D(2026, 4, 1)),
                    ("notification_missed", D(2026, 6, 5))]
    with ctx.transaction() as s, pytest.raises(KoshError) as bad:
        service.list_violations(s, ctx, ADMIN, D(2026, 1, 1), D(2026, 12, 1), cursor="not-a-cursor")
    assert bad.value.status == 400


def test_bad_filters_are_refused_by_field_and_the_list_is_audited(ctx, two_people):
    with ctx.transaction() as s, pytest.raises(ValidationFailed) as bad:
        service.list_violations(s, ctx, ADMIN, D(2026, 5, 1), D(2026, 4, 1), kinds=["speeding"],
                                citizenship="Atlantis")
    assert {e.field: str(e.message) for e in bad.value.errors} == {
        "to": "must be on or after the first day (2026-05-01)", "kind": "speeding is not a kind of violation",
        "citizenship": next(str(e.message) for e in bad.value.errors if e.field == "citizenship")}
    assert len(bad.value.errors) == 3
    with ctx.transaction() as s, pytest.raises(ValidationFailed) as early:
        service.list_violations(s, ctx, ADMIN, D(1999, 12, 31), D(2026, 4, 1))
    assert early.value.errors[0].field == "from"
    listed(ctx, ALMATY, D(2026, 1, 1), D(2026, 12, 1))
    with ctx.transaction() as s:
        last = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.actor) == ("list", "officer.almaty") and "violations" in last.detail
    assert two_people[0] in last.detail and two_people[1] not in last.detail

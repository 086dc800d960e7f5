"""The retention job on both databases: terms at their boundary, stays with no exit, dry runs,
the audit, idempotence and the platform's short-lived rows; the pure term rule against a
day-by-day count."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import time

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import factories as f
from conftest_helpers import count
from kosh.flows import retention
from kosh.identity.models import IdentityCandidate
from kosh.jurisdictions.schema import RetentionTerm
from kosh.people.models import Person, PersonName, TravelDocument
from kosh.platform import audit
from kosh.platform.models import ApiToken, AuditRecord, LoginAttempt, User, WebSession
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.models import BorderEvent, HostNotification, StayStatus
from kosh.stay.retention_rules import CrossingRec, first_kept_anchor, past_term, stays_of, term_end
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("tests")
D = dt.date


def events(ctx, *rows):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, r, vc) for r in rows])


def notes(ctx, *rows):
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        return service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, r, vc) for r in rows])


def crossing(direction: str, day: str, number: str, **over):
    return f.border_event(direction=direction, occurred_at=f"{day}T12:00:00+05:00", document_number=number, **over)


def events_of(ctx, person_id: str) -> list[tuple[str, dt.date]]:
    with ctx.transaction() as s:
        return [tuple(r) for r in s.execute(sa.select(BorderEvent.direction, BorderEvent.occurred_on)
                                            .where(BorderEvent.person_id == person_id)
                                            .order_by(BorderEvent.occurred_on))]


def exists(ctx, person_id: str) -> bool:
    with ctx.transaction() as s:
        return s.get(Person, person_id) is not None


# A closed stay: entry 10 Jan 2020, exit 10 Mar 2023 -> kept through 10 Mar 2026 (3 years).
@pytest.mark.parametrize(("on", "kept"), [(D(2026, 3, 9), True), (D(2026, 3, 10), True), (D(2026, 3, 11), False)])
def test_closed_stay_is_kept_through_three_years_after_the_exit(ctx, on, kept):
    old = events(ctx, crossing("entry", "2020-01-10", "FA1000001"), crossing("exit", "2023-03-10", "FA1000001"))
    old_pid = old.person_ids[0]
    notes(ctx, f.notification(document_number="FA1000001", arrival_date="2020-01-10",
                              submitted_at="2020-01-11T10:00:00+05:00"))
    recent = events(ctx, crossing("entry", "2025-01-10", "FA2000002", surname="KARIMOV"),
                    crossing("exit", "2025-02-01", "FA2000002", surname="KARIMOV")).person_ids[0]

    report = retention.run(ctx, on)

    assert exists(ctx, recent) and len(events_of(ctx, recent)) == 2
    if kept:
        assert events_of(ctx, old_pid) == [("entry", D(2020, 1, 10)), ("exit", D(2023, 3, 10))]
        assert report.removed["border_events"] == 0 and exists(ctx, old_pid)
    else:
        assert events_of(ctx, old_pid) == []
        assert report.removed["border_events"] == 2 and report.removed["host_notifications"] == 1
        assert report.removed["persons_without_records"] == 1
        # the person went with the last record: documents, spellings, status too
        assert not exists(ctx, old_pid)
        with ctx.transaction() as s:
            for model in (TravelDocument, PersonName, StayStatus):
                assert s.execute(sa.select(sa.func.count()).select_from(model)
                                 .where(model.person_id == old_pid)).scalar_one() == 0
        assert count(ctx, HostNotification) == 0


def test_a_stay_with_no_exit_is_kept_five_years_after_the_authorised_stay(ctx):
    # Uzbekistan from 27 Jan 2023: 30 days per entry; entry 1 Feb 2023 -> last lawful day 2 Mar 2023.
    pid = events(ctx, crossing("entry", "2023-02-01", "FA3000003")).person_ids[0]
    with ctx.transaction() as s:
        assert s.get(StayStatus, pid).last_lawful_day == D(2023, 3, 2)
    # Three years after it (the term of a closed stay) and on the last day of five, it stays.
    for on in (D(2026, 3, 3), D(2028, 3, 2)):
        assert retention.run(ctx, on).removed["border_events"] == 0
        assert events_of(ctx, pid) == [("entry", D(2023, 2, 1))]
    report = retention.run(ctx, D(2028, 3, 3))
    assert report.removed["border_events"] == 1 and not exists(ctx, pid)


def test_old_stays_go_and_the_person_stays_with_a_recomputed_status(ctx):
    pid = events(ctx, crossing("entry", "2020-01-10", "FA4000004"), crossing("exit", "2020-02-01", "FA4000004"),
                 crossing("entry", "2026-01-05", "FA4000004")).person_ids[0]
    retention.run(ctx, D(2026, 1, 20))
    assert events_of(ctx, pid) == [("entry", D(2026, 1, 5))]
    with ctx.transaction() as s:
        status = s.get(StayStatus, pid)
        assert status.in_country and status.current_entry == D(2026, 1, 5)
        assert status.last_lawful_day == D(2026, 2, 3)  # 30 days from 5 Jan, the old stay no longer counted


def test_dry_run_changes_nothing_and_counts_what_would_go(ctx):
    pid = events(ctx, crossing("entry", "2020-01-10", "FA5000005"),
                 crossing("exit", "2020-02-01", "FA5000005")).person_ids[0]
    audits = count(ctx, AuditRecord)
    report = retention.run(ctx, D(2026, 3, 1), dry_run=True)
    assert report.removed["border_events"] == 2 and report.removed["persons_without_records"] == 1
    assert len(events_of(ctx, pid)) == 2 and exists(ctx, pid)
    assert count(ctx, AuditRecord) == audits


def test_the_run_is_audited_the_chain_verifies_and_a_second_run_removes_nothing(ctx):
    events(ctx, crossing("entry", "2020-01-10", "FA6000006"), crossing("exit", "2020-02-01", "FA6000006"))
    first = retention.run(ctx, D(2026, 3, 1))
    assert first.removed["border_events"] == 2
    with ctx.transaction() as s:
        rows = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(2)).scalars().all()
        assert all(r.actor == "system" for r in rows)
        summary, batch = rows
        assert summary.action == "retention" and '"border_events": 2' in summary.detail
        assert batch.action == "delete" and '"persons_without_records": 1' in batch.detail
        assert audit.verify(s, ctx.keyring).ok
    again = retention.run(ctx, D(2026, 3, 1))
    assert sum(again.removed.values()) == 0


def test_a_person_recorded_without_records_goes_after_the_term_and_stale_pairs_go(ctx):
    a = events(ctx, crossing("entry", "2026-01-05", "FA7000007")).person_ids[0]
    b = events(ctx, crossing("entry", "2026-01-06", "FA7000008", surname="TOKTOGULOV")).person_ids[0]
    c = events(ctx, crossing("entry", "2026-01-06", "FA7000009", surname="NURMATOV")).person_ids[0]
    with ctx.transaction() as s:
        s.execute(sa.delete(IdentityCandidate))
        s.execute(sa.insert(IdentityCandidate), [
            {"person_a": min(a, c), "person_b": max(a, c), "weight": 1.0, "evidence": "[]", "scorer": "test",
             "status": status, "created_at": created}
            for status, created in (("open", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),)])
        s.execute(sa.delete(BorderEvent).where(BorderEvent.person_id == b))  # b: a person without any record
        s.execute(sa.update(Person).where(Person.id == b).values(created_at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC)))
    report = retention.run(ctx, D(2026, 1, 20))
    assert report.removed["persons_without_records"] == 1 and not exists(ctx, b)
    assert exists(ctx, a) and exists(ctx, c)
    assert report.removed["review_pairs"] == 1 and count(ctx, IdentityCandidate) == 0


def test_one_time_submission_keys_are_purged_after_their_term(ctx):
    from kosh.stay.models import HostRequestKey

    now = dt.datetime.now(dt.UTC)
    with ctx.transaction() as s:
        uid = s.execute(sa.insert(User).values(username="h1", password_hash="x", role="host")
                        .returning(User.id)).scalar_one()
        s.execute(sa.insert(HostRequestKey), [
            {"user_id": uid, "scope": "form:new", "key": key, "request_sha256": "0" * 64, "status_code": 201,
             "created_at": now - dt.timedelta(days=age)} for key, age in (("old", 40), ("recent", 3))])
    dry = retention.run(ctx, dry_run=True)
    assert dry.removed["request_keys"] == 1 and count(ctx, HostRequestKey) == 2
    assert retention.run(ctx).removed["request_keys"] == 1
    with ctx.transaction() as s:
        assert list(s.execute(sa.select(HostRequestKey.key)).scalars()) == ["recent"]


def test_sessions_attempts_tokens_and_rejects_files_are_purged(ctx):
    now = dt.datetime.now(dt.UTC)
    with ctx.transaction() as s:
        uid = s.execute(sa.insert(User).values(username="u1", password_hash="x", role="admin")
                        .returning(User.id)).scalar_one()
        s.execute(sa.insert(WebSession), [
            {"token_hash": "old", "user_id": uid, "csrf_token": "c", "expires_at": now - dt.timedelta(days=2)},
            {"token_hash": "live", "user_id": uid, "csrf_token": "c", "expires_at": now + dt.timedelta(hours=8)}])
        s.execute(sa.insert(LoginAttempt), [
            {"username": "u1", "client": "x", "success": False, "at": now - dt.timedelta(days=100)},
            {"username": "u1", "client": "x", "success": True, "at": now - dt.timedelta(days=10)}])
        s.execute(sa.insert(ApiToken), [
            {"user_id": uid, "name": "gone", "token_hash": "t1", "expires_at": now - dt.timedelta(days=2),
             "revoked": False},
            {"user_id": uid, "name": "revoked", "token_hash": "t2", "expires_at": now + dt.timedelta(days=9),
             "revoked": True},
            {"user_id": uid, "name": "live", "token_hash": "t3", "expires_at": now + dt.timedelta(days=9),
             "revoked": False}])
    rejects = ctx.settings.home / "rejects"
    rejects.mkdir(parents=True)
    old, fresh = rejects / "rejects-1-border_events.csv", rejects / "rejects-2-border_events.csv"
    for path, age in ((old, 100), (fresh, 10)):
        path.write_text("row,source_event_id,field,reason\n", encoding="utf-8")
        stamp = time.time() - age * 86400
        os.utime(path, (stamp, stamp))

    dry = retention.run(ctx, dry_run=True)
    assert (dry.removed["web_sessions"], dry.removed["login_attempts"], dry.removed["api_tokens"],
            dry.removed["import_rejects"]) == (1, 1, 2, 1)
    assert old.exists() and count(ctx, ApiToken) == 3

    report = retention.run(ctx)
    assert (report.removed["web_sessions"], report.removed["login_attempts"], report.removed["api_tokens"],
            report.removed["import_rejects"]) == (1, 1, 2, 1)
    assert not old.exists() and fresh.exists()
    with ctx.transaction() as s:
        assert list(s.execute(sa.select(WebSession.token_hash)).scalars()) == ["live"]
        assert list(s.execute(sa.select(ApiToken.name)).scalars()) == ["live"]
        assert list(s.execute(sa.select(LoginAttempt.success)).scalars()) == [True]


# -- the pure rule -------------------------------------------------------------------------------

def _slow_term_end(anchor: dt.date, years: int, months: int, days: int) -> dt.date:
    """Walk day by day: the k-th monthly anniversary is the first day of a later month whose day
    is the anchor's (or that month's last day when shorter); then count the days one by one."""
    wanted = 12 * years + months
    day, seen = anchor, 0
    while seen < wanted:
        day += dt.timedelta(days=1)
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day == min(anchor.day, last) and (day.year, day.month) != (anchor.year, anchor.month):
            seen += 1
    for _ in range(days):
        day += dt.timedelta(days=1)
    return day


@settings(max_examples=300, deadline=None)
@given(anchor=st.dates(D(1990, 1, 1), D(2060, 12, 31)), years=st.integers(0, 6), months=st.integers(0, 14),
       days=st.integers(0, 400), offset=st.integers(-3, 3))
def test_past_term_agrees_with_a_day_by_day_count(anchor, years, months, days, offset):
    term = RetentionTerm(years=years, months=months, days=days)
    end = _slow_term_end(anchor, years, months, days)
    assert term_end(anchor, term) == end
    on = end + dt.timedelta(days=offset)
    assert past_term(anchor, term, on) == (on > end)
    # every anchor before the first kept one is past its term on that day, and it is not
    first = first_kept_anchor(term, on)
    assert not past_term(first, term, on) and past_term(first - dt.timedelta(days=1), term, on)


def test_leap_day_anchor_ends_on_the_28th():
    assert term_end(D(2024, 2, 29), RetentionTerm(years=3)) == D(2027, 2, 28)


@given(st.lists(st.tuples(st.sampled_from(["entry", "exit"]), st.integers(0, 3000)), max_size=12))
def test_every_crossing_belongs_to_exactly_one_stay(raw):
    crossings = [CrossingRec(i, d, D(2020, 1, 1) + dt.timedelta(days=o))
                 for i, (d, o) in enumerate(sorted(raw, key=lambda r: r[1]))]
    stays = stays_of(crossings)
    ids = [i for s in stays for i in s.crossing_ids]
    assert sorted(ids) == [c.id for c in crossings]
    for s in stays:
        assert s.entry is not None or s.exit is not None
        assert s.entry is None or s.exit is None or s.entry <= s.exit

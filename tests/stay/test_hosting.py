"""The host workspace's use cases on both databases: versions, cancellation, departure, access,
submissions stored once, and what the stay engine counts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.platform import auth
from kosh.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import system_principal
from kosh.stay import hosting, service
from kosh.stay.models import HostNotification, HostRequestKey, StayStatus

ADMIN = system_principal("tests")
GUEST = {k: v for k, v in f.notification().items()
         if k in hosting.FORM_FIELDS}  # what a host types: no host fields, no source id


def _host(ctx, name: str, party: str, role: str = "host"):
    with ctx.transaction() as s:
        user = auth.create_user(s, ctx, username=name, password="x" * 12, role=role, host_party=party,
                                regions=["75"] if role == "officer" else None, display_name=name.title())
        return auth.principal_for(user, keyring=ctx.keyring)


@pytest.fixture
def host(ctx):
    return _host(ctx, "hotel", f.HOST_IIN)


@pytest.fixture
def other_host(ctx):
    return _host(ctx, "employer", f.HOST_BIN)


def submit(ctx, principal, **over):
    with ctx.transaction() as s:
        return hosting.submit(s, ctx, principal, {**GUEST, **over})


def _rows(ctx):
    with ctx.transaction() as s:
        return s.execute(sa.select(HostNotification).order_by(HostNotification.id)).scalars().all()


def test_submit_uses_the_accounts_host_party_and_keeps_what_the_host_wrote(ctx, host):
    made = submit(ctx, host, host_id="999999999999", host_name="Someone else")
    (row,) = _rows(ctx)
    assert row.host_id_index == ctx.keyring.blind_index(f.HOST_IIN, service.HOST_ID_CONTEXT)
    assert row.host_name == "Hotel" and row.reference == made.reference and made.reference.startswith("KZ-")
    assert made.guest["surname"] == GUEST["surname"] and made.guest["document_number"] == GUEST["document_number"]
    assert made.status == "active"


def test_correct_adds_a_version_and_keeps_the_old_one_superseded(ctx, host):
    first = submit(ctx, host)
    with ctx.transaction() as s:
        second = hosting.correct(s, ctx, host, first.id, {**GUEST, "address": "Алматы, ул. Абая 12"})
    old, new = _rows(ctx)
    assert old.superseded_at is not None and old.address == GUEST["address"]
    assert new.superseded_at is None and new.address == "Алматы, ул. Абая 12"
    assert (new.reference, new.version) == (old.reference, 2)
    assert new.submitted_at == old.submitted_at  # a correction does not make a notification late
    with ctx.transaction() as s:
        seen = hosting.history(s, ctx, host, first.id)
    assert seen.current.id == second.id and seen.current.status == "corrected"
    assert [v.status for v in seen.versions] == ["superseded", "corrected"]
    with ctx.transaction() as s, pytest.raises(Conflict):
        hosting.correct(s, ctx, host, first.id, GUEST)  # only the latest version changes


def test_cancel_needs_a_reason_and_keeps_the_row(ctx, host):
    made = submit(ctx, host)
    for reason in ("", "   "):
        with ctx.transaction() as s, pytest.raises(ValidationFailed) as refused:
            hosting.cancel(s, ctx, host, made.id, reason)
        assert refused.value.errors[0].field == "reason"
    assert _rows(ctx)[0].cancelled_at is None
    with ctx.transaction() as s:
        done = hosting.cancel(s, ctx, host, made.id, "The guest did not come")
    (row,) = _rows(ctx)
    assert done.status == "cancelled" and row.cancel_reason == "The guest did not come"
    assert row.cancelled_by == host.user_id
    with ctx.transaction() as s, pytest.raises(Conflict):
        hosting.report_departure(s, ctx, host, made.id, dt.date(2026, 3, 10))


def test_departure_before_arrival_is_refused(ctx, host):
    made = submit(ctx, host, arrival_date="2026-03-02")
    with ctx.transaction() as s, pytest.raises(ValidationFailed) as refused:
        hosting.report_departure(s, ctx, host, made.id, dt.date(2026, 3, 1))
    assert refused.value.errors[0].field == "departed_on"
    assert _rows(ctx)[0].departed_on is None
    with ctx.transaction() as s:
        gone = hosting.report_departure(s, ctx, host, made.id, dt.date(2026, 3, 2))
    assert gone.status == "departed" and _rows(ctx)[0].departed_on == dt.date(2026, 3, 2)


def test_another_host_can_neither_see_nor_change(ctx, host, other_host):
    made = submit(ctx, host)
    with ctx.transaction() as s:
        assert hosting.list_guests(s, ctx, other_host).total == 0
        assert hosting.list_guests(s, ctx, host).total == 1
    for act in (lambda s: hosting.history(s, ctx, other_host, made.id),
                lambda s: hosting.correct(s, ctx, other_host, made.id, GUEST),
                lambda s: hosting.cancel(s, ctx, other_host, made.id, "mine now"),
                lambda s: hosting.report_departure(s, ctx, other_host, made.id, dt.date(2026, 3, 5))):
        with ctx.transaction() as s, pytest.raises(NotFound):
            act(s)
    (row,) = _rows(ctx)
    assert row.cancelled_at is None and row.superseded_at is None and row.departed_on is None


def test_an_officer_has_no_guest_list(ctx):
    officer = _host(ctx, "officer", None, role="officer")
    with ctx.transaction() as s, pytest.raises(Forbidden):
        hosting.list_guests(s, ctx, officer)


def test_list_is_paged_newest_first_with_totals(ctx, host):
    made = [submit(ctx, host, document_number=f"FA00000{i}", arrival_date=f"2026-03-0{i}") for i in range(1, 6)]
    with ctx.transaction() as s:
        first = hosting.list_guests(s, ctx, host, page=1, per_page=2)
        last = hosting.list_guests(s, ctx, host, page=3, per_page=2)
    assert first.total == 5 and first.pages == 3
    assert [g.id for g in first.items] == [made[4].id, made[3].id]
    assert [g.id for g in last.items] == [made[0].id]


def test_the_engine_ignores_cancelled_and_superseded_versions(ctx, host):
    from kosh.platform.validation import validate_model
    from kosh.stay.schemas import BorderEventIn

    with ctx.transaction() as s:
        entry = validate_model(BorderEventIn, f.border_event(occurred_at="2026-03-02T09:00:00+05:00"),
                               service.validation_context(ctx))
        pid = service.record_border_events(s, ctx, ADMIN, [entry]).person_ids[0]

    def due():
        with ctx.transaction() as s:
            return s.get(StayStatus, pid).notification_due

    assert due() == dt.date(2026, 3, 5)  # Mon 2 March + 3 working days, nobody notified yet
    made = submit(ctx, host, arrival_date="2026-03-02")
    assert _rows(ctx)[0].person_id == pid and due() is None

    def submitted_per_engine():
        # What the engine (the person's page, the API's own status query) took as the day notified.
        with ctx.transaction() as s:
            page = service.person_stay(s, ctx, ADMIN, pid).assessment.deadlines
            _, status, _ = service.stay_status(s, ctx, ADMIN, pid)
        return ([d.submitted for d in page if d.kind == "host_notification"],
                [d.submitted for d in status.deadlines if d.kind == "host_notification"])

    today = service.local_today(ctx)
    assert submitted_per_engine() == ([today], [today])
    with ctx.transaction() as s:
        fixed = hosting.correct(s, ctx, host, made.id, {**GUEST, "address": "Алматы, ул. Абая 12"})
    assert due() is None  # the new version counts in place of the old
    assert submitted_per_engine() == ([today], [today])
    with ctx.transaction() as s:
        hosting.cancel(s, ctx, host, fixed.id, "entered by mistake")
    assert due() == dt.date(2026, 3, 5)  # neither version counts any more
    with ctx.transaction() as s:
        st = service.person_stay(s, ctx, ADMIN, pid, dt.date(2026, 3, 20))
        overdue = service.list_overdue_notifications(s, ctx, ADMIN, dt.date(2026, 3, 20)).rows
    assert len(st.notifications) == 2  # both versions stay in the history
    assert [d.met for d in st.assessment.deadlines if d.kind == "host_notification"] == [False]
    assert [r.status.person_id for r in overdue] == [pid]
    assert submitted_per_engine() == ([None], [None])


def test_the_same_submission_twice_is_stored_once(ctx, host):
    calls = []

    def work(s):
        calls.append(1)
        made = hosting.submit(s, ctx, host, GUEST)
        return 201, {"id": made.id}, made.id

    body = hosting.fingerprint(GUEST)
    first = hosting.run_once(ctx, host, "form:new", "tok-1", body, work)
    again = hosting.run_once(ctx, host, "form:new", "tok-1", body, work)
    assert len(_rows(ctx)) == 1 and len(calls) == 1
    assert again.replayed and not first.replayed and again.response == first.response
    # The same key with another body: refused for the API, answered as before for a form.
    api = hosting.run_once(ctx, host, "POST /x", "tok-1", body, work)  # another scope: a new submission
    assert not api.replayed
    other = hosting.fingerprint({**GUEST, "address": "elsewhere"})
    with pytest.raises(Conflict):
        hosting.run_once(ctx, host, "POST /x", "tok-1", other, work)
    form_again = hosting.run_once(ctx, host, "form:new", "tok-1", other, work, same_body=False)
    assert form_again.notification_id == first.notification_id
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(HostRequestKey)).scalar_one() == 2
    assert len(_rows(ctx)) == 2


def test_every_read_and_change_is_audited(ctx, host):
    made = submit(ctx, host)
    with ctx.transaction() as s:
        hosting.list_guests(s, ctx, host)
        hosting.history(s, ctx, host, made.id)
        hosting.report_departure(s, ctx, host, made.id, dt.date(2026, 3, 4))
    with ctx.transaction() as s:
        actions = s.execute(sa.select(AuditRecord.action).where(AuditRecord.subject_type == "host_notification")
                            .order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["create", "list", "read", "departure"]


def test_late_is_counted_in_working_days_on_the_pack_calendar(ctx):
    # Friday 6 March 2026: 3 working days run to Wednesday 11 March (Sunday 8 March is a holiday,
    # moved to Monday 9 March, so: Tue 10, Wed 11, Thu 12).
    arrival = dt.date(2026, 3, 6)
    due = hosting.due_day(ctx, arrival)
    assert due == ctx.pack.calendar.add_working_days(arrival, ctx.pack.notification_deadline_working_days)
    assert not hosting.is_late(ctx, arrival, on=due)
    assert hosting.is_late(ctx, arrival, on=due + dt.timedelta(days=1))


def test_two_submissions_with_one_token_at_once_store_one(ctx, host):
    """The twin that commits first wins; the other finds its key taken, is rolled back whole, and
    answers as the twin did. (PostgreSQL: SQLite has one writer at a time, so never a race.)"""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: two submissions cannot overlap")
    body = hosting.fingerprint(GUEST)

    def twin(s):
        return 303, {"id": hosting.submit(s, ctx, host, GUEST).id}, None

    def work(s):
        # The twin request commits while this one is still working.
        hosting.run_once(ctx, host, "form:new", "race-1", body, twin)
        made = hosting.submit(s, ctx, host, GUEST)
        return 303, {"id": made.id}, made.id

    done = hosting.run_once(ctx, host, "form:new", "race-1", body, work)
    assert done.replayed
    (row,) = _rows(ctx)
    assert done.response == {"id": row.id}


def test_a_notification_from_the_national_feed_shows_its_guest_in_the_hosts_list(ctx, host):
    """The feed's row names this host party: the host sees the guest as the row gives them (kept
    encrypted with the notification), not an empty name; only its own submissions get a reference."""
    from kosh.stay.schemas import NotificationIn

    row = f.notification(surname="Рахимов", given_names="Фарход", document_number="TJ7654321",
                         citizenship="TJK", issuing_state="TJK")
    with ctx.transaction() as s:
        service.record_notifications(s, ctx, ADMIN, [NotificationIn.model_validate(row)])
    (stored,) = _rows(ctx)
    assert stored.reference is None and stored.guest_encrypted is not None
    assert b"TJ7654321" not in stored.guest_encrypted  # encrypted, as every identifier
    with ctx.transaction() as s:
        page = hosting.list_guests(s, ctx, host)
    (shown,) = page.items
    assert shown.guest_name == "Рахимов Фарход Бахтиёрович"
    assert shown.guest["document_number"] == "TJ7654321" and shown.reference == row["source_event_id"]

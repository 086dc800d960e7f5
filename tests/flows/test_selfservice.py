"""Migrants: check my status (kosh.flows.selfservice) against both databases: the exact look-up,
no oracle for guessing, no address or host shown, audit of every look-up, rate limits, proofs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa

import factories as f
from kosh.flows import selfservice as flow
from kosh.people import service as people
from kosh.platform.errors import TooManyRequests, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.models import StatusProof
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("tests")
BORN = dt.date(1990, 5, 17)
ASKED = dt.date(2026, 4, 10)


def record(ctx, *, notified: bool = True, **over) -> str:
    vc = service.validation_context(ctx)
    with ctx.transaction() as s:
        pid = service.record_border_events(s, ctx, ADMIN, [
            validate_model(BorderEventIn, f.border_event(occurred_at="2026-03-02T09:00:00+05:00", **over), vc),
            validate_model(BorderEventIn, f.border_event(direction="exit", occurred_at="2026-04-03T18:00:00+05:00",
                                                         **over), vc)]).person_ids[0]
        if notified:
            service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, f.notification(
                submitted_at="2026-03-04T10:00:00+05:00"), vc)])
    return pid


def limits(ctx, **over) -> flow.Limits:
    return flow.Limits(ctx.settings.model_copy(update=over))


def ask(ctx, number="FA1234567", citizenship="UZB", born=BORN, on=ASKED) -> flow.Question:
    return flow.question(ctx, citizenship, number, born.isoformat(), on)


def audit_rows(ctx) -> list[AuditRecord]:
    with ctx.transaction() as s:
        return list(s.execute(sa.select(AuditRecord).where(AuditRecord.actor == "self-service")
                              .order_by(AuditRecord.seq)).scalars())


def test_found_shows_status_days_and_past_overstay_and_audits_own_access(ctx):
    pid = record(ctx)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "1.2.3.4", ask(ctx))
    assert answer is not None
    snap = answer.snapshot
    assert snap.on == ASKED and snap.citizenship == "UZB" and not snap.in_country
    assert snap.status == "not_in_country"
    # 30 days per entry for Uzbekistan from 2 March: 1–3 April past the limit.
    assert [(v.kind, v.first, v.last, v.days) for v in snap.violations] == [
        ("per_entry", dt.date(2026, 4, 1), dt.date(2026, 4, 3), 3)]
    assert snap.days_used == 33
    rows = audit_rows(ctx)
    assert [(r.action, r.subject_type, r.subject_id, r.role, r.purpose) for r in rows] == [
        ("read", "person", pid, "self_service", "own status")]


def test_in_country_shows_notification_on_record_and_deadlines(ctx):
    record(ctx)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx, on=dt.date(2026, 3, 10)))
    assert answer is not None
    snap = answer.snapshot
    assert snap.in_country and snap.current_entry == dt.date(2026, 3, 2)
    assert snap.notified_on == dt.date(2026, 3, 4)
    assert snap.last_lawful_day == dt.date(2026, 3, 31) and snap.days_left == 21
    assert snap.deadlines == ()  # the notification was made in time
    assert answer.notification_required


def test_missing_notification_is_an_open_deadline(ctx):
    record(ctx, notified=False)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx, on=dt.date(2026, 3, 3)))
    assert answer is not None and answer.snapshot.notified_on is None
    assert [(d.kind, d.overdue) for d in answer.snapshot.deadlines] == [("host_notification", False)]
    assert answer.snapshot.deadlines[0].due > dt.date(2026, 3, 3)


def test_a_missed_notification_of_a_past_stay_is_no_open_deadline(ctx):
    record(ctx, notified=False)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx))  # after the exit on 3 April
    assert answer is not None and not answer.snapshot.in_country
    assert answer.snapshot.deadlines == () and answer.snapshot.notified_on is None


def test_the_answer_holds_no_address_and_no_host(ctx):
    record(ctx)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx, on=dt.date(2026, 3, 10)))
    assert answer is not None
    text = json.dumps(answer.snapshot.to_json(), ensure_ascii=False) + " ".join(answer.reasons)
    row = f.notification()
    for secret in (row["address"], "Абая", row["host_name"], row["host_id"], row["kato"]):
        assert secret not in text


@pytest.mark.parametrize("wrong", [
    {"number": "FA7654321"},  # no such document
    {"citizenship": "TJK"},  # the document, but another citizenship
    {"born": dt.date(1990, 5, 18)},  # the document, but another birth date
])
def test_not_found_looks_the_same_and_is_audited_without_personal_data(ctx, wrong):
    record(ctx)
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx, **wrong))
    assert answer is None
    rows = audit_rows(ctx)
    assert [(r.action, r.subject_type, r.subject_id) for r in rows] == [("read", "status_lookup", "-")]
    detail = rows[0].detail
    for clear in ("FA1234567", "FA7654321", "1990-05-1", "UZB", "TJK"):
        assert clear not in detail


def test_two_persons_matching_is_not_found(ctx):
    # The same number and birth date under two issuing states: two persons (not linked); neither is shown.
    record(ctx, notified=False)
    with ctx.transaction() as s:
        people.resolve_identities(s, ctx, [people.IdentityRecord(
            source="test", surname="KARIMOV", given_names="ALISHER", citizenship="UZB", document_number="FA1234567",
            issuing_state="TJK", birth_date=BORN.isoformat(), birth_date_earliest=BORN)])
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx))
    assert answer is None


def test_a_stateless_person_is_found(ctx):
    with ctx.transaction() as s:
        (found,) = people.resolve_identities(s, ctx, [people.IdentityRecord(
            source="test", surname="NANSEN", given_names="FRIDTJOF", citizenship="XXA", document_number="XA0000042",
            issuing_state="UNO", birth_date=BORN.isoformat(), birth_date_earliest=BORN)])
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, limits(ctx), "c", ask(ctx, number="XA0000042", citizenship="XXA"))
    assert answer is not None and answer.snapshot.citizenship == "XXA" and answer.person_id == found.person_id
    assert answer.snapshot.status == "not_in_country" and answer.snapshot.name == "NANSEN FRIDTJOF"


def test_bad_input_names_each_field(ctx):
    with pytest.raises(ValidationFailed) as caught:
        flow.question(ctx, "", "FA 12#4", "1990-02-30")
    assert {e.field for e in caught.value.errors} == {"citizenship", "document_number", "birth_date"}
    with pytest.raises(ValidationFailed) as caught:
        flow.question(ctx, "KAZ", "FA1", (dt.date.today() + dt.timedelta(days=2)).isoformat())
    assert {e.field for e in caught.value.errors} == {"citizenship", "birth_date"}


def test_rate_limit_per_document_trips_and_counts_nothing_more(ctx):
    record(ctx)
    lim = limits(ctx, status_lookups_per_document=2, status_lookups_per_client=100)
    for client in ("a", "b"):
        with ctx.transaction() as s:
            assert flow.check_status(s, ctx, lim, client, ask(ctx)) is not None
    with pytest.raises(TooManyRequests) as caught, ctx.transaction() as s:
        flow.check_status(s, ctx, lim, "c", ask(ctx, number="fa-1234567"))  # the same number, written otherwise
    assert caught.value.status == 429 and caught.value.extra["retry_after"] > 0
    # Another document from the same client is still answered.
    with ctx.transaction() as s:
        assert flow.check_status(s, ctx, lim, "c", ask(ctx, number="FB0000001")) is None
    assert len(audit_rows(ctx)) == 3


def test_rate_limit_per_client_trips(ctx):
    lim = limits(ctx, status_lookups_per_client=3)
    for n in range(3):
        with ctx.transaction() as s:
            flow.check_status(s, ctx, lim, "9.9.9.9", ask(ctx, number=f"XX00000{n}"))
    with pytest.raises(TooManyRequests), ctx.transaction() as s:
        flow.check_status(s, ctx, lim, "9.9.9.9", ask(ctx, number="XX0000099"))


def _issue(ctx, lim=None):
    with ctx.transaction() as s:
        return flow.issue_proof(s, ctx, lim or limits(ctx), "c", ask(ctx, on=None))


def test_proof_issue_and_verify(ctx):
    pid = record(ctx)
    proof = _issue(ctx)
    assert proof is not None
    assert len(flow.normalize_code(proof.code)) >= 9 and proof.code.count("-") == 2
    assert all(c in flow.CODE_ALPHABET for c in flow.normalize_code(proof.code))
    assert proof.valid_until - proof.issued_at == dt.timedelta(days=30)
    with ctx.transaction() as s:
        stored = s.execute(sa.select(StatusProof)).scalar_one()
    assert stored.person_id == pid
    assert flow.normalize_code(proof.code).encode() not in stored.snapshot_encrypted
    assert b"FA1234567" not in stored.snapshot_encrypted
    # Typed in lower case and without dashes, it is the same code.
    q = flow.proof_question(ctx, proof.code.replace("-", "").lower(), BORN.isoformat())
    with ctx.transaction() as s:
        checked = flow.check_proof(s, ctx, limits(ctx), "employer", q)
    assert checked.state == "valid" and checked.snapshot == proof.snapshot
    assert checked.valid_until == proof.valid_until
    rows = audit_rows(ctx)
    assert [(r.action, r.subject_type, r.subject_id, r.purpose) for r in rows][-2:] == [
        ("create", "status_proof", pid, "own status"), ("read", "person", pid, "check a proof of status")]


def test_proof_with_a_wrong_birth_date_is_not_valid_like_a_wrong_code(ctx):
    record(ctx)
    proof = _issue(ctx)
    assert proof is not None
    other = "".join("3" if c != "3" else "4" for c in flow.normalize_code(proof.code))
    answers = []
    for code, born in ((proof.code, dt.date(1990, 5, 18)), (other, BORN)):
        with ctx.transaction() as s:
            answers.append(flow.check_proof(s, ctx, limits(ctx), "x", flow.proof_question(ctx, code, born)))
    assert answers[0] == answers[1] == flow.ProofCheck("not_valid")
    rows = audit_rows(ctx)[-2:]
    assert [(r.subject_type, r.subject_id) for r in rows] == [("status_proof", "-")] * 2


def test_an_expired_proof_says_only_when_it_expired(ctx):
    record(ctx)
    proof = _issue(ctx)
    assert proof is not None
    q = flow.proof_question(ctx, proof.code, BORN)
    with ctx.transaction() as s:
        checked = flow.check_proof(s, ctx, limits(ctx), "x", q, now=proof.valid_until + dt.timedelta(seconds=1))
    assert checked.state == "expired" and checked.snapshot is None
    assert checked.valid_until == proof.valid_until
    message = checked.message(ctx.pack.zone)
    assert message is not None and "expired" in message


def test_proof_checks_are_rate_limited_per_code(ctx):
    record(ctx)
    proof = _issue(ctx)
    assert proof is not None
    lim = limits(ctx, status_checks_per_code=2)
    wrong = flow.proof_question(ctx, proof.code, dt.date(1991, 1, 1))
    for client in ("a", "b"):
        with ctx.transaction() as s:
            flow.check_proof(s, ctx, lim, client, wrong)
    with pytest.raises(TooManyRequests), ctx.transaction() as s:
        flow.check_proof(s, ctx, lim, "c", flow.proof_question(ctx, proof.code, BORN))


def test_snapshot_round_trips_through_json():
    snap = flow.Snapshot(
        name="A B", citizenship="UZB", on=ASKED, status="overstay", in_country=True, current_entry=dt.date(2026, 3, 2),
        days_used=40, days_left=0, window_days=180, window_max_days=90, last_lawful_day=dt.date(2026, 3, 31),
        deadlines=(flow.OpenDeadline("permit", dt.date(2026, 5, 31)),), notified_on=None,
        violations=(flow.PastViolation("per_entry", dt.date(2026, 4, 1), dt.date(2026, 4, 10)),))
    assert flow.Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap
    assert dataclasses.replace(snap, status="lawful") != snap


def test_penalties_and_contacts_come_from_the_pack(ctx):
    views = flow.penalties(ctx, dt.date(2026, 6, 1), "ru")
    assert [v.law.endswith("517(3)") for v in views] == [True, False]
    overstay = views[0]
    mci = ctx.pack.mci_value(2026)
    assert mci is not None
    assert any(f"{10 * mci:,}".replace(",", "\xa0") in line for line in overstay.lines)
    assert [c.phone for c in flow.contacts(ctx, "uz")][0] == "1414"
    assert all(c.name for c in flow.contacts(ctx, "tg"))

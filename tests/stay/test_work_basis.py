"""A valid work permit (or a registered EAEU employment contract) is a lawful basis of stay: the
permits service publishes its days, stay keeps them as a TRP period, and the stay engine counts no
covered day against the visa-free limits and takes the TRP that EAEU citizens need after 90 days
as given. Without the permit the same worker overstays. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import factories as f
from kosh.flows import selfservice as flow
from kosh.people import service as people
from kosh.permits import ledger
from kosh.permits import service as permits
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import rules
from kosh.stay import service as stay
from kosh.stay.schemas import BorderEventIn, NotificationIn

ADMIN = system_principal("tests")
BIN = "180240000012"
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party=BIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=4, regions=("75",))
APPLIED = dt.date(2026, 3, 2)
ENTRY = dt.date(2026, 3, 5)  # the permit runs from 10 March 2026
ASKED = ENTRY + dt.timedelta(days=100)


def _arrive(ctx, citizenship: str, number: str, surname: str) -> None:
    """An entry on ENTRY and the host's notification the next day (so only the stay limits decide)."""
    vc = stay.validation_context(ctx)
    with ctx.transaction() as s:
        stay.record_border_events(s, ctx, ADMIN, [validate_model(BorderEventIn, f.border_event(
            occurred_at=f"{ENTRY.isoformat()}T09:00:00+05:00", document_number=number, issuing_state=citizenship,
            nationality=citizenship, surname=surname.upper()), vc)])
        stay.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, f.notification(
            arrival_date=ENTRY.isoformat(), submitted_at=f"{(ENTRY + dt.timedelta(days=1)).isoformat()}T10:00:00+05:00",
            document_number=number, issuing_state=citizenship, citizenship=citizenship, surname=surname), vc)])


def _worker(citizenship: str, number: str, surname: str) -> dict:
    # The document the worker crossed with: the permit names the same person.
    return {"surname": surname, "given_names": "Shukhrat", "birth_date": "1990-05-17", "citizenship": citizenship,
            "document_number": number, "issuing_state": citizenship, "work_region": "75", "sex": "M"}


def _apply(ctx, worker: dict, **over) -> permits.PermitView:
    body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-01", "term_months": 12, "starts_on": "2026-03-10",
            "staff_total": 100, "staff_citizens": 95, "workers": [worker], **over}
    with ctx.transaction() as s:
        permits.save_employer(s, ctx, EMPLOYER, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                           sector="construction"))
        return permits.submit(s, ctx, EMPLOYER, ApplicationIn.model_validate(body), APPLIED)


def _step(ctx, who: Principal, reference: str, step: str) -> None:
    with ctx.transaction() as s:
        permits.take_step(s, ctx, who, reference, StepIn(step=step), APPLIED)


def _status(ctx, number: str, citizenship: str) -> rules.StayAssessment:
    with ctx.transaction() as s:
        person = people.find_holder(s, ctx, citizenship, number, dt.date(1990, 5, 17))
        assert person is not None
        return stay.stay_status(s, ctx, ADMIN, person, ASKED)[1]


def test_a_work_permit_makes_an_uzbek_workers_stay_lawful_and_without_it_he_overstays(ctx):
    _arrive(ctx, "UZB", "FA7000001", "Karimov")
    _arrive(ctx, "UZB", "FA7000002", "Tursunov")  # the same stay, no permit
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region="75", category="3", allowed=5)
    p = _apply(ctx, _worker("UZB", "FA7000001", "Karimov"))
    assert _status(ctx, "FA7000001", "UZB").status == "overstay"  # applied for, not yet issued
    _step(ctx, AKIMAT, p.reference, "approve")
    _step(ctx, EMPLOYER, p.reference, "pay_fee")
    _step(ctx, AKIMAT, p.reference, "issue")

    with_permit = _status(ctx, "FA7000001", "UZB")
    assert with_permit.status == "lawful" and with_permit.overstay_days == 0
    assert with_permit.days_used == 5  # 5–9 March; the permit's days do not count
    assert with_permit.last_lawful_day is not None and with_permit.last_lawful_day >= dt.date(2027, 3, 9)
    without = _status(ctx, "FA7000002", "UZB")
    assert without.status == "overstay" and without.overstay_days == 100 - 30 + 1


def test_a_registered_eaeu_contract_is_the_trp_a_kyrgyz_worker_needs_after_90_days(ctx):
    _arrive(ctx, "KGZ", "AC7000001", "Asanov")
    _arrive(ctx, "KGZ", "AC7000002", "Usenov")
    contract = _apply(ctx, _worker("KGZ", "AC7000001", "Asanov"), channel="eaeu_contract", category="",
                      vacancy_code="", vacancy_posted_on=None)  # registered at once, outside the quota
    with ctx.transaction() as s:  # the person's page names the contract as the basis of stay
        person = people.find_holder(s, ctx, "KGZ", "AC7000001", dt.date(1990, 5, 17))
        assert person is not None
        assert stay.person_stay(s, ctx, ADMIN, person, ASKED).bases == [
            stay.StayBasis("eaeu_contract", contract.reference, dt.date(2026, 3, 10), dt.date(2027, 3, 9))]
    with_contract = _status(ctx, "AC7000001", "KGZ")
    assert with_contract.status == "lawful" and with_contract.overstay_days == 0
    without = _status(ctx, "AC7000002", "KGZ")
    assert without.status == "overstay"
    assert {v.kind for v in without.violations} == {"permit_required"}
    # The worker's own status page: lawful, the TRP needed after 90 days is no open deadline, the
    # contract is listed; his colleague without one is told the TRP was needed from day 90.
    mine, theirs = (_own(ctx, number) for number in ("AC7000001", "AC7000002"))
    assert mine.snapshot.status == "lawful" and mine.snapshot.deadlines == ()
    assert [(p.channel, p.state) for p in mine.permits] == [("eaeu_contract", "issued")]
    assert theirs.snapshot.status == "overstay" and theirs.permits == ()
    assert theirs.snapshot.deadlines == (flow.OpenDeadline("permit", ENTRY + dt.timedelta(days=90), overdue=True),)


def _own(ctx, number: str) -> flow.StatusAnswer:
    q = flow.question(ctx, "KGZ", number, "1990-05-17", ASKED.isoformat())
    with ctx.transaction() as s:
        answer = flow.check_status(s, ctx, flow.Limits(ctx.settings), "tests", q)
    assert answer is not None
    return answer


def test_the_engine_takes_a_trp_period_as_the_basis_for_both_groups(ctx):
    """The rule itself, with no database: a TRP covering the asked day, for a visa-free group and EAEU."""
    entry = [rules.Crossing("entry", ENTRY)]
    notified = [rules.NotificationRecord(ENTRY, ENTRY + dt.timedelta(days=1))]
    trp = [rules.PermitPeriod("trp", dt.date(2026, 3, 10), dt.date(2027, 3, 9))]
    for citizenship, kind in (("UZB", "per_entry"), ("KGZ", "permit_required")):
        bare = rules.assess(citizenship, entry, [], notified, ASKED, ctx.pack.stay_rules)
        covered = rules.assess(citizenship, entry, trp, notified, ASKED, ctx.pack.stay_rules)
        assert bare.status == "overstay" and {v.kind for v in bare.violations} == {kind}
        assert covered.status == "lawful" and covered.overstay_days == 0 and covered.violations == ()
        assert covered.days_used == 5  # 5–9 March: the permit's days are not counted

"""Work permits end to end in the service: an employer applies, checks refuse what fails, the
akimat decides, the fee is paid, the permit is issued and becomes its workers' lawful basis of
stay; multi-region permits draw every region's share; the daily job lapses, expires, suspends
and restores; household prepayments; scope by role and region. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kosh.permits import household, ledger, service
from kosh.permits.models import PermitAction, QuotaCell, WorkPermit
from kosh.permits.rules import IllegalStep
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kosh.platform.i18n import say
from kosh.platform.security import Principal, Role, system_principal
from kosh.stay.models import ResidencePermit

BIN = "180240000012"  # a valid BIN (checksum) used in other tests too
IIN = "900101300017"
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party=BIN)
HOUSEHOLD = Principal("household", Role.EMPLOYER, user_id=3, host_party=IIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=4, regions=("75",))
AKIMAT_ASTANA = Principal("akimat.astana", Role.AKIMAT, user_id=5, regions=("71",))
SYSTEM = system_principal("daily")
TODAY = dt.date(2026, 3, 2)


def _worker(n: int, region: str = "75", citizenship: str = "UZB") -> dict:
    return {"surname": f"Karimov{chr(65 + n)}", "given_names": "Aziz", "birth_date": "1990-01-0" + str(1 + n % 9),
            "citizenship": citizenship, "document_number": f"FA{1000000 + n}", "issuing_state": citizenship,
            "work_region": region, "sex": "M"}


def _application(workers: list[dict], **over) -> ApplicationIn:
    body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-01", "term_months": 12, "starts_on": "2026-03-10",
            "staff_total": 100, "staff_citizens": 95, "workers": workers, **over}
    return ApplicationIn.model_validate(body)


def _quota(ctx, region: str, places: int, category: str = "3") -> None:
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region=region, category=category, allowed=places)


def _employer(ctx, who: Principal = EMPLOYER, name: str = "Qurylys LLP") -> None:
    with ctx.transaction() as s:
        service.save_employer(s, ctx, who, EmployerIn(employer_name=name, region="75", sector="construction"))


def _cell(ctx, region: str, category: str = "3") -> tuple[int, int, int]:
    with ctx.transaction() as s:
        c = s.execute(select(QuotaCell).where(QuotaCell.region == region, QuotaCell.category == category)).scalar_one()
        return c.allowed, c.reserved, c.used


def _step(ctx, who: Principal, ref: str, step: str, on: dt.date = TODAY, **kw) -> service.PermitView:
    with ctx.transaction() as s:
        return service.take_step(s, ctx, who, ref, StepIn(step=step, **kw), on)


def _apply(ctx, workers: list[dict], on: dt.date = TODAY, who: Principal = EMPLOYER, **over) -> service.PermitView:
    with ctx.transaction() as s:
        return service.submit(s, ctx, who, _application(workers, **over), on)


def test_an_application_goes_from_submission_to_a_permit_that_is_the_lawful_basis(ctx):
    _quota(ctx, "75", 5)
    _employer(ctx)
    p = _apply(ctx, [_worker(1), _worker(2)])
    assert p.state == "checked" and p.regions == {"75": 2} and p.reserved_until is not None
    assert _cell(ctx, "75") == (5, 2, 0)
    approved = _step(ctx, AKIMAT, p.reference, "approve")
    # 10 working days: 8 March falls on a Sunday, so Monday 9 March is off
    assert approved.state == "approved" and approved.fee_due_on == dt.date(2026, 3, 17)
    _step(ctx, EMPLOYER, p.reference, "pay_fee")
    issued = _step(ctx, AKIMAT, p.reference, "issue", on=dt.date(2026, 3, 5))
    assert (issued.state, issued.valid_from, issued.valid_to) == ("issued", dt.date(2026, 3, 10),
                                                                  dt.date(2027, 3, 9))
    assert _cell(ctx, "75") == (5, 0, 2)
    with ctx.transaction() as s:
        basis = s.execute(select(ResidencePermit).where(ResidencePermit.purpose == "work_permit")).scalars().all()
        assert {(b.valid_from, b.valid_to) for b in basis} == {(dt.date(2026, 3, 10), dt.date(2027, 3, 9))}
        assert len(basis) == 2
        steps = s.execute(select(PermitAction.step).order_by(PermitAction.id)).scalars().all()
        assert steps == ["submit", "check", "approve", "pay_fee", "issue"]
        assert ledger.integrity_errors(s) == []


def test_a_failing_check_stores_nothing_and_says_which_rule(ctx):
    _quota(ctx, "75", 5)
    _employer(ctx)
    with pytest.raises(service.ChecksFailed) as bad, ctx.transaction() as s:
        service.submit(s, ctx, EMPLOYER, _application([_worker(1)], vacancy_posted_on="2026-02-20",
                                                      staff_citizens=80), TODAY)
    assert {e.field for e in bad.value.errors} == {"vacancy_posting", "local_content"}
    assert "15" in str(bad.value.errors[0].message)
    assert "вакансия" in say(bad.value.errors[0].message, "ru").lower()
    with ctx.transaction() as s:
        assert s.execute(select(WorkPermit)).first() is None
    assert _cell(ctx, "75") == (5, 0, 0)


def test_the_quota_check_fails_when_places_are_gone_and_nothing_is_reserved(ctx):
    _quota(ctx, "75", 1)
    _employer(ctx)
    with pytest.raises(service.ChecksFailed) as bad, ctx.transaction() as s:
        service.submit(s, ctx, EMPLOYER, _application([_worker(1), _worker(2)]), TODAY)
    assert [e.field for e in bad.value.errors] == ["quota"]
    assert "1" in str(bad.value.errors[0].message)
    assert _cell(ctx, "75") == (1, 0, 0)


def test_a_multi_region_permit_draws_every_share_or_none(ctx):
    _quota(ctx, "75", 3)
    _quota(ctx, "71", 1)
    _employer(ctx)
    p = _apply(ctx, [_worker(1, "75"), _worker(2, "75"), _worker(3, "71")])
    assert p.regions == {"75": 2, "71": 1} and p.lead_region == "75"
    assert _cell(ctx, "75") == (3, 2, 0) and _cell(ctx, "71") == (1, 1, 0)
    with pytest.raises(service.ChecksFailed):
        _apply(ctx, [_worker(4, "75"), _worker(5, "71")])
    assert _cell(ctx, "75") == (3, 2, 0) and _cell(ctx, "71") == (1, 1, 0)
    # Astana's akimat sees the permit but does not decide it: Almaty's (the lead region) does
    with pytest.raises(Forbidden):
        _step(ctx, AKIMAT_ASTANA, p.reference, "approve")
    _step(ctx, AKIMAT, p.reference, "approve")


def test_an_approval_after_the_hold_lapsed_draws_again_and_the_eleventh_is_refused(ctx):
    _quota(ctx, "75", 10)
    _employer(ctx)
    refs = [_apply(ctx, [_worker(i)]).reference for i in range(10)]
    with ctx.transaction() as s:  # the holds lapse after 10 working days
        report = service.run_daily(s, ctx, SYSTEM, dt.date(2026, 3, 20))
    assert report.lapsed_reservations == 10
    assert _cell(ctx, "75") == (10, 0, 0)
    late = _apply(ctx, [_worker(10)], on=dt.date(2026, 3, 20))
    for ref in refs[:9]:
        _step(ctx, AKIMAT, ref, "approve", on=dt.date(2026, 3, 20))
    with pytest.raises(Conflict) as no_room:
        _step(ctx, AKIMAT, refs[9], "approve", on=dt.date(2026, 3, 20))
    assert "0 places left" in str(no_room.value)
    with ctx.transaction() as s:
        assert s.execute(select(WorkPermit.state).where(WorkPermit.reference == refs[9])).scalar_one() == "checked"
    assert _step(ctx, AKIMAT, late.reference, "approve", on=dt.date(2026, 3, 20)).state == "approved"
    assert _cell(ctx, "75") == (10, 10, 0)


def test_refusal_gives_the_places_back_and_needs_a_reason_from_the_list(ctx):
    _quota(ctx, "75", 2)
    _employer(ctx)
    p = _apply(ctx, [_worker(1)])
    with pytest.raises(ValidationFailed) as bad:
        _step(ctx, AKIMAT, p.reference, "refuse")
    assert bad.value.errors[0].field == "reason_code"
    with pytest.raises(ValidationFailed):
        _step(ctx, AKIMAT, p.reference, "refuse", reason_code="worker_left")  # a revocation's reason
    refused = _step(ctx, AKIMAT, p.reference, "refuse", reason_code="false_information", note="forged diploma")
    assert (refused.state, refused.reason_code) == ("refused", "false_information")
    assert _cell(ctx, "75") == (2, 0, 0)
    with pytest.raises(IllegalStep) as illegal:
        _step(ctx, AKIMAT, p.reference, "approve")
    assert illegal.value.status == 409 and "application refused" in str(illegal.value)


def test_roles_and_regions_limit_who_reads_and_who_decides(ctx):
    _quota(ctx, "75", 2)
    _employer(ctx)
    _employer(ctx, HOUSEHOLD, "Aigerim Sarsenova")
    p = _apply(ctx, [_worker(1)])
    with ctx.transaction() as s:
        assert service.list_permits(s, ctx, AKIMAT).total == 1
        assert service.list_permits(s, ctx, AKIMAT_ASTANA).total == 0
        assert service.list_permits(s, ctx, MINISTRY).total == 1
        assert service.list_permits(s, ctx, HOUSEHOLD).total == 0
        with pytest.raises(NotFound):
            service.get_permit(s, ctx, AKIMAT_ASTANA, p.reference)
        with pytest.raises(Forbidden):
            service.list_permits(s, ctx, Principal("analyst", Role.ANALYST))
    with pytest.raises(IllegalStep) as by_role:
        _step(ctx, EMPLOYER, p.reference, "approve")
    assert by_role.value.status == 403


def test_daily_job_expires_unpaid_approvals_and_permits_past_their_end_once(ctx):
    _quota(ctx, "75", 3)
    _employer(ctx)
    unpaid = _apply(ctx, [_worker(1)]).reference
    _step(ctx, AKIMAT, unpaid, "approve")
    short = _apply(ctx, [_worker(2)], term_months=1).reference
    _step(ctx, AKIMAT, short, "approve")
    _step(ctx, EMPLOYER, short, "pay_fee")
    _step(ctx, AKIMAT, short, "issue", on=dt.date(2026, 3, 10))
    with ctx.transaction() as s:
        first = service.run_daily(s, ctx, SYSTEM, dt.date(2026, 4, 20))
    with ctx.transaction() as s:
        again = service.run_daily(s, ctx, SYSTEM, dt.date(2026, 4, 20))
        states = dict(s.execute(select(WorkPermit.reference, WorkPermit.state)).all())
    assert (first.approvals_expired, first.permits_expired) == (1, 1)
    assert (again.approvals_expired, again.permits_expired, again.lapsed_reservations) == (0, 0, 0)
    assert states == {unpaid: "expired", short: "expired"}
    assert _cell(ctx, "75") == (3, 0, 0)


def test_household_permit_is_suspended_for_an_unpaid_month_and_restored_when_paid(ctx):
    _quota(ctx, "75", 5, "household")
    _employer(ctx, HOUSEHOLD, "Aigerim Sarsenova")
    p = _apply(ctx, [_worker(1)], who=HOUSEHOLD, channel="household_worker", category="", vacancy_code="",
               vacancy_posted_on=None, term_months=3, starts_on="2026-03-02", staff_total=0, staff_citizens=0)
    assert _cell(ctx, "75", "household") == (5, 1, 0)
    _step(ctx, AKIMAT, p.reference, "approve")
    _step(ctx, HOUSEHOLD, p.reference, "pay_fee")
    _step(ctx, AKIMAT, p.reference, "issue")
    pay = [household.PaymentIn(p.reference, "2026-03", 17300, TODAY, "PAY-1")]
    with ctx.transaction() as s:
        assert household.record_payments(s, ctx, SYSTEM, pay) == 1
        assert household.record_payments(s, ctx, SYSTEM, pay) == 0  # the same payment again
        assert service.run_daily(s, ctx, SYSTEM, dt.date(2026, 3, 20)).suspended_unpaid == 0
    with ctx.transaction() as s:
        report = service.run_daily(s, ctx, SYSTEM, dt.date(2026, 4, 3))
        row = s.execute(select(WorkPermit)).scalar_one()
        assert (report.suspended_unpaid, row.state, row.note) == (1, "suspended", "2026-04")
        mine = service.permits_of_persons(s, ctx, [s.execute(select(ResidencePermit.person_id)).scalar_one()],
                                          dt.date(2026, 4, 3))
        assert mine[0].next_payment == ("2026-04", 4 * 4325)
    with ctx.transaction() as s:
        household.record_payments(s, ctx, SYSTEM, [household.PaymentIn(p.reference, "2026-04", 17300,
                                                                       dt.date(2026, 4, 6), "PAY-2")])
        assert service.run_daily(s, ctx, SYSTEM, dt.date(2026, 4, 6)).restored_paid == 1
    with ctx.transaction() as s:
        spans = sorted((b.valid_from, b.valid_to) for b in s.execute(select(ResidencePermit)).scalars())
    # lawful from the start to the day before the suspension, and again from the restoration
    assert spans == [(dt.date(2026, 3, 2), dt.date(2026, 4, 2)), (dt.date(2026, 4, 6), dt.date(2026, 6, 1))]


def test_an_eaeu_contract_is_registered_at_once_outside_the_quota(ctx):
    _employer(ctx)
    p = _apply(ctx, [_worker(1, citizenship="KGZ")], channel="eaeu_contract", category="", vacancy_code="",
               vacancy_posted_on=None, term_months=12)
    assert p.state == "issued" and p.valid_to == dt.date(2027, 3, 9)
    with pytest.raises(service.ChecksFailed) as bad:
        _apply(ctx, [_worker(2, citizenship="UZB")], channel="eaeu_contract", category="", term_months=12)
    assert [e.field for e in bad.value.errors] == ["eaeu_citizenship"]


def test_an_extension_is_asked_within_its_window_and_starts_at_the_old_expiry(ctx):
    _quota(ctx, "75", 1)
    _employer(ctx)
    ref = _apply(ctx, [_worker(1)]).reference
    _step(ctx, AKIMAT, ref, "approve")
    _step(ctx, EMPLOYER, ref, "pay_fee")
    _step(ctx, AKIMAT, ref, "issue", on=dt.date(2026, 3, 10))
    with pytest.raises(Conflict):
        _step(ctx, AKIMAT, ref, "extend", on=dt.date(2027, 1, 20))
    with pytest.raises(service.ChecksFailed) as early:
        _step(ctx, EMPLOYER, ref, "request_extension", on=dt.date(2026, 12, 1))
    assert early.value.errors[0].field == "extension_window"
    _step(ctx, EMPLOYER, ref, "request_extension", on=dt.date(2027, 1, 20))
    extended = _step(ctx, AKIMAT, ref, "extend", on=dt.date(2027, 1, 22))
    assert (extended.state, extended.valid_to, extended.extensions) == ("extended", dt.date(2028, 3, 9), 1)


def test_a_returned_application_is_corrected_and_filed_again_under_its_reference(ctx):
    _quota(ctx, "75", 2)
    _employer(ctx)
    ref = _apply(ctx, [_worker(1)]).reference
    returned = _step(ctx, AKIMAT, ref, "return", reason_code="details_wrong", note="wrong passport number")
    assert returned.state == "returned" and _cell(ctx, "75") == (2, 0, 0)
    with pytest.raises(service.ChecksFailed), ctx.transaction() as s:
        service.resubmit(s, ctx, EMPLOYER, ref, _application([_worker(2)], staff_citizens=10), TODAY)
    with ctx.transaction() as s:
        again = service.resubmit(s, ctx, EMPLOYER, ref, _application([_worker(2), _worker(3)]), TODAY)
    assert (again.reference, again.state, again.workers_count, again.reason_code) == (ref, "checked", 2, "")
    assert _cell(ctx, "75") == (2, 2, 0)
    with pytest.raises(IllegalStep), ctx.transaction() as s:  # only a returned application is filed again
        service.resubmit(s, ctx, EMPLOYER, ref, _application([_worker(2)]), TODAY)


def test_an_eaeu_contract_that_ends_early_leaves_the_search_period_as_lawful_basis(ctx):
    _employer(ctx)
    ref = _apply(ctx, [_worker(1, citizenship="KGZ")], channel="eaeu_contract", category="", vacancy_code="",
                 vacancy_posted_on=None, term_months=12).reference
    with pytest.raises(ValidationFailed), ctx.transaction() as s:
        service.end_eaeu_contract(s, ctx, EMPLOYER, ref, dt.date(2026, 3, 1), dt.date(2026, 6, 1))
    with ctx.transaction() as s:
        ended = service.end_eaeu_contract(s, ctx, EMPLOYER, ref, dt.date(2026, 5, 31), dt.date(2026, 6, 1))
        spans = [(b.valid_from, b.valid_to, b.purpose) for b in s.execute(select(ResidencePermit)).scalars()]
    assert (ended.state, ended.valid_to) == ("expired", dt.date(2026, 5, 31))
    assert spans == [(dt.date(2026, 3, 10), dt.date(2026, 6, 15), "eaeu_contract")]  # 15 days to find work


def test_a_household_worker_changes_employer_and_the_permit_follows(ctx):
    _quota(ctx, "75", 1, "household")
    _employer(ctx, HOUSEHOLD, "Aigerim Sarsenova")
    ref = _apply(ctx, [_worker(1)], who=HOUSEHOLD, channel="household_worker", category="", vacancy_code="",
                 vacancy_posted_on=None, term_months=6, staff_total=0, staff_citizens=0).reference
    _step(ctx, AKIMAT, ref, "approve")
    _step(ctx, HOUSEHOLD, ref, "pay_fee")
    _step(ctx, AKIMAT, ref, "issue")
    with pytest.raises(ValidationFailed) as bad, ctx.transaction() as s:
        service.change_household_employer(s, ctx, AKIMAT, ref, IIN, "same", TODAY)
    assert bad.value.errors[0].field == "new_employer"
    with ctx.transaction() as s:
        moved = service.change_household_employer(s, ctx, AKIMAT, ref, "850315400005", "Dana Omarova", TODAY)
        trail = s.execute(select(PermitAction.step).order_by(PermitAction.id)).scalars().all()
    assert moved.employer_name == "Dana Omarova" and trail[-1] == "change_employer"
    with ctx.transaction() as s:  # the earlier employer no longer sees it
        assert service.list_permits(s, ctx, HOUSEHOLD).total == 0


def test_fifty_parallel_akimat_approvals_against_ten_places_leave_exactly_ten(ctx):
    """The issue's race through the whole step (permit row, action, quota, audit), not only the
    ledger: 50 applications whose holds lapsed, a cell with 10 places left, 50 officers at once."""
    import threading

    _quota(ctx, "75", 50)
    _employer(ctx)
    refs = [_apply(ctx, [_worker(i)]).reference for i in range(50)]
    with ctx.transaction() as s:
        assert service.run_daily(s, ctx, SYSTEM, dt.date(2026, 3, 20)).lapsed_reservations == 50
    _quota(ctx, "75", 10)
    start = threading.Barrier(50)
    won: list[str] = []
    refused: list[str] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def approve(ref: str) -> None:
        try:
            start.wait()
            _step(ctx, AKIMAT, ref, "approve", on=dt.date(2026, 3, 20))
            with lock:
                won.append(ref)
        except Conflict:
            with lock:
                refused.append(ref)
        except BaseException as exc:  # a busy database or a deadlock is a failure
            with lock:
                failed.append(exc)

    threads = [threading.Thread(target=approve, args=(ref,)) for ref in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == [] and len(won) == 10 and len(refused) == 40
    assert _cell(ctx, "75") == (10, 10, 0)
    with ctx.transaction() as s:
        states = dict(s.execute(select(WorkPermit.reference, WorkPermit.state)).all())
        assert ledger.integrity_errors(s) == []
    assert {r for r, st in states.items() if st == "approved"} == set(won)
    assert all(states[r] == "checked" for r in refused)  # a refused approval changed nothing


def test_a_returned_application_reads_back_as_filed_for_correction(ctx):
    _quota(ctx, "75", 2)
    _employer(ctx)
    ref = _apply(ctx, [_worker(1), _worker(2, "75")]).reference
    _step(ctx, AKIMAT, ref, "return", reason_code="details_wrong")
    with ctx.transaction() as s:
        filed = service.application_of(s, ctx, EMPLOYER, ref)
        with pytest.raises(NotFound):
            service.application_of(s, ctx, HOUSEHOLD, ref)
    assert filed == _application([_worker(1), _worker(2, "75")])


def test_an_intra_corporate_transfer_is_free_outside_the_quota_and_extended_once(ctx):
    _employer(ctx)
    ref = _apply(ctx, [_worker(1, citizenship="TUR")], channel="intra_corporate_transfer", category="",
                 vacancy_code="", vacancy_posted_on=None, term_months=36, staff_citizens=10).reference
    approved = _step(ctx, AKIMAT, ref, "approve")
    assert approved.state == "fee_paid" and approved.fee_paid_on == TODAY  # free: no fee to wait for
    issued = _step(ctx, AKIMAT, ref, "issue", on=dt.date(2026, 3, 10))
    assert issued.valid_to == dt.date(2029, 3, 9)
    _step(ctx, EMPLOYER, ref, "request_extension", on=dt.date(2029, 1, 20))
    assert _step(ctx, AKIMAT, ref, "extend", on=dt.date(2029, 1, 22)).valid_to == dt.date(2030, 3, 9)  # 12 months
    with pytest.raises(service.ChecksFailed) as twice:
        _step(ctx, EMPLOYER, ref, "request_extension", on=dt.date(2030, 1, 20))
    assert [e.field for e in twice.value.errors] == ["extension_count"]
    with pytest.raises(service.ChecksFailed) as share:  # 6 transferred workers against 10 citizens: over 50 %
        _apply(ctx, [_worker(i, citizenship="TUR") for i in range(2, 8)], channel="intra_corporate_transfer",
               category="", term_months=12, staff_citizens=10)
    assert [e.field for e in share.value.errors] == ["transfer_share"]

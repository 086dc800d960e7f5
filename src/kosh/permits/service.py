"""Work permits as use cases: employers and their applications, the akimat's decisions, the
permit's later life and the daily job. One transaction each (the caller's session), every step
kept in work_permit_actions and the audit chain, permissions and scope checked here.

Who sees what: an employer its own permits (its account's BIN or IIN); an akimat officer the
permits with a worker in one of its regions, deciding those whose lead region (most places) is
one of its own; the ministry and the administrator every permit.

Quota: the places of a permit within the quota are reserved when it is submitted and held for
the pack's `reservation_working_days`; approval draws them again if the hold has lapsed (and is
refused when the quota has none left), issue consumes them, and refusal, return, revocation and
expiry give them back. A valid permit is the lawful basis of its workers' stay: each change of
its valid days is published as WorkAuthorisationChanged for stay to keep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from kosh.jurisdictions.schema import SourceRef
from kosh.people import service as people
from kosh.permits import household, ledger, rules
from kosh.permits.models import Employer, HouseholdPayment, PermitAction, PermitWorker, WorkPermit
from kosh.permits.rules import CheckResult, Outcome, PermitRole, PermitState, Step
from kosh.permits.schemas import CHANNEL_WORDS, ApplicationIn, EmployerIn, PermitImportIn, StepIn, WorkerIn
from kosh.platform import audit, clock, events
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, Forbidden, KoshError, NotFound, ValidationFailed
from kosh.platform.scope import prefix_clause, within_regions
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.sql import rowcount
from kosh.platform.words import N_, Msg, field_labels, region_name

EMPLOYER_CONTEXT = "employer_party"
WORKER_CONTEXT = "permit_worker"
PAGE_SIZE = 25
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread

field_labels({
    "vacancy_posting": N_("Vacancy posting"), "local_content": N_("Citizens' share of the staff"),
    "term": N_("Term"), "replacement_duty": N_("Replacement by citizens"), "quota": N_("Quota"),
    "extension_window": N_("Extension window"), "extension_count": N_("Number of extensions"),
    "transfer_share": N_("Share of transferred staff"), "eaeu_citizenship": N_("EAEU citizenship"),
    "reference": N_("Reference"), "ended_on": N_("Last day of the contract"), "new_employer": N_("New employer's IIN"),
})

VALID_STATES = (PermitState.ISSUED, PermitState.EXTENDED)
OPEN_STATES = (PermitState.SUBMITTED, PermitState.CHECKED, PermitState.APPROVED, PermitState.FEE_PAID)


class ChecksFailed(KoshError):
    """An application some check fails is not submitted; each failed check is an error with its
    rule's words (the page and the API show them all)."""

    def __init__(self, failed: Sequence[CheckResult]) -> None:
        super().__init__(detail=Msg(N_("The application does not pass every check; nothing was submitted.")),
                         status=422, title="Validation failed", type="urn:kosh:problem:checks-failed",
                         errors=[FieldError(c.check, c.message) for c in failed])
        self.failed = list(failed)


# --- views ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EmployerView:
    id: int
    kind: str
    name: str
    region: str
    sector: str
    party_tail: str  # the last 4 digits of the BIN/IIN


@dataclass(frozen=True)
class WorkerView:
    person_id: str
    name: str  # as the employer wrote it
    name_latin: str
    citizenship: str
    document_tail: str
    work_region: str


@dataclass(frozen=True)
class ActionView:
    step: str
    from_state: str
    to_state: str
    actor: str
    role: str
    on: dt.date
    reason_code: str
    note: str


@dataclass(frozen=True)
class PermitView:
    reference: str
    employer_id: int
    employer_name: str
    channel: str
    category: str
    occupation: str
    state: str
    regions: dict[str, int]
    lead_region: str
    workers_count: int
    term_months: int
    starts_on: dt.date
    applied_on: dt.date | None
    decide_by: dt.date | None
    reserved_until: dt.date | None
    approved_on: dt.date | None
    fee_due_on: dt.date | None
    fee_paid_on: dt.date | None
    issued_on: dt.date | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    extensions: int
    reason_code: str
    note: str
    vacancy_code: str
    vacancy_posted_on: dt.date | None
    staff_total: int
    staff_citizens: int
    certificate: str

    @property
    def valid(self) -> bool:
        return self.state in VALID_STATES

    def late(self, today: dt.date) -> bool:
        """The step now due is past its deadline (working days; red on the officer's queue)."""
        due = self.due_by
        return due is not None and today > due

    @property
    def due_by(self) -> dt.date | None:
        if self.state in (PermitState.SUBMITTED, PermitState.CHECKED):
            return self.decide_by
        if self.state == PermitState.APPROVED:
            return self.fee_due_on
        return None


@dataclass(frozen=True)
class PermitDetail:
    permit: PermitView
    workers: list[WorkerView]
    actions: list[ActionView]
    steps: list[str]  # what the caller may do now
    checks: list[CheckResult]
    extension_requested: bool
    payments: list[tuple[str, int, dt.date]] = field(default_factory=list)  # household: month, KZT, paid on
    next_payment: tuple[str, int] | None = None  # household: the first month unpaid and its amount today


@dataclass(frozen=True)
class PermitPage:
    items: list[PermitView]
    total: int
    page: int
    pages: int


# --- helpers ----------------------------------------------------------------------------------------

def _new_reference() -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"WP-{code[:4]}-{code[4:]}"


def _party_kind(party: str) -> str:
    from kosh.platform.identifiers import iin

    return "individual" if iin.is_valid(party) else "organisation"


def _lead_region(regions: dict[str, int]) -> str:
    """The region with the most places (the lowest code on a tie): its akimat decides."""
    return min(regions, key=lambda r: (-regions[r], r)) if regions else ""


def quota_category(channel: str, category: str) -> str:
    """The quota line a permit draws from: "" when the channel is outside the quota."""
    if channel == "household_worker":
        return "household"
    if channel == "employer_quota":
        return category
    return ""


def _pack_category(category: str) -> str:
    return category if category in ("seasonal", "") else f"category_{category}"


def _view(p: WorkPermit, employer_name: str) -> PermitView:
    regions = {k: int(v) for k, v in (p.regions or {}).items()}
    return PermitView(
        reference=p.reference, employer_id=p.employer_id, employer_name=employer_name, channel=p.channel,
        category=p.category, occupation=p.occupation, state=p.state, regions=regions,
        lead_region=_lead_region(regions), workers_count=sum(regions.values()), term_months=p.term_months,
        starts_on=p.starts_on, applied_on=p.applied_on, decide_by=p.decide_by, reserved_until=p.reserved_until,
        approved_on=p.approved_on, fee_due_on=p.fee_due_on, fee_paid_on=p.fee_paid_on, issued_on=p.issued_on,
        valid_from=p.valid_from, valid_to=p.valid_to, extensions=p.extensions, reason_code=p.reason_code,
        note=p.note, vacancy_code=p.vacancy_code, vacancy_posted_on=p.vacancy_posted_on,
        staff_total=p.staff_total, staff_citizens=p.staff_citizens, certificate=p.certificate)


def _employer_view(ctx: Context, e: Employer) -> EmployerView:
    party = ctx.keyring.decrypt(e.party_encrypted, EMPLOYER_CONTEXT)
    return EmployerView(e.id, e.kind, e.name, e.region, e.sector, party[-4:])


def _acting_role(principal: Principal, action: Step) -> PermitRole:
    """The permit role in which the caller takes `action` (the first of its roles allowed to)."""
    mine = rules.permit_roles(principal.role)
    for role in mine:
        if role in rules.ALLOWED_ROLES[action]:
            return role
    if not mine:
        raise Forbidden(Msg(N_("The role %(role)s may not %(action)s."), role=Msg(principal.role.value),
                            action=Msg(N_("decide on work permits"))))
    return mine[0]  # rules.step refuses it with the role's words


# --- employers -------------------------------------------------------------------------------------

def _require_employer(principal: Principal) -> str:
    principal.require(Permission.WORK_PERMIT_APPLY)
    if not principal.host_party:
        raise Forbidden(Msg(N_("Your account has no BIN or IIN to act as an employer.")))
    return principal.host_party


def _employer_row(session: Session, ctx: Context, party: str) -> Employer | None:
    index = ctx.keyring.blind_index(party, EMPLOYER_CONTEXT)
    return session.execute(select(Employer).where(Employer.party_index == index)).scalar_one_or_none()


def employer_of(session: Session, ctx: Context, principal: Principal) -> EmployerView | None:
    """The employer the caller's account acts for; None until its details are registered."""
    party = _require_employer(principal)
    row = _employer_row(session, ctx, party)
    return _employer_view(ctx, row) if row else None


def _check_region(ctx: Context, region: str, name: str = "region") -> None:
    if ctx.pack.region_for_kato(region.ljust(9, "0")) is None:
        raise ValidationFailed([FieldError(name, Msg(N_("%(code)s is not the code of a known region"), code=region))])


def save_employer(session: Session, ctx: Context, principal: Principal, data: EmployerIn,
                  party: str | None = None) -> EmployerView:
    """Register or update the caller's employer details. An administrator may register any
    employer by its `party` (an import from the register of legal entities)."""
    if party is None:
        party = _require_employer(principal)
    elif principal.role != Role.ADMIN:
        raise Forbidden()
    _check_region(ctx, data.region)
    row = _employer_row(session, ctx, party)
    if row is None:
        row = Employer(party_index=ctx.keyring.blind_index(party, EMPLOYER_CONTEXT),
                       party_encrypted=ctx.keyring.encrypt(party, EMPLOYER_CONTEXT), kind=_party_kind(party),
                       name=data.employer_name, region=data.region, sector=data.sector)
        session.add(row)
        action = "create"
    else:
        row.name, row.region, row.sector = data.employer_name, data.region, data.sector
        action = "update"
    session.flush()
    audit.append(session, ctx.keyring, principal, [audit.Access(action, "employer", str(row.id),
                                                                {"region": data.region, "sector": data.sector})])
    return _employer_view(ctx, row)


def employers_named(session: Session, ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(select(Employer.id, Employer.name).where(Employer.id.in_(list(ids)))).all()
    return {i: n for i, n in rows}


# --- checks --------------------------------------------------------------------------------------------

def _quota_check(session: Session, year: int, category: str, shares: dict[str, int]) -> CheckResult:
    free = ledger.free_places(session, year=year, category=category, regions=list(shares))
    short = [(r, free.get(r, 0), n) for r, n in sorted(shares.items()) if free.get(r, 0) < n]
    if short:
        region, left, asked = short[0]
        return CheckResult("quota", Outcome.FAILED, Msg(
            N_("%(region)s, %(category)s: %(left)s places left in %(year)s, %(asked)s asked."),
            region=region_name(region), category=ledger.category_word(category), left=str(left),
            asked=str(asked), year=str(year)))
    return CheckResult("quota", Outcome.PASSED, Msg(
        N_("The quota of %(year)s has places for every region asked."), year=str(year)))


def _eaeu_members(ctx: Context) -> set[str]:
    """Citizenships under the pack's EAEU basis (free movement: no permit, a registered contract)."""
    return {m for g in ctx.pack.stay_rules.groups for v in g.version if v.basis == "eaeu" for m in v.members}


def application_checks(session: Session, ctx: Context, data: ApplicationIn, today: dt.date,
                       *, with_quota: bool = True) -> list[CheckResult]:
    """Every check the application's channel asks for, in order; pure rules read from the pack,
    and the quota's free places."""
    permits = ctx.pack.permits
    channel = permits.channel_for(data.channel)
    if channel is None:
        raise ValidationFailed([FieldError("channel", Msg(N_("must be one of: %(expected)s"),
                                                          expected=", ".join(c.code for c in permits.channel)))])
    out: list[CheckResult] = []
    ends = data.starts_on + relativedelta(months=data.term_months) - dt.timedelta(days=1)
    shares = dict(Counter(w.work_region for w in data.workers))
    if data.channel == "employer_quota":
        if not data.category:
            raise ValidationFailed([FieldError("category", Msg(N_("Choose the category of the workers")))])
        category = _pack_category(data.category)
        if data.vacancy_posted_on is None:
            out.append(CheckResult("vacancy_posting", Outcome.FAILED,
                                   Msg(N_("Give the vacancy's code and the day it was posted."))))
        else:
            out.append(rules.check_vacancy_posting(permits, data.vacancy_posted_on, today))
        if data.category != "seasonal":
            out.append(rules.check_local_content(permits, category, data.staff_citizens, max(data.staff_total, 1)))
        out.append(rules.check_term(permits, category, data.term_months))
        if data.category == "4":
            out.append(rules.check_replacement_duty(permits, category, data.first_start or data.starts_on, ends,
                                                    today))
    else:
        out.append(_channel_term(channel.code, channel.max_term_months, data.term_months, channel.source))
    if data.channel == "intra_corporate_transfer" and channel.max_foreign_share_percent is not None:
        out.append(_transfer_share(len(data.workers), data.staff_citizens, channel.max_foreign_share_percent,
                                   channel.source))
    if data.channel == "independent_employment":
        out.append(CheckResult("certificate", Outcome.PASSED if data.certificate else Outcome.FAILED,
                               Msg(N_("Certificate %(number)s of qualification for independent employment."),
                                   number=data.certificate) if data.certificate else
                               Msg(N_("Give the number of the certificate of qualification for independent "
                                      "employment.")), channel.source))
    if data.channel == "eaeu_contract":
        members = _eaeu_members(ctx)
        outside = sorted({w.citizenship for w in data.workers if w.citizenship not in members})
        out.append(CheckResult("eaeu_citizenship", Outcome.FAILED if outside else Outcome.PASSED,
                               Msg(N_("Not citizens of an EAEU member state: %(countries)s."),
                                   countries=", ".join(outside)) if outside else
                               Msg(N_("Every worker is a citizen of an EAEU member state.")), channel.source))
    line = quota_category(data.channel, data.category)
    if with_quota and line:
        out.append(_quota_check(session, data.starts_on.year, line, shares))
    return out


def _channel_term(code: str, longest: int | None, months: int, source: SourceRef) -> CheckResult:
    words = Msg(CHANNEL_WORDS.get(code, code))
    if longest is None:
        return CheckResult("term", Outcome.UNKNOWN, Msg(N_("The rules give no longest term for this channel "
                                                           "(not found in the sources).")), source)
    params = {"months": months, "max": longest, "channel": words}
    if months > longest:
        return CheckResult("term", Outcome.FAILED, Msg(N_("A term of %(months)s months is longer than the "
                                                          "%(max)s months allowed for %(channel)s."), **params), source)
    return CheckResult("term", Outcome.PASSED, Msg(N_("A term of %(months)s months is within the %(max)s months "
                                                      "allowed for %(channel)s."), **params), source)


def _transfer_share(foreign: int, citizens: int, percent: int, source: SourceRef) -> CheckResult:
    params = {"foreign": foreign, "citizens": citizens, "percent": percent}
    if foreign * 100 > citizens * percent:
        return CheckResult("transfer_share", Outcome.FAILED, Msg(
            N_("%(foreign)s transferred workers are more than %(percent)s %% of the %(citizens)s citizens on the "
               "staff in the same category."), **params), source)
    return CheckResult("transfer_share", Outcome.PASSED, Msg(
        N_("%(foreign)s transferred workers are within %(percent)s %% of the %(citizens)s citizens on the staff "
           "in the same category."), **params), source)


# --- applications -------------------------------------------------------------------------------------

def _record_action(session: Session, principal: Principal, permit: WorkPermit, action: Step | str, before: str,
                   role: PermitRole | str, on: dt.date, reason_code: str = "", note: str = "") -> None:
    session.add(PermitAction(permit_id=permit.id, step=str(action), from_state=before, to_state=permit.state,
                             actor=principal.username, role=str(role), on=on, reason_code=reason_code, note=note))


def _worker_details(ctx: Context, w: WorkerIn) -> bytes:
    body = {"surname": w.surname, "given_names": w.given_names, "patronymic": w.patronymic,
            "surname_latin": w.surname_latin, "given_names_latin": w.given_names_latin,
            "document_number": w.document_number, "issuing_state": w.issuing_state, "birth_date": w.birth_date,
            "sex": w.sex}
    return ctx.keyring.encrypt(json.dumps(body, ensure_ascii=False), WORKER_CONTEXT)


def _resolve_workers(session: Session, ctx: Context, workers: Sequence[WorkerIn]) -> list[str]:
    records = [people.IdentityRecord(
        source="work_permit", surname=w.surname, given_names=w.given_names, patronymic=w.patronymic,
        surname_latin=w.surname_latin, given_names_latin=w.given_names_latin, citizenship=w.citizenship,
        document_number=w.document_number, issuing_state=w.issuing_state, sex=w.sex, birth_date=w.birth_date,
        region_kato=w.work_region.ljust(9, "0")) for w in workers]
    resolved = people.resolve_identities(session, ctx, records)
    ids = [r.person_id for r in resolved]
    created = tuple(sorted({r.person_id for r in resolved if r.created}))
    if created:
        event = events.publish(session, ctx, events.PersonsCreated(created))
        if sum(event.merges):
            now = people.current_ids(session, ids)
            ids = [now.get(i, i) for i in ids]
    return ids


def submit(session: Session, ctx: Context, principal: Principal, data: ApplicationIn, today: dt.date) -> PermitView:
    """File an application as the caller's employer: every check must pass (ChecksFailed lists
    those that do not, nothing stored); places within the quota are reserved at once, all or
    none, and held for the pack's reservation term."""
    party = _require_employer(principal) if principal.role != Role.ADMIN else None
    employer = _employer_row(session, ctx, party) if party else None
    if party and employer is None:
        raise Conflict(Msg(N_("Register your organisation's details before applying.")))
    return _submit(session, ctx, principal, employer, data, today)


def submit_for(session: Session, ctx: Context, principal: Principal, employer_id: int, data: ApplicationIn,
               today: dt.date) -> PermitView:
    """File an application for an employer (the administrator: an import from an existing system)."""
    if principal.role != Role.ADMIN:
        raise Forbidden()
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise NotFound(Msg(N_("No employer %(id)s"), id=str(employer_id)))
    return _submit(session, ctx, principal, employer, data, today)


def _submit(session: Session, ctx: Context, principal: Principal, employer: Employer | None, data: ApplicationIn,
            today: dt.date) -> PermitView:
    if employer is None:
        raise Conflict(Msg(N_("Register your organisation's details before applying.")))
    for w in data.workers:
        _check_region(ctx, w.work_region, "work_region")
    if data.channel == "household_worker" and employer.kind != "individual":
        raise ValidationFailed([FieldError("channel", Msg(N_("A household worker's permit is for an individual "
                                                             "employer (IIN), not an organisation")))])
    checks = application_checks(session, ctx, data, today)
    failed = [c for c in checks if c.outcome is Outcome.FAILED]
    if failed:
        raise ChecksFailed(failed)
    shares = dict(Counter(w.work_region for w in data.workers))
    person_ids = _resolve_workers(session, ctx, data.workers)
    if len(set(person_ids)) != len(person_ids):
        raise ValidationFailed([FieldError("workers", Msg(N_("The same worker is named twice")))])
    line = quota_category(data.channel, data.category)
    permit = WorkPermit(
        reference=_new_reference(), employer_id=employer.id, channel=data.channel, category=line if line else
        data.category, occupation=data.occupation, vacancy_code=data.vacancy_code,
        vacancy_posted_on=data.vacancy_posted_on, certificate=data.certificate, term_months=data.term_months,
        starts_on=data.starts_on, year=data.starts_on.year, regions=shares, staff_total=data.staff_total,
        staff_citizens=data.staff_citizens, state=PermitState.DRAFT, applied_on=today)
    session.add(permit)
    session.flush()
    for w, person in zip(data.workers, person_ids, strict=True):
        session.add(PermitWorker(permit_id=permit.id, person_id=person, region=w.work_region,
                                 citizenship=w.citizenship, details_encrypted=_worker_details(ctx, w)))
    role = PermitRole.EMPLOYER if principal.role != Role.ADMIN else PermitRole.SYSTEM_JOB
    _step(session, principal, permit, Step.SUBMIT, PermitRole.EMPLOYER if role else role, today)
    _step(session, principal, permit, Step.CHECK, PermitRole.SYSTEM_JOB, today)
    calendar, policy = ctx.pack.calendar, ctx.pack.permits.application
    if line:
        ledger.reserve(session, ctx, principal, year=permit.year, category=line, shares=shares,
                       reference=permit.reference, audited=False)
        if policy:
            permit.reserved_until = calendar.add_working_days(today, policy.reservation_working_days)
    if policy:
        permit.decide_by = calendar.add_working_days(today, policy.decision_working_days)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "work_permit", permit.reference, {"channel": data.channel, "category": data.category,
                                                    "regions": shares, "workers": len(person_ids)})])
    if data.channel == "eaeu_contract":  # nothing to decide: the contract is registered at once
        system = _system(principal)
        _step(session, system, permit, Step.APPROVE, PermitRole.SYSTEM_JOB, today)
        _pay_fee(session, ctx, system, permit, PermitRole.SYSTEM_JOB, today, today)
        _issue(session, ctx, system, permit, PermitRole.SYSTEM_JOB, today)
    session.flush()
    return _view(permit, employer.name)


def resubmit(session: Session, ctx: Context, principal: Principal, reference: str, data: ApplicationIn,
             today: dt.date) -> PermitView:
    """File a returned application again, corrected: the same reference, its details and workers
    replaced, every check run anew and the places reserved again (ChecksFailed: nothing changes)."""
    party = _require_employer(principal)
    employer = _employer_row(session, ctx, party)
    row = _load(session, ctx, principal, reference, lock=True)
    if employer is None or row.employer_id != employer.id:
        raise NotFound(Msg(N_("No permit %(reference)s among those you may see"), reference=reference))
    rules.step(PermitState(row.state), Step.SUBMIT, PermitRole.EMPLOYER)  # only a returned one
    if data.channel != row.channel:
        raise ValidationFailed([FieldError("channel", Msg(N_("A returned application keeps its channel")))])
    for w in data.workers:
        _check_region(ctx, w.work_region, "work_region")
    failed = [c for c in application_checks(session, ctx, data, today) if c.outcome is Outcome.FAILED]
    if failed:
        raise ChecksFailed(failed)
    person_ids = _resolve_workers(session, ctx, data.workers)
    if len(set(person_ids)) != len(person_ids):
        raise ValidationFailed([FieldError("workers", Msg(N_("The same worker is named twice")))])
    shares = dict(Counter(w.work_region for w in data.workers))
    line = quota_category(data.channel, data.category)
    row.category = line if line else data.category
    row.occupation, row.vacancy_code, row.vacancy_posted_on = data.occupation, data.vacancy_code, data.vacancy_posted_on
    row.certificate, row.term_months, row.starts_on, row.year = (data.certificate, data.term_months, data.starts_on,
                                                                  data.starts_on.year)
    row.regions, row.staff_total, row.staff_citizens, row.applied_on = (shares, data.staff_total,
                                                                        data.staff_citizens, today)
    session.execute(delete(PermitWorker).where(PermitWorker.permit_id == row.id))
    for w, person in zip(data.workers, person_ids, strict=True):
        session.add(PermitWorker(permit_id=row.id, person_id=person, region=w.work_region,
                                 citizenship=w.citizenship, details_encrypted=_worker_details(ctx, w)))
    _step(session, principal, row, Step.SUBMIT, PermitRole.EMPLOYER, today)
    _step(session, principal, row, Step.CHECK, PermitRole.SYSTEM_JOB, today)
    row.reason_code, row.note = "", ""
    policy = ctx.pack.permits.application
    if line:
        ledger.reserve(session, ctx, principal, year=row.year, category=line, shares=shares, reference=row.reference,
                       audited=False)
        if policy:
            row.reserved_until = ctx.pack.calendar.add_working_days(today, policy.reservation_working_days)
    if policy:
        row.decide_by = ctx.pack.calendar.add_working_days(today, policy.decision_working_days)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "work_permit", row.reference, {"step": "resubmit", "regions": shares})])
    session.flush()
    return _view(row, employer.name)


def application_of(session: Session, ctx: Context, principal: Principal, reference: str) -> ApplicationIn:
    """A permit's application as it was filed, workers included (decrypted), to be corrected and
    filed again (`resubmit`): the caller's own only."""
    party = _require_employer(principal)
    employer = _employer_row(session, ctx, party)
    row = _load(session, ctx, principal, reference)
    if employer is None or row.employer_id != employer.id:
        raise NotFound(Msg(N_("No permit %(reference)s among those you may see"), reference=reference))
    workers = []
    for w in session.execute(select(PermitWorker).where(PermitWorker.permit_id == row.id)
                             .order_by(PermitWorker.id)).scalars():
        details = json.loads(ctx.keyring.decrypt(w.details_encrypted, WORKER_CONTEXT))
        workers.append({**{k: v for k, v in details.items() if v not in (None, "")}, "citizenship": w.citizenship,
                        "work_region": w.region, "sex": details.get("sex") or "X"})
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", row.reference, {"view": "application", "workers": len(workers)})])
    return ApplicationIn.model_validate({
        "channel": row.channel, "category": "" if row.category == "household" else row.category,
        "occupation": row.occupation, "vacancy_code": row.vacancy_code, "vacancy_posted_on": row.vacancy_posted_on,
        "certificate": row.certificate, "term_months": row.term_months, "starts_on": row.starts_on,
        "staff_total": row.staff_total, "staff_citizens": row.staff_citizens, "workers": workers})


def _system(principal: Principal) -> Principal:
    from kosh.platform.security import system_principal

    return system_principal(f"work permits, for {principal.username}")


def _step(session: Session, principal: Principal, permit: WorkPermit, action: Step, role: PermitRole, on: dt.date,
          reason_code: str = "", note: str = "") -> None:
    before = permit.state
    permit.state = rules.step(PermitState(before), action, role)
    permit.updated_at = utcnow()
    if action in (Step.RETURN, Step.REFUSE, Step.SUSPEND, Step.REVOKE):
        permit.reason_code, permit.note = reason_code, note
    _record_action(session, principal, permit, action, before, role, on, reason_code, note)


# --- reads ------------------------------------------------------------------------------------------------

def _readable(session: Session, ctx: Context, principal: Principal) -> ColumnElement[bool]:
    """The permits the caller may read, as a WHERE clause."""
    if principal.can(Permission.WORK_PERMIT_APPLY) and principal.role == Role.EMPLOYER:
        row = _employer_row(session, ctx, _require_employer(principal))
        return WorkPermit.employer_id == (row.id if row else -1)
    principal.require(Permission.WORK_PERMIT_READ)
    if principal.role in (Role.ADMIN, Role.MINISTRY):
        return WorkPermit.id.is_not(None)
    in_region = select(PermitWorker.permit_id).where(prefix_clause(PermitWorker.region, list(principal.regions)))
    return WorkPermit.id.in_(in_region)


def _load(session: Session, ctx: Context, principal: Principal, reference: str, *, lock: bool = False) -> WorkPermit:
    query = select(WorkPermit).where(WorkPermit.reference == reference.strip().upper(),
                                     _readable(session, ctx, principal))
    if lock:
        query = query.with_for_update()
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(Msg(N_("No permit %(reference)s among those you may see"), reference=reference))
    return found


def list_permits(session: Session, ctx: Context, principal: Principal, *, states: Sequence[str] = (),
                 region: str = "", page: int = 1) -> PermitPage:
    """The caller's permits, newest first; `states` and `region` narrow it."""
    where = [_readable(session, ctx, principal)]
    if states:
        where.append(WorkPermit.state.in_(list(states)))
    if region:
        where.append(WorkPermit.id.in_(select(PermitWorker.permit_id).where(PermitWorker.region == region)))
    total = session.execute(select(func.count()).select_from(WorkPermit).where(*where)).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.execute(select(WorkPermit).where(*where).order_by(WorkPermit.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars().all()
    names = employers_named(session, sorted({r.employer_id for r in rows}))
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", "list", {"count": len(rows), "states": list(states), "region": region})])
    return PermitPage([_view(r, names.get(r.employer_id, "")) for r in rows], total, page, pages)


def _workers(session: Session, ctx: Context, permit_id: int) -> list[WorkerView]:
    return _workers_of(session, ctx, [permit_id]).get(permit_id, [])


def _workers_of(session: Session, ctx: Context, permit_ids: Sequence[int]) -> dict[int, list[WorkerView]]:
    """The named workers of these permits (in one query), as the employer wrote them."""
    from kosh.people.names import language_for_citizenship, romanize

    out: dict[int, list[WorkerView]] = {}
    if not permit_ids:
        return out
    rows = session.execute(select(PermitWorker).where(PermitWorker.permit_id.in_(list(permit_ids)))
                           .order_by(PermitWorker.id)).scalars().all()
    for r in rows:
        d = json.loads(ctx.keyring.decrypt(r.details_encrypted, WORKER_CONTEXT))
        name = " ".join(x for x in (d.get("surname"), d.get("given_names"), d.get("patronymic")) if x)
        latin = " ".join(x for x in (d.get("surname_latin"), d.get("given_names_latin")) if x)
        if not latin:
            lang = language_for_citizenship(r.citizenship)
            latin = " ".join(romanize(x, lang) for x in (d.get("surname", ""), d.get("given_names", "")) if x)
        out.setdefault(r.permit_id, []).append(WorkerView(
            r.person_id, name, latin.upper(), r.citizenship, str(d.get("document_number", ""))[-4:], r.region))
    return out


QUEUE_STATES = (PermitState.SUBMITTED, PermitState.CHECKED, PermitState.APPROVED, PermitState.FEE_PAID)
EXTENSION = "extension"  # the queue's filter for valid permits whose employer asked for an extension
QUEUE_LIMIT = 5000  # an akimat's open applications; past it the filters narrow the queue


def queue(session: Session, ctx: Context, principal: Principal, state: str = "",
          region: str = "") -> tuple[list[PermitView], set[str]]:
    """The applications and permits awaiting the officer, oldest first, and the references of those
    whose employer asked for an extension. An akimat's queue holds what its akimat decides (the
    lead region is one of its own); what it may only suspend or revoke is on /permits."""
    last = (select(PermitAction.permit_id, func.max(PermitAction.id).label("last_id"))
            .group_by(PermitAction.permit_id).subquery())
    asked = (select(PermitAction.permit_id).join(last, PermitAction.id == last.c.last_id)
             .where(PermitAction.step == "request_extension"))
    extension = and_(WorkPermit.state.in_(list(VALID_STATES)), WorkPermit.id.in_(asked))
    if state == EXTENSION:
        which = extension
    elif state:
        which = WorkPermit.state == state
    else:
        which = or_(WorkPermit.state.in_(list(QUEUE_STATES)), extension)
    # The same scope as every read, so the queue never shows more than a permit page would.
    where = [_readable(session, ctx, principal), which]
    if region:
        where.append(WorkPermit.id.in_(select(PermitWorker.permit_id).where(PermitWorker.region == region)))
    rows = session.execute(select(WorkPermit).where(*where).order_by(WorkPermit.applied_on, WorkPermit.id)
                           .limit(QUEUE_LIMIT)).scalars().all()
    names = employers_named(session, sorted({r.employer_id for r in rows}))
    views = [_view(r, names.get(r.employer_id, "")) for r in rows]
    if principal.role != Role.ADMIN:
        views = [v for v in views if within_regions(v.lead_region.ljust(9, "0"), principal.regions)]
    ids = [r.id for r in rows if r.state in VALID_STATES]
    requested = {r.reference for r in rows if r.id in set(session.execute(
        asked.where(PermitAction.permit_id.in_(ids))).scalars())} if ids else set()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", "queue", {"count": len(views), "state": state, "region": region})])
    return views, requested


def steps_for(principal: Principal, permit: PermitView) -> list[str]:
    """What the caller may do with the permit now (for buttons and the API's links)."""
    if principal.role == Role.AKIMAT and not within_regions(permit.lead_region.ljust(9, "0"), principal.regions):
        # another region's akimat decides; this one may still suspend or revoke in its region
        deciding: set[str] = {Step.SUSPEND, Step.RESTORE, Step.REVOKE}
    else:
        deciding = {s.value for s in Step}
    out: list[str] = []
    for role in rules.permit_roles(principal.role):
        if role is PermitRole.SYSTEM_JOB and principal.role != Role.ADMIN:
            continue
        out += [s.value for s in rules.allowed_steps(PermitState(permit.state), role)
                if s.value in deciding and s not in (Step.CHECK, Step.EXPIRE, Step.SUBMIT)]
    if principal.role == Role.EMPLOYER and permit.valid:
        out.append("request_extension")
    return sorted(set(out), key=out.index)


def get_permit(session: Session, ctx: Context, principal: Principal, reference: str,
               today: dt.date | None = None) -> PermitDetail:
    row = _load(session, ctx, principal, reference)
    names = employers_named(session, [row.employer_id])
    view = _view(row, names.get(row.employer_id, ""))
    actions = session.execute(select(PermitAction).where(PermitAction.permit_id == row.id)
                              .order_by(PermitAction.id)).scalars().all()
    action_views = [ActionView(a.step, a.from_state, a.to_state, a.actor, a.role, a.on, a.reason_code, a.note)
                    for a in actions]
    requested = bool(action_views) and action_views[-1].step == "request_extension"
    payments = [(m, a, d) for m, a, d in session.execute(
        select(HouseholdPayment.month, HouseholdPayment.amount_kzt, HouseholdPayment.paid_on)
        .where(HouseholdPayment.permit_id == row.id).order_by(HouseholdPayment.month)).all()]
    workers = _workers(session, ctx, row.id)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", row.reference, {"workers": [w.person_id for w in workers]})])
    checks = stored_checks(session, ctx, row, today or row.applied_on or dt.date.today())
    due = household.next_payment(session, ctx, row, today or dt.date.today()) \
        if row.channel == "household_worker" else None
    return PermitDetail(view, workers, action_views, steps_for(principal, view), checks, requested, payments, due)


def stored_checks(session: Session, ctx: Context, row: WorkPermit, today: dt.date) -> list[CheckResult]:
    """The application's checks as they stand for the application's own day (the officer's view)."""
    # model_construct: the stored values were validated when submitted; only the checks' inputs
    workers = [WorkerIn.model_construct(work_region=w.region, citizenship=w.citizenship)  # type: ignore[call-arg]
               for w in session.execute(select(PermitWorker).where(PermitWorker.permit_id == row.id)).scalars()]
    stored: dict[str, Any] = {
        "channel": row.channel, "category": "" if row.category == "household" else row.category,
        "occupation": row.occupation, "vacancy_code": row.vacancy_code, "vacancy_posted_on": row.vacancy_posted_on,
        "certificate": row.certificate, "term_months": row.term_months, "starts_on": row.starts_on,
        "staff_total": row.staff_total, "staff_citizens": row.staff_citizens, "first_start": None,
        "workers": workers}
    data = ApplicationIn.model_construct(**stored)
    return application_checks(session, ctx, data, row.applied_on or today, with_quota=False)


# --- decisions and the permit's life --------------------------------------------------------------------

def _check_reason(ctx: Context, action: str, code: str) -> None:
    reasons = ctx.pack.permits.reasons_for(action)
    if reasons and code not in {r.code for r in reasons}:
        raise ValidationFailed([FieldError("reason_code", Msg(N_("Choose a reason from the list")))])


def take_step(session: Session, ctx: Context, principal: Principal, reference: str, body: StepIn,
              today: dt.date) -> PermitView:
    """Take one step on a permit: the state machine decides whether the state and the caller's
    role allow it (IllegalStep: 409 or 403 naming both), the pack's reasons list whether the
    reason is one of them; quota and the lawful basis of stay follow in the same transaction."""
    row = _load(session, ctx, principal, reference, lock=True)
    view = _view(row, "")
    if principal.role == Role.AKIMAT and body.step not in (Step.SUSPEND, Step.RESTORE, Step.REVOKE) \
            and not within_regions(view.lead_region.ljust(9, "0"), principal.regions):
        raise Forbidden(Msg(N_("%(region)s's akimat decides on this permit."), region=region_name(view.lead_region)))
    if body.step == "request_extension":
        _request_extension(session, ctx, principal, row, today, body.note)
    else:
        action = Step(body.step)
        role = _acting_role(principal, action)
        if action in (Step.RETURN, Step.REFUSE, Step.SUSPEND, Step.REVOKE):
            if not body.reason_code:
                raise ValidationFailed([FieldError("reason_code", Msg(N_("Choose a reason from the list")))])
            _check_reason(ctx, action.value, body.reason_code)
        if action is Step.APPROVE:
            _approve(session, ctx, principal, row, role, today)
        elif action is Step.PAY_FEE:
            _pay_fee(session, ctx, principal, row, role, body.paid_on or today, today)
        elif action is Step.ISSUE:
            _issue(session, ctx, principal, row, role, today)
        elif action is Step.EXTEND:
            _extend(session, ctx, principal, row, role, today, body.months)
        else:
            _step(session, principal, row, action, role, today, body.reason_code, body.note)
            if action in (Step.RETURN, Step.REFUSE, Step.REVOKE):
                _release(session, ctx, principal, row, action.value)
            if action in (Step.SUSPEND, Step.RESTORE, Step.REVOKE):
                _publish_basis(session, ctx, row, today)
    session.flush()
    names = employers_named(session, [row.employer_id])
    # The audit record last: the chain's head is one row every writer waits for until it commits.
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "work_permit", row.reference, {"step": body.step, "state": row.state,
                                                 "reason": body.reason_code})])
    return _view(row, names.get(row.employer_id, ""))


def _release(session: Session, ctx: Context, principal: Principal, row: WorkPermit, why: str) -> None:
    if quota_category(row.channel, row.category):
        ledger.release(session, ctx, principal, reference=row.reference, reason=why, audited=False)
    row.reserved_until = None


def _approve(session: Session, ctx: Context, principal: Principal, row: WorkPermit, role: PermitRole,
             today: dt.date) -> None:
    line = quota_category(row.channel, row.category)
    rules.step(PermitState(row.state), Step.APPROVE, role)  # refuse an illegal step before touching quota
    lapsed = row.reserved_until is not None and row.reserved_until < today  # the daily job has not run yet
    draw = bool(line) and (row.reserved_until is None or lapsed)
    _step(session, principal, row, Step.APPROVE, role, today)
    row.reserved_until = None
    row.approved_on = today
    row.fee_due_on = rules.fee_due_by(ctx.pack.permits, ctx.pack.calendar, today)
    if draw:
        # the hold lapsed (or was given back): draw the places again, or refuse with what is left.
        # Last in the transaction, so that the cell's row lock is held for as short as can be.
        if lapsed:
            ledger.release(session, ctx, principal, reference=row.reference, reason="reservation lapsed",
                           audited=False)
        ledger.reserve(session, ctx, principal, year=row.year, category=line,
                       shares={k: int(v) for k, v in row.regions.items()}, reference=row.reference, audited=False)
    channel = ctx.pack.permits.channel_for(row.channel)
    if channel is not None and channel.fee_free:
        _pay_fee(session, ctx, principal, row, PermitRole.SYSTEM_JOB, today, today)


def _pay_fee(session: Session, ctx: Context, principal: Principal, row: WorkPermit, role: PermitRole,
             paid_on: dt.date, today: dt.date) -> None:
    if paid_on > today:
        raise ValidationFailed([FieldError("paid_on", Msg(N_("must not be in the future")))])
    _step(session, principal, row, Step.PAY_FEE, role, today)
    row.fee_paid_on = paid_on


def _issue(session: Session, ctx: Context, principal: Principal, row: WorkPermit, role: PermitRole,
           today: dt.date) -> None:
    _step(session, principal, row, Step.ISSUE, role, today)
    if quota_category(row.channel, row.category):
        ledger.consume(session, ctx, principal, reference=row.reference, audited=False)
    row.issued_on = today
    row.valid_from = max(row.starts_on, today)
    row.valid_to = row.valid_from + relativedelta(months=row.term_months) - dt.timedelta(days=1)
    _publish_basis(session, ctx, row, today)


def _request_extension(session: Session, ctx: Context, principal: Principal, row: WorkPermit, today: dt.date,
                       note: str) -> None:
    if row.state not in VALID_STATES or row.valid_to is None:
        raise Conflict(Msg(N_("Only a valid permit can be extended.")))
    window = rules.check_extension_window(ctx.pack.permits, row.valid_to, today)
    failed = [window] if window.outcome is Outcome.FAILED else []
    if row.channel == "employer_quota" and row.category not in ("", "seasonal"):
        count = rules.check_extension_count(ctx.pack.permits, _pack_category(row.category), row.extensions)
    else:
        count = rules.check_channel_extension_count(ctx.pack.permits, row.channel, row.extensions)
    if count.outcome is Outcome.FAILED:
        failed.append(count)
    if failed:
        raise ChecksFailed(failed)
    _record_action(session, principal, row, "request_extension", row.state, PermitRole.EMPLOYER, today, note=note)


def _extend(session: Session, ctx: Context, principal: Principal, row: WorkPermit, role: PermitRole,
            today: dt.date, months: int | None) -> None:
    last = session.execute(select(PermitAction.step).where(PermitAction.permit_id == row.id)
                           .order_by(PermitAction.id.desc()).limit(1)).scalar_one_or_none()
    if last != "request_extension" and principal.role != Role.ADMIN:
        raise Conflict(Msg(N_("The employer has not asked to extend this permit.")))
    channel = ctx.pack.permits.channel_for(row.channel)
    category = ctx.pack.permits.category_for(_pack_category(row.category)) if row.channel == "employer_quota" \
        else None
    months = months or (category.extension_months if category else None) or \
        (channel.extension_months if channel else None) or row.term_months
    _step(session, principal, row, Step.EXTEND, role, today)
    assert row.valid_to is not None
    row.valid_to = row.valid_to + relativedelta(months=months)  # the new term starts at the old expiry
    row.extensions += 1
    _publish_basis(session, ctx, row, today)


def _basis_periods(session: Session, row: WorkPermit, search_days: int = 0) -> list[tuple[dt.date, dt.date]]:
    """The days the permit authorised and authorises: its valid term less the suspensions and
    what follows a revocation or expiry (read from its steps). An EAEU contract that ended early
    authorises `search_days` more after its last day, to find new work."""
    if row.valid_from is None or row.valid_to is None:
        return []
    spans: list[tuple[dt.date, dt.date]] = []
    start: dt.date | None = row.valid_from
    actions = session.execute(select(PermitAction.step, PermitAction.on).where(
        PermitAction.permit_id == row.id).order_by(PermitAction.id)).all()
    ended = next((on for step_name, on in actions if step_name == "end_contract"), None)
    if ended is not None:
        return [(row.valid_from, ended + dt.timedelta(days=search_days))] if ended >= row.valid_from else []
    for step_name, on in actions:
        if step_name in ("suspend", "revoke", "expire") and start is not None:
            if on > start:
                spans.append((start, min(on - dt.timedelta(days=1), row.valid_to)))
            start = None
        elif step_name == "restore" and start is None:
            start = on
    if start is not None and start <= row.valid_to:
        spans.append((start, row.valid_to))
    return spans


def _publish_basis(session: Session, ctx: Context, row: WorkPermit, today: dt.date) -> None:
    session.flush()
    persons = session.execute(select(PermitWorker.person_id).where(PermitWorker.permit_id == row.id)).scalars().all()
    channel = ctx.pack.permits.channel_for(row.channel)
    spans = _basis_periods(session, row, (channel.search_days_after_end or 0) if channel else 0)
    periods = tuple((p, a, b) for p in persons for a, b in spans)
    kind = "eaeu_contract" if row.channel == "eaeu_contract" else "work_permit"
    events.publish(session, ctx, events.WorkAuthorisationChanged(
        row.reference, kind, _lead_region(row.regions).ljust(9, "0"), tuple(persons), periods))


def end_eaeu_contract(session: Session, ctx: Context, principal: Principal, reference: str, ended_on: dt.date,
                      today: dt.date) -> PermitView:
    """Record that an EAEU worker's employment contract ended (early): the record expires and the
    worker's stay stays lawful for the channel's search period after the last day (15 days)."""
    row = _load(session, ctx, principal, reference, lock=True)
    if principal.role not in (Role.EMPLOYER, Role.ADMIN):
        raise Forbidden()
    if row.channel != "eaeu_contract" or row.state not in VALID_STATES or row.valid_from is None:
        raise Conflict(Msg(N_("Only a registered EAEU employment contract in force can be ended.")))
    assert row.valid_to is not None
    if not row.valid_from <= ended_on <= min(row.valid_to, today):
        raise ValidationFailed([FieldError("ended_on", Msg(N_("Enter a day from %(first)s to %(last)s"),
                                                           first=row.valid_from, last=min(row.valid_to, today)))])
    _record_action(session, principal, row, "end_contract", row.state, PermitRole.EMPLOYER, ended_on)
    row.valid_to = ended_on
    _step(session, principal, row, Step.EXPIRE, PermitRole.SYSTEM_JOB, today, note="contract ended")
    _publish_basis(session, ctx, row, today)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "work_permit", row.reference, {"step": "end_contract", "ended_on": ended_on.isoformat()})])
    names = employers_named(session, [row.employer_id])
    return _view(row, names.get(row.employer_id, ""))


def change_household_employer(session: Session, ctx: Context, principal: Principal, reference: str,
                              party: str, name: str, today: dt.date) -> PermitView:
    """Record a household worker's change of employer (an individual, by IIN) on the permit: the
    permit follows the worker; the earlier employer stays in its trail."""
    from kosh.platform.identifiers import iin

    if principal.role not in (Role.AKIMAT, Role.ADMIN):
        raise Forbidden()
    row = _load(session, ctx, principal, reference, lock=True)
    if row.channel != "household_worker" or row.state not in (*VALID_STATES, PermitState.SUSPENDED):
        raise Conflict(Msg(N_("Only a household worker's permit in force changes employer.")))
    if not iin.is_valid(party):
        raise ValidationFailed([FieldError("new_employer", Msg(N_("Enter the new employer's IIN (12 digits)")))])
    before = row.employer_id
    found = _employer_row(session, ctx, party)
    if found is None:
        found = Employer(party_index=ctx.keyring.blind_index(party, EMPLOYER_CONTEXT),
                         party_encrypted=ctx.keyring.encrypt(party, EMPLOYER_CONTEXT), kind="individual",
                         name=name.strip()[:200] or party[-4:], region=_lead_region(row.regions), sector="household")
        session.add(found)
        session.flush()
    if found.id == before:
        raise ValidationFailed([FieldError("new_employer", Msg(N_("This is the permit's employer already")))])
    row.employer_id = found.id
    _record_action(session, principal, row, "change_employer", row.state, _acting_role(principal, Step.SUSPEND),
                   today, note=f"employer {before} → {found.id}")
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "work_permit", row.reference, {"step": "change_employer", "from": before, "to": found.id})])
    return _view(row, found.name)


# --- the daily job ---------------------------------------------------------------------------------------

@dataclass
class DailyReport:
    lapsed_reservations: int = 0
    approvals_expired: int = 0
    permits_expired: int = 0
    suspended_unpaid: int = 0
    restored_paid: int = 0


def run_daily(session: Session, ctx: Context, principal: Principal, today: dt.date) -> DailyReport:
    """Lapse reservations past their hold, expire approvals whose fee was not paid in time and
    permits past their end, suspend household permits with an unpaid month and restore those
    paid again. Idempotent: a second run on the same day changes nothing."""
    if principal.role != Role.ADMIN:
        raise Forbidden()
    report = DailyReport()
    for row in session.execute(select(WorkPermit).where(
            WorkPermit.state.in_([PermitState.SUBMITTED, PermitState.CHECKED]), WorkPermit.reserved_until < today)
            .order_by(WorkPermit.id)).scalars():
        _release(session, ctx, principal, row, "reservation lapsed")
        _record_action(session, principal, row, "lapse", row.state, PermitRole.SYSTEM_JOB, today)
        report.lapsed_reservations += 1
    for row in session.execute(select(WorkPermit).where(
            WorkPermit.state == PermitState.APPROVED, WorkPermit.fee_due_on < today).order_by(WorkPermit.id)).scalars():
        _step(session, principal, row, Step.EXPIRE, PermitRole.SYSTEM_JOB, today, note="fee not paid in time")
        _release(session, ctx, principal, row, "fee not paid in time")
        report.approvals_expired += 1
    for row in session.execute(select(WorkPermit).where(
            WorkPermit.state.in_([*VALID_STATES, PermitState.SUSPENDED]), WorkPermit.valid_to < today)
            .order_by(WorkPermit.id)).scalars():
        _step(session, principal, row, Step.EXPIRE, PermitRole.SYSTEM_JOB, today)
        _release(session, ctx, principal, row, "expired")
        _publish_basis(session, ctx, row, today)
        report.permits_expired += 1
    report.suspended_unpaid, report.restored_paid = _apply_payments(session, ctx, principal, today)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "work_permit", "daily", {"on": today.isoformat(), **report.__dict__})])
    return report


def _apply_payments(session: Session, ctx: Context, principal: Principal, today: dt.date) -> tuple[int, int]:
    """Suspend household permits with a begun, unpaid month; restore those this job suspended
    once every begun month is paid. Returns (suspended, restored)."""
    suspended = restored = 0
    rows = session.execute(select(WorkPermit).where(
        WorkPermit.channel == "household_worker",
        WorkPermit.state.in_([*VALID_STATES, PermitState.SUSPENDED])).order_by(WorkPermit.id)).scalars().all()
    paid = household.paid_months_of(session, [r.id for r in rows])
    for row in rows:
        if row.valid_from is None or row.valid_to is None or row.valid_to < today:
            continue
        unpaid = rules.unpaid_months(row.valid_from, row.valid_to, paid.get(row.id, set()), today)
        if unpaid and row.state != PermitState.SUSPENDED:
            _step(session, principal, row, Step.SUSPEND, PermitRole.SYSTEM_JOB, today, household.UNPAID,
                  ", ".join(m.key for m in unpaid))
            _publish_basis(session, ctx, row, today)
            suspended += 1
        elif not unpaid and row.state == PermitState.SUSPENDED and row.reason_code == household.UNPAID:
            _step(session, principal, row, Step.RESTORE, PermitRole.SYSTEM_JOB, today)
            row.reason_code, row.note = "", ""
            _publish_basis(session, ctx, row, today)
            restored += 1
    return suspended, restored


# --- a person's permits ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonPermit:
    reference: str
    channel: str
    category: str
    state: str
    employer_name: str
    regions: list[str]
    work_region: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    reason_code: str
    next_payment: tuple[str, int] | None  # household: the month and the amount in KZT due next


def permits_of_persons(session: Session, ctx: Context, person_ids: Sequence[str], today: dt.date) -> list[PersonPermit]:
    """The permits naming these persons (the migrant's own page and the person's page; the caller
    has checked that it may read the person)."""
    if not person_ids:
        return []
    rows = session.execute(select(WorkPermit, PermitWorker.region).join(
        PermitWorker, PermitWorker.permit_id == WorkPermit.id).where(PermitWorker.person_id.in_(list(person_ids)))
        .order_by(WorkPermit.id.desc())).all()
    names = employers_named(session, sorted({r.employer_id for r, _ in rows}))
    paid = household.paid_months_of(session, [r.id for r, _ in rows if r.channel == "household_worker"])
    out = []
    for r, region in rows:
        due = household.next_payment(session, ctx, r, today, paid.get(r.id, set())) \
            if r.channel == "household_worker" else None
        out.append(PersonPermit(r.reference, r.channel, r.category, r.state, names.get(r.employer_id, ""),
                                sorted(r.regions), region, r.valid_from, r.valid_to, r.reason_code, due))
    return out


# --- persons merged, unmerged, forgotten --------------------------------------------------------------

def move_workers(session: Session, from_id: str, to_id: str) -> list[int]:
    ids = list(session.execute(select(PermitWorker.id).where(PermitWorker.person_id == from_id)).scalars())
    if ids:
        session.execute(update(PermitWorker).where(PermitWorker.id.in_(ids)).values(person_id=to_id))
    return ids


def restore_workers(session: Session, ids: Sequence[int], merged_id: str) -> None:
    if ids:
        session.execute(update(PermitWorker).where(PermitWorker.id.in_(list(ids))).values(person_id=merged_id))


def forget_workers(session: Session, person_ids: Sequence[str]) -> int:
    from sqlalchemy import delete

    done = session.execute(delete(PermitWorker).where(PermitWorker.person_id.in_(list(person_ids))))
    return rowcount(done)


# --- the public check of a permit's code ---------------------------------------------------------

def employer_party_tail(session: Session, ctx: Context, employer_id: int) -> str:
    """The last 4 digits of an employer's BIN/IIN (what a permit's printed code carries)."""
    row = session.get(Employer, employer_id)
    if row is None:
        raise NotFound(Msg(N_("No employer %(id)s"), id=str(employer_id)))
    return _employer_view(ctx, row).party_tail


@dataclass(frozen=True)
class PublicState:
    """What anyone holding a permit's code may learn online: whether it is valid today, and since
    when it is not (nothing personal: the code itself carries the holder)."""

    reference: str
    state: str  # a PermitState; "expired" also for a valid permit past its end the daily job has not reached
    valid: bool
    since: dt.date | None  # the day it was suspended, revoked or expired
    valid_from: dt.date | None
    valid_to: dt.date | None


def public_standing(session: Session, reference: str, today: dt.date | None = None) -> PublicState | None:
    """The online state of a permit by its reference with the day it stopped holding (the public
    check's page; `public_state` gives the bare state); None when no permit has it."""
    row = session.execute(select(WorkPermit).where(WorkPermit.reference == reference.strip().upper())
                          ).scalar_one_or_none()
    if row is None:
        return None
    state, since = row.state, None
    if state in VALID_STATES and today is not None and row.valid_to is not None and row.valid_to < today:
        state, since = PermitState.EXPIRED.value, row.valid_to + dt.timedelta(days=1)
    elif state not in VALID_STATES:
        since = session.execute(select(PermitAction.on).where(
            PermitAction.permit_id == row.id, PermitAction.to_state == row.state)
            .order_by(PermitAction.id.desc()).limit(1)).scalar_one_or_none()
    return PublicState(row.reference, str(state), state in VALID_STATES, since, row.valid_from, row.valid_to)


# --- the employer's workforce, open deadlines, the public check -----------------------------------------

@dataclass(frozen=True)
class WorkforceRow:
    """One worker on one of the employer's permits, with the permit's state and term."""

    reference: str
    channel: str
    category: str
    state: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    worker: WorkerView
    next_payment: tuple[str, int] | None  # household: the month ("YYYY-MM") and KZT due next


def workforce(session: Session, ctx: Context, principal: Principal, today: dt.date) -> list[WorkforceRow]:
    """Every worker named on the caller's (an employer's) permits, newest permit first: the
    permit's reference, state, term and region of work, and for a household permit in force the
    next month to prepay. Empty until the employer's details are registered."""
    employer = _employer_row(session, ctx, _require_employer(principal))
    if employer is None:
        return []
    permits = session.execute(select(WorkPermit).where(WorkPermit.employer_id == employer.id)
                              .order_by(WorkPermit.id.desc())).scalars().all()
    paid = household.paid_months_of(session, [p.id for p in permits if p.channel == "household_worker"])
    workers = _workers_of(session, ctx, [p.id for p in permits])
    out: list[WorkforceRow] = []
    for p in permits:
        due = household.next_payment(session, ctx, p, today, paid.get(p.id, set())) \
            if p.channel == "household_worker" else None
        out += [WorkforceRow(p.reference, p.channel, p.category, p.state, p.valid_from, p.valid_to, w, due)
                for w in workers.get(p.id, [])]
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", "workforce", {"permits": len(permits), "workers": [r.worker.person_id for r in out]})])
    return out


_REMINDED = (PermitState.SUBMITTED, PermitState.CHECKED, PermitState.APPROVED, *VALID_STATES, PermitState.SUSPENDED)


def open_reminders(session: Session, ctx: Context, principal: Principal, today: dt.date) -> list[Any]:
    """The open deadlines (kosh.permits.reminders.Reminder, soonest first) of the permits the
    caller may read: an employer its own, an akimat those with a worker in its regions."""
    from kosh.permits import reminders

    mine = select(WorkPermit.id).where(_readable(session, ctx, principal), WorkPermit.state.in_(list(_REMINDED)))
    rows = session.execute(select(WorkPermit).where(WorkPermit.id.in_(mine)).order_by(WorkPermit.id)).scalars().all()
    paid = household.paid_months_of(session, [r.id for r in rows if r.channel == "household_worker"])
    payments = {r.reference: due for r in rows if r.channel == "household_worker"
                and (due := household.next_payment(session, ctx, r, today, paid.get(r.id, set()))) is not None}
    last = select(func.max(PermitAction.id)).where(PermitAction.permit_id.in_(mine)).group_by(PermitAction.permit_id)
    asked = set(session.execute(select(WorkPermit.reference).join(PermitAction, PermitAction.permit_id == WorkPermit.id)
                                .where(PermitAction.id.in_(last), PermitAction.step == "request_extension")).scalars())
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "work_permit", "reminders", {"permits": len(rows), "on": today.isoformat()})])
    return list(reminders.reminders([_view(r, "") for r in rows], ctx.pack.permits, today, next_payments=payments,
                                    extension_requested=asked))


def public_state(session: Session, reference: str) -> str | None:
    """A permit's state by its reference, for the public check of its signed code (the code's
    signature proves who and what; only the state is read here, so nothing else is disclosed)."""
    found: str | None = session.execute(select(WorkPermit.state).where(
        WorkPermit.reference == reference.strip().upper())).scalar_one_or_none()
    return found


# --- permits issued by a previous system (kosh import --kind work_permits) ---------------------------

_IMPORT_TRIES = 8  # hashes tried per external reference before giving up (see imported_reference)
_IMPORTED_END = {"suspended": Step.SUSPEND, "revoked": Step.REVOKE, "expired": Step.EXPIRE}


def imported_reference(reference_external: str, attempt: int = 0) -> str:
    """The reference of a permit imported from a previous system, derived from its reference
    there: "WP-" and the first 8 characters, in Crockford's base 32 and grouped 4-4, of SHA-256
    over the external reference (and the attempt number after the first). It has the shape of
    every other reference (pages, the API, the printed code and the public check take it) and is
    the same on every import, which makes importing a permit twice add nothing. 40 bits clash
    between two external references only rarely (among a million imported permits, about once):
    the later one then takes the next attempt's hash, and the import action's note keeps each
    permit's external reference so that the two are told apart."""
    seed = reference_external if attempt == 0 else f"{reference_external}\x00{attempt}"
    bits = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:5], "big")
    code = "".join(_ALPHABET[(bits >> (35 - 5 * i)) & 31] for i in range(8))
    return f"WP-{code[:4]}-{code[4:]}"


def _imported_slot(session: Session, reference_external: str) -> tuple[str | None, str | None]:
    """(the reference of the permit already imported from this external reference or None, the
    first free derived reference or None)."""
    for attempt in range(_IMPORT_TRIES):
        reference = imported_reference(reference_external, attempt)
        permit_id = session.execute(select(WorkPermit.id).where(WorkPermit.reference == reference)).scalar_one_or_none()
        if permit_id is None:
            return None, reference
        note = session.execute(select(PermitAction.note).where(
            PermitAction.permit_id == permit_id, PermitAction.step == "import")).scalars().first()
        if note == reference_external:
            return reference, None
    return None, None


def imported_permit(session: Session, reference_external: str) -> str | None:
    """The reference of the permit imported from this reference of the previous system, if any."""
    return _imported_slot(session, reference_external)[0]


def _term_months(valid_from: dt.date, valid_to: dt.date) -> int:
    span = relativedelta(valid_to + dt.timedelta(days=1), valid_from)
    return max(1, span.years * 12 + span.months + (1 if span.days else 0))


def import_permit(session: Session, ctx: Context, principal: Principal, row: PermitImportIn, *,
                  today: dt.date | None = None) -> str:
    """Record a permit that a previous system issued, in the state it has there, with its worker
    (found or created through people) and its employer (registered by its BIN or IIN, or its
    details updated); returns its reference (`imported_reference`). Importing the same external
    reference again changes nothing and returns the same reference.

    The administrator only: the permit is recorded as issued without an akimat's decision. Its
    trail holds a step "import" (role system job, on the day it was issued, the external reference
    as its note) and, for a permit no longer in force, the step that ended it (suspend, revoke or
    expire) on `state_since` (default: the day after its end for an expired one, else the day of
    the import), which the lawful basis of stay is computed from. A permit still shown as issued
    past its end is expired by the next daily job. The quota ledger is not touched: the permit was
    issued under the previous system's quota, and the places it took are the ministry's to allow
    for when it sets this system's cells; it holds no places here, so its expiry or revocation
    later gives nothing back either (ledger.release finds none under its reference)."""
    if principal.role != Role.ADMIN:
        raise Forbidden()
    existing, reference = _imported_slot(session, row.reference_external)
    if existing is not None:
        return existing
    if reference is None:
        raise Conflict(Msg(N_("No free reference for the permit %(reference)s of the previous system"),
                           reference=row.reference_external))
    today = today or clock.local_today(ctx.pack.zone)
    _check_region(ctx, row.employer_region, "employer_region")
    _check_region(ctx, row.work_region, "work_region")
    if ctx.pack.permits.channel_for(row.channel) is None:
        raise ValidationFailed([FieldError("channel", Msg(N_("must be one of: %(expected)s"), expected=", ".join(
            c.code for c in ctx.pack.permits.channel)))])
    party = row.employer_bin_or_iin
    if row.channel == "household_worker" and _party_kind(party) != "individual":
        raise ValidationFailed([FieldError("employer_bin_or_iin", Msg(N_(
            "A household worker's permit is for an individual employer (IIN), not an organisation")))])
    ended = _IMPORTED_END.get(row.state)
    if row.reason_code and ended in (Step.SUSPEND, Step.REVOKE):
        _check_reason(ctx, ended.value, row.reason_code)
    employer = _employer_row(session, ctx, party)
    sector = row.employer_sector or (employer.sector if employer else "other")
    if employer is None or (employer.name, employer.region, employer.sector) != (
            row.employer_name, row.employer_region, sector):
        save_employer(session, ctx, principal, EmployerIn.model_validate(
            {"employer_name": row.employer_name, "region": row.employer_region, "sector": sector}), party=party)
        employer = _employer_row(session, ctx, party)
    assert employer is not None
    person_ids = _resolve_workers(session, ctx, [row.worker()])
    line = quota_category(row.channel, row.category)
    in_force = PermitState.EXTENDED if row.state == "extended" else PermitState.ISSUED
    permit = WorkPermit(
        reference=reference, employer_id=employer.id, channel=row.channel, category=line or row.category,
        occupation=row.occupation, term_months=_term_months(row.valid_from, row.valid_to),
        starts_on=row.valid_from, year=row.valid_from.year, regions={row.work_region: 1}, state=in_force,
        applied_on=row.issued_on, issued_on=row.issued_on, valid_from=row.valid_from, valid_to=row.valid_to,
        extensions=1 if row.state == "extended" else 0)
    session.add(permit)
    session.flush()
    session.add(PermitWorker(permit_id=permit.id, person_id=person_ids[0], region=row.work_region,
                             citizenship=row.citizenship, details_encrypted=_worker_details(ctx, row.worker())))
    # No ledger call here: see the docstring (issued under the previous system's quota).
    _record_action(session, principal, permit, "import", PermitState.DRAFT, PermitRole.SYSTEM_JOB, row.issued_on,
                   note=row.reference_external)
    if ended is not None:
        default = min(row.valid_to + dt.timedelta(days=1), today) if ended is Step.EXPIRE else today
        permit.state = row.state
        if ended is not Step.EXPIRE:
            permit.reason_code = row.reason_code
        _record_action(session, principal, permit, ended, in_force, PermitRole.SYSTEM_JOB, row.state_since or default,
                       reason_code=row.reason_code)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "work_permit", reference, {"import": True, "state": row.state, "channel": row.channel,
                                             "regions": {row.work_region: 1}})])
    _publish_basis(session, ctx, permit, today)
    return reference


def daily_has_work(session: Session) -> bool:
    """Whether any permit is in a state the daily job acts on (the web app queues no job otherwise)."""
    watched = [*OPEN_STATES, PermitState.APPROVED, *VALID_STATES, PermitState.SUSPENDED]
    return bool(session.execute(select(WorkPermit.id).where(WorkPermit.state.in_(watched)).limit(1)).first())


__all__ = [
    "ChecksFailed", "DailyReport", "EmployerView", "PermitDetail", "PermitPage", "PermitView", "PersonPermit",
    "WorkerView", "application_checks", "employer_of", "get_permit", "list_permits", "permits_of_persons",
    "EXTENSION", "QUEUE_STATES", "application_of", "change_household_employer", "queue", "end_eaeu_contract",
    "quota_category", "resubmit", "run_daily",
    "save_employer", "steps_for", "submit", "submit_for", "take_step",
    "import_permit", "imported_permit", "imported_reference",
    "WorkforceRow", "open_reminders", "public_state", "workforce",
]

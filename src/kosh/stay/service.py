"""Use cases of the stay registry: record crossings, notifications and permits; keep each
person's stay status current; answer status, lists and the calculator."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kosh.people import service as people
from kosh.people.countries import normalize_country
from kosh.people.dates import parse as parse_partial_date
from kosh.platform import audit, clock, events, scope
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, Forbidden, KoshError, NotFound, ValidationFailed
from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.sql import bulk_insert, reassign
from kosh.platform.words import N_, Msg, field_labels
from kosh.stay import repository, rules
from kosh.stay.models import (
    BorderEvent,
    DataQualityFinding,
    HostNotification,
    ResidencePermit,
    StayRefreshQueue,
    StayStatus,
    StayViolation,
)
from kosh.stay.schemas import BorderEventIn, NotificationIn, ResidencePermitIn

if TYPE_CHECKING:
    from kosh.stay.retention_rules import CrossingRec, NotificationRec, PermitRec

HOST_ID_CONTEXT = "host_id"
In = TypeVar("In", BorderEventIn, NotificationIn, ResidencePermitIn)


def zone(ctx: Context) -> ZoneInfo:
    return ctx.pack.zone


def local_today(ctx: Context) -> dt.date:
    return clock.local_today(zone(ctx))


def validation_context(ctx: Context, principal: Principal | None = None) -> dict:
    """What validating many rows needs once; with an officer as `principal`, rows outside the
    officer's regions are refused (imports put them in the rejects file)."""
    now = utcnow()
    out = {"pack": ctx.pack, "now": now, "today": now.astimezone(zone(ctx)).date(), "zone": zone(ctx)}
    if principal is not None and not principal.writes_anywhere and principal.role == Role.OFFICER:
        out["write_regions"] = tuple(principal.regions)
    return out


@dataclass
class RecordResult:
    accepted: int
    duplicates: int
    person_ids: list[str]


@lru_cache(maxsize=65536)  # each traveller's birth date recurs at every crossing
def _earliest(iso: str) -> dt.date | None:
    try:
        return parse_partial_date(iso).earliest() if iso else None
    except ValueError:
        return None


def _dedupe(rows: Sequence[In], table: repository.RecordModel, session: Session) -> tuple[list[In], int]:
    seen: set[str | None] = set()
    fresh: list[In] = []
    # (notifications get their id before this; a missing one would match no stored row anyway)
    existing = repository.existing_source_ids(session, table,
                                              [r.source_event_id for r in rows if r.source_event_id is not None])
    for r in rows:
        if r.source_event_id in existing or r.source_event_id in seen:
            continue
        seen.add(r.source_event_id)
        fresh.append(r)
    return fresh, len(rows) - len(fresh)


def _link_new_persons(session: Session, ctx: Context, resolved: Sequence[people.Resolution],
                      defer_refresh: bool) -> list[str]:
    """Announce the persons these records created (after the records are stored, so that a merge
    the identity capability makes of them moves the records too); returns the persons the records
    belong to now."""
    created = tuple(sorted({r.person_id for r in resolved if r.created}))
    ids = sorted({r.person_id for r in resolved})
    if not created:
        return ids
    event = events.publish(session, ctx, events.PersonsCreated(created, defer_refresh))
    if sum(event.merges):
        ids = sorted(set(people.current_ids(session, ids).values()))
    return ids


def _reply_ids(principal: Principal, resolved: Sequence[people.Resolution], seen_before: set[str]) -> list[str]:
    """The person ids a write may name in its reply: those the writer could read before it and
    those it created (a created person later linked to an older one keeps its own id, an alias:
    the link opens nothing). Roles that read no person (hosts, the border feed) get none."""
    if not principal.can(Permission.PERSON_READ):
        return []
    return sorted({r.person_id for r in resolved
                   if principal.all_regions or r.created or r.person_id in seen_before})


def _holders_seen(session: Session, ctx: Context, principal: Principal,
                  refs: Sequence[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """For an officer's write: of the persons already holding these documents, those the officer
    sees and those registered in the officer's regions. Nobody else's write needs them (admins
    see everyone, hosts and the feed no one, and their notifications register), so imports by
    the national feed look nothing up twice."""
    if principal.role != Role.OFFICER:
        return set(), set()
    holders = sorted({h[0] for h in people.find_documents(session, ctx, refs) if h})
    if not holders:
        return set(), set()
    profile = people.profile_of(session, holders)
    registered = {pid for pid in holders if scope.sees_region(principal, profile[pid][1])}
    return people.visible_among(session, principal, holders), registered


def _require_own_region(principal: Principal, kato: str, what: str) -> None:
    if principal.writes_anywhere:
        return
    if not kato or not scope.sees_region(principal, kato):
        raise Forbidden(scope.outside_regions(principal, kato) if kato else Msg(N_("Give the settlement.")))


def _checkpoint_kato(ctx: Context, code: str) -> str:
    checkpoint = ctx.pack.checkpoint(code)
    assert checkpoint is not None, "BorderEventIn admits only the pack's checkpoints"
    return checkpoint.kato


def record_border_events(session: Session, ctx: Context, principal: Principal, events: Sequence[BorderEventIn],
                         batch_id: int | None = None, defer_refresh: bool = False) -> RecordResult:
    principal.require(Permission.BORDER_EVENT_WRITE)
    fresh, dupes = _dedupe(events, BorderEvent, session)
    if not fresh:
        return RecordResult(0, dupes, [])
    tz = zone(ctx)
    kato = {e.checkpoint: _checkpoint_kato(ctx, e.checkpoint) for e in fresh}
    # A feed repeats a traveller's identity at every crossing: resolve each distinct one once.
    slots: dict[tuple, int] = {}
    identities: list[people.IdentityRecord] = []
    slot_of = []
    for e in fresh:
        key = (e.issuing_state, e.document_number, e.document_type, e.document_expiry, e.surname, e.given_names,
               e.nationality, e.sex, e.birth_date)
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = len(identities)
            identities.append(people.IdentityRecord(
                source="border", surname=e.surname, given_names=e.given_names, surname_latin=e.surname,
                given_names_latin=e.given_names, citizenship=e.nationality, document_number=e.document_number,
                issuing_state=e.issuing_state, sex=e.sex, birth_date=e.birth_date,
                birth_date_earliest=_earliest(e.birth_date), document_type=e.document_type,
                document_expiry=e.document_expiry, region_kato=kato[e.checkpoint]))
        slot_of.append(slot)
    distinct = people.resolve_identities(session, ctx, identities)
    resolved = [distinct[i] for i in slot_of]
    rows = [{"source_event_id": e.source_event_id, "person_id": r.person_id, "document_id": r.document_id,
             "direction": e.direction, "occurred_at": e.occurred_at, "occurred_on": e.occurred_at.astimezone(tz).date(),
             "checkpoint": e.checkpoint, "kato": kato[e.checkpoint], "batch_id": batch_id}
            for e, r in zip(fresh, resolved, strict=True)]
    bulk_insert(session, BorderEvent.__table__, rows, conflict=["source_event_id"])
    person_ids = _link_new_persons(session, ctx, distinct, defer_refresh)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "border_event", *_recorded(batch_id, [e.source_event_id for e in fresh],
                                             {"count": len(fresh), "persons": len(person_ids)}))])
    refresh_status(session, ctx, person_ids, defer=defer_refresh)
    # Only admins also read persons; the border feed reads nothing back.
    return RecordResult(len(fresh), dupes, person_ids if principal.all_regions else [])


def record_notifications(session: Session, ctx: Context, principal: Principal, notes: Sequence[NotificationIn],
                         batch_id: int | None = None, defer_refresh: bool = False) -> RecordResult:
    principal.require(Permission.NOTIFICATION_WRITE)
    if principal.role == Role.HOST:
        for n in notes:
            if n.host_id != principal.host_party:
                raise Forbidden(Msg(N_("You may submit notifications only as the host of your account.")))
    elif principal.role == Role.OFFICER:
        for n in notes:
            _require_own_region(principal, n.kato, "notifications")
    now = utcnow()
    notes = [n if n.source_event_id else n.model_copy(update={"source_event_id": f"kosh-{uuid.uuid4()}"})
             for n in notes]
    fresh, dupes = _dedupe(notes, HostNotification, session)
    if not fresh:
        return RecordResult(0, dupes, [])
    seen_before, registered_here = _holders_seen(session, ctx, principal,
                                                 [(n.issuing_state, n.document_number) for n in fresh])
    identities = [people.IdentityRecord(
        source="notification", surname=n.surname, given_names=n.given_names, patronymic=n.patronymic,
        surname_latin=n.surname_latin, given_names_latin=n.given_names_latin, citizenship=n.citizenship,
        document_number=n.document_number, issuing_state=n.issuing_state, sex=n.sex, birth_date=n.birth_date,
        birth_date_earliest=_earliest(n.birth_date), region_kato=n.kato) for n in fresh]
    resolved = people.resolve_identities(session, ctx, identities)
    # The legal event that registers a person in a region is the host's own notification (or the
    # national feed's); one an officer enters registers only a person already registered in the
    # officer's regions. Otherwise it is a record of the officer's region, and moves no one.
    officer = principal.role == Role.OFFICER
    rows = [{"source_event_id": n.source_event_id, "person_id": r.person_id, "document_id": r.document_id,
             "registers": not officer or (not r.created and r.person_id in registered_here),
             "host_kind": n.host_kind, "host_id_encrypted": ctx.keyring.encrypt(n.host_id, HOST_ID_CONTEXT),
             "host_id_index": ctx.keyring.blind_index(n.host_id, HOST_ID_CONTEXT), "host_name": n.host_name,
             "kato": n.kato, "address": n.address, "arrival_date": n.arrival_date,
             "expected_departure": n.expected_departure, "submitted_at": n.submitted_at or now,
             "submitted_by": principal.user_id, "batch_id": batch_id, **_host_copy(ctx, principal, n)}
            for n, r in zip(fresh, resolved, strict=True)]
    bulk_insert(session, HostNotification.__table__, rows, conflict=["source_event_id"])
    person_ids = _link_new_persons(session, ctx, resolved, defer_refresh)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "host_notification", *_recorded(batch_id, [str(n.source_event_id) for n in fresh],
                                                  {"count": len(fresh), "persons": len(person_ids)}))])
    refresh_status(session, ctx, person_ids, defer=defer_refresh)
    return RecordResult(len(fresh), dupes, _reply_ids(principal, resolved, seen_before))


GUEST_CONTEXT = "host_guest"
GUEST_FIELDS = ("surname", "given_names", "patronymic", "surname_latin", "given_names_latin", "sex", "birth_date",
                "citizenship", "document_number", "issuing_state")
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread


def new_reference(ctx: Context) -> str:
    """A notification's reference as a host reads it out on the phone, e.g. KZ-7K3M-9QXD."""
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{ctx.pack.code.upper()}-{body[:4]}-{body[4:]}"


def _host_copy(ctx: Context, principal: Principal, n: NotificationIn) -> dict[str, Any]:
    """Every notification keeps the guest as its host wrote them (encrypted), whichever channel
    brought it (this workspace, the API, the national feed): the host's workspace shows these,
    never the registry's person. A host's own submission here also gets a reference."""
    guest = json.dumps({f: getattr(n, f) for f in GUEST_FIELDS}, ensure_ascii=False, default=str)
    copy: dict[str, Any] = {"guest_encrypted": ctx.keyring.encrypt(guest, GUEST_CONTEXT)}
    if principal.role == Role.HOST:
        copy["reference"] = new_reference(ctx)
    return copy


def record_residence_permits(session: Session, ctx: Context, principal: Principal,
                             permits: Sequence[ResidencePermitIn], batch_id: int | None = None,
                             defer_refresh: bool = False) -> RecordResult:
    principal.require(Permission.PERMIT_WRITE)
    # A permit comes from the officers of the region that issues it, for a person they see.
    for p in permits:
        _require_own_region(principal, p.kato, "residence permits")
    fresh, dupes = _dedupe(permits, ResidencePermit, session)
    if not fresh:
        return RecordResult(0, dupes, [])
    docs = people.find_documents(session, ctx, [(p.issuing_state, p.document_number) for p in fresh])
    seen = people.visible_among(session, principal, sorted({d[0] for d in docs if d}))
    missing = [p for p, d in zip(fresh, docs, strict=True) if d is None or d[0] not in seen]
    if missing:
        # A holder in other regions only looks like no holder: the reply reveals no one.
        raise NotFound(Msg(N_("No person in your regions holds the document %(state)s %(number)s: record the "
                              "person first."), state=missing[0].issuing_state, number=missing[0].document_number))
    held = [d for d in docs if d is not None]  # every one: a permit with no holder was refused above
    rows = [{"source_event_id": p.source_event_id, "person_id": d[0], "kind": p.kind, "purpose": p.purpose,
             "valid_from": p.valid_from, "valid_to": p.valid_to, "kato": p.kato, }
            for p, d in zip(fresh, held, strict=True)]
    bulk_insert(session, ResidencePermit.__table__, rows, conflict=["source_event_id"])
    people.note_document_regions(session, [(d[1], p.kato) for p, d in zip(fresh, held, strict=True)])
    person_ids = sorted({d[0] for d in docs if d})
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "residence_permit", *_recorded(batch_id, [p.source_event_id for p in fresh], {"count": len(fresh)}))])
    refresh_status(session, ctx, person_ids, defer=defer_refresh)
    return RecordResult(len(fresh), dupes, person_ids)


# -- the engine over stored records ----------------------------------------------------------

class StoredCrossing(Protocol):
    """What the engine reads of a crossing: a BorderEvent, or a row of its columns."""

    @property
    def direction(self) -> rules.Direction: ...
    @property
    def occurred_on(self) -> dt.date: ...
    @property
    def source_event_id(self) -> str: ...


class StoredNotification(Protocol):
    @property
    def arrival_date(self) -> dt.date: ...
    @property
    def submitted_at(self) -> dt.datetime: ...


class StoredPermit(Protocol):
    @property
    def kind(self) -> rules.PermitKind: ...
    @property
    def valid_from(self) -> dt.date: ...
    @property
    def valid_to(self) -> dt.date: ...


class LocatedCrossing(StoredCrossing, Protocol):
    """A crossing with where and when exactly it happened (where a person is registered)."""

    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def kato(self) -> str: ...


class LocatedNotification(StoredNotification, Protocol):
    @property
    def registers(self) -> bool: ...
    @property
    def kato(self) -> str: ...


def _engine_inputs(
    crossings: Iterable[StoredCrossing], notifications: Iterable[StoredNotification], permits: Iterable[StoredPermit],
) -> tuple[list[rules.Crossing], list[rules.PermitPeriod], list[rules.NotificationRecord]]:
    return (
        [rules.Crossing(direction=c.direction, on=c.occurred_on, ref=c.source_event_id) for c in crossings],
        [rules.PermitPeriod(kind=p.kind, start=p.valid_from, end=p.valid_to) for p in permits],
        [rules.NotificationRecord(arrival=n.arrival_date, submitted=_as_date(n.submitted_at)) for n in notifications],
    )


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def assess_person(ctx: Context, citizenship: str, crossings: Iterable[StoredCrossing],
                  notifications: Iterable[StoredNotification], permits: Iterable[StoredPermit], on: dt.date,
                  *, explain: bool = True, whole_history: bool = False) -> rules.StayAssessment:
    c, p, n = _engine_inputs(crossings, notifications, permits)
    return rules.assess(citizenship, c, p, n, on, ctx.pack.stay_rules, explain=explain, whole_history=whole_history)


WORK_BASIS_PREFIX = "work:"  # source_event_id of the permit periods a work authorisation gives


def replace_work_basis(session: Session, ctx: Context, reference: str, kind: str, region: str,
                       person_ids: Sequence[str], periods: Sequence[tuple[str, dt.date, dt.date]]) -> None:
    """Keep a work authorisation's spans as TRP periods of its workers (in Kazakhstan a work
    permit is the ground of the worker's temporary residence for its term), replacing what it
    gave before; the status of every worker named is computed anew."""
    prefix = f"{WORK_BASIS_PREFIX}{reference}:"
    session.execute(delete(ResidencePermit).where(ResidencePermit.source_event_id.startswith(prefix, autoescape=True)))
    rows = [{"source_event_id": f"{prefix}{person}:{start.isoformat()}", "person_id": person, "kind": "trp",
             "purpose": kind, "valid_from": start, "valid_to": end, "kato": region}
            for person, start, end in periods]
    if rows:
        session.execute(insert(ResidencePermit), rows)
    refresh_status(session, ctx, sorted({*person_ids, *(p for p, _, _ in periods)}))


def refresh_status(session: Session, ctx: Context, person_ids: Sequence[str], *, defer: bool = False) -> None:
    """Recompute the stored status of these persons from all their records (called at every write).

    `defer=True` (bulk imports) only queues them, in the caller's transaction; `drain_refresh_queue`
    recomputes each queued person once.
    """
    if not person_ids:
        return
    if defer:
        bulk_insert(session, StayRefreshQueue.__table__, [{"person_id": p} for p in person_ids],
                    conflict=["person_id"])
        return
    profile = people.profile_of(session, person_ids)
    citizenship = {pid: c for pid, (c, _) in profile.items()}
    crossings, notifications, permits = repository.records_for(session, person_ids)
    today = local_today(ctx)
    statuses: list[dict[str, Any]] = []
    regions: dict[str, str] = {}
    findings: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    for pid in person_ids:
        cs, ns, ps = crossings.get(pid, []), notifications.get(pid, []), permits.get(pid, [])
        last_record = max([c.occurred_on for c in cs] + [n.arrival_date for n in ns] + [today])
        result = assess_person(ctx, citizenship[pid], cs, ns, ps, last_record, explain=False, whole_history=True)
        violations.extend(violation_rows(pid, result))
        notified = result.current_entry is not None and any(n.arrival_date >= result.current_entry for n in ns)
        due = None
        if result.in_country and not notified:
            # Only the current stay's deadline: earlier stays' missed deadlines are history.
            due = next((d.due for d in result.deadlines
                        if d.kind == "host_notification" and d.entry == result.current_entry), None)
        region = registered_region(cs, ns)
        if region != profile[pid][1]:
            regions[pid] = region
        statuses.append({"person_id": pid, "citizenship": citizenship[pid], "region_kato": region,
                         "in_country": result.in_country, "current_entry": result.current_entry,
                         "last_lawful_day": result.last_lawful_day if result.in_country else None,
                         "notification_due": due, "rule": rules.rule_code(result.rule), "updated_at": utcnow()})
        findings.extend({"person_id": pid, "code": f.code, "on": f.on, "message": f.message} for f in result.findings)
    bulk_insert(session, StayStatus.__table__, statuses, conflict=["person_id"],
                update=["citizenship", "region_kato", "in_country", "current_entry", "last_lawful_day",
                        "notification_due", "rule", "updated_at"])
    if findings:
        bulk_insert(session, DataQualityFinding.__table__, findings, conflict=["person_id", "code", "on"])
    repository.replace_violations(session, person_ids, violations)
    people.set_regions(session, regions)


def _recorded(batch_id: int | None, source_ids: Sequence[str], detail: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The audit subject of records written together: their import batch, else the first record's
    source id (the subject column holds 80 characters) with the ids, up to 100, in the detail."""
    if batch_id:
        return f"batch:{batch_id}", detail
    return source_ids[0][:80], {**detail, "source_event_ids": list(source_ids[:100])}


def registered_region(crossings: Sequence[LocatedCrossing], notifications: Sequence[LocatedNotification]) -> str:
    """Where a person is registered (the officers answerable for them): the newest notification
    that registers (the host's own, the national feed's), else the newest crossing (the border
    service's feed), else the newest notification an officer entered, else nowhere. A link made
    by the machine therefore moves no one unless it brings a host's newer notification."""
    def key(n: LocatedNotification) -> tuple[dt.datetime, dt.date]:
        return n.submitted_at, n.arrival_date

    registering = max((n for n in notifications if n.registers), key=key, default=None)
    if registering is not None:
        return registering.kato
    latest_cross = max(crossings, key=lambda c: c.occurred_at, default=None)
    if latest_cross is not None:
        return latest_cross.kato
    latest_note = max(notifications, key=key, default=None)
    return latest_note.kato if latest_note is not None else ""


def drain_refresh_queue(ctx: Context, *, batch: int = 5000,
                        progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute the status of every queued person, `batch` persons per transaction.

    Each transaction takes its persons off the queue as it starts (locking them on PostgreSQL,
    skipping those another drain holds), so a write that queues a person again while the status
    is computed waits for the commit and queues the person anew: no update is lost.
    """
    q = StayRefreshQueue.__table__
    with ctx.transaction() as s:
        total = s.execute(select(func.count()).select_from(q)).scalar_one()
    done = 0
    while True:
        with ctx.transaction() as s:
            pick = select(q.c.person_id).order_by(q.c.person_id).limit(batch).with_for_update(skip_locked=True)
            ids = list(s.execute(delete(q).where(q.c.person_id.in_(pick.scalar_subquery()))
                                 .returning(q.c.person_id)).scalars())
            if not ids:
                return done
            refresh_status(s, ctx, sorted(ids))
        done += len(ids)
        if progress:
            progress(done, max(total, done))


# -- merging (the identity capability decides; these move what the stay registry owns) -------

_PERSON_RECORDS = (BorderEvent.__table__, HostNotification.__table__, ResidencePermit.__table__)


def move_records(session: Session, from_id: str, to_id: str) -> dict[str, list[int]]:
    """Give `to_id` the crossings, notifications and permits of `from_id`; returns the ids moved."""
    return {t.name: reassign(session, t, from_id, to_id) for t in _PERSON_RECORDS}


def restore_records(session: Session, moved: dict[str, list[int]], kept_id: str, merged_id: str,
                    document_ids: Sequence[int]) -> None:
    """Undo `move_records`; crossings and notifications recorded since the merge under one of the
    merged person's documents go back with that document."""
    for t in _PERSON_RECORDS:
        reassign(session, t, kept_id, merged_id, ids=moved.get(t.name, []))
    if document_ids:
        for t in (BorderEvent.__table__, HostNotification.__table__):
            reassign(session, t, kept_id, merged_id, where=t.c.document_id.in_(list(document_ids)))


def recompute_after_identity_change(session: Session, ctx: Context, active: Sequence[str],
                                    gone: Sequence[str] = (), *, defer: bool = False) -> None:
    """Findings and stored status anew for persons whose records changed hands; persons merged
    away (`gone`) have neither."""
    everyone = [*active, *gone]
    session.execute(delete(DataQualityFinding).where(DataQualityFinding.person_id.in_(everyone)))
    session.execute(delete(StayStatus).where(StayStatus.person_id.in_(everyone)))
    session.execute(delete(StayViolation).where(StayViolation.person_id.in_(everyone)))
    session.execute(delete(StayRefreshQueue).where(StayRefreshQueue.person_id.in_(everyone)))
    refresh_status(session, ctx, list(active), defer=defer)


# -- reads ------------------------------------------------------------------------------------

@dataclass
class PersonStay:
    """A person's stay as the caller may read it: the assessment (computed from every record,
    wherever made: it is what the officers who see the person must act on) and the records made
    in the caller's regions; the others are only counted."""

    person: people.PersonView
    assessment: rules.StayAssessment
    events: list[BorderEvent]
    notifications: list[HostNotification]
    permits: list[ResidencePermit]
    findings: list[DataQualityFinding]
    on: dt.date
    hidden_records: int = 0

    @property
    def bases(self) -> list[StayBasis]:
        """The lawful bases of stay on `on` among the permits shown (a work permit in its words)."""
        return [basis_of(p) for p in self.permits if p.valid_from <= self.on <= p.valid_to]


WORK_BASIS_KINDS = ("work_permit", "eaeu_contract")


@dataclass(frozen=True)
class StayBasis:
    """A permit period as the person's page names it: a TRP or a visa, or the work permit or EAEU
    employment contract it was kept for (`reference` then names it)."""

    kind: str  # trp | visa | work_permit | eaeu_contract
    reference: str
    valid_from: dt.date
    valid_to: dt.date


def basis_of(permit: ResidencePermit) -> StayBasis:
    """What a permit period is: a work authorisation's period carries its reference in its
    source_event_id ("work:<reference>:<person>:<start>", see replace_work_basis)."""
    if permit.purpose in WORK_BASIS_KINDS and permit.source_event_id.startswith(WORK_BASIS_PREFIX):
        reference = permit.source_event_id[len(WORK_BASIS_PREFIX):].split(":", 1)[0]
        return StayBasis(permit.purpose, reference, permit.valid_from, permit.valid_to)
    return StayBasis(permit.kind, "", permit.valid_from, permit.valid_to)


def person_stay(session: Session, ctx: Context, principal: Principal, person_id: str,
                on: dt.date | None = None) -> PersonStay:
    principal.require(Permission.STAY_READ)
    view = people.get_person(session, ctx, principal, person_id, audited=False)
    person_id = view.person.id  # a merged person's id leads to the person it went into
    on = asked_day(on or local_today(ctx))
    tl = repository.timeline(session, principal, person_id, granted=view.complete)
    counted = [n for n in tl.notifications if n.in_force]  # corrected and cancelled ones stay as history
    result = rules.assess(view.person.citizenship, *_engine_inputs(tl.events, counted, tl.permits), on,
                          ctx.pack.stay_rules)
    findings = repository.findings_of(session, person_id) if view.complete or view.person.region_kato else []
    shown_events = [r for r in tl.events if ("border_events", r.id) in tl.readable]
    shown_notes = [r for r in tl.notifications if ("host_notifications", r.id) in tl.readable]
    shown_permits = [r for r in tl.permits if ("residence_permits", r.id) in tl.readable]
    hidden = (len(tl.events) + len(tl.notifications) + len(tl.permits)
              - len(shown_events) - len(shown_notes) - len(shown_permits))
    # Last: the audit head's row lock is then held only until the commit that follows.
    detail = {"view": "stay", "on": on} | ({"break_glass": True} if view.complete and not principal.all_regions else {})
    audit.append(session, ctx.keyring, principal, [audit.Access("read", "person", person_id, detail)])
    return PersonStay(view, result, shown_events, shown_notes, shown_permits, findings, on, hidden)


def stay_status(session: Session, ctx: Context, principal: Principal, person_id: str,
                on: dt.date | None = None) -> tuple[str, rules.StayAssessment, dt.date]:
    """The status alone (API): no identity data is loaded, and the scope check and the records
    come in one query — this answers every status call of the API."""
    principal.require(Permission.STAY_READ)
    principal.require(Permission.PERSON_READ)
    visible = people.visible_template(principal)
    found = repository.status_inputs(session, principal, visible, person_id)
    if found is not None and found.merged_into:
        # A merged person's id answers for the person it went into.
        found = repository.status_inputs(session, principal, visible, people.current_id(session, person_id))
    if found is None:
        # Out-of-scope and absent look the same, so scope does not leak existence.
        raise NotFound(Msg(N_("There is no person %(id)s in your regions."), id=person_id))
    on = asked_day(on or local_today(ctx))
    result = assess_person(ctx, found.citizenship, found.crossings, found.notifications, found.permits, on)
    audit.append(session, ctx.keyring, principal,
                 [audit.Access("read", "person", person_id, {"view": "status", "on": on})])
    return found.citizenship, result, on


# -- the officers' lists: overstays and overdue notifications --------------------------------

# Sorts a list accepts: a key of repository.LIST_SORTS, "-" before it for the reverse order.
SORTS = tuple(s for key in repository.LIST_SORTS for s in (key, f"-{key}"))
EXPORT_LIMIT = 50_000  # rows in one file; a larger list is narrowed with the filters first
EXPORT_PURPOSE_MIN, EXPORT_PURPOSE_MAX = 4, 200  # the audit record keeps up to 200
_DATE_SORTS = ("due", "entry")
field_labels({"on": N_("On date"), "due_from": N_("Due from"), "due_to": N_("Due until"), "sort": N_("Sort order"),
              "cursor": N_("Page position"), "X-Purpose": N_("Purpose (X-Purpose header)")})


def encode_cursor(sort: str, value: object, person_id: str, backwards: bool = False) -> str:
    """A keyset position: the row's sort key and person id, for the sort it was given out with."""
    shown = value.isoformat() if isinstance(value, dt.date) else str(value)
    return base64.urlsafe_b64encode(json.dumps([sort, shown, person_id, int(backwards)]).encode()).decode()


def decode_cursor(cursor: str | None, sort: str) -> tuple[tuple[object, str], bool] | None:
    """((sort key, person id), backwards) of a cursor this list gave out for `sort`."""
    if not cursor:
        return None
    try:
        given, shown, pid, backwards = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if given != sort or not isinstance(pid, str) or not isinstance(shown, str):
            raise ValueError(given)
        value: object = dt.date.fromisoformat(shown) if sort.lstrip("-") in _DATE_SORTS else shown
        return (value, pid), bool(backwards)
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        stale = Msg(N_("This page link is out of date or damaged: open the list again from its start."))
        raise KoshError(stale, status=400, title="Bad request", errors=[FieldError("cursor", stale)]) from None


@dataclass
class ListRow:
    status: StayStatus
    surname: str
    given_names: str
    days: int


@dataclass
class ListPage:
    """One page of a list: the rows, how many the whole list holds, and the cursors of the pages
    before and after (None at either end)."""

    rows: list[ListRow]
    total: int
    next_cursor: str | None
    prev_cursor: str | None
    sort: str
    on: dt.date


@dataclass(frozen=True)
class ListQuery:
    """A list's filters as the caller gives them (checked by `_filter`)."""

    on: dt.date
    region: str | None = None
    citizenship: str | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    sort: str = "due"


def asked_day(on: dt.date) -> dt.date:
    """The day a status is asked for, inside the dates Kosh accepts (windows and deadlines run on
    from it and must stay inside the calendar); else a 422 naming the day."""
    if (refused := rules.outside_accepted(on)) is not None:
        raise ValidationFailed([FieldError("on", refused)])
    return on


def _day_column(kind: str) -> str:
    return "last_lawful_day" if kind == "overstay" else "notification_due"


def _filter(principal: Principal, kind: str, q: ListQuery) -> repository.ListFilter:
    principal.require(Permission.STAY_READ)
    errors = []
    citizenship = q.citizenship
    if citizenship:
        try:
            citizenship = normalize_country(citizenship)
        except InvalidIdentifier as exc:
            errors.append(FieldError("citizenship", exc.message))
    if q.sort not in SORTS:
        errors.append(FieldError("sort", Msg(N_("Choose a sort order from the list."))))
    if q.due_from and q.due_to and q.due_from > q.due_to:
        errors.append(FieldError("due_to", Msg(N_("The end of the date range is before its start."))))
    if errors:
        raise ValidationFailed(errors)
    if q.region:
        scope.require_region(principal, q.region)
    return repository.ListFilter(_day_column(kind), asked_day(q.on), q.region, citizenship, q.due_from, q.due_to)


def _list_rows(session: Session, principal: Principal, kind: str, on: dt.date,
               statuses: Sequence[StayStatus]) -> list[ListRow]:
    names = people.display_names(session, principal, [r.person_id for r in statuses])
    column = _day_column(kind)
    out = []
    for r in statuses:
        surname, given = names.get(r.person_id, ("", ""))
        day = getattr(r, column)
        assert day is not None  # the list's query keeps only statuses that have one
        out.append(ListRow(r, surname, given, (on - day).days))
    return out


def _position(f: repository.ListFilter, key: str, r: StayStatus) -> object:
    """A row's value of the sort key (as repository.list_sort_column computes it in SQL)."""
    if key == "entry":
        return r.current_entry or repository.NO_DAY
    if key == "due":
        return getattr(r, f.day)
    return r.citizenship if key == "citizenship" else r.region_kato


def _filters_said(f: repository.ListFilter, sort: str) -> dict[str, object]:
    return {"on": f.on, "region": f.region, "citizenship": f.citizenship, "due_from": f.day_from,
            "due_to": f.day_to, "sort": sort}


def _listing(session: Session, ctx: Context, principal: Principal, kind: str, q: ListQuery, cursor: str | None,
             limit: int) -> ListPage:
    f = _filter(principal, kind, q)
    key, descending = q.sort.lstrip("-"), q.sort.startswith("-")
    found = decode_cursor(cursor, q.sort)
    after, backwards = found if found else (None, False)
    rows = repository.list_statuses(session, principal, f, key, descending != backwards, after, limit + 1)
    more = len(rows) > limit  # more rows on in the direction read
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    nxt = prev = None
    if rows:
        # Read forwards: a next page if more rows came, a previous one unless this is the first page.
        # Read backwards (a previous page): the page it came from follows; more rows precede.
        if more or backwards:
            nxt = encode_cursor(q.sort, _position(f, key, rows[-1]), rows[-1].person_id)
        if more if backwards else after is not None:
            prev = encode_cursor(q.sort, _position(f, key, rows[0]), rows[0].person_id, backwards=True)
    total = repository.count_statuses(session, principal, f)
    out = _list_rows(session, principal, kind, f.on, rows)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "list", "person", "*", {"list": kind, **_filters_said(f, q.sort), "persons": [r.person_id for r in rows]})])
    return ListPage(out, total, nxt, prev, q.sort, f.on)


def list_overstays(session: Session, ctx: Context, principal: Principal, on: dt.date, region: str | None = None,
                   cursor: str | None = None, limit: int = 50, citizenship: str | None = None, *,
                   sort: str = "due", due_from: dt.date | None = None, due_to: dt.date | None = None) -> ListPage:
    """Persons in the country past their last lawful day on `on` (`due_from`/`due_to` bound that day)."""
    return _listing(session, ctx, principal, "overstay", ListQuery(on, region, citizenship, due_from, due_to, sort),
                    cursor, limit)


def list_overdue_notifications(session: Session, ctx: Context, principal: Principal, on: dt.date,
                               region: str | None = None, cursor: str | None = None, limit: int = 50,
                               citizenship: str | None = None, *, sort: str = "due", due_from: dt.date | None = None,
                               due_to: dt.date | None = None) -> ListPage:
    """Persons whose host notification was due before `on` and not made (`due_from`/`due_to` bound the due day)."""
    return _listing(session, ctx, principal, "notification",
                    ListQuery(on, region, citizenship, due_from, due_to, sort), cursor, limit)


def checked_export_purpose(purpose: str | None, field: str = "purpose") -> str:
    """The purpose an officer states for an export (a case number or the reason), or a 422."""
    text = " ".join((purpose or "").split())
    if len(text) < EXPORT_PURPOSE_MIN:
        raise ValidationFailed([FieldError(field, Msg(
            N_("State the purpose of the export (a case number or the reason) in at least %(n)s characters."),
            n=EXPORT_PURPOSE_MIN))])
    if len(text) > EXPORT_PURPOSE_MAX or any(not c.isprintable() for c in text):
        raise ValidationFailed([FieldError(field, Msg(
            N_("The purpose must be plain text of at most %(n)s characters."), n=EXPORT_PURPOSE_MAX))])
    return text


def export_list(session: Session, ctx: Context, principal: Principal, kind: str, q: ListQuery,
                purpose: str | None, *, purpose_field: str = "purpose") -> list[ListRow]:
    """Every row of a list (as scoped and filtered as its pages), for a file; audited with the
    stated purpose, the filters and the row count. `kind`: "overstay" or "notification"."""
    if kind not in ("overstay", "notification"):
        raise NotFound(Msg(N_("There is no such list.")))
    f = _filter(principal, kind, q)  # the role and the region first: a refusal there says nothing more
    stated = checked_export_purpose(purpose, purpose_field)
    total = repository.count_statuses(session, principal, f)
    if total > EXPORT_LIMIT:
        raise KoshError(Msg(N_("The list has %(n)s rows, more than the %(max)s a file may hold: narrow it with "
                               "the filters."), n=total, max=EXPORT_LIMIT), status=422, title="Validation failed")
    key, descending = q.sort.lstrip("-"), q.sort.startswith("-")
    statuses: list[StayStatus] = []
    after: tuple[object, str] | None = None
    while True:  # keyset pages: each a short seek, however long the list
        chunk = repository.list_statuses(session, principal, f, key, descending, after, 5000)
        statuses += chunk
        if len(chunk) < 5000 or len(statuses) > EXPORT_LIMIT:
            break
        after = (_position(f, key, chunk[-1]), chunk[-1].person_id)
    rows = _list_rows(session, principal, kind, f.on, statuses)
    audit.append(session, ctx.keyring, principal.with_purpose(stated), [audit.Access(
        "export", "person", "*", {"list": kind, "purpose": stated, **_filters_said(f, q.sort), "rows": len(rows),
                                  "persons": [r.status.person_id for r in rows]})])
    return rows


def my_notifications(session: Session, ctx: Context, principal: Principal, limit: int = 50,
                     offset: int = 0) -> list[HostNotification]:
    """A host's notifications: those made as its IIN/BIN, from the form, the API or a batch."""
    principal.require(Permission.NOTIFICATION_READ)
    if not principal.host_party:
        return []
    index = ctx.keyring.blind_index(principal.host_party, HOST_ID_CONTEXT)
    rows = repository.notifications_of_host(session, index, limit, offset)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "list", "host_notification", "own", {"ids": [r.id for r in rows]})])
    return rows


def calculate(ctx: Context, citizenship: str, trips: Sequence[tuple[dt.date, dt.date | None]],
              on: dt.date, permits: Sequence[rules.PermitPeriod] = ()) -> rules.StayAssessment:
    """The public short-stay calculator: pure, no personal data stored or audited. `permits`: the
    visas and TRPs (a work permit as a TRP) whose days are lawful whatever the visa-free limits."""
    return rules.calculate_trips(citizenship, list(trips), on, ctx.pack.stay_rules, permits)


def figures(session: Session, ctx: Context, principal: Principal, on: dt.date) -> dict[str, int]:
    """Counts for the start page; no personal data. Officers count their regions; roles that
    read aggregates only (analysts, auditors) count the whole country."""
    principal.require(Permission.AGGREGATES_READ)
    return repository.figures(session, scope.for_aggregates(principal), on)


def calculator_countries(ctx: Context, lang: str = "en") -> list[tuple[str, str]]:
    """(alpha-3, name in the interface language) of every country the calculator answers for."""
    return _calculator_countries(ctx.pack.citizenship, lang)


@lru_cache(maxsize=8)
def _calculator_countries(own: str | None, lang: str) -> list[tuple[str, str]]:
    import pycountry

    from kosh.people.countries import country_name

    return sorted(((c.alpha_3, country_name(c.alpha_3, lang)) for c in pycountry.countries if c.alpha_3 != own),
                  key=lambda c: c[1])


# -- retention (kosh retention run: kosh.flows.retention decides, these remove) -------------------

def persons_with_records_before(session: Session, day: dt.date, after: str = "", limit: int = 500) -> list[str]:
    """A page of persons holding a record dated before `day` (the only ones retention may touch)."""
    return repository.persons_with_records_before(session, day, after, limit)


RetentionRecords = tuple["list[CrossingRec]", "list[NotificationRec]", "list[PermitRec]", dt.date | None]


def retention_records(session: Session, person_ids: Sequence[str]) -> dict[str, RetentionRecords]:
    """Per person: crossings (time order), notifications, permits (retention_rules records) and
    the last lawful day of the current stay when in the country."""
    from kosh.stay.retention_rules import CrossingRec, NotificationRec, PermitRec

    crossings, notes, permits, lawful = repository.retention_rows(session, person_ids)
    out: dict[str, RetentionRecords] = {pid: ([], [], [], lawful.get(pid)) for pid in person_ids}
    for pid, rid, direction, on in crossings:
        out[pid][0].append(CrossingRec(rid, direction, on))
    for pid, rid, arrival, departure in notes:
        out[pid][1].append(NotificationRec(rid, arrival, departure))
    for pid, rid, start, end in permits:
        out[pid][2].append(PermitRec(rid, start, end))
    return out


def delete_records(session: Session, crossing_ids: Sequence[int], notification_ids: Sequence[int],
                   permit_ids: Sequence[int]) -> tuple[int, int, int]:
    """Remove these crossings, notifications and permits; the caller refreshes the statuses."""
    return (repository.delete_rows(session, BorderEvent, crossing_ids),
            repository.delete_rows(session, HostNotification, notification_ids),
            repository.delete_rows(session, ResidencePermit, permit_ids))


def persons_with_records(session: Session, person_ids: Sequence[str]) -> set[str]:
    """Those of these persons who still hold a crossing, notification or permit."""
    return repository.persons_having_records(session, person_ids)


def delete_findings_before(session: Session, day: dt.date, limit: int = 5000) -> int:
    return repository.delete_findings_before(session, day, limit)


def delete_request_keys_before(session: Session, moment: dt.datetime, limit: int = 5000) -> int:
    """Up to `limit` one-time submission keys (form tokens, Idempotency-Keys) made before `moment`."""
    return repository.delete_request_keys_before(session, moment, limit)


def forget_persons(session: Session, person_ids: Sequence[str]) -> None:
    """Status, findings and queued refreshes of persons about to be removed."""
    repository.forget_persons(session, person_ids)


# -- violations recorded (stored by refresh_status, listed for officers) ------------------------

VIOLATION_KINDS = rules.VIOLATION_KINDS
field_labels({"from": N_("From"), "to": N_("To")})  # "kind": stay.schemas labels it


def violation_rows(person_id: str, result: rules.StayAssessment) -> list[dict[str, Any]]:
    """The rows `stay_violations` holds for one assessment: every violation found, those still
    going on marked so, and — in the country and lawful — the violations continuous presence
    will begin (the overstay after the last lawful day, the host notification past its due day),
    since nothing is recomputed when those days come without a new record."""
    on = result.on
    out = []
    for v in result.violations:
        ongoing = (v.kind != "notification_late" and result.in_country and v.end == on
                   and v.stay_entry == result.current_entry)
        out.append(_violation_row(person_id, v, ongoing, on))
    if result.next_violation is not None:
        out.append(_violation_row(person_id, result.next_violation, True, on))
    if result.in_country:
        for d in result.deadlines:
            if d.entry == result.current_entry and d.submitted is None and d.due >= on:
                start = d.due + dt.timedelta(days=1)
                out.append(_violation_row(person_id, rules.Violation("notification_missed", start, start, d.entry,
                                                                     d.due), True, on))
    return out


def _violation_row(person_id: str, v: rules.Violation, ongoing: bool, on: dt.date) -> dict[str, Any]:
    return {"person_id": person_id, "kind": v.kind, "first_day": v.start, "last_day": v.end, "ongoing": ongoing,
            "stay_entry": v.stay_entry, "due": v.due, "filed": v.filed, "assessed_on": on}


@dataclass
class ViolationRow:
    violation: StayViolation
    status: StayStatus
    surname: str
    given_names: str
    days: int  # first day to last day, both counted; to `today` for one still going on
    last_day: dt.date | None  # None while it goes on


def _day_field(field: str, day: dt.date) -> dt.date:
    if (refused := rules.outside_accepted(day)) is not None:
        raise ValidationFailed([FieldError(field, refused)])
    return day


def list_violations(session: Session, ctx: Context, principal: Principal, first: dt.date, last: dt.date,
                    kinds: Sequence[str] = (), region: str | None = None, citizenship: str | None = None,
                    cursor: str | None = None, limit: int = 50) -> tuple[list[ViolationRow], str | None]:
    """Violations recorded in a period: those overlapping [first, last] (and begun by today), of
    persons registered in the caller's regions, optionally of some kinds, a region, a citizenship."""
    principal.require(Permission.STAY_READ)
    errors = []
    _day_field("from", first)
    _day_field("to", last)
    if last < first:
        errors.append(FieldError("to", Msg(N_("must be on or after the first day (%(first)s)"), first=first)))
    unknown = [k for k in kinds if k not in VIOLATION_KINDS]
    if unknown:
        errors.append(FieldError("kind", Msg(N_("%(kind)s is not a kind of violation"), kind=unknown[0])))
    if citizenship:
        try:
            citizenship = normalize_country(citizenship)
        except InvalidIdentifier as exc:
            errors.append(FieldError("citizenship", exc.message))
    if errors:
        raise ValidationFailed(errors)
    if region:
        scope.require_region(principal, region)
    after_id = _violation_cursor(cursor)
    today = local_today(ctx)
    found = repository.violations_in_period(session, principal, first, last, today, list(kinds), region,
                                            citizenship, after_id, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    names = people.display_names(session, principal, sorted({v.person_id for v, _ in found}))
    out = []
    for v, st in found:
        surname, given = names.get(v.person_id, ("", ""))
        end = max(today, v.last_day) if v.ongoing else v.last_day
        out.append(ViolationRow(v, st, surname, given, (end - v.first_day).days + 1,
                                None if v.ongoing else v.last_day))
    nxt = None
    if more and found:
        nxt = base64.urlsafe_b64encode(f"{found[-1][0].first_day.isoformat()}|{found[-1][0].id}".encode()).decode()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "list", "person", "*", {"list": "violations", "from": first, "to": last, "kinds": list(kinds),
                                "region": region, "citizenship": citizenship,
                                "persons": sorted({v.person_id for v, _ in found})})])
    return out, nxt


def _violation_cursor(cursor: str | None) -> tuple[dt.date, int] | None:
    """(first day, id) of the last row of the page before, from the list's own cursor."""
    if not cursor:
        return None
    try:
        day, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return dt.date.fromisoformat(day), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise KoshError(Msg(N_("This page link is out of date or damaged: open the list again from its start.")),
                        status=400, title="Bad request") from None


def person_violations(session: Session, person_id: str) -> list[StayViolation]:
    """The violations stored for a person (the caller has read the person already)."""
    return repository.violations_of(session, person_id)


def recompute_every_status(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every stored status and its violations (after an upgrade that stores more, such
    as the violations of revision 0011), in batches; returns the persons recomputed."""
    with ctx.transaction() as s:
        repository.queue_every_status(s)
    return drain_refresh_queue(ctx, progress=progress)

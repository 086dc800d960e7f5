"""Every query on the stay tables; reads that list people apply the caller's regional scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    CompoundSelect,
    Date,
    Row,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from kosh.people.models import Person
from kosh.platform import scope
from kosh.platform.security import Principal
from kosh.platform.sql import in_values, rowcount
from kosh.stay.models import (
    BorderEvent,
    DataQualityFinding,
    HostNotification,
    HostRequestKey,
    ResidencePermit,
    StayStatus,
)
from kosh.stay.rules import Direction, PermitKind

# The tables of a person's records, each row with its feed's source_event_id.
RecordModel = type[BorderEvent] | type[HostNotification] | type[ResidencePermit]


def scoped_status(stmt: Select, principal: Principal, region: str | None) -> Select:
    """Stored statuses in the region the caller chose (if any), within the caller's regions."""
    if region:
        stmt = stmt.where(StayStatus.region_kato.startswith(region))
    return scope.in_regions(stmt, StayStatus.region_kato, principal)


def existing_source_ids(session: Session, table: RecordModel, ids: Iterable[str]) -> set[str]:
    ids = list(set(ids))
    if not ids:
        return set()
    col = table.source_event_id
    return set(session.execute(select(col).where(in_values(session, col, ids))).scalars())


def in_force() -> ColumnElement[bool]:
    """Notifications the stay engine counts: neither superseded by a correction nor cancelled."""
    return and_(HostNotification.superseded_at.is_(None), HostNotification.cancelled_at.is_(None))


# person_id, direction, occurred_on, occurred_at, source_event_id, kato
CrossingRecord = Row[str, Direction, dt.date, dt.datetime, str, str]
# person_id, arrival_date, submitted_at, kato, registers
NotificationRecord = Row[str, dt.date, dt.datetime, str, bool]
# person_id, kind, valid_from, valid_to
PermitRecord = Row[str, PermitKind, dt.date, dt.date]


def records_for(session: Session, person_ids: Iterable[str]) -> tuple[
        dict[str, list[CrossingRecord]], dict[str, list[NotificationRecord]], dict[str, list[PermitRecord]]]:
    """Crossings, notifications and permits of many persons in three queries."""
    ids = list(set(person_ids))
    crossings: dict[str, list[CrossingRecord]] = defaultdict(list)
    notifications: dict[str, list[NotificationRecord]] = defaultdict(list)
    permits: dict[str, list[PermitRecord]] = defaultdict(list)
    if not ids:
        return crossings, notifications, permits
    for c in session.execute(select(BorderEvent.person_id, BorderEvent.direction, BorderEvent.occurred_on,
                                    BorderEvent.occurred_at, BorderEvent.source_event_id, BorderEvent.kato)
                             .where(in_values(session, BorderEvent.person_id, ids))):
        crossings[c.person_id].append(c)
    for n in session.execute(select(HostNotification.person_id, HostNotification.arrival_date,
                                    HostNotification.submitted_at, HostNotification.kato,
                                    HostNotification.registers)
                             .where(in_values(session, HostNotification.person_id, ids), in_force())):
        notifications[n.person_id].append(n)
    for p in session.execute(select(ResidencePermit.person_id, ResidencePermit.kind, ResidencePermit.valid_from,
                                    ResidencePermit.valid_to)
                             .where(in_values(session, ResidencePermit.person_id, ids))):
        permits[p.person_id].append(p)
    return crossings, notifications, permits


class CrossingRow(NamedTuple):
    direction: Direction
    occurred_on: dt.date
    source_event_id: str


class NotificationRow(NamedTuple):
    arrival_date: dt.date
    submitted_at: dt.datetime


class PermitRow(NamedTuple):
    kind: PermitKind
    valid_from: dt.date
    valid_to: dt.date


class StatusInputs(NamedTuple):
    citizenship: str
    crossings: list[CrossingRow]
    notifications: list[NotificationRow]
    permits: list[PermitRow]
    merged_into: str | None = None  # set for a merged person's id (its records moved there)


def _kind(k: str) -> ColumnClause[str]:
    return literal_column(f"'{k}'", String)


_STATEMENTS: dict[object, CompoundSelect] = {}


def _status_inputs_statement(shape: object, visible_person: ColumnElement[bool]) -> CompoundSelect:
    # Built once per shape of scope: SQLAlchemy's compiled cache is keyed on the statement.
    found = _STATEMENTS.get(shape)
    if found is None:
        found = _STATEMENTS[shape] = _build_status_inputs_statement(visible_person)
    return found


def _build_status_inputs_statement(visible_person: ColumnElement[bool]) -> CompoundSelect:
    """One statement for the person's citizenship (if the caller sees the person) and the records
    the engine needs, one row each, told apart by the first column. The status is computed from
    all of the person's records, in whatever region they were made: the answer (days used and
    left, the last lawful day) is for the officers who see the person, the records themselves
    are read in their own regions (`timeline`)."""
    pid = bindparam("pid", type_=String)
    visible = and_(Person.id == pid, visible_person)
    in_scope = exists().where(visible)
    # Typed NULLs, the first branch above all: SQLAlchemy types the result columns from it
    # (SQLite returns dates as text, converted by those types).
    no_text, no_date = cast(null(), String), cast(null(), Date)
    no_time = cast(null(), HostNotification.submitted_at.type)
    return union_all(
        select(_kind("p").label("k"), Person.citizenship.label("t1"), Person.merged_into.label("t2"),
               no_date.label("d1"),
               no_date.label("d2"), no_time.label("ts")).where(visible),
        select(_kind("c"), BorderEvent.direction, BorderEvent.source_event_id, BorderEvent.occurred_on, no_date,
               no_time).where(BorderEvent.person_id == pid, in_scope),
        select(_kind("n"), no_text, no_text, HostNotification.arrival_date, no_date,
               HostNotification.submitted_at).where(HostNotification.person_id == pid, in_force(), in_scope),
        select(_kind("r"), ResidencePermit.kind, no_text, ResidencePermit.valid_from, ResidencePermit.valid_to,
               no_time).where(ResidencePermit.person_id == pid, in_scope),
    )


def status_inputs(session: Session, principal: Principal, visible: tuple, person_id: str) -> StatusInputs | None:
    """What the engine needs to assess one person, in one round trip; None when the person
    does not exist or is outside the caller's scope (the two look the same). `visible` is the
    people capability's (shape, condition, parameters) that the caller sees a `persons` row."""
    shape, condition, params = visible
    rows = session.connection().execute(_status_inputs_statement(shape, condition), {"pid": person_id, **params})
    citizenship = merged_into = None
    crossings, notifications, permits = [], [], []
    for kind, t1, t2, d1, d2, ts in rows:
        if kind == "c":
            crossings.append(CrossingRow(t1, d1, t2))
        elif kind == "n":
            notifications.append(NotificationRow(d1, ts))
        elif kind == "r":
            permits.append(PermitRow(t1, d1, d2))
        else:
            citizenship, merged_into = t1, t2
    if citizenship is None:
        return None
    return StatusInputs(citizenship, crossings, notifications, permits, merged_into)


class Timeline(NamedTuple):
    """A person's records: all of them (for the engine) and which of them the caller reads."""

    events: list[BorderEvent]
    notifications: list[HostNotification]
    permits: list[ResidencePermit]
    readable: set[tuple[str, int]]  # (table, id) of the records made in the caller's regions


def timeline(session: Session, principal: Principal, person_id: str, *, granted: bool) -> Timeline:
    """`granted`: the caller reads every record of this person (admins; a break-glass grant)."""
    events = session.execute(select(BorderEvent).where(BorderEvent.person_id == person_id)
                             .order_by(BorderEvent.occurred_at)).scalars().all()
    notes = session.execute(select(HostNotification).where(HostNotification.person_id == person_id)
                            .order_by(HostNotification.arrival_date, HostNotification.submitted_at)).scalars().all()
    permits = session.execute(select(ResidencePermit).where(ResidencePermit.person_id == person_id)
                              .order_by(ResidencePermit.valid_from)).scalars().all()
    readable = {(table, r.id) for table, rows in (("border_events", events), ("host_notifications", notes),
                                                  ("residence_permits", permits))
                for r in rows if granted or scope.sees_region(principal, r.kato)}
    return Timeline(list(events), list(notes), list(permits), readable)


def findings_of(session: Session, person_id: str) -> list[DataQualityFinding]:
    return list(session.execute(select(DataQualityFinding).where(DataQualityFinding.person_id == person_id)
                                .order_by(DataQualityFinding.on)).scalars())


@dataclass(frozen=True)
class ListFilter:
    """Which statuses a list shows: persons in the country whose `day` (last lawful day, or the
    notification deadline) is before `on`, optionally in one region, of one citizenship, and with
    the day itself in [day_from, day_to]."""

    day: str  # "last_lawful_day" | "notification_due"
    on: dt.date
    region: str | None = None
    citizenship: str | None = None
    day_from: dt.date | None = None
    day_to: dt.date | None = None


# The sort keys a list accepts (a whitelist: nothing the caller sends reaches SQL as a name);
# every order ends on person_id, so that equal keys keep one order and a keyset cursor is exact.
LIST_SORTS = ("due", "entry", "citizenship", "region")
NO_DAY = dt.date(1, 1, 1)  # a stay with no entry day sorts first (the column allows null)


def list_sort_column(f: ListFilter, sort: str) -> ColumnElement[Any]:
    if sort == "entry":
        return func.coalesce(StayStatus.current_entry, NO_DAY)
    column = {"citizenship": "citizenship", "region": "region_kato"}.get(sort, f.day)
    return getattr(StayStatus, column)


def _listed(stmt: Select, principal: Principal, f: ListFilter) -> Select:
    day = getattr(StayStatus, f.day)
    stmt = scoped_status(stmt.where(StayStatus.in_country.is_(True), day < f.on), principal, f.region)
    if f.citizenship:
        stmt = stmt.where(StayStatus.citizenship == f.citizenship)
    if f.day_from:
        stmt = stmt.where(day >= f.day_from)
    if f.day_to:
        stmt = stmt.where(day <= f.day_to)
    return stmt


def list_statuses(session: Session, principal: Principal, f: ListFilter, sort: str, descending: bool,
                  after: tuple[object, str] | None, limit: int) -> list[StayStatus]:
    """A page of the list in (sort key, person id) order, after the keyset `after` (exclusive);
    `descending` reverses both keys (a page backwards is a page forwards in reverse)."""
    key = list_sort_column(f, sort)
    stmt = _listed(select(StayStatus), principal, f)
    if after is not None:
        value, pid = after
        if descending:
            stmt = stmt.where(or_(key < value, and_(key == value, StayStatus.person_id < pid)))
        else:
            stmt = stmt.where(or_(key > value, and_(key == value, StayStatus.person_id > pid)))
    order = (key.desc(), StayStatus.person_id.desc()) if descending else (key, StayStatus.person_id)
    return list(session.execute(stmt.order_by(*order).limit(limit)).scalars())


def count_statuses(session: Session, principal: Principal, f: ListFilter) -> int:
    """How many rows the whole list has (a separate count: paging stays a keyset seek)."""
    return session.execute(_listed(select(func.count()).select_from(StayStatus), principal, f)).scalar_one()


def notifications_of_host(session: Session, host_id_index: str, limit: int, offset: int) -> list[HostNotification]:
    return list(session.execute(select(HostNotification).where(HostNotification.host_id_index == host_id_index)
                                .order_by(HostNotification.submitted_at.desc(), HostNotification.id.desc())
                                .limit(limit).offset(offset)).scalars())


def notification(session: Session, notification_id: int) -> HostNotification | None:
    return session.get(HostNotification, notification_id)


# -- the host workspace ---------------------------------------------------------------------------

def host_current(session: Session, host_id_index: str, limit: int, offset: int) -> tuple[list[HostNotification], int]:
    """A host's notifications in their latest version (corrected ones once), newest first, and how many."""
    where = (HostNotification.host_id_index == host_id_index, HostNotification.superseded_at.is_(None))
    rows = session.execute(select(HostNotification).where(*where)
                           .order_by(HostNotification.submitted_at.desc(), HostNotification.id.desc())
                           .limit(limit).offset(offset)).scalars()
    total = session.execute(select(func.count()).select_from(HostNotification).where(*where)).scalar_one()
    return list(rows), total


def versions_of(session: Session, note: HostNotification) -> list[HostNotification]:
    """Every version of a notification (those sharing its reference), the first first."""
    if note.reference is None:
        return [note]
    return list(session.execute(select(HostNotification).where(HostNotification.reference == note.reference)
                                .order_by(HostNotification.version)).scalars())


def notification_by_source(session: Session, source_event_id: str) -> HostNotification | None:
    return session.execute(select(HostNotification)
                           .where(HostNotification.source_event_id == source_event_id)).scalar_one_or_none()


def request_key(session: Session, user_id: int, scope: str, key: str) -> HostRequestKey | None:
    return session.execute(select(HostRequestKey).where(HostRequestKey.user_id == user_id,
                                                        HostRequestKey.scope == scope,
                                                        HostRequestKey.key == key)).scalar_one_or_none()


def figures(session: Session, principal: Principal, on: dt.date) -> dict[str, int]:
    from sqlalchemy import case

    stmt = scoped_status(select(
        func.count(),
        func.sum(case((StayStatus.in_country.is_(True), 1), else_=0)),
        func.sum(case((and_(StayStatus.in_country.is_(True), StayStatus.last_lawful_day < on), 1), else_=0)),
        func.sum(case((and_(StayStatus.in_country.is_(True), StayStatus.notification_due < on), 1), else_=0)),
    ).select_from(StayStatus), principal, None)
    persons, in_country, over, overdue = session.execute(stmt).one()
    return {"persons": persons or 0, "in_country": in_country or 0, "overstays": over or 0, "overdue": overdue or 0}


# -- retention (kosh retention run) --------------------------------------------------------------

def persons_with_records_before(session: Session, day: dt.date, after: str, limit: int) -> list[str]:
    """Persons (in id order, after `after`) with a crossing, a notified arrival or a permit's end
    before `day`: only they can hold a record past its term."""
    from sqlalchemy import union

    ids = union(
        select(BorderEvent.person_id.label("pid")).where(BorderEvent.occurred_on < day, BorderEvent.person_id > after),
        select(HostNotification.person_id).where(HostNotification.arrival_date < day,
                                                 HostNotification.person_id > after),
        select(ResidencePermit.person_id).where(ResidencePermit.valid_to < day, ResidencePermit.person_id > after),
    ).subquery()
    return list(session.execute(select(ids.c.pid).order_by(ids.c.pid).limit(limit)).scalars())


def retention_rows(session: Session, person_ids: Iterable[str]) -> tuple[
        Sequence[Row[str, int, Direction, dt.date]], Sequence[Row[str, int, dt.date, dt.date | None]],
        Sequence[Row[str, int, dt.date, dt.date]], dict[str, dt.date | None]]:
    """Crossings (in time order), notifications and permits of these persons, with their ids,
    and the last lawful day of those in the country."""
    ids = list(set(person_ids))
    crossings = session.execute(select(BorderEvent.person_id, BorderEvent.id, BorderEvent.direction,
                                       BorderEvent.occurred_on)
                                .where(in_values(session, BorderEvent.person_id, ids))
                                .order_by(BorderEvent.person_id, BorderEvent.occurred_at, BorderEvent.id)).all()
    notes = session.execute(select(HostNotification.person_id, HostNotification.id, HostNotification.arrival_date,
                                   HostNotification.expected_departure)
                            .where(in_values(session, HostNotification.person_id, ids))).all()
    permits = session.execute(select(ResidencePermit.person_id, ResidencePermit.id, ResidencePermit.valid_from,
                                     ResidencePermit.valid_to)
                              .where(in_values(session, ResidencePermit.person_id, ids))).all()
    lawful = dict(session.execute(select(StayStatus.person_id, StayStatus.last_lawful_day)
                                  .where(in_values(session, StayStatus.person_id, ids),
                                         StayStatus.in_country.is_(True))).all())
    return crossings, notes, permits, lawful


def delete_rows(session: Session, table: RecordModel, ids: Iterable[int]) -> int:
    from sqlalchemy import delete

    ids = list(ids)
    if not ids:
        return 0
    return rowcount(session.execute(delete(table).where(table.id.in_(ids)))) or 0


def persons_having_records(session: Session, person_ids: Iterable[str]) -> set[str]:
    ids = list(set(person_ids))
    if not ids:
        return set()
    out: set[str] = set()
    for table in (BorderEvent, HostNotification, ResidencePermit):
        out.update(session.execute(select(table.person_id).where(in_values(session, table.person_id, ids))
                                   .distinct()).scalars())
    return out


def delete_request_keys_before(session: Session, moment: dt.datetime, limit: int) -> int:
    """Up to `limit` one-time submission keys made before `moment`."""
    from sqlalchemy import delete

    pick = (select(HostRequestKey.id).where(HostRequestKey.created_at < moment)
            .order_by(HostRequestKey.id).limit(limit))
    ids = list(session.execute(pick).scalars())
    if not ids:
        return 0
    return rowcount(session.execute(delete(HostRequestKey).where(HostRequestKey.id.in_(ids)))) or 0


def delete_findings_before(session: Session, day: dt.date, limit: int) -> int:
    """Up to `limit` data-quality findings dated before `day`."""
    from sqlalchemy import delete

    pick = select(DataQualityFinding.id).where(DataQualityFinding.on < day).order_by(DataQualityFinding.id).limit(limit)
    ids = list(session.execute(pick).scalars())
    if not ids:
        return 0
    return rowcount(session.execute(delete(DataQualityFinding).where(DataQualityFinding.id.in_(ids)))) or 0


def forget_persons(session: Session, person_ids: Iterable[str]) -> None:
    """The stored status, findings and queued refreshes of persons being removed."""
    from sqlalchemy import delete

    from kosh.stay.models import StayRefreshQueue, StayViolation

    ids = list(set(person_ids))
    if not ids:
        return
    for table in (DataQualityFinding, StayStatus, StayViolation, StayRefreshQueue):
        session.execute(delete(table).where(in_values(session, table.person_id, ids)))


# -- violations (stored at every recompute of a status) -----------------------------------------

def replace_violations(session: Session, person_ids: Sequence[str], rows: list[dict]) -> None:
    """These persons' stored violations become `rows` (each with its person_id)."""
    from sqlalchemy import delete

    from kosh.platform.sql import bulk_insert
    from kosh.stay.models import StayViolation

    ids = list(set(person_ids))
    if ids:
        session.execute(delete(StayViolation).where(in_values(session, StayViolation.person_id, ids)))
    if rows:
        bulk_insert(session, StayViolation.__table__, rows)


def violations_in_period(session: Session, principal: Principal, first: dt.date, last: dt.date, today: dt.date,
                         kinds: Sequence[str], region: str | None, citizenship: str | None,
                         after: tuple[dt.date, int] | None, limit: int) -> list[Row]:
    """(violation, status) pairs of persons in the caller's regions whose violation overlaps
    [first, last] and had begun by `today` (one still going on overlaps every later period), in
    order of first day; `after` is the (first day, id) of the last row of the previous page."""
    from kosh.stay.models import StayViolation

    v = StayViolation
    stmt = (select(v, StayStatus).join(StayStatus, StayStatus.person_id == v.person_id)
            .where(v.first_day <= min(last, today), or_(v.last_day >= first, v.ongoing.is_(True))))
    stmt = scoped_status(stmt, principal, region)
    if kinds:
        stmt = stmt.where(v.kind.in_(list(kinds)))
    if citizenship:
        stmt = stmt.where(StayStatus.citizenship == citizenship)
    if after:
        stmt = stmt.where(or_(v.first_day > after[0], and_(v.first_day == after[0], v.id > after[1])))
    return list(session.execute(stmt.order_by(v.first_day, v.id).limit(limit)).all())


def violations_of(session: Session, person_id: str) -> list:
    from kosh.stay.models import StayViolation

    return list(session.execute(select(StayViolation).where(StayViolation.person_id == person_id)
                                .order_by(StayViolation.first_day, StayViolation.id)).scalars())


def queue_every_status(session: Session) -> int:
    """Queue every person with a stored status for a recompute; returns how many were queued."""
    from sqlalchemy import insert

    from kosh.stay.models import StayRefreshQueue

    q = StayRefreshQueue
    waiting = exists().where(q.person_id == StayStatus.person_id)
    result = session.execute(insert(q).from_select(["person_id"], select(StayStatus.person_id).where(~waiting)))
    return rowcount(result) or 0

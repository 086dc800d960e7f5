"""Every query on the stay tables; reads that list people apply the caller's regional scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

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
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from kosh.people.models import Person
from kosh.platform import scope
from kosh.platform.security import Principal
from kosh.platform.sql import in_values, rowcount
from kosh.stay.models import BorderEvent, DataQualityFinding, HostNotification, ResidencePermit, StayStatus
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
                             .where(in_values(session, HostNotification.person_id, ids))):
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
               HostNotification.submitted_at).where(HostNotification.person_id == pid, in_scope),
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


def _past_day(session: Session, principal: Principal, column: InstrumentedAttribute[dt.date | None], on: dt.date,
              region: str | None,
              after: tuple[dt.date, str] | None, limit: int, citizenship: str | None) -> list[StayStatus]:
    """Persons in the country whose `column` day (last lawful day, notification due) is before `on`."""
    stmt = scoped_status(select(StayStatus).where(StayStatus.in_country.is_(True), column < on), principal, region)
    if citizenship:
        stmt = stmt.where(StayStatus.citizenship == citizenship)
    if after:
        stmt = stmt.where(or_(column > after[0], and_(column == after[0], StayStatus.person_id > after[1])))
    return list(session.execute(stmt.order_by(column, StayStatus.person_id).limit(limit)).scalars())


def overstays(session: Session, principal: Principal, on: dt.date, region: str | None,
              after: tuple[dt.date, str] | None, limit: int, citizenship: str | None = None) -> list[StayStatus]:
    return _past_day(session, principal, StayStatus.last_lawful_day, on, region, after, limit, citizenship)


def overdue_notifications(session: Session, principal: Principal, on: dt.date, region: str | None,
                          after: tuple[dt.date, str] | None, limit: int,
                          citizenship: str | None = None) -> list[StayStatus]:
    return _past_day(session, principal, StayStatus.notification_due, on, region, after, limit, citizenship)


def notifications_of_host(session: Session, host_id_index: str, limit: int, offset: int) -> list[HostNotification]:
    return list(session.execute(select(HostNotification).where(HostNotification.host_id_index == host_id_index)
                                .order_by(HostNotification.submitted_at.desc(), HostNotification.id.desc())
                                .limit(limit).offset(offset)).scalars())


def notification(session: Session, notification_id: int) -> HostNotification | None:
    return session.get(HostNotification, notification_id)


def figures(session: Session, principal: Principal, on: dt.date) -> dict[str, int]:
    from sqlalchemy import case, func

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

    from kosh.stay.models import StayRefreshQueue

    ids = list(set(person_ids))
    if not ids:
        return
    for table in (DataQualityFinding, StayStatus, StayRefreshQueue):
        session.execute(delete(table).where(in_values(session, table.person_id, ids)))

"""Every query on the stay tables; reads that list people apply the caller's regional scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (CompoundSelect, Date, DateTime, Select, String, and_, bindparam, cast, exists,
                        literal_column, null, or_, select, union_all)
from sqlalchemy.orm import Session

from kosh.core.sql import in_values

from kosh.core.security import Principal
from kosh.people.models import Person
from kosh.stay.models import BorderEvent, DataQualityFinding, HostNotification, ResidencePermit, StayStatus


def scoped_status(stmt: Select, principal: Principal, region: str | None) -> Select:
    if region:
        stmt = stmt.where(StayStatus.region_kato.startswith(region))
    if principal.all_regions:
        return stmt
    if not principal.regions:
        return stmt.where(False)
    return stmt.where(or_(*(StayStatus.region_kato.startswith(p) for p in principal.regions)))


def existing_source_ids(session: Session, table: type, ids: Iterable[str]) -> set[str]:
    ids = list(set(ids))
    if not ids:
        return set()
    col = table.source_event_id
    return set(session.execute(select(col).where(in_values(session, col, ids))).scalars())


def records_for(session: Session, person_ids: Iterable[str]) -> tuple[dict, dict, dict]:
    """Crossings, notifications and permits of many persons in three queries."""
    ids = list(set(person_ids))
    crossings: dict[str, list] = defaultdict(list)
    notifications: dict[str, list] = defaultdict(list)
    permits: dict[str, list] = defaultdict(list)
    if not ids:
        return crossings, notifications, permits
    for row in session.execute(select(BorderEvent.person_id, BorderEvent.direction, BorderEvent.occurred_on,
                                      BorderEvent.occurred_at, BorderEvent.source_event_id, BorderEvent.kato)
                               .where(in_values(session, BorderEvent.person_id, ids))):
        crossings[row.person_id].append(row)
    for row in session.execute(select(HostNotification.person_id, HostNotification.arrival_date,
                                      HostNotification.submitted_at, HostNotification.kato)
                               .where(in_values(session, HostNotification.person_id, ids))):
        notifications[row.person_id].append(row)
    for row in session.execute(select(ResidencePermit.person_id, ResidencePermit.kind, ResidencePermit.valid_from,
                                      ResidencePermit.valid_to).where(in_values(session, ResidencePermit.person_id, ids))):
        permits[row.person_id].append(row)
    return crossings, notifications, permits


class CrossingRow(NamedTuple):
    direction: str
    occurred_on: dt.date
    source_event_id: str


class NotificationRow(NamedTuple):
    arrival_date: dt.date
    submitted_at: dt.datetime


class PermitRow(NamedTuple):
    kind: str
    valid_from: dt.date
    valid_to: dt.date


class StatusInputs(NamedTuple):
    citizenship: str
    crossings: list[CrossingRow]
    notifications: list[NotificationRow]
    permits: list[PermitRow]
    merged_into: str | None = None  # set for a merged person's id (its records moved there)


def _kind(k: str):  # noqa: ANN202
    return literal_column(f"'{k}'", String)


@lru_cache(maxsize=64)
def _status_inputs_statement(all_regions: bool, n_regions: int) -> CompoundSelect:
    """One statement for the person's citizenship (if in the caller's scope) and the records
    the engine needs, one row each, told apart by the first column. Built once per shape of
    scope (all regions, or n region prefixes), so SQLAlchemy's compiled cache is hit."""
    pid = bindparam("pid", type_=String)
    visible = Person.id == pid
    if not all_regions:
        visible = and_(visible, or_(*(Person.region_kato.startswith(bindparam(f"r{i}", type_=String))
                                      for i in range(n_regions))))
    in_scope = exists().where(visible)
    # Typed NULLs, the first branch above all: SQLAlchemy types the result columns from it
    # (SQLite returns dates as text, converted by those types).
    no_text, no_date, no_time = cast(null(), String), cast(null(), Date), cast(null(), DateTime(timezone=True))
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


def status_inputs(session: Session, principal: Principal, person_id: str) -> StatusInputs | None:
    """What the engine needs to assess one person, in one round trip; None when the person
    does not exist or is outside the caller's regions (the two look the same)."""
    regions = () if principal.all_regions else principal.regions
    if not principal.all_regions and not regions:
        return None  # an officer without regions sees no one
    params = {"pid": person_id} | {f"r{i}": r for i, r in enumerate(regions)}
    rows = session.connection().execute(_status_inputs_statement(principal.all_regions, len(regions)), params)
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


def timeline(session: Session, person_id: str) -> tuple[list[BorderEvent], list[HostNotification], list[ResidencePermit]]:
    events = session.execute(select(BorderEvent).where(BorderEvent.person_id == person_id)
                             .order_by(BorderEvent.occurred_at)).scalars().all()
    notes = session.execute(select(HostNotification).where(HostNotification.person_id == person_id)
                            .order_by(HostNotification.arrival_date, HostNotification.submitted_at)).scalars().all()
    permits = session.execute(select(ResidencePermit).where(ResidencePermit.person_id == person_id)
                              .order_by(ResidencePermit.valid_from)).scalars().all()
    return list(events), list(notes), list(permits)


def findings_of(session: Session, person_id: str) -> list[DataQualityFinding]:
    return list(session.execute(select(DataQualityFinding).where(DataQualityFinding.person_id == person_id)
                                .order_by(DataQualityFinding.on)).scalars())


def _past_day(session: Session, principal: Principal, column, on: dt.date, region: str | None,  # noqa: ANN001
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

"""The declarative base every table derives from, its naming convention, and column types shared
by the capabilities' models (apart from the engine in `db`, so models and db import no cycle)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import DateTime, Dialect, MetaData, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model here maps one Table (SQLAlchemy types the attribute as any FromClause).
    __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in time, stored in UTC and always read back time-zone aware in UTC: SQLite keeps
    no offset (it would hand back naive wall-clock times), PostgreSQL answers in its session zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        # A naive value is taken as UTC, which is what every naive value in this code base means.
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

"""Dialect-aware statements that SQLAlchemy spells differently for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert_for(session: Session):  # noqa: ANN202
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_ignoring(session: Session, table: Any, index_elements: list[str]):  # noqa: ANN201
    """INSERT … ON CONFLICT (keys) DO NOTHING — the basis of idempotent ingestion."""
    return _insert_for(session)(table).on_conflict_do_nothing(index_elements=index_elements)


def upsert(session: Session, table: Any, index_elements: list[str], update_columns: list[str]):  # noqa: ANN201
    stmt = _insert_for(session)(table)
    return stmt.on_conflict_do_update(index_elements=index_elements,
                                      set_={c: getattr(stmt.excluded, c) for c in update_columns})

"""Dialect-aware statements that SQLAlchemy spells differently for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. Session.execute types its result as a plain
    Result; for these statements it is a CursorResult, which holds the count."""
    return cast("CursorResult[Any]", result).rowcount


def _insert_for(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)


def insert_ignoring(session: Session, table: Any, index_elements: list[str]) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING — the basis of idempotent ingestion."""
    return _insert_for(session, table).on_conflict_do_nothing(index_elements=index_elements)


def upsert(session: Session, table: Any, index_elements: list[str],
           update_columns: list[str]) -> postgresql.Insert | sqlite.Insert:
    stmt = _insert_for(session, table)
    return stmt.on_conflict_do_update(index_elements=index_elements,
                                      set_={c: getattr(stmt.excluded, c) for c in update_columns})


def _with_defaults(table: Any, rows: list[dict]) -> tuple[list[str], list[dict]]:
    """Fill Python-side column defaults (e.g. created_at) that a COPY would not apply."""
    cols = list(rows[0])
    extra = {}
    for col in table.columns:
        if col.name in rows[0] or col.default is None or col.primary_key and col.autoincrement is True:
            continue
        default = col.default
        if default.is_callable:
            extra[col.name] = default.arg(None)
        elif default.is_scalar:
            extra[col.name] = default.arg
    if extra:
        cols += list(extra)
        rows = [{**r, **extra} for r in rows]
    return cols, rows


_stage_counter = 0


@contextmanager
def _driver_cursor(session: Session) -> Iterator[Any]:
    """The driver's own cursor (for COPY), its failures raised as SQLAlchemy's exceptions."""
    raw = session.connection().connection.driver_connection
    assert raw is not None, "a connection in use holds its driver's connection"
    try:
        with raw.cursor() as cur:
            yield cur
    except psycopg.Error as exc:
        # Callers then catch one kind of error for every statement (IntegrityError for a key another writer took).
        raise sa.exc.DBAPIError.instance(None, None, exc, psycopg.Error, dialect=session.get_bind().dialect) from exc


@contextmanager
def _staged(session: Session, table: Any, cols: list[str], rows: list[dict]) -> Iterator[tuple[Any, str]]:
    """COPY rows into a temporary table shaped like `table` (PostgreSQL), for one statement."""
    global _stage_counter
    _stage_counter += 1
    stage = f"_stage_{table.name}_{_stage_counter}"
    collist = ", ".join(f'"{c}"' for c in cols)
    with _driver_cursor(session) as cur:
        cur.execute(f'CREATE TEMP TABLE "{stage}" ON COMMIT DROP AS SELECT {collist} FROM "{table.name}" WITH NO DATA')
        with cur.copy(f'COPY "{stage}" ({collist}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([r[c] for c in cols])
        yield cur, stage
        cur.execute(f'DROP TABLE "{stage}"')


def bulk_insert(session: Session, table: Any, rows: list[dict], *, conflict: list[str] | None = None,
                update: list[str] | None = None, returning: list[str] | None = None) -> list[tuple]:
    """Insert many rows fast, optionally ignoring (or updating on) conflicts on `conflict` keys.

    PostgreSQL: COPY into a temporary staging table, then one INSERT … SELECT … ON CONFLICT —
    an order of magnitude faster than row-wise statements. SQLite: executemany.
    Returned rows (when `returning` is given) come in no particular order.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        stmt: sqlite.Insert | postgresql.Insert
        if conflict is None:
            stmt = sqlite.insert(table)
        elif update:
            stmt = upsert(session, table, conflict, update)
        else:
            stmt = insert_ignoring(session, table, conflict)
        if returning:
            return [tuple(r) for r in session.execute(stmt.returning(*(table.c[c] for c in returning)), rows)]
        session.execute(stmt, rows)
        return []
    cols, rows = _with_defaults(table, rows)
    collist = ", ".join(f'"{c}"' for c in cols)
    if conflict is None and not returning:
        # Nothing to reconcile: COPY straight into the table (a conflict fails the transaction).
        with _driver_cursor(session) as cur:
            with cur.copy(f'COPY "{table.name}" ({collist}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row([r[c] for c in cols])
        return []
    with _staged(session, table, cols, rows) as (cur, stage):
        sql = f'INSERT INTO "{table.name}" ({collist}) SELECT {collist} FROM "{stage}"'
        if conflict is not None:
            keys = ", ".join(f'"{c}"' for c in conflict)
            # Key order: two writers of overlapping keys then wait for each other, never crosswise.
            sql += f" ORDER BY {keys}"
            if update:
                sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update)
                sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
            else:
                sql += f" ON CONFLICT ({keys}) DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(f'"{c}"' for c in returning)
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()] if returning else []


def reassign(session: Session, table: Any, from_id: str, to_id: str, *, where: Any = None,
             ids: list[int] | None = None) -> list[int]:
    """Move rows of `table` from one person to another (`person_id`), all of them or only `ids`,
    and optionally only those matching `where`; returns the ids of the rows moved, sorted.
    The one mechanism behind merging persons and undoing a merge, whoever owns the table."""
    if ids is not None and not ids:
        return []
    stmt = sa.update(table).where(table.c.person_id == from_id)
    if ids is not None:
        stmt = stmt.where(table.c.id.in_(ids))
    if where is not None:
        stmt = stmt.where(where)
    return sorted(session.execute(stmt.values(person_id=to_id).returning(table.c.id)).scalars().all())


def in_values(session: Session, column: Any, values: Any) -> Any:
    """`column IN (values)` for large lists: PostgreSQL gets one array parameter (`= ANY`),
    which the driver binds far faster than thousands of separate parameters."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.literal(values, postgresql.ARRAY(column.type)))
    return column.in_(values)


def bulk_update(session: Session, table: Any, rows: list[dict], key: str) -> None:
    """Update many rows by key: staging table + one UPDATE … FROM on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    cols = list(rows[0])
    sets = [c for c in cols if c != key]
    if session.get_bind().dialect.name != "postgresql":
        stmt = sa.update(table).where(table.c[key] == sa.bindparam("_key")).values(
            {c: sa.bindparam(f"_{c}") for c in sets})
        session.execute(stmt, [{f"_{k}": v for k, v in r.items()} | {"_key": r[key]} for r in rows])
        return
    with _staged(session, table, cols, rows) as (cur, stage):
        assignments = ", ".join(f'"{c}" = s."{c}"' for c in sets)
        cur.execute(f'UPDATE "{table.name}" AS t SET {assignments} FROM "{stage}" AS s WHERE t."{key}" = s."{key}"')

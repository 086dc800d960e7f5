"""Database engine, sessions and schema upgrades (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes of WAL kept after a checkpoint


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cur = dbapi_conn.cursor()
    # WAL lets the web app read while an import writes; FKs are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # A WAL reset after a checkpoint truncates the file to this size instead of keeping its peak.
    cur.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    cur.close()


def checkpoint(engine: Engine) -> tuple[int, int, int] | None:
    """Copy the SQLite write-ahead log into the database and truncate it (after imports, the
    retention job and at shutdown); returns SQLite's (busy, log pages, checkpointed pages), or
    None on other databases. Readers still open keep what they read: then busy is 1."""
    if engine.dialect.name != "sqlite":
        return None
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        row = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # autocommit: outside a transaction
        cur.close()
    finally:
        raw.close()
    return tuple(row) if row else None


def create_private_file(path: Path) -> None:
    """Create the SQLite file, if missing, readable by its owner only (it holds personal data,
    like the key file); SQLite itself would create it with the process's umask."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a folder we create is owner-only too
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            create_private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Every unit of work may append to the audit chain, so take the write lock up front:
        # a deferred transaction that later upgrades to a writer fails under WAL instead of waiting.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    # No pre-ping (a round trip per checkout); stale connections are recycled by age instead.
    # hide_parameters: error messages (and so logs) must not carry names, ids or usernames.
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, hide_parameters=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


@lru_cache(maxsize=64)
def session_factory(engine: Engine) -> sessionmaker[Session]:
    # One per engine: each sessionmaker makes a Session subclass whose event set-up costs more
    # than a short transaction.
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with session_factory(engine)() as session:
        with session.begin():
            yield session


def import_all_models() -> None:
    """Register every capability's tables on Base.metadata (Alembic and tests need all)."""
    from kosh.platform import capabilities, models  # noqa: F401 — imported for its tables

    capabilities.modules("models")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

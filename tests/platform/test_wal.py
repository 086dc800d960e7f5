"""The SQLite write-ahead log does not keep its peak size: a checkpoint truncates it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from kosh.platform import db


def _wal(ctx) -> Path:
    return Path(ctx.engine.url.database + "-wal")


def test_checkpoint_truncates_the_wal_after_a_large_write(sqlite_ctx):
    with sqlite_ctx.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)")
        conn.execute(sa.text("INSERT INTO filler (blob) VALUES (randomblob(4096))"), [{}] * 5000)
    assert _wal(sqlite_ctx).stat().st_size > 16 * 1024 * 1024  # ~20 MB written through the log
    busy, _, _ = db.checkpoint(sqlite_ctx.engine)
    assert busy == 0
    assert _wal(sqlite_ctx).stat().st_size == 0
    with sqlite_ctx.engine.connect() as conn:  # the data is in the database file itself now
        assert conn.exec_driver_sql("SELECT count(*) FROM filler").scalar_one() == 5000


def test_connections_cap_the_wal_kept_after_a_reset(sqlite_ctx):
    with sqlite_ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar_one() == db.JOURNAL_SIZE_LIMIT


def test_checkpoint_is_a_no_op_elsewhere():
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert db.checkpoint(engine) is None

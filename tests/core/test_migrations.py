"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kosh.core import db


def _model_metadata():
    db.import_all_models()
    return db.Base.metadata


def test_migrated_schema_matches_the_models(ctx):
    with ctx.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(mc, _model_metadata())
    assert diffs == []


def test_the_schema_is_at_the_newest_revision(ctx):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(ctx.engine)).get_current_head()
    assert db.current_revision(ctx.engine) == head

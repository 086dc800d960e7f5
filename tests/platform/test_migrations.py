"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kosh.platform import db, orm


def _model_metadata():
    db.import_all_models()
    return orm.Base.metadata


def test_migrated_schema_matches_the_models(ctx):
    with ctx.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(mc, _model_metadata())
    assert diffs == []


def test_the_schema_is_at_the_newest_revision(ctx):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(ctx.engine)).get_current_head()
    assert db.current_revision(ctx.engine) == head


def test_upgrading_a_populated_database_keeps_every_row(ctx):
    """Each migration runs on a registry that already holds data (a table rebuilt by copy and
    rename would, on SQLite with foreign keys on, cascade-delete every row referring to it)."""
    import sqlalchemy as sa
    from alembic import command

    command.downgrade(db.alembic_config(ctx.engine), "0002")
    with ctx.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO persons (id, surname, given_names, patronymic, surname_latin, given_names_latin, sex, "
            "birth_date, citizenship, region_kato, created_at) VALUES ('p1', 'A', '', '', 'A', '', 'M', '1990', "
            "'UZB', '75', CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO person_names (person_id, full_name, source, search_key) "
                             "VALUES ('p1', 'A', 'test', 'a')"))
        conn.execute(sa.text("INSERT INTO stay_refresh_queue (person_id) VALUES ('p1')"))
    db.upgrade(ctx.engine)
    with ctx.engine.connect() as conn:
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("persons", "person_names", "stay_refresh_queue")]
    assert counts == [1, 1, 1]

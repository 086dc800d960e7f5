"""`kosh import` refuses a file over the row cap with a clear message, and stores nothing."""

from __future__ import annotations

import stat

import polars as pl
import sqlalchemy as sa
from typer.testing import CliRunner

import factories as f
from kosh.cli import app
from kosh.platform import config, db

runner = CliRunner()


def test_import_over_the_row_cap_is_a_clear_error_and_home_is_owner_only(home, tmp_path, monkeypatch):
    r = runner.invoke(app, ["init"])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    monkeypatch.setenv("KOSH_MAX_IMPORT_ROWS", "3")
    config.reset_settings()
    feed = tmp_path / "feed.parquet"
    pl.DataFrame([f.border_event(source_event_id=f"C-{i}") for i in range(4)]).write_parquet(feed)
    r = runner.invoke(app, ["import", str(feed), "--kind", "border_events"])
    assert r.exit_code != 0
    assert "feed.parquet holds more than 3 rows" in " ".join(r.output.split())
    engine = db.engine_for(config.get_settings().resolved_database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM import_batches")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM border_events")).scalar_one() == 0

"""`kosh stay violations`: the violations recorded in a period, on a temporary home (SQLite)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from kosh.cli import app
from kosh.platform import config, db

runner = CliRunner()


def test_violations_in_a_period_from_the_command_line(home, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    feed = tmp_path / "feed.csv"
    # A Kyrgyz citizen in Sun 2026-03-01 – Fri 03-20, never notified: due Wed Mar 4, Mar 5–20 without it.
    feed.write_text("source_event_id,direction,occurred_at,checkpoint,document_number,issuing_state,nationality,"
                    "surname,birth_date\n"
                    "V1,entry,2026-03-01T10:00:00+05:00,KORDAY,AC1234567,KGZ,KGZ,ASANOV,1990-01-01\n"
                    "V2,exit,2026-03-20T10:00:00+05:00,KORDAY,AC1234567,KGZ,KGZ,ASANOV,1990-01-01\n", encoding="utf8")
    assert runner.invoke(app, ["import", str(feed), "--kind", "border_events"]).exit_code == 0
    r = runner.invoke(app, ["stay", "violations", "--from", "2026-03-01", "--to", "2026-03-31", "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [(v["kind"], v["first_day"], v["last_day"], v["days"], v["due"], v["citizenship"]) for v in rows] == [
        ("notification_missed", "2026-03-05", "2026-03-20", 16, "2026-03-04", "KGZ")]
    table = runner.invoke(app, ["stay", "violations", "--from", "2026-03-01", "--to", "2026-03-31"])
    assert table.exit_code == 0 and "1 violation(s) from 2026-03-01 to 2026-03-31" in table.output
    none = runner.invoke(app, ["stay", "violations", "--from", "2026-04-01", "--to", "2026-04-30", "--json",
                               "--kind", "notification_missed"])
    assert none.exit_code == 0 and none.output == ""


def test_violations_bad_period_or_kind_is_an_error(home):
    runner.invoke(app, ["init"])
    r = runner.invoke(app, ["stay", "violations", "--from", "2026-04-01", "--to", "2026-03-01", "--kind", "speeding"])
    assert r.exit_code == 2
    said = " ".join(r.output.split())  # the console wraps long lines
    assert "to: must be on or after the first day (2026-04-01)" in said
    assert "kind: speeding is not a kind of violation" in said
    assert runner.invoke(app, ["stay", "violations", "--from", "April", "--to", "2026-03-01"]).exit_code == 2


def test_recompute_fills_the_violations_of_statuses_stored_before_them(home, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    feed = tmp_path / "feed.csv"
    feed.write_text("source_event_id,direction,occurred_at,checkpoint,document_number,issuing_state,nationality,"
                    "surname,birth_date\n"
                    "R1,entry,2026-03-01T10:00:00+05:00,KORDAY,AC7654321,KGZ,KGZ,OMUROV,1991-02-02\n"
                    "R2,exit,2026-03-20T10:00:00+05:00,KORDAY,AC7654321,KGZ,KGZ,OMUROV,1991-02-02\n", encoding="utf8")
    assert runner.invoke(app, ["import", str(feed), "--kind", "border_events"]).exit_code == 0
    engine = db.engine_for(config.get_settings().resolved_database_url)
    with engine.begin() as conn:  # as an installation upgraded to revision 0011 has them: none
        conn.execute(sa.text("DELETE FROM stay_violations"))
    period = ["stay", "violations", "--from", "2026-03-01", "--to", "2026-03-31", "--json"]
    assert runner.invoke(app, period).output == ""
    r = runner.invoke(app, ["stay", "recompute"])
    assert r.exit_code == 0 and "1 person(s) recomputed" in r.output
    assert [json.loads(line)["kind"] for line in runner.invoke(app, period).output.splitlines()] == [
        "notification_missed"]

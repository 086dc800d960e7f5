"""The `kosh` command end to end on a temporary home (SQLite)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kosh.cli import app
from kosh.platform import config, db

runner = CliRunner()


def test_stay_calc_json():
    r = runner.invoke(app, ["stay", "calc", "--citizenship", "UZB", "--trip", "2026-01-05:2026-02-10",
                            "--trip", "2026-03-01:", "--on", "2026-04-01", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert {"days_used", "days_left", "status", "last_lawful_day", "rule"} <= set(body)
    assert body["status"] == "overstay" and body["days_used"] == 69
    assert body["rule"]["code"].startswith("uzbekistan@")


@pytest.mark.parametrize("args, message", [
    (["--citizenship", "XYZ", "--trip", "2026-01-05:"], "citizenship: XYZ is not a known country code"),
    (["--citizenship", "UZB", "--trip", "2026-01-05"], "must be ENTRY:EXIT"),
    (["--citizenship", "UZB", "--trip", "2026-02-30:"], "trips[0].start"),
    (["--citizenship", "KAZ", "--trip", "2026-01-05:"],
     "citizenship: Citizens of this country are not foreigners here: stay limits do not apply."),
])
def test_stay_calc_bad_input(args, message):
    r = runner.invoke(app, ["stay", "calc", *args])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())  # the console wraps long lines


def test_init_demo_import_and_audit_verify(home):
    r = runner.invoke(app, ["init"])
    assert r.exit_code == 0, r.output
    assert (home / "keys.json").stat().st_mode & 0o777 == 0o600
    assert (home / "kosh.db").stat().st_mode & 0o777 == 0o600
    r = runner.invoke(app, ["demo", "--no-serve", "--seed", "3", "--size", "small"])
    assert r.exit_code == 0, r.output
    assert "officer.almaty" in r.output and "kosh-demo-2026" in r.output
    assert (home / "kosh.db").stat().st_mode & 0o777 == 0o600  # rebuilt by the demo, still private
    r = runner.invoke(app, ["identity", "scan"])
    assert r.exit_code == 0 and "queued for review" in r.output
    assert int(r.output.split()[0]) == 0  # every new person was linked or queued as it was recorded
    from benchmarks import evaluation
    from kosh.platform.context import open_context

    ctx = open_context()
    truth, wrongly_joined = evaluation.true_pairs(ctx, home / "demo" / "truth.csv")
    scores = evaluation.score_queue(ctx, truth)
    with ctx.transaction() as s:
        merges = s.execute(sa.text("SELECT count(*) FROM person_merges")).scalar_one()
    ctx.engine.dispose()
    assert merges > 0 and wrongly_joined == 0  # renewed passports linked at once, never two men joined
    # The split persons left are proposed, few strangers; second nationalities score below the queue.
    assert scores.true_pairs > 0 and scores.recall >= 0.75 and scores.precision >= 0.9
    r = runner.invoke(app, ["identity", "rebuild"])  # Splink over the registry finds what ingest found
    assert r.exit_code == 0 and "0 merge(s), 0 pair(s) queued" in r.output, r.output
    feed = home / "demo" / "border_events.csv"
    again = runner.invoke(app, ["import", str(feed), "--kind", "border_events"])
    assert again.exit_code == 0 and "imported before" in again.output
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output
    engine = sa.create_engine(f"sqlite:///{home / 'kosh.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2"))
    engine.dispose()
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 1
    assert "record 2" in r.output and "altered" in r.output


def test_demo_is_reproducible_for_a_seed(home, tmp_path):
    from kosh_demo import generate

    a, b = generate(seed=5, size="small"), generate(seed=5, size="small")
    assert a.border_events == b.border_events and a.notifications == b.notifications
    assert generate(seed=6, size="small").border_events != a.border_events


def test_import_with_rejects_reports_them(home, tmp_path):
    runner.invoke(app, ["init"])
    feed = tmp_path / "feed.csv"
    feed.write_text("source_event_id,direction,occurred_at,checkpoint,document_number,issuing_state,nationality,"
                    "surname,birth_date\nX1,entry,2026-03-01T10:00:00+05:00,KORDAY,AC1234567,KGZ,KGZ,ASANOV,1990-01-01\n"
                    "X2,entry,2026-03-01T10:00:00+05:00,KORDAY,AC1234568,KGZ,KGZ,ASANOV,1990-13-01\n", encoding="utf8")
    r = runner.invoke(app, ["import", str(feed), "--kind", "border_events"])
    assert r.exit_code == 0, r.output
    assert "1 recorded" in r.output and "1 rejected" in r.output
    rejects = next((home / "rejects").glob("rejects-*.csv")).read_text()
    assert "2,X2,birth_date" in rejects and "month 13" in rejects


def test_status_of_unknown_person_is_an_error(home):
    runner.invoke(app, ["init"])
    r = runner.invoke(app, ["stay", "status", "no-such-person"])
    assert r.exit_code == 2 and "no person" in r.output


def test_users_add(home):
    runner.invoke(app, ["init"])
    ok = runner.invoke(app, ["users", "add", "aigerim", "--role", "officer", "--regions", "75,19",
                             "--password", "long-enough-password"])
    assert ok.exit_code == 0 and "aigerim (officer) created" in ok.output
    again = runner.invoke(app, ["users", "add", "aigerim", "--role", "officer", "--regions", "75",
                                "--password", "long-enough-password"])
    assert again.exit_code == 2 and "exists" in again.output
    bad = runner.invoke(app, ["users", "add", "x", "--role", "boss", "--password", "short"])
    assert bad.exit_code == 2
    said = " ".join(bad.output.split())  # the console wraps long lines
    assert "role: must be one of: admin, officer, host, analyst, auditor, border" in said
    assert "password: must be at least 10 character(s) long" in said
    no_region = runner.invoke(app, ["users", "add", "nurlan", "--role", "officer", "--regions", "99",
                                    "--password", "long-enough-password"])
    assert no_region.exit_code == 2
    assert "regions: 99 is not the code of a known region" in " ".join(no_region.output.split())


def _feed(path, event_id: str, document: str):
    path.write_text("source_event_id,direction,occurred_at,checkpoint,document_number,issuing_state,nationality,"
                    f"surname,birth_date\n{event_id},entry,2026-03-01T10:00:00+05:00,KORDAY,{document},KGZ,KGZ,ASANOV,"
                    "1990-01-01\n", encoding="utf8")
    return path


def test_audit_checkpoint_then_verify_and_truncation(home, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["import", str(_feed(tmp_path / "a.csv", "A1", "AC1234567")),
                               "--kind", "border_events"]).exit_code == 0
    engine = sa.create_engine(f"sqlite:///{home / 'kosh.db'}")
    with engine.connect() as conn:
        old_head = conn.execute(sa.text("SELECT seq, mac, tag FROM audit_head")).one()
    assert runner.invoke(app, ["import", str(_feed(tmp_path / "b.csv", "B1", "AC7654321")),
                               "--kind", "border_events"]).exit_code == 0
    r = runner.invoke(app, ["audit", "checkpoint"])
    assert r.exit_code == 0, r.output
    line = json.loads(r.stdout.splitlines()[0])
    assert line["seq"] > old_head.seq and line["signature"]
    assert (home / "audit-checkpoints.jsonl").read_text().splitlines() == [r.stdout.splitlines()[0]]
    assert (home / "audit-checkpoints.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output and "1 signed checkpoint" in r.output, r.output
    witness = tmp_path / "witness.jsonl"
    witness.write_text((home / "audit-checkpoints.jsonl").read_text())

    # Cut the chain back to the second import and restore the head of that time, tag and all.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq > :seq"), {"seq": old_head.seq})
        conn.execute(sa.text("UPDATE audit_head SET seq = :seq, mac = :mac, tag = :tag"), old_head._asdict())
    engine.dispose()
    r = runner.invoke(app, ["audit", "verify"])
    assert r.exit_code == 1
    assert f"the chain ends at {old_head.seq} but checkpoint of {line['time']} vouches for record {line['seq']}" \
        in " ".join(r.output.split()), r.output
    r = runner.invoke(app, ["audit", "checkpoint"])  # the cut chain is not signed afresh
    assert r.exit_code == 1 and "not signing" in r.output and "records were removed" in " ".join(r.output.split())
    (home / "audit-checkpoints.jsonl").unlink()  # gone from the server too: the witness's copy still tells
    r = runner.invoke(app, ["audit", "verify", "--checkpoints", str(witness)])
    assert r.exit_code == 1 and "vouches for record" in " ".join(r.output.split())
    r = runner.invoke(app, ["audit", "verify", "--checkpoints", str(tmp_path / "none.jsonl")])
    assert r.exit_code == 2 and "no checkpoint file" in r.output


def test_retention_run_dry_then_real(home, tmp_path):
    runner.invoke(app, ["init"])
    feed = tmp_path / "old.csv"
    feed.write_text("source_event_id,direction,occurred_at,checkpoint,document_number,issuing_state,nationality,"
                    "surname,birth_date\nR1,entry,2020-03-01T10:00:00+05:00,KORDAY,AC7654321,KGZ,KGZ,ASANOV,1990-01-01\n"
                    "R2,exit,2020-03-20T10:00:00+05:00,KORDAY,AC7654321,KGZ,KGZ,ASANOV,1990-01-01\n", encoding="utf8")
    assert runner.invoke(app, ["import", str(feed), "--kind", "border_events"]).exit_code == 0
    wal = home / "kosh.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # the import checkpointed the log
    dry = runner.invoke(app, ["retention", "run", "--on", "2026-12-01", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "would go" in dry.output
    real = runner.invoke(app, ["retention", "run", "--on", "2026-12-01"])
    assert real.exit_code == 0, real.output
    assert "removed" in real.output and "policy default" in real.output
    engine = db.engine_for(config.get_settings().resolved_database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM border_events")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM persons")).scalar_one() == 0
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_retention_run_refuses_a_bad_date(home):
    r = runner.invoke(app, ["retention", "run", "--on", "2026-02-30"])
    assert r.exit_code == 2 and "is not a date" in r.output

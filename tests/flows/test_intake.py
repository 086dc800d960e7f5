"""Imports: formats, rejects with row and reason, idempotent re-import, crash and resume."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factories as f
from conftest_helpers import SimulatedCrash, crash_after_chunks
from kosh.flows import intake
from kosh.platform.errors import Conflict, KoshError
from kosh.platform.security import system_principal
from kosh.stay import service
from kosh.stay.models import BorderEvent, HostNotification, ImportBatch, StayRefreshQueue, StayStatus
from kosh_demo.feeds import write_frame

ADMIN = system_principal("import tests")


def _count(ctx, model) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _rows(n: int, prefix: str = "F") -> list[dict]:
    return [f.border_event(source_event_id=f"{prefix}-{i:05d}", document_number=f"FA{i:07d}",
                           occurred_at=f"2026-02-{1 + i % 27:02d}T08:00:00+05:00") for i in range(n)]


def _write(path, rows, fmt):
    return write_frame(pl.DataFrame(rows), path, fmt)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_imports(ctx, tmp_path, fmt):
    path = _write(tmp_path / f"feed.{fmt}", _rows(12), fmt)
    report = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert (report.rows_total, report.accepted, report.rejected) == (12, 12, 0)
    assert _count(ctx, BorderEvent) == 12


def test_rejects_file_names_row_and_reason_and_stores_nothing_of_them(ctx, tmp_path):
    rows = _rows(6)
    rows[1]["nationality"] = "XYZ"
    rows[3]["birth_date"] = "1990-02-30"
    rows[4]["occurred_at"] = "2099-01-01T00:00:00+05:00"
    rows[5]["checkpoint"] = "NOWHERE"
    path = _write(tmp_path / "feed.csv", rows, "csv")
    report = intake.import_file(ctx, ADMIN, path, "border_events", rejects_dir=tmp_path / "rej")
    assert (report.accepted, report.rejected) == (2, 4)
    with open(report.rejects_path, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    by_row = {int(r["row"]): r for r in rejects}
    assert set(by_row) == {2, 4, 5, 6}
    assert by_row[2]["field"] == "nationality" and "XYZ" in by_row[2]["reason"]
    assert by_row[4]["field"] == "birth_date" and "does not exist" in by_row[4]["reason"]
    assert "future" in by_row[5]["reason"]
    assert by_row[6]["field"] == "checkpoint" and "NOWHERE is not a known checkpoint" in by_row[6]["reason"]
    with ctx.transaction() as s:
        stored = set(s.execute(sa.select(BorderEvent.source_event_id)).scalars())
    assert stored == {rows[0]["source_event_id"], rows[2]["source_event_id"]}


def test_reimport_adds_nothing(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(10), "csv")
    first = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4)
    again = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4)
    assert first.accepted == 10 and again.already_imported
    # The same rows in another file (another digest) are recognised by source_event_id.
    other = _write(tmp_path / "feed.jsonl", _rows(10), "jsonl")
    third = intake.import_file(ctx, ADMIN, other, "border_events")
    assert (third.accepted, third.duplicates) == (0, 10)
    assert _count(ctx, BorderEvent) == 10


def test_crash_mid_import_then_resume_loses_and_duplicates_nothing(ctx, tmp_path):
    rows = _rows(23)
    rows[17]["sex"] = "Q"  # one reject after the crash point
    rows[2]["nationality"] = "XYZ"  # one before it
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(SimulatedCrash):
        intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, progress=crash_after_chunks(2),
                           rejects_dir=tmp_path / "rej")
    assert _count(ctx, BorderEvent) == 9  # two chunks of 5, one row rejected
    with ctx.transaction() as s:
        batch = s.execute(sa.select(ImportBatch)).scalar_one()
        assert (batch.status, batch.rows_done) == ("running", 10)
    report = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, rejects_dir=tmp_path / "rej")
    assert report.resumed_from == 10
    assert (report.accepted, report.rejected) == (21, 2)
    assert _count(ctx, BorderEvent) == 21
    with open(report.rejects_path, newline="") as fh:
        assert sorted(int(r["row"]) for r in csv.DictReader(fh)) == [3, 18]


def test_missing_column_rejects_the_file_before_any_row(ctx, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "direction"} for r in _rows(3)]
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(KoshError, match="lacks required column.*direction"):
        intake.import_file(ctx, ADMIN, path, "border_events")
    assert _count(ctx, BorderEvent) == 0


def test_unreadable_file_is_a_clear_error(ctx, tmp_path):
    path = tmp_path / "feed.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(KoshError, match="could not be read as parquet"):
        intake.import_file(ctx, ADMIN, path, "border_events")
    text = tmp_path / "feed.txt"
    text.write_text("a,b\n1,2\n")
    with pytest.raises(KoshError, match="cannot tell the format"):
        intake.import_file(ctx, ADMIN, text, "border_events")


def test_notifications_batch_with_bad_iin(ctx, tmp_path):
    good = f.notification()
    bad = f.notification(host_id=f.HOST_IIN[:-1] + str((int(f.HOST_IIN[-1]) + 1) % 10))
    path = tmp_path / "n.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad)) + "\n", encoding="utf8")
    report = intake.import_file(ctx, ADMIN, path, "notifications", rejects_dir=tmp_path)
    assert (report.accepted, report.rejected) == (1, 1)
    with open(report.rejects_path, newline="") as fh:
        (reject,) = list(csv.DictReader(fh))
    assert reject["row"] == "2" and "check digit" in reject["reason"]
    assert _count(ctx, HostNotification) == 1


def _statuses(ctx) -> dict[str, object]:
    with ctx.transaction() as s:
        return {r.person_id: (r.in_country, r.current_entry, r.last_lawful_day, r.notification_due)
                for r in s.execute(sa.select(StayStatus)).scalars()}


def _queued(ctx) -> int:
    return _count(ctx, StayRefreshQueue)


def test_an_import_recomputes_each_touched_persons_status_once_at_its_end(ctx, tmp_path, monkeypatch):
    # One person crossing in three chunks: entry, exit, entry again.
    rows = [f.border_event(source_event_id=f"P-{i}", direction=way, occurred_at=at)
            for i, (way, at) in enumerate([("entry", "2026-01-05T08:00:00+05:00"),
                                           ("exit", "2026-01-20T08:00:00+05:00"),
                                           ("entry", "2026-02-10T08:00:00+05:00")])]
    path = _write(tmp_path / "feed.csv", rows, "csv")
    calls = []
    original = service.refresh_status

    def counting(session, ctx_, person_ids, *, defer=False):
        calls.append((list(person_ids), defer))
        return original(session, ctx_, person_ids, defer=defer)

    monkeypatch.setattr(service, "refresh_status", counting)
    intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=1)
    assert [d for _, d in calls] == [True, True, True, False]  # queued per chunk, computed once
    assert _queued(ctx) == 0
    (status,) = _statuses(ctx).values()
    assert status[0] is True and status[1].isoformat() == "2026-02-10"


def test_statuses_queued_before_a_crash_are_computed_on_resume(ctx, tmp_path):
    rows = _rows(12)
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(SimulatedCrash):
        intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, progress=crash_after_chunks(1))
    assert _queued(ctx) == 5 and _statuses(ctx) == {}
    intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert _queued(ctx) == 0
    statuses = _statuses(ctx)
    assert len(statuses) == 12 and all(s[0] for s in statuses.values())  # every one entered, none left


def test_a_crash_while_recomputing_is_finished_by_rerunning_the_file(ctx, tmp_path, monkeypatch):
    path = _write(tmp_path / "feed.csv", _rows(8), "csv")

    def crash(*args, **kwargs):
        raise SimulatedCrash("stopped while recomputing")

    monkeypatch.setattr(service, "drain_refresh_queue", crash)
    with pytest.raises(SimulatedCrash):
        intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    monkeypatch.undo()
    with ctx.transaction() as s:
        assert s.execute(sa.select(ImportBatch.status)).scalar_one() == "running"
    assert _queued(ctx) == 8
    report = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert report.accepted == 8 and _queued(ctx) == 0 and len(_statuses(ctx)) == 8
    with ctx.transaction() as s:
        assert s.execute(sa.select(ImportBatch.status)).scalar_one() == "done"


def test_recomputation_reports_its_progress(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(7), "csv")
    seen = []
    intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=3,
                       refresh_progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (7, 7)


# -- nested values, the row cap, bounded chunks ----------------------------------------------

def test_json_lines_with_nested_values_reject_those_rows_with_row_and_reason(ctx, tmp_path):
    rows = _rows(5)
    lines = [json.dumps(r) for r in rows]
    lines[1] = json.dumps({**rows[1], "surname": {"latin": "ABDULLAYEV"}})
    lines[3] = json.dumps({**rows[3], "given_names": ["SHUKHRAT", "B"]})
    lines.insert(4, "[1, 2, 3]")  # a line that is no object at all: row 5
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    report = intake.import_file(ctx, ADMIN, path, "border_events", rejects_dir=tmp_path / "rej")
    assert (report.rows_total, report.accepted, report.rejected) == (6, 3, 3)
    with open(report.rejects_path, newline="") as fh:
        by_row = {int(r["row"]): r for r in csv.DictReader(fh)}
    assert set(by_row) == {2, 4, 5}
    assert by_row[2]["field"] == "surname" and "object or a list" in by_row[2]["reason"]
    assert by_row[4]["field"] == "given_names" and "object or a list" in by_row[4]["reason"]
    assert "not a JSON object" in by_row[5]["reason"]
    with ctx.transaction() as s:
        stored = set(s.execute(sa.select(BorderEvent.source_event_id)).scalars())
    assert stored == {rows[0]["source_event_id"], rows[2]["source_event_id"], rows[4]["source_event_id"]}


def test_parquet_with_nested_columns_is_refused_before_any_row(ctx, tmp_path):
    path = tmp_path / "feed.parquet"
    pl.DataFrame(_rows(3)).with_columns(pl.struct("surname", "given_names").alias("surname")).write_parquet(path)
    with pytest.raises(KoshError, match="column.*surname hold objects or lists") as err:
        intake.import_file(ctx, ADMIN, path, "border_events")
    assert err.value.status == 422
    assert _count(ctx, BorderEvent) == 0 and _count(ctx, ImportBatch) == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_file_over_the_row_cap_is_refused_before_anything_is_stored(ctx, tmp_path, fmt):
    ctx.settings.max_import_rows = 5
    path = _write(tmp_path / f"feed.{fmt}", _rows(6), fmt)
    with pytest.raises(KoshError, match=r"feed\.\w+ holds more than 5 rows") as err:
        intake.import_file(ctx, ADMIN, path, "border_events")
    assert err.value.status == 413 and err.value.problem()["status"] == 413
    assert _count(ctx, BorderEvent) == 0 and _count(ctx, ImportBatch) == 0
    exact = _write(tmp_path / f"five.{fmt}", _rows(5, prefix="G"), fmt)
    assert intake.import_file(ctx, ADMIN, exact, "border_events").accepted == 5


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 40), size=st.integers(1, 12), skip=st.integers(0, 45),
       fmt=st.sampled_from(["csv", "jsonl", "parquet"]))
def test_chunks_hold_at_most_their_size_and_resume_exactly_after_the_cursor(tmp_path_factory, monkeypatch, n, size,
                                                                           skip, fmt):
    # Small Arrow batches, so that chunks are cut across batch boundaries.
    monkeypatch.setattr(intake, "READ_BATCH_ROWS", 3)
    monkeypatch.setattr(intake, "CSV_BLOCK_BYTES", 64)
    rows = [{"source_event_id": f"S-{i}", "surname": f"N{i}"} for i in range(n)]
    path = tmp_path_factory.mktemp("chunks") / f"f.{fmt}"
    schema = {"source_event_id": pl.String, "surname": pl.String}
    write_frame(pl.DataFrame(rows, schema=schema), path, fmt)
    source = intake.scan(path, fmt, 1000)
    source.used = ["source_event_id", "surname"]
    chunks = list(intake.read_chunks(source, size, skip=skip))
    assert source.rows == n
    assert all(0 < len(c) <= size for c in chunks)
    assert [r for c in chunks for r in c] == rows[skip:]


def test_rows_are_numbered_alike_on_resume_in_every_reader(ctx, tmp_path):
    """JSON Lines counts non-blank lines: a blank line does not shift the rows after a crash."""
    rows = _rows(9)
    rows[7]["sex"] = "Q"
    path = tmp_path / "feed.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(3, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    with pytest.raises(SimulatedCrash):
        intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4, progress=crash_after_chunks(1),
                           rejects_dir=tmp_path / "rej")
    report = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4, rejects_dir=tmp_path / "rej")
    assert (report.resumed_from, report.accepted, report.rejected) == (4, 8, 1)
    with open(report.rejects_path, newline="") as fh:
        assert [r["row"] for r in csv.DictReader(fh)] == ["8"]


# -- rejects files: owner-only, safe to open in a spreadsheet --------------------------------

def test_rejects_file_is_owner_only_and_safe_to_open_in_a_spreadsheet(ctx, tmp_path):
    os.chmod(ctx.settings.home, 0o755)  # as an earlier version left it
    rows = _rows(3)
    rows[1].update(source_event_id="=HYPERLINK(\"http://evil.example\",\"x\")", nationality="XYZ")
    rows[2].update(source_event_id="@SUM(1+1)", sex="-1+2")
    path = _write(tmp_path / "feed.csv", rows, "csv")
    report = intake.import_file(ctx, ADMIN, path, "border_events")
    rejects = Path(report.rejects_path)
    assert rejects.parent == ctx.settings.home / "rejects"
    assert stat.S_IMODE(ctx.settings.home.stat().st_mode) == 0o700
    assert stat.S_IMODE(rejects.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    with rejects.open(newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells and "'@SUM(1+1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


# -- one importer per file -------------------------------------------------------------------

def test_a_second_import_of_a_file_being_imported_is_told_by_whom_and_since_when(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(12), "csv")
    first_chunk, go_on = threading.Event(), threading.Event()
    outcome: dict = {}

    def slow_progress(done, total):
        if done == 4:
            first_chunk.set()
            go_on.wait(30)

    def first():
        try:
            outcome["report"] = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4,
                                                   progress=slow_progress)
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert first_chunk.wait(30)
        other = system_principal("second import")
        with pytest.raises(Conflict, match=r"being imported by system since \d{4}-\d\d-\d\d \d\d:\d\d UTC") as err:
            intake.import_file(ctx, other, path, "border_events", chunk_rows=4)
        assert err.value.status == 409
        with ctx.transaction() as s:
            (batch,) = s.execute(sa.select(ImportBatch)).scalars()
        assert batch.status == "running" and intake.being_imported(ctx, batch)
    finally:
        go_on.set()
        worker.join(60)
    assert "error" not in outcome and outcome["report"].accepted == 12
    assert _count(ctx, BorderEvent) == 12 and _count(ctx, ImportBatch) == 1
    assert intake.import_file(ctx, ADMIN, path, "border_events").already_imported


def test_two_imports_of_one_file_started_together_store_each_row_once(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(30), "csv")
    start = threading.Barrier(2)
    outcomes: list = []

    def run():
        start.wait(10)
        try:
            outcomes.append(intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5))
        except BaseException as exc:  # handed to the test thread
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 2
    assert all(isinstance(o, (intake.ImportReport, Conflict)) for o in outcomes), outcomes
    assert any(isinstance(o, intake.ImportReport) and not o.already_imported for o in outcomes)
    assert _count(ctx, BorderEvent) == 30 and _count(ctx, ImportBatch) == 1
    with ctx.transaction() as s:
        assert s.execute(sa.select(ImportBatch.status)).scalar_one() == "done"


KILLED_IMPORT = """
import os, signal, sys
import sqlalchemy as sa
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring
from kosh.platform.security import system_principal
from kosh.flows import intake

url, options, home, keys, path = sys.argv[1:6]
engine = sa.create_engine(url, connect_args={"options": options} if options else {})
ctx = Context(Settings(home=home), engine, Keyring.from_json(keys, "test"))

def die(done, total):
    if done >= 10:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind, as when a server is killed

intake.import_file(ctx, system_principal("killed"), path, "border_events", chunk_rows=5, progress=die)
"""


def test_an_import_whose_process_died_is_resumed_by_a_rerun(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(23), "csv")
    options = ""
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect() as conn:
            options = f"-csearch_path={conn.execute(sa.text('SHOW search_path')).scalar_one()}"
    url = ctx.engine.url.render_as_string(hide_password=False)
    child = subprocess.run([sys.executable, "-c", KILLED_IMPORT, url, options, str(ctx.settings.home),
                            ctx.keyring.to_json(), str(path)], capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with ctx.transaction() as s:
        batch = s.execute(sa.select(ImportBatch)).scalar_one()
        s.expunge(batch)
    assert (batch.status, batch.rows_done) == ("running", 10)
    assert not intake.being_imported(ctx, batch)  # its lock died with it
    report = intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert (report.resumed_from, report.accepted) == (10, 23)
    assert _count(ctx, BorderEvent) == 23


def test_one_person_under_many_documents_across_chunks_is_linked_into_one(ctx, tmp_path):
    """Rows of one person under thirty documents, five a chunk: each chunk's new persons are linked
    to those of the chunks before, and a person merged in an earlier chunk is merged no second time
    (the import once stopped with 'person … was merged into … already')."""
    rows = [f.notification(source_event_id=f"W-{i}", document_number=f"FW{i:07d}") for i in range(30)]
    path = tmp_path / "feed.csv"
    pl.DataFrame(rows).write_csv(path)
    report = intake.import_file(ctx, ADMIN, path, "notifications", chunk_rows=5)
    assert (report.accepted, report.rejected) == (30, 0)
    with ctx.transaction() as s:
        people = s.execute(sa.select(HostNotification.person_id).distinct()).scalars().all()
    assert len(people) == 1


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_rejects_are_said_in_the_importers_language_with_the_fields_label(ctx, tmp_path, lang):
    from kosh.platform.i18n import translations

    rows = _rows(3)
    rows[1]["checkpoint"] = "NOWHERE"
    rows[2]["birth_date"] = "1990-02-30"
    path = _write(tmp_path / "feed.csv", rows, "csv")
    report = intake.import_file(ctx, ADMIN, path, "border_events", rejects_dir=tmp_path / "rej", lang=lang)
    with open(report.rejects_path, newline="", encoding="utf8") as fh:
        by_row = {int(r["row"]): r for r in csv.DictReader(fh)}
    words = translations(lang).gettext
    assert by_row[2]["field"] == "checkpoint"  # the code stays, for a program reading the file
    assert by_row[2]["reason"].startswith(words("Checkpoint") + ": ") and "NOWHERE" in by_row[2]["reason"]
    assert words("%(code)s is not a known checkpoint") != "%(code)s is not a known checkpoint"
    assert "known checkpoint" not in by_row[2]["reason"]
    assert by_row[3]["reason"].startswith(words("Date of birth") + ": ") and "does not exist" not in by_row[3]["reason"]

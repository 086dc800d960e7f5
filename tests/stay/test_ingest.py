"""Imports: formats, rejects with row and reason, idempotent re-import, crash and resume."""

from __future__ import annotations

import csv
import json

import polars as pl
import pytest
import sqlalchemy as sa

import factories as f
from kosh.core.errors import KoshError
from kosh.core.security import system_principal
from kosh.demo.feeds import write_frame
from kosh.stay import ingest, service
from kosh.stay.models import BorderEvent, HostNotification, ImportBatch, StayRefreshQueue, StayStatus

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
    report = ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert (report.rows_total, report.accepted, report.rejected) == (12, 12, 0)
    assert _count(ctx, BorderEvent) == 12


def test_rejects_file_names_row_and_reason_and_stores_nothing_of_them(ctx, tmp_path):
    rows = _rows(6)
    rows[1]["nationality"] = "XYZ"
    rows[3]["birth_date"] = "1990-02-30"
    rows[4]["occurred_at"] = "2099-01-01T00:00:00+05:00"
    rows[5]["checkpoint"] = "NOWHERE"
    path = _write(tmp_path / "feed.csv", rows, "csv")
    report = ingest.import_file(ctx, ADMIN, path, "border_events", rejects_dir=tmp_path / "rej")
    assert (report.accepted, report.rejected) == (2, 4)
    with open(report.rejects_path, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    by_row = {int(r["row"]): r for r in rejects}
    assert set(by_row) == {2, 4, 5, 6}
    assert by_row[2]["field"] == "nationality" and "XYZ" in by_row[2]["reason"]
    assert by_row[4]["field"] == "birth_date" and "does not exist" in by_row[4]["reason"]
    assert "future" in by_row[5]["reason"]
    assert "unknown checkpoint 'NOWHERE'" in by_row[6]["reason"]
    with ctx.transaction() as s:
        stored = set(s.execute(sa.select(BorderEvent.source_event_id)).scalars())
    assert stored == {rows[0]["source_event_id"], rows[2]["source_event_id"]}


def test_reimport_adds_nothing(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(10), "csv")
    first = ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4)
    again = ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=4)
    assert first.accepted == 10 and again.already_imported
    # The same rows in another file (another digest) are recognised by source_event_id.
    other = _write(tmp_path / "feed.jsonl", _rows(10), "jsonl")
    third = ingest.import_file(ctx, ADMIN, other, "border_events")
    assert (third.accepted, third.duplicates) == (0, 10)
    assert _count(ctx, BorderEvent) == 10


def test_crash_mid_import_then_resume_loses_and_duplicates_nothing(ctx, tmp_path):
    rows = _rows(23)
    rows[17]["sex"] = "Q"  # one reject after the crash point
    rows[2]["nationality"] = "XYZ"  # one before it
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(ingest.SimulatedCrash):
        ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, crash_after_chunks=2,
                           rejects_dir=tmp_path / "rej")
    assert _count(ctx, BorderEvent) == 9  # two chunks of 5, one row rejected
    with ctx.transaction() as s:
        batch = s.execute(sa.select(ImportBatch)).scalar_one()
        assert (batch.status, batch.rows_done) == ("running", 10)
    report = ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, rejects_dir=tmp_path / "rej")
    assert report.resumed_from == 10
    assert (report.accepted, report.rejected) == (21, 2)
    assert _count(ctx, BorderEvent) == 21
    with open(report.rejects_path, newline="") as fh:
        assert sorted(int(r["row"]) for r in csv.DictReader(fh)) == [3, 18]


def test_missing_column_rejects_the_file_before_any_row(ctx, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "direction"} for r in _rows(3)]
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(KoshError, match="lacks required column.*direction"):
        ingest.import_file(ctx, ADMIN, path, "border_events")
    assert _count(ctx, BorderEvent) == 0


def test_unreadable_file_is_a_clear_error(ctx, tmp_path):
    path = tmp_path / "feed.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(KoshError, match="could not be read as parquet"):
        ingest.import_file(ctx, ADMIN, path, "border_events")
    text = tmp_path / "feed.txt"
    text.write_text("a,b\n1,2\n")
    with pytest.raises(KoshError, match="cannot tell the format"):
        ingest.import_file(ctx, ADMIN, text, "border_events")


def test_notifications_batch_with_bad_iin(ctx, tmp_path):
    good = f.notification()
    bad = f.notification(host_id=f.HOST_IIN[:-1] + str((int(f.HOST_IIN[-1]) + 1) % 10))
    path = tmp_path / "n.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad)) + "\n", encoding="utf8")
    report = ingest.import_file(ctx, ADMIN, path, "notifications", rejects_dir=tmp_path)
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
    ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=1)
    assert [d for _, d in calls] == [True, True, True, False]  # queued per chunk, computed once
    assert _queued(ctx) == 0
    (status,) = _statuses(ctx).values()
    assert status[0] is True and status[1].isoformat() == "2026-02-10"


def test_statuses_queued_before_a_crash_are_computed_on_resume(ctx, tmp_path):
    rows = _rows(12)
    path = _write(tmp_path / "feed.csv", rows, "csv")
    with pytest.raises(ingest.SimulatedCrash):
        ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5, crash_after_chunks=1)
    assert _queued(ctx) == 5 and _statuses(ctx) == {}
    ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert _queued(ctx) == 0
    statuses = _statuses(ctx)
    assert len(statuses) == 12 and all(s[0] for s in statuses.values())  # every one entered, none left


def test_a_crash_while_recomputing_is_finished_by_rerunning_the_file(ctx, tmp_path, monkeypatch):
    path = _write(tmp_path / "feed.csv", _rows(8), "csv")

    def crash(*args, **kwargs):
        raise ingest.SimulatedCrash("stopped while recomputing")

    monkeypatch.setattr(service, "drain_refresh_queue", crash)
    with pytest.raises(ingest.SimulatedCrash):
        ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    monkeypatch.undo()
    with ctx.transaction() as s:
        assert s.execute(sa.select(ImportBatch.status)).scalar_one() == "running"
    assert _queued(ctx) == 8
    report = ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=5)
    assert report.accepted == 8 and _queued(ctx) == 0 and len(_statuses(ctx)) == 8
    with ctx.transaction() as s:
        assert s.execute(sa.select(ImportBatch.status)).scalar_one() == "done"


def test_recomputation_reports_its_progress(ctx, tmp_path):
    path = _write(tmp_path / "feed.csv", _rows(7), "csv")
    seen = []
    ingest.import_file(ctx, ADMIN, path, "border_events", chunk_rows=3,
                       refresh_progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (7, 7)

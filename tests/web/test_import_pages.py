"""The import pages: refusals as problem+json, rejects and progress only for their importer and
admins, uploads owner-only and never left behind."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.flows import intake
from kosh.platform.i18n import translations
from kosh.platform.models import AuditRecord, Job, User
from kosh.stay.models import HostNotification, ImportBatch
from kosh.web.app import create_app


def _signed_in(app, username: str, password: str) -> TestClient:
    c = TestClient(app)
    r = c.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _csrf(c: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get("/import").text).group(1)


def _feed(tmp_path, n: int = 6, name: str = "feed.csv") -> bytes:
    """Host notifications in Almaty (officers import these; crossings come from the border feed)."""
    rows = [f.notification(source_event_id=f"W-{i}", document_number=f"FW{i:07d}") for i in range(n)]
    rows[1]["citizenship"] = "XYZ"
    path = tmp_path / name
    pl.DataFrame(rows).write_csv(path)
    return path.read_bytes()


def _upload(c: TestClient, content: bytes, name: str = "feed.csv", **headers):
    return c.post("/import", data={"kind": "notifications", "csrf_token": _csrf(c)},
                  files={"file": (name, content, "text/csv")}, headers=headers)


def _finished(ctx, timeout: float = 60) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.transaction() as s:
            batch = s.execute(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).scalars().first()
            if batch is not None and batch.status != "running":
                s.expunge(batch)
                return batch
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def _uploads(ctx) -> list:
    folder = ctx.settings.home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def app(ctx, users):
    ctx.settings.job_poll_seconds = 0.1
    app = create_app(ctx)
    with TestClient(app):  # runs the app's lifespan: its job runner imports the uploads
        yield app


def test_rejects_and_progress_belong_to_the_importer_and_admins(app, ctx, users, tmp_path):
    almaty, south, admin = (_signed_in(app, u, users) for u in ("almaty", "south", "admin"))
    assert _upload(almaty, _feed(tmp_path)).status_code == 200
    batch = _finished(ctx)
    assert batch.started_by == "almaty" and batch.rows_rejected == 1
    mine = almaty.get(f"/import/rejects/{batch.id}")
    assert mine.status_code == 200 and "2,W-1,citizenship" in mine.text
    assert admin.get(f"/import/rejects/{batch.id}").text == mine.text
    assert almaty.get(f"/import/batches/{batch.id}").status_code == 200
    assert admin.get(f"/import/batches/{batch.id}").status_code == 200
    # Another officer is told exactly what a missing batch would tell them.
    for page in ("rejects", "batches"):
        theirs, missing = south.get(f"/import/{page}/{batch.id}"), south.get(f"/import/{page}/{batch.id + 99}")
        assert theirs.status_code == missing.status_code == 404
        assert re.sub(r"batch \d+", "batch N", theirs.text) == re.sub(r"batch \d+", "batch N", missing.text)
        assert f"batch {batch.id}" in theirs.text
        assert "W-1" not in theirs.text


def test_upload_is_owner_only_and_removed_once_imported(app, ctx, users, tmp_path):
    ctx.settings.home.chmod(0o755)  # as an earlier version left it
    almaty = _signed_in(app, "almaty", users)
    seen_modes = []
    original = intake.prepare_import

    def spying(ctx_, principal, path, kind, **kw):
        seen_modes.append((stat.S_IMODE(path.parent.stat().st_mode), stat.S_IMODE(path.stat().st_mode)))
        return original(ctx_, principal, path, kind, **kw)

    intake.prepare_import, restore = spying, intake.prepare_import
    try:
        assert _upload(almaty, _feed(tmp_path)).status_code == 200
    finally:
        intake.prepare_import = restore
    batch = _finished(ctx)
    assert seen_modes == [(0o700, 0o600)]
    assert stat.S_IMODE(ctx.settings.home.stat().st_mode) == 0o700
    assert stat.S_IMODE((ctx.settings.home / "rejects").stat().st_mode) == 0o700
    rejects = ctx.settings.home / "rejects" / f"rejects-{batch.id}-notifications.csv"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    deadline = time.monotonic() + 10
    while _uploads(ctx) and time.monotonic() < deadline:  # removed just after the batch is marked done
        time.sleep(0.05)
    assert _uploads(ctx) == []


def test_refused_and_failed_uploads_are_removed(app, ctx, users, tmp_path, monkeypatch):
    almaty = _signed_in(app, "almaty", users)
    no_column = pl.DataFrame([{k: v for k, v in f.notification().items() if k != "arrival_date"}])
    r = _upload(almaty, no_column.write_csv().encode())
    assert r.status_code == 422 and "lacks required column" in r.text
    assert _uploads(ctx) == []

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(intake, "prepare_import", broken)
    try:
        assert _upload(almaty, _feed(tmp_path)).status_code == 500
    except RuntimeError:  # a test client that re-raises server errors
        pass
    assert _uploads(ctx) == []
    monkeypatch.undo()

    monkeypatch.setattr(intake, "run_import", broken)
    assert _upload(almaty, _feed(tmp_path)).status_code == 200
    assert _finished(ctx).status == "failed"
    deadline = time.monotonic() + 10
    while _uploads(ctx) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uploads(ctx) == []


def test_a_file_over_the_row_cap_is_refused_as_problem_json_in_the_readers_language(app, ctx, users, tmp_path):
    ctx.settings.max_import_rows = 5
    almaty = _signed_in(app, "almaty", users)
    r = _upload(almaty, _feed(tmp_path, n=6), accept="application/problem+json", **{"accept-language": "ru"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 413 and body["type"] == "urn:kosh:problem:too-many-rows"
    expected = translations("ru").gettext(intake.TOO_MANY_ROWS)
    assert expected != intake.TOO_MANY_ROWS
    assert re.fullmatch(re.escape(expected).replace(re.escape("%(name)s"), r"\w+\.csv")
                        .replace(re.escape("%(limit)s"), "5"), body["detail"]), body["detail"]
    page = _upload(almaty, _feed(tmp_path, n=6))
    assert page.status_code == 413 and "holds more than 5 rows" in page.text
    assert _uploads(ctx) == []
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ImportBatch)).scalar_one() == 0
        assert s.execute(sa.select(sa.func.count()).select_from(HostNotification)).scalar_one() == 0


def test_an_upload_of_a_file_being_imported_is_a_409_naming_the_importer(app, ctx, users, tmp_path):
    content = _feed(tmp_path)
    digest = __import__("hashlib").sha256(content).hexdigest()
    with ctx.transaction() as s:
        s.add(ImportBatch(kind="notifications", filename="feed.csv", content_sha256=digest, rows_total=6,
                          started_by="almaty", status="running"))
    held = intake.try_lock(ctx, "notifications", digest)  # the first importer is still at work
    try:
        south = _signed_in(app, "south", users)
        r = _upload(south, content, accept="application/problem+json")
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
        assert re.search(r"being imported by almaty since \d{4}-\d\d-\d\d \d\d:\d\d UTC", r.json()["detail"])
        page = _upload(south, content)
        assert page.status_code == 409 and "being imported by almaty" in page.text
    finally:
        held.release()
    assert _uploads(ctx) == []


def test_progress_of_an_import_whose_importer_died_says_so_and_stops_polling(app, ctx, users):
    with ctx.transaction() as s:
        batch = ImportBatch(kind="border_events", filename="feed.csv", content_sha256="1" * 64, rows_total=10,
                            rows_done=5, started_by="almaty", status="running")
        s.add(batch)
        s.flush()
        batch_id = batch.id
    almaty = _signed_in(app, "almaty", users)
    held = intake.try_lock(ctx, "border_events", "1" * 64)
    try:
        r = almaty.get(f"/import/batches/{batch_id}")
        assert 'data-batch-status="running"' in r.text and "hx-get" in r.text
    finally:
        held.release()
    r = almaty.get(f"/import/batches/{batch_id}")
    assert 'data-batch-status="interrupted"' in r.text and "hx-get" not in r.text
    assert "Import the same file again to resume" in r.text


def test_the_page_offers_only_the_kinds_the_user_may_import_and_refuses_the_others(app, ctx, users, tmp_path):
    almaty = _signed_in(app, "almaty", users)
    page = almaty.get("/import").text
    assert 'value="notifications"' in page and 'value="border_events"' not in page
    r = almaty.post("/import", data={"kind": "border_events", "csrf_token": _csrf(almaty)},
                    files={"file": ("feed.csv", _feed(tmp_path), "text/csv")})
    assert r.status_code == 403 and "may not record border crossings" in r.text
    assert _uploads(ctx) == []
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ImportBatch)).scalar_one() == 0


def _job_rows(ctx) -> list[Job]:
    with ctx.transaction() as s:
        found = list(s.execute(sa.select(Job).order_by(Job.id)).scalars())
        s.expunge_all()
        return found


def test_an_import_waiting_for_a_runner_is_not_interrupted_and_the_next_server_start_runs_it(ctx, users, tmp_path):
    ctx.settings.job_workers, ctx.settings.job_poll_seconds = 0, 0.1  # a server whose runner is not running
    app = create_app(ctx)
    with TestClient(app):
        almaty = _signed_in(app, "almaty", users)
        assert _upload(almaty, _feed(tmp_path)).status_code == 200
        (job,) = _job_rows(ctx)
        assert (job.kind, job.state) == ("import", "queued")
        assert set(job.payload) == {"batch_id", "path", "kind", "username", "purpose", "system", "lang"}
        assert job.payload["lang"] == "en"  # the importer's language, for the reasons of the rejects
        assert job.payload["username"] == "almaty" and Path(job.payload["path"]).parent == _uploads(ctx)[0]
        page = almaty.get(f"/import/batches/{job.payload['batch_id']}").text
        assert 'data-batch-status="running"' in page and "hx-get" in page
    ctx.settings.job_workers = 1
    with TestClient(create_app(ctx)):
        batch = _finished(ctx)
        _wait_for_uploads_removed(ctx)
    assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("done", 5, 1)
    (job,) = _job_rows(ctx)
    assert (job.state, job.attempts) == ("done", 1)


def _wait_for_uploads_removed(ctx) -> None:
    deadline = time.monotonic() + 10
    while _uploads(ctx) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uploads(ctx) == []


KILLED_RUNNER = """
import os, signal, sys, time
import sqlalchemy as sa
from kosh.platform import db, jobs
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring
from kosh.flows import intake, jobs as flow_jobs

url, options, home, keys = sys.argv[1:5]
engine = db.make_engine(url) if url.startswith("sqlite") else sa.create_engine(url, connect_args={"options": options})
ctx = Context(Settings(home=home, import_chunk_rows=5), engine, Keyring.from_json(keys, "test"))

def die(done, total):
    if done >= 10:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind, as when a server is killed

run_import = intake.run_import
intake.run_import = lambda ctx, principal, prepared, **kw: run_import(ctx, principal, prepared,
                                                                     **(kw | {"progress": die}))
flow_jobs.register_handlers()
jobs.Runner(ctx, workers=1, lease_seconds=1, poll_seconds=0.05).start()
for _ in range(1200):  # until killed; a job that failed instead ends the wait at once
    time.sleep(0.1)
    with ctx.transaction() as s:
        if s.execute(sa.text("SELECT state FROM jobs")).scalar() == "failed":
            sys.exit(4)
"""


def _persons_feed(tmp_path, n: int) -> bytes:
    """`n` notifications of `n` different persons (so identity linkage merges none), row 2 rejected."""
    rows = [f.notification(source_event_id=f"W-{i}", document_number=f"FW{i:07d}", given_names=f"Шухрат{i}",
                           birth_date=f"19{50 + i}-05-17") for i in range(n)]
    rows[1]["citizenship"] = "XYZ"
    path = tmp_path / "persons.csv"
    pl.DataFrame(rows).write_csv(path)
    return path.read_bytes()


def test_an_import_whose_server_was_killed_is_resumed_by_the_next_server_and_nothing_is_lost_or_doubled(
        ctx, users, tmp_path):
    ctx.settings.job_workers, ctx.settings.job_poll_seconds = 0, 0.1
    app = create_app(ctx)
    with TestClient(app):
        almaty = _signed_in(app, "almaty", users)
        assert _upload(almaty, _persons_feed(tmp_path, 23)).status_code == 200
        options = ""
        if ctx.engine.dialect.name == "postgresql":
            with ctx.engine.connect() as conn:
                options = f"-csearch_path={conn.execute(sa.text('SHOW search_path')).scalar_one()}"
        url = ctx.engine.url.render_as_string(hide_password=False)
        child = subprocess.Popen([sys.executable, "-c", KILLED_RUNNER, url, options, str(ctx.settings.home),
                                  ctx.keyring.to_json()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, stderr
        (job,) = _job_rows(ctx)
        assert (job.state, job.attempts) == ("running", 1) and job.owner.split(":")[-2] == str(child.pid)
        with ctx.transaction() as s:
            batch = s.execute(sa.select(ImportBatch)).scalar_one()
            assert (batch.status, batch.rows_done) == ("running", 10)
        # Its runner is dead but the job stands: the next runner to look takes it over.
        page = almaty.get(f"/import/batches/{batch.id}").text
        assert 'data-batch-status="running"' in page and "hx-get" in page
    ctx.settings.job_workers = 1
    with TestClient(create_app(ctx)):
        batch = _finished(ctx)
        _wait_for_uploads_removed(ctx)
    assert (batch.status, batch.rows_done, batch.rows_accepted, batch.rows_rejected) == ("done", 23, 22, 1)
    (job,) = _job_rows(ctx)
    assert (job.state, job.attempts, job.last_error) == ("done", 2, None)
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(HostNotification)).scalar_one() == 22
        submitters = set(s.execute(sa.select(HostNotification.submitted_by)).scalars())
        almaty_id = s.execute(sa.select(User.id).where(User.username == "almaty")).scalar_one()
        actors = {tuple(r) for r in s.execute(sa.select(AuditRecord.actor, AuditRecord.role, AuditRecord.purpose)
                                              .where(AuditRecord.subject_type == "host_notification"))}
    assert submitters == {almaty_id}
    assert actors == {("almaty", "officer", "POST /import")}  # the same actor before and after the restart
    rejects = ctx.settings.home / "rejects" / f"rejects-{batch.id}-notifications.csv"
    assert [line.split(",")[:3] for line in rejects.read_text().splitlines()[1:]] == [["2", "W-1", "citizenship"]]


def test_a_failed_import_job_records_its_error_class_and_fails_the_batch(app, ctx, users, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("row 2: Абдуллаев Шухрат FW0000001")

    monkeypatch.setattr(intake, "run_import", broken)
    assert _upload(_signed_in(app, "almaty", users), _feed(tmp_path)).status_code == 200
    assert _finished(ctx).status == "failed"
    deadline = time.monotonic() + 10
    while _job_rows(ctx)[0].state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    (job,) = _job_rows(ctx)
    assert (job.state, job.attempts, job.last_error) == ("failed", 1, "RuntimeError")


def test_the_batch_and_its_page_name_the_users_file_not_the_servers_copy(app, ctx, users, tmp_path):
    almaty = _signed_in(app, "almaty", users)
    r = _upload(almaty, _feed(tmp_path), name="../Almaty notifications 03.CSV")
    assert r.status_code == 200
    batch = _finished(ctx)
    assert batch.filename == "Almaty notifications 03.CSV"
    page = almaty.get(f"/import/batches/{batch.id}")
    assert "Almaty notifications 03.CSV" in page.text
    deadline = time.monotonic() + 10
    while _uploads(ctx) and time.monotonic() < deadline:  # the copy and its own folder both go
        time.sleep(0.05)
    assert _uploads(ctx) == []
    refused = _upload(almaty, b"a,b\n1,2\n", name="notes.txt")
    assert "notes.txt" in refused.text and _uploads(ctx) == []

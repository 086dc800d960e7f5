"""The import pages: refusals as problem+json, rejects and progress only for their importer and
admins, uploads owner-only and never left behind."""

from __future__ import annotations

import re
import stat
import time

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.flows import intake
from kosh.platform.i18n import translations
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


def _upload(c: TestClient, content: bytes, name: str = "feed.csv", **headers):  # noqa: ANN202
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
    return create_app(ctx)


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

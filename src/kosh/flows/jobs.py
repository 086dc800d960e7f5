"""The intake flow's background job: an import started from the page, run by the platform's job
runner (`kosh.platform.jobs`), so that a restart of the server resumes it from the batch's cursor.
`register_handlers` is called by the web app before it starts its runner."""

from __future__ import annotations

import time
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy.orm import Session

from kosh.flows import intake
from kosh.platform import auth, jobs
from kosh.platform.context import Context
from kosh.platform.errors import Conflict
from kosh.platform.files import discard_upload
from kosh.platform.security import Principal, system_principal

IMPORT = "import"


def submit_import(session: Session, prepared: intake.PreparedImport, path: PurePath, principal: Principal,
                  lang: str = "en") -> int:
    """Queue the import of an uploaded file that `prepare_import` checked (its lock released):
    the upload's private path, the batch, who imports it and in which language they read the
    rejects — nothing from the file."""
    return jobs.submit(session, IMPORT, {
        "batch_id": prepared.batch_id, "path": str(path), "kind": prepared.kind, "lang": lang,
        "username": principal.username, "purpose": principal.purpose, "system": principal.user_id is None})


def import_pending(ctx: Context, batch_id: int) -> bool:
    """Whether a job is to import (or importing) this batch: its page must not call it interrupted."""
    with ctx.transaction() as s:
        return any(p.get("batch_id") == batch_id for p in jobs.pending(s, IMPORT))


def _principal(ctx: Context, payload: dict[str, Any]) -> Principal:
    """The importer again, as the page had them (the same audit actor and purpose); an account
    closed meanwhile imports no more."""
    if payload.get("system"):
        return system_principal(payload.get("purpose", ""))
    with ctx.transaction() as s:
        user = auth.user_by_name(s, payload["username"])
        if user is None or not user.active:
            raise jobs.Failed("the importing account is gone or inactive")
        return auth.principal_for(user, payload.get("purpose", ""), ctx.keyring)


def _reopen(ctx: Context, principal: Principal, payload: dict[str, Any]) -> intake.PreparedImport:
    """The file's lock, waiting while another importer holds it (a rerun of the same file, or the
    progress page looking whether anyone does): then its batch is done, or ours to resume."""
    wait = 0.05
    while True:
        try:
            return intake.reopen_import(ctx, principal, Path(payload["path"]), payload["kind"], payload["batch_id"])
        except Conflict:
            jobs.check_stop()
            time.sleep(wait)
            wait = min(wait * 2, 2.0)


def _stop_point(_done: int, _total: int) -> None:
    jobs.check_stop()  # after a committed chunk: a server going down hands the job back here


def run_import_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Import the uploaded file, resuming after the batch's last committed chunk; the upload is
    removed once the import is done or has failed (not when the server stops: the job resumes)."""
    path, batch_id = Path(payload["path"]), payload["batch_id"]
    found = intake.batch(ctx, batch_id)
    if found is not None and found.status == "done":  # finished by another importer, or before a crash
        discard_upload(path)
        return
    try:
        principal = _principal(ctx, payload)
        with _reopen(ctx, principal, payload) as prepared:  # holds the file's lock until the import ends
            intake.run_import(ctx, principal, prepared, progress=_stop_point, refresh_progress=_stop_point,
                              lang=str(payload.get("lang") or "en"))
    except Exception:
        intake.mark_failed(ctx, batch_id)  # recorded on the batch; the file can be imported again to resume
        discard_upload(path)
        raise
    discard_upload(path)


def give_up_import(ctx: Context, payload: dict[str, Any]) -> None:
    """An import whose every run took its server down: failed, its upload removed."""
    intake.mark_failed(ctx, payload["batch_id"])
    discard_upload(Path(payload["path"]))


def register_handlers() -> None:
    jobs.register(IMPORT, run_import_job, give_up=give_up_import)

"""Pages to import a feed file: upload, progress, rejects. The import is the intake flow
(`kosh.flows.intake`), so its pages sit in the web layer above it."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from kosh.flows import import_history as history
from kosh.flows import intake
from kosh.flows import jobs as flow_jobs
from kosh.platform.context import Context
from kosh.platform.errors import KoshError, NotFound
from kosh.platform.files import discard_upload, open_private, private_dir, upload_path
from kosh.platform.http import check_csrf, get_ctx, require_principal
from kosh.platform.i18n import say
from kosh.platform.pages import render, request_lang
from kosh.platform.security import Permission, Principal
from kosh.platform.validation import MAX_ID
from kosh.platform.words import N_, Msg
from kosh.web.when import moment_writer

router = APIRouter(include_in_schema=False)
# An id past the 32-bit id column names no batch: refused before any query (SQLite overflows at 2**63).
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/import")
def import_page(request: Request) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    return render(request, "import.html", kinds=intake.kinds_for(principal))


def _wants_problem(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/problem+json" in accept or ("application/json" in accept and "text/html" not in accept)


def _import_refused(request: Request, principal: Principal, exc: KoshError) -> Response:
    """The import page with the reason (or RFC 9457 problem+json for a client that asks for JSON)."""
    if _wants_problem(request):
        body = exc.problem(instance=request.url.path) | {"detail": say(exc.detail, request_lang(request))}
        return JSONResponse(body, status_code=exc.status, media_type="application/problem+json")
    return render(request, "import.html", status_code=exc.status, kinds=intake.kinds_for(principal), error=exc)


@router.post("/import")
async def import_upload(request: Request, kind: str = Form(...), csrf_token: str = Form(""),
                        file: UploadFile = File(...), ctx: Context = Depends(get_ctx)) -> Response:
    """Checks the whole file at once, then imports in the background (a job: a restart of the
    server resumes it); the page shows progress. The uploaded copy is owner-only and removed once
    its import is done, failed or refused."""
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    check_csrf(request, csrf_token)
    uploads = private_dir(private_dir(ctx.settings.home) / "uploads")
    path = upload_path(uploads, file.filename)
    handed_over = False
    try:
        with open_private(path, "wb") as fh:
            while chunk := await file.read(1 << 20):
                fh.write(chunk)
        try:
            prepared = await run_in_threadpool(intake.prepare_import, ctx, principal, path, kind)
        except KoshError as exc:
            return _import_refused(request, principal, exc)
        if prepared.report.already_imported:
            prepared.release()
            # Rows are idempotent: importing the same content again would add nothing, so the
            # page says when and by whom it was imported instead of offering to go on.
            return render(request, "import.html", kinds=intake.kinds_for(principal),
                          batch=intake.batch(ctx, prepared.batch_id), already=True,
                          when=moment_writer(ctx, request_lang(request)))
        prepared.release()  # the job takes the file's lock again, in whichever server process runs it
        await run_in_threadpool(_submit, ctx, prepared, path, principal, request_lang(request))
        handed_over = True
    finally:
        if not handed_over:
            discard_upload(path)
    return render(request, "import.html", kinds=intake.kinds_for(principal),
                  batch=intake.batch(ctx, prepared.batch_id), resumed_from=prepared.report.resumed_from)


def _submit(ctx: Context, prepared: intake.PreparedImport, path: PurePath, principal: Principal,
            lang: str = "en") -> None:
    with ctx.transaction() as s:
        flow_jobs.submit_import(s, prepared, path, principal, lang)


@router.get("/import/history")
def import_history(request: Request, page: str = "1", ctx: Context = Depends(get_ctx)) -> Response:
    """Past imports, newest first: an admin's of everyone, anyone else's their own."""
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    number = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    found = history.history(ctx, principal, offset=(number - 1) * history.PAGE_SIZE)
    pages = max(1, -(-found.total // history.PAGE_SIZE))
    return render(request, "import_history.html", found=found, number=number, pages=pages,
                  first=found.offset + 1, last=found.offset + len(found.batches),
                  when=moment_writer(ctx, request_lang(request)), STATUS_WORDS=history.STATUS_WORDS)


@router.get("/import/batches/{batch_id}")
def import_progress(batch_id: BatchId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    found = intake.batch_for(ctx, principal, batch_id)
    if found is None:
        raise NotFound(Msg(N_("There is no import batch %(id)s."), id=batch_id))
    # Interrupted: nobody imports it and no job will (its importer died outside the job runner).
    interrupted = (found.status == "running" and not intake.being_imported(ctx, found)
                   and not flow_jobs.import_pending(ctx, found.id))
    return render(request, "import_progress.html", batch=found, interrupted=interrupted)


@router.get("/import/rejects/{batch_id}")
def import_rejects(batch_id: BatchId, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    """Only the importer and admins: the rejects file holds document numbers."""
    principal = require_principal(request)
    principal.require(Permission.IMPORT)
    found = intake.batch_for(ctx, principal, batch_id)
    path = ctx.settings.home / "rejects" / f"rejects-{batch_id}-{found.kind}.csv" if found else None
    if path is None or not path.is_file():
        raise NotFound(Msg(N_("Import batch %(id)s has no rejects file."), id=batch_id))
    return FileResponse(path, media_type="text/csv", filename=path.name)

"""Bulk import of border feeds, notification batches and permits (CSV, JSON Lines, Parquet).

Each chunk of rows is one transaction that also advances the batch's cursor, so a crash
loses nothing and a rerun of the same file resumes after the last committed chunk.
Rows are idempotent on `source_event_id`: re-importing a feed adds nothing. Rows that fail
validation go to a rejects file (row number, field, reason) and are never stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from kosh.core.context import Context
from kosh.core.errors import KoshError
from kosh.core.security import Principal
from kosh.core.validation import field_errors
from kosh.people import service as people
from kosh.stay import service
from kosh.stay.models import ImportBatch
from kosh.stay.schemas import BorderEventIn, NotificationIn, ResidencePermitIn

KINDS: dict[str, tuple[type[BaseModel], Callable]] = {
    "border_events": (BorderEventIn, service.record_border_events),
    "notifications": (NotificationIn, service.record_notifications),
    "residence_permits": (ResidencePermitIn, service.record_residence_permits),
}
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
REJECT_COLUMNS = ["row", "source_event_id", "field", "reason"]


class SimulatedCrash(RuntimeError):
    """Raised by tests and benchmarks to stop an import between chunks."""


@dataclass
class ImportReport:
    batch_id: int
    kind: str
    rows_total: int
    accepted: int
    duplicates: int
    rejected: int
    rejects_path: str
    resumed_from: int
    already_imported: bool = False


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in ("csv", "jsonl", "parquet"):
            raise KoshError(f"unknown format '{fmt}': use csv, jsonl or parquet")
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if not found:
        raise KoshError(f"cannot tell the format of {path.name} from its extension: use .csv, .jsonl or .parquet, "
                        "or pass the format")
    return found


def read_rows(path: Path, fmt: str) -> pl.DataFrame:
    """Every column as text: validation, not the reader, decides what a value means."""
    try:
        if fmt == "csv":
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        elif fmt == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise KoshError(f"{path.name} could not be read as {fmt}: {str(exc).splitlines()[0]}") from None
    return frame.with_columns(pl.all().cast(pl.String))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_columns(frame: pl.DataFrame, model: type[BaseModel], kind: str) -> list[str]:
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise KoshError(f"the {kind} file lacks required column(s): {', '.join(missing)}", status=422,
                        title="Missing columns")
    return [c for c in frame.columns if c in model.model_fields]


def _batch_for(ctx: Context, principal: Principal, kind: str, path: Path, digest: str, total: int,
               rejects_dir: Path) -> ImportBatch:
    with ctx.transaction() as s:
        batch = s.execute(select(ImportBatch).where(ImportBatch.content_sha256 == digest, ImportBatch.kind == kind)
                          .order_by(ImportBatch.id.desc())).scalars().first()
        if batch is None:
            batch = ImportBatch(kind=kind, filename=path.name, content_sha256=digest, rows_total=total,
                                started_by=principal.username, status="running")
            s.add(batch)
            s.flush()
            batch.rejects_path = str(rejects_dir / f"rejects-{batch.id}-{kind}.csv")
        elif batch.status == "failed":
            batch.status = "running"  # rerunning the same file resumes where it stopped
        return batch


def _trim_rejects(path: Path, upto_row: int) -> None:
    """On resume, keep only rejects of chunks that were committed (rows ≤ cursor)."""
    if not path.exists():
        return
    with path.open(newline="", encoding="utf8") as fh:
        kept = [r for r in csv.DictReader(fh) if int(r["row"]) <= upto_row]
    _write_rejects(path, kept, mode="w")


def _write_rejects(path: Path, rows: list[dict], mode: str = "a") -> None:
    new = mode == "w" or not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, newline="", encoding="utf8") as fh:
        writer = csv.DictWriter(fh, fieldnames=REJECT_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


@dataclass
class PreparedImport:
    """A readable file with the right columns and its batch (new, or the one to resume)."""

    kind: str
    rows: list[dict]
    batch_id: int
    rejects_path: Path
    report: ImportReport


def prepare_import(ctx: Context, principal: Principal, path: Path, kind: str, *, fmt: str | None = None,
                   rejects_dir: Path | None = None) -> PreparedImport:
    """Everything that can fail for the whole file, checked before any row is stored."""
    if kind not in KINDS:
        raise KoshError(f"unknown import kind '{kind}': use {', '.join(KINDS)}")
    model, _ = KINDS[kind]
    path = Path(path)
    if not path.is_file():
        raise KoshError(f"no file {path}", status=404, title="Not found")
    frame = read_rows(path, detect_format(path, fmt))
    frame = frame.select(_check_columns(frame, model, kind))
    rejects_dir = rejects_dir or ctx.settings.home / "rejects"
    batch = _batch_for(ctx, principal, kind, path, file_digest(path), frame.height, rejects_dir)
    report = ImportReport(batch.id, kind, frame.height, batch.rows_accepted, batch.rows_duplicate,
                          batch.rows_rejected, batch.rejects_path, batch.rows_done,
                          already_imported=batch.status == "done")
    return PreparedImport(kind, frame.rows(named=True), batch.id, Path(batch.rejects_path), report)


def import_file(ctx: Context, principal: Principal, path: Path, kind: str, *, fmt: str | None = None,
                rejects_dir: Path | None = None, chunk_rows: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                refresh_progress: Callable[[int, int], None] | None = None,
                crash_after_chunks: int | None = None) -> ImportReport:
    prepared = prepare_import(ctx, principal, path, kind, fmt=fmt, rejects_dir=rejects_dir)
    return run_import(ctx, principal, prepared, chunk_rows=chunk_rows, progress=progress,
                      refresh_progress=refresh_progress, crash_after_chunks=crash_after_chunks)


def run_import(ctx: Context, principal: Principal, prepared: PreparedImport, *, chunk_rows: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               refresh_progress: Callable[[int, int], None] | None = None,
               crash_after_chunks: int | None = None) -> ImportReport:
    """Store the rows chunk by chunk, then recompute the stay status of every person they touched
    (`progress` reports rows stored, `refresh_progress` persons recomputed)."""
    model, record = KINDS[prepared.kind]
    kind, rows, report = prepared.kind, prepared.rows, prepared.report
    rejects_path, total = prepared.rejects_path, len(prepared.rows)
    if report.already_imported:
        return report
    _trim_rejects(rejects_path, report.resumed_from)
    if report.resumed_from == 0 and rejects_path.exists():
        rejects_path.unlink()
    chunk = chunk_rows or ctx.settings.import_chunk_rows
    vctx = service.validation_context(ctx)
    done, chunks = report.resumed_from, 0
    if progress:
        progress(done, total)
    while done < total:
        part = rows[done: done + chunk]
        valid, rejects = [], []
        for offset, raw in enumerate(part):
            row_no = done + offset + 1
            data = {k: v for k, v in raw.items() if v is not None and v != ""}
            try:
                valid.append((row_no, model.model_validate(data, context=vctx)))
            except ValidationError as exc:
                rejects.extend({"row": row_no, "source_event_id": raw.get("source_event_id") or "",
                                "field": e.field, "reason": e.message} for e in field_errors(exc))
        if kind == "residence_permits" and valid:
            with ctx.transaction() as s:
                docs = people.find_documents(s, ctx, [(p.issuing_state, p.document_number) for _, p in valid])
            keep = []
            for (row_no, p), d in zip(valid, docs):
                if d is None:
                    rejects.append({"row": row_no, "source_event_id": p.source_event_id, "field": "document_number",
                                    "reason": f"no person holds document {p.issuing_state} {p.document_number}"})
                else:
                    keep.append((row_no, p))
            valid = keep
        rejected_rows = len({r["row"] for r in rejects})
        if rejects:
            rejects.sort(key=lambda r: r["row"])
            _write_rejects(rejects_path, rejects)
        with ctx.transaction() as s:
            result = record(s, ctx, principal, [m for _, m in valid], batch_id=prepared.batch_id,
                            defer_refresh=True) if valid else None
            b = s.get(ImportBatch, prepared.batch_id, with_for_update=True)
            b.rows_done = done + len(part)
            b.rows_accepted += result.accepted if result else 0
            b.rows_duplicate += result.duplicates if result else 0
            b.rows_rejected += rejected_rows
            report.accepted, report.duplicates, report.rejected = b.rows_accepted, b.rows_duplicate, b.rows_rejected
        done += len(part)
        chunks += 1
        if progress:
            progress(done, total)
        if crash_after_chunks is not None and chunks >= crash_after_chunks and done < total:
            raise SimulatedCrash(f"stopped after {chunks} chunk(s), {done} of {total} rows")
    # The batch is done once the status of every person it touched is current again (a crash
    # while recomputing leaves it running; rerunning the file finishes the recomputation).
    service.drain_refresh_queue(ctx, progress=refresh_progress)
    with ctx.transaction() as s:
        b = s.get(ImportBatch, prepared.batch_id)
        b.status, b.finished_at = "done", dt.datetime.now(dt.UTC)
    return report


def mark_failed(ctx: Context, batch_id: int) -> None:
    """A background import that stopped on an unexpected error; rerunning the file resumes it."""
    with ctx.transaction() as s:
        b = s.get(ImportBatch, batch_id)
        if b is not None and b.status != "done":
            b.status = "failed"


def batch(ctx: Context, batch_id: int) -> ImportBatch | None:
    with ctx.transaction() as s:
        return s.get(ImportBatch, batch_id)

"""Bulk import of border feeds, notification batches and permits (CSV, JSON Lines, Parquet);
work-permit quotas, household prepayments and permits of a previous system too (their kinds are
in `kosh.flows.permit_intake`).

Files are read as a stream of bounded chunks (Arrow record batches for CSV and Parquet, line by
line for JSON Lines): only one chunk's rows are ever Python objects, so a small, highly
compressed file cannot exhaust memory, and a file over `max_import_rows` is refused before
anything is stored. Each chunk is one transaction that also advances the batch's cursor, so a
crash loses nothing and a rerun of the same file resumes after the last committed chunk.
Rows are idempotent on `source_event_id`: re-importing a feed adds nothing. Rows that fail
validation go to a rejects file (row number, field, reason), owner-only, and are never stored.
One file is imported by one importer at a time (a PostgreSQL advisory lock, or a lock file
beside the SQLite database); the lock dies with its importer, so a rerun resumes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, select, text

from kosh.flows import permit_intake
from kosh.people import service as people
from kosh.platform import db
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, KoshError, NotFound
from kosh.platform.files import private_dir
from kosh.platform.i18n import say
from kosh.platform.rejects import trim_rejects, write_rejects
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.validation import field_errors
from kosh.platform.words import N_
from kosh.stay import service
from kosh.stay.models import ImportBatch
from kosh.stay.rules import Reason
from kosh.stay.schemas import BorderEventIn, NotificationIn, ResidencePermitIn

KINDS: dict[str, tuple[type[BaseModel], Callable]] = {
    "border_events": (BorderEventIn, service.record_border_events),
    "notifications": (NotificationIn, service.record_notifications),
    "residence_permits": (ResidencePermitIn, service.record_residence_permits),
    **permit_intake.KINDS,
}
# What a principal needs to import each kind (besides importing at all): every permission listed.
KIND_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "border_events": (Permission.BORDER_EVENT_WRITE,), "notifications": (Permission.NOTIFICATION_WRITE,),
    "residence_permits": (Permission.PERMIT_WRITE,), **permit_intake.KIND_PERMISSIONS}
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
REJECT_COLUMNS = ["row", "source_event_id", "field", "reason"]
READ_BATCH_ROWS = 10_000  # rows per Arrow record batch read from Parquet
CSV_BLOCK_BYTES = 1 << 20  # bytes of CSV parsed into one Arrow record batch

UNKNOWN_KIND = N_("unknown import kind '%(kind)s': use %(kinds)s")
UNKNOWN_FORMAT = N_("unknown format '%(fmt)s': use csv, jsonl or parquet")
FORMAT_UNKNOWN = N_("cannot tell the format of %(name)s from its extension: use .csv, .jsonl or .parquet, "
                    "or pass the format")
NO_FILE = N_("no file %(name)s")
NO_BATCH = N_("There is no import batch %(id)s.")
NO_HOLDER = N_("no person holds the document %(state)s %(number)s")
NOT_OF_BATCH = N_("Import batch %(id)s is not of this file.")
UNREADABLE = N_("%(name)s could not be read as %(fmt)s: %(error)s")
MISSING_COLUMNS = N_("the %(kind)s file lacks required column(s): %(columns)s")
NESTED_COLUMNS = N_("%(name)s: column(s) %(columns)s hold objects or lists; every value must be text, a number "
                    "or a date")
TOO_MANY_ROWS = N_("%(name)s holds more than %(limit)s rows, the most one import may hold; split it into "
                   "smaller files")
BEING_IMPORTED = N_("this file is being imported by %(user)s since %(since)s; wait until it is finished")
BEING_IMPORTED_NOW = N_("this file is being imported right now; wait until it is finished")
NESTED_VALUE = N_("holds an object or a list; every value must be text, a number or a date")
NOT_AN_OBJECT = N_("the line is not a JSON object")


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
            raise KoshError(Reason(UNKNOWN_FORMAT, fmt=fmt))
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if not found:
        raise KoshError(Reason(FORMAT_UNKNOWN, name=path.name))
    return found


def _require_kind(principal: Principal, kind: str) -> None:
    for needed in KIND_PERMISSIONS[kind]:
        principal.require(needed)


# -- reading in bounded chunks ---------------------------------------------------------------

@dataclass
class BadRow:
    """A row the reader could not turn into fields (JSON Lines): rejected with its reason."""

    field: str
    reason: str


@dataclass
class Source:
    """A file that was read through once: its format, columns (all, and those the import uses)
    and row count. Reading it again yields the same rows in the same order."""

    path: Path
    fmt: str
    columns: list[str]
    rows: int
    used: list[str] = field(default_factory=list)


def _unreadable(path: Path, fmt: str, exc: BaseException) -> KoshError:
    return KoshError(Reason(UNREADABLE, name=path.name, fmt=fmt, error=(str(exc).splitlines() or [""])[0]))


def _too_many(path: Path, limit: int) -> KoshError:
    return KoshError(Reason(TOO_MANY_ROWS, name=path.name, limit=f"{limit:,}"), status=413,
                     title="Payload too large", type="urn:kosh:problem:too-many-rows")


def _csv_reader(path: Path, columns: list[str] | None) -> pacsv.CSVStreamingReader:
    """Every column as text (validation, not the reader, decides what a value means)."""
    read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    if columns is None:
        return pacsv.open_csv(path, read_options=read, parse_options=parse)
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False)
    return pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def _jsonl_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of a JSON Lines file (a row number counts these)."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield line


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError("nested")


def _json_row(line: bytes, used: list[str]) -> dict[str, str | None] | BadRow:
    try:
        obj = json.loads(line.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return BadRow("", Reason(NOT_AN_OBJECT))
    if not isinstance(obj, dict):
        return BadRow("", Reason(NOT_AN_OBJECT))
    row = {}
    for name in used:
        try:
            row[name] = _json_text(obj.get(name))
        except TypeError:
            return BadRow(name, Reason(NESTED_VALUE))
    return row


def scan(path: Path, fmt: str, max_rows: int) -> Source:
    """Read the file through once, a batch at a time: it is readable, its columns, its row count;
    refused as soon as it holds more than `max_rows` rows. Nothing is kept but the count."""
    try:
        if fmt == "parquet":
            with pq.ParquetFile(path) as parquet:  # the row count is in the footer: nothing is decoded
                if parquet.metadata.num_rows > max_rows:
                    raise _too_many(path, max_rows)
                return Source(path, fmt, list(parquet.schema_arrow.names), parquet.metadata.num_rows)
        if fmt == "csv":
            with _csv_reader(path, None) as first:
                columns = list(first.schema.names)
            rows = 0
            with _csv_reader(path, columns) as reader:
                for record_batch in reader:
                    rows += record_batch.num_rows
                    if rows > max_rows:
                        raise _too_many(path, max_rows)
            return Source(path, fmt, columns, rows)
        keys: dict[str, None] = {}
        rows = 0
        for line in _jsonl_lines(path):
            rows += 1
            if rows > max_rows:
                raise _too_many(path, max_rows)
            with contextlib.suppress(UnicodeDecodeError, ValueError):
                obj = json.loads(line.decode("utf-8-sig"))
                if isinstance(obj, dict):
                    keys.update(dict.fromkeys(obj))
        return Source(path, fmt, list(keys), rows)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, fmt, exc) from None


def _check_decodes(source: Source) -> None:
    """Decode every used Parquet column once and turn it into text (a batch at a time), so a
    damaged page or a value with no text form is found before any row is stored."""
    with pq.ParquetFile(source.path) as parquet:
        nested = [c for c in source.used if pa.types.is_nested(parquet.schema_arrow.field(c).type)]
    if nested:
        raise KoshError(Reason(NESTED_COLUMNS, name=source.path.name, columns=", ".join(nested)), status=422,
                        title="Validation failed")
    try:
        for record_batch in _arrow_batches(source):
            _as_text(pa.Table.from_batches([record_batch]))
    except (pa.ArrowException, pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(source.path, source.fmt, exc) from None


def _arrow_batches(source: Source) -> Iterator[pa.RecordBatch]:
    if source.fmt == "parquet":
        with pq.ParquetFile(source.path) as parquet:
            yield from parquet.iter_batches(batch_size=READ_BATCH_ROWS, columns=source.used)
    else:
        with _csv_reader(source.path, source.columns) as reader:
            for record_batch in reader:
                yield record_batch.select(source.used)


def _arrow_chunks(source: Source, size: int, skip: int) -> Iterator[pa.Table]:
    """Record batches regrouped into tables of `size` rows, after the first `skip` rows."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for record_batch in _arrow_batches(source):
        if skip:
            dropped = min(skip, record_batch.num_rows)
            record_batch, skip = record_batch.slice(dropped), skip - dropped
        if record_batch.num_rows == 0:
            continue
        pending.append(record_batch)
        held += record_batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def _as_text(table: pa.Table) -> pl.DataFrame:
    """Every value as text, as Polars writes it (dates as ISO dates, numbers as written)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.all().cast(pl.String))


def read_chunks(source: Source, size: int, skip: int = 0) -> Iterator[Sequence[dict[str, str | None] | BadRow]]:
    """The file's rows after the first `skip`, `size` at a time, every value as text or None."""
    try:
        if source.fmt == "jsonl":
            part: list[dict[str, str | None] | BadRow] = []
            for n, line in enumerate(_jsonl_lines(source.path)):
                if n < skip:
                    continue
                part.append(_json_row(line, source.used))
                if len(part) == size:
                    yield part
                    part = []
            if part:
                yield part
            return
        for table in _arrow_chunks(source, size, skip):
            yield _as_text(table).rows(named=True)
    except (pa.ArrowException, pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(source.path, source.fmt, exc) from None


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_columns(columns: list[str], model: type[BaseModel], kind: str) -> list[str]:
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [c for c in required if c not in columns]
    if missing:
        raise KoshError(Reason(MISSING_COLUMNS, kind=kind, columns=", ".join(missing)), status=422,
                        title="Missing columns")
    return [c for c in columns if c in model.model_fields]


# -- one importer per file -------------------------------------------------------------------

def _lock_key(kind: str, digest: str) -> int:
    return int.from_bytes(hashlib.sha256(f"kosh-import:{kind}:{digest}".encode()).digest()[:8], "big", signed=True)


class ImportLock:
    """Held by whoever imports a file; the database or the kernel frees it if that process dies."""

    def release(self) -> None:
        raise NotImplementedError


class _AdvisoryLock(ImportLock):
    def __init__(self, conn: Connection, key: int) -> None:
        self.conn, self.key = conn, key

    def release(self) -> None:
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self.conn.commit()
        except Exception:  # a lost connection has freed the lock already
            self.conn.invalidate()
        finally:
            self.conn.close()


class _FileLock(ImportLock):
    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def try_acquire(cls, path: Path) -> _FileLock | None:
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                return cls(path, fd)
            os.close(fd)  # its holder removed it while we opened it: lock the new one

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # before unlocking, so a waiter never locks a file that is going away
        os.close(self.fd)


def _lock_file(ctx: Context, key: int) -> Path:
    database = ctx.engine.url.database
    name = f"import-{key & 0xFFFFFFFFFFFFFFFF:016x}.lock"
    if ctx.engine.dialect.name == "sqlite" and database and database != ":memory:":
        return Path(database).with_name(f"{Path(database).name}.{name}")  # beside the database it guards
    return private_dir(ctx.settings.home) / name


def try_lock(ctx: Context, kind: str, digest: str) -> ImportLock | None:
    """The lock on importing this file, or None when another importer holds it."""
    key = _lock_key(kind, digest)
    if ctx.engine.dialect.name == "postgresql":
        conn = ctx.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return None
        return _AdvisoryLock(conn, key)
    return _FileLock.try_acquire(_lock_file(ctx, key))


def being_imported(ctx: Context, batch: ImportBatch) -> bool:
    """Whether an importer is at work on this batch's file right now."""
    held = try_lock(ctx, batch.kind, batch.content_sha256)
    if held is None:
        return True
    held.release()
    return False


def _conflict(ctx: Context, kind: str, digest: str) -> Conflict:
    with ctx.transaction() as s:
        running = s.execute(select(ImportBatch).where(ImportBatch.content_sha256 == digest, ImportBatch.kind == kind)
                            .order_by(ImportBatch.id.desc())).scalars().first()
    if running is None:
        return Conflict(Reason(BEING_IMPORTED_NOW))
    since = running.started_at.replace(tzinfo=running.started_at.tzinfo or dt.UTC).astimezone(dt.UTC)
    return Conflict(Reason(BEING_IMPORTED, user=running.started_by, since=f"{since:%Y-%m-%d %H:%M} UTC"))


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
        # A "running" batch found while we hold the file's lock lost its importer: this run resumes it.
        return batch


def _trim_rejects(path: Path, upto_row: int) -> None:
    """On resume, keep only rejects of chunks that were committed (rows ≤ cursor)."""
    if path.exists():
        private_dir(path.parent)
        trim_rejects(path, REJECT_COLUMNS, upto_row)


class _Reject(TypedDict):
    row: int
    source_event_id: str
    field: str
    reason: str


def _write_rejects(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    private_dir(path.parent)
    write_rejects(path, REJECT_COLUMNS, rows, append=True)


@dataclass
class PreparedImport:
    """A readable file with the right columns and its batch (new, or the one to resume), and the
    lock on importing it: use it as a context manager, which releases the lock."""

    kind: str
    source: Source
    batch_id: int
    rejects_path: Path
    report: ImportReport
    lock: ImportLock | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> PreparedImport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def prepare_import(ctx: Context, principal: Principal, path: Path, kind: str, *, fmt: str | None = None,
                   rejects_dir: Path | None = None) -> PreparedImport:
    """Everything that can fail for the whole file, checked before any row is stored; takes the
    file's lock (Conflict when another importer holds it)."""
    if kind not in KINDS:
        raise KoshError(Reason(UNKNOWN_KIND, kind=kind, kinds=", ".join(KINDS)))
    _require_kind(principal, kind)  # refused now rather than by the first chunk in the background
    model, _ = KINDS[kind]
    path = Path(path)
    if not path.is_file():
        raise KoshError(Reason(NO_FILE, name=str(path)), status=404, title="Not found")
    source = scan(path, detect_format(path, fmt), ctx.settings.max_import_rows)
    source.used = _check_columns(source.columns, model, kind)
    if source.fmt == "parquet":
        _check_decodes(source)
    if rejects_dir is None:
        private_dir(ctx.settings.home)
        rejects_dir = private_dir(ctx.settings.home / "rejects")
    digest = file_digest(path)
    return _locked(ctx, kind, source, digest,
                   lambda: _batch_for(ctx, principal, kind, path, digest, source.rows, rejects_dir))


def _locked(ctx: Context, kind: str, source: Source, digest: str,
            find_batch: Callable[[], ImportBatch]) -> PreparedImport:
    """Take the file's lock (Conflict when another importer holds it), then its batch."""
    lock = try_lock(ctx, kind, digest)
    if lock is None:
        raise _conflict(ctx, kind, digest)
    try:
        batch = find_batch()
    except BaseException:
        lock.release()
        raise
    report = ImportReport(batch.id, kind, source.rows, batch.rows_accepted, batch.rows_duplicate,
                          batch.rows_rejected, batch.rejects_path, batch.rows_done,
                          already_imported=batch.status == "done")
    return PreparedImport(kind, source, batch.id, Path(batch.rejects_path), report, lock)


def _columns(path: Path, fmt: str, model: type[BaseModel]) -> list[str]:
    """The file's columns, read from its header (CSV) or footer (Parquet); for JSON Lines every
    field of the model (a key no line holds reads as missing, as it does after a scan)."""
    try:
        if fmt == "parquet":
            with pq.ParquetFile(path) as parquet:
                return list(parquet.schema_arrow.names)
        if fmt == "csv":
            with _csv_reader(path, None) as first:
                return list(first.schema.names)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, fmt, exc) from None
    return list(model.model_fields)


def _resumed_batch(ctx: Context, batch_id: int) -> ImportBatch:
    with ctx.transaction() as s:
        batch = s.get(ImportBatch, batch_id)
        if batch is not None and batch.status == "failed":
            batch.status = "running"  # as a rerun of the file would: resume where it stopped
    if batch is None:
        raise NotFound(Reason(NO_BATCH, id=batch_id))
    return batch


def reopen_import(ctx: Context, principal: Principal, path: Path, kind: str, batch_id: int, *,
                  fmt: str | None = None) -> PreparedImport:
    """The import of a file that `prepare_import` checked whole and gave `batch_id`, taken up again
    (by a background job, possibly after a restart): the file is not read through again (its row
    count is the batch's), only checked to be that batch's file; takes the file's lock (Conflict
    when another importer holds it) and resumes from the batch's cursor."""
    if kind not in KINDS:
        raise KoshError(Reason(UNKNOWN_KIND, kind=kind, kinds=", ".join(KINDS)))
    _require_kind(principal, kind)
    model, _ = KINDS[kind]
    path = Path(path)
    if not path.is_file():
        raise KoshError(Reason(NO_FILE, name=str(path)), status=404, title="Not found")
    found = batch(ctx, batch_id)
    digest = file_digest(path)
    if found is None or found.kind != kind or found.content_sha256 != digest:
        raise Conflict(Reason(NOT_OF_BATCH, id=batch_id))
    source = Source(path, detect_format(path, fmt), [], found.rows_total)
    source.columns = _columns(path, source.fmt, model)
    source.used = _check_columns(source.columns, model, kind)
    return _locked(ctx, kind, source, digest, lambda: _resumed_batch(ctx, batch_id))


def import_file(ctx: Context, principal: Principal, path: Path, kind: str, *, fmt: str | None = None,
                rejects_dir: Path | None = None, chunk_rows: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                refresh_progress: Callable[[int, int], None] | None = None, lang: str = "en") -> ImportReport:
    with prepare_import(ctx, principal, path, kind, fmt=fmt, rejects_dir=rejects_dir) as prepared:
        return run_import(ctx, principal, prepared, chunk_rows=chunk_rows, progress=progress,
                          refresh_progress=refresh_progress, lang=lang)


def run_import(ctx: Context, principal: Principal, prepared: PreparedImport, *, chunk_rows: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               refresh_progress: Callable[[int, int], None] | None = None, lang: str = "en") -> ImportReport:
    """Store the rows chunk by chunk, then recompute the stay status of every person they touched
    (`progress` reports rows stored, `refresh_progress` persons recomputed). The rejects file
    gives each reason, with the field's label, in the importer's language `lang`."""
    model, record = KINDS[prepared.kind]
    kind, report = prepared.kind, prepared.report
    rejects_path, total = prepared.rejects_path, prepared.source.rows
    if report.already_imported:
        return report
    _trim_rejects(rejects_path, report.resumed_from)
    if report.resumed_from == 0 and rejects_path.exists():
        rejects_path.unlink()
    chunk = chunk_rows or ctx.settings.import_chunk_rows
    vctx = service.validation_context(ctx, principal)
    key = permit_intake.KEY_COLUMNS.get(kind, "source_event_id")  # what a reject names its row by
    done = report.resumed_from
    if progress:
        progress(done, total)
    for part in read_chunks(prepared.source, chunk, skip=done):
        valid: list[tuple[int, BaseModel]] = []
        rejects: list[_Reject] = []
        for offset, raw in enumerate(part):
            row_no = done + offset + 1
            if isinstance(raw, BadRow):
                rejects.append({"row": row_no, "source_event_id": "", "field": raw.field,
                                "reason": FieldError(raw.field, raw.reason).said(lang) if raw.field
                                else say(raw.reason, lang)})
                continue
            data = {k: v for k, v in raw.items() if v is not None and v != ""}
            try:
                valid.append((row_no, model.model_validate(data, context=vctx)))
            except ValidationError as exc:
                rejects.extend({"row": row_no, "source_event_id": raw.get(key) or "",
                                "field": e.field, "reason": e.said(lang)} for e in field_errors(exc))
        if kind == "residence_permits" and valid:
            permits = [(row_no, p) for row_no, p in valid if isinstance(p, ResidencePermitIn)]  # all of them
            with ctx.transaction() as s:
                docs = people.find_documents(s, ctx, [(p.issuing_state, p.document_number) for _, p in permits])
            keep: list[tuple[int, BaseModel]] = []
            for (row_no, p), d in zip(permits, docs, strict=True):
                if d is None:
                    rejects.append({"row": row_no, "source_event_id": p.source_event_id, "field": "document_number",
                                    "reason": FieldError("document_number", Reason(NO_HOLDER, state=p.issuing_state,
                                                         number=p.document_number)).said(lang)})
                else:
                    keep.append((row_no, p))
            valid = keep
        with ctx.transaction() as s:
            result = record(s, ctx, principal, [m for _, m in valid], batch_id=prepared.batch_id,
                            defer_refresh=True) if valid else None
            # Rows the use case refused (the work-permit kinds): rejected like invalid ones. The
            # rejects are written before the chunk commits; a resume trims those past the cursor.
            for index, errors in getattr(result, "refused", ()):
                row_no, row = valid[index]
                rejects.extend({"row": row_no, "source_event_id": str(getattr(row, key, "") or ""), "field": e.field,
                                "reason": e.said(lang) if e.field else say(e.message, lang)} for e in errors)
            rejected_rows = len({r["row"] for r in rejects})
            if rejects:
                rejects.sort(key=lambda r: r["row"])
                _write_rejects(rejects_path, rejects)
            b = s.get_one(ImportBatch, prepared.batch_id, with_for_update=True)
            b.rows_done = done + len(part)
            b.rows_accepted += result.accepted if result else 0
            b.rows_duplicate += result.duplicates if result else 0
            b.rows_rejected += rejected_rows
            report.accepted, report.duplicates, report.rejected = b.rows_accepted, b.rows_duplicate, b.rows_rejected
        done += len(part)
        if progress:
            progress(done, total)
    # The batch is done once the status of every person it touched is current again (a crash
    # while recomputing leaves it running; rerunning the file finishes the recomputation).
    service.drain_refresh_queue(ctx, progress=refresh_progress)
    with ctx.transaction() as s:
        b = s.get_one(ImportBatch, prepared.batch_id)
        b.status, b.finished_at = "done", utcnow()
    db.checkpoint(ctx.engine)  # an import fills the SQLite WAL; fold it back and truncate it
    return report


def mark_failed(ctx: Context, batch_id: int) -> None:
    """A background import that stopped on an unexpected error; rerunning the file resumes it."""
    with ctx.transaction() as s:
        b = s.get(ImportBatch, batch_id)
        if b is not None and b.status != "done":
            b.status = "failed"


def kinds_for(principal: Principal) -> list[str]:
    """The kinds of file this principal may import."""
    return [k for k in KINDS if all(principal.can(p) for p in KIND_PERMISSIONS[k])]


def batch(ctx: Context, batch_id: int) -> ImportBatch | None:
    with ctx.transaction() as s:
        return s.get(ImportBatch, batch_id)


def batch_for(ctx: Context, principal: Principal, batch_id: int) -> ImportBatch | None:
    """An import batch as its importer or an admin sees it; anyone else is told it does not exist
    (its rejects file holds document numbers)."""
    found = batch(ctx, batch_id)
    if found is None or (principal.role != Role.ADMIN and found.started_by != principal.username):
        return None
    return found

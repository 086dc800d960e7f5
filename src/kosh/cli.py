"""The `kosh` command: set up, run the demo, serve, import, query stay, verify the audit, benchmark."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from kosh.core.config import get_settings
from kosh.core.errors import KoshError

app = typer.Typer(help="Kosh — register, record and monitor the lawful stay of foreign nationals.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
stay_app = typer.Typer(help="Stay status and the short-stay calculator.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
identity_app = typer.Typer(help="One person across records: linking, the review queue, rebuilds.", no_args_is_help=True)
app.add_typer(stay_app, name="stay")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(identity_app, name="identity")
retention_app = typer.Typer(help="Remove personal data past the terms of the jurisdiction pack.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _context(create_keys: bool = False):  # noqa: ANN202
    from kosh.core.context import open_context

    try:
        return open_context(create_keys=create_keys)
    except KoshError as exc:
        _fail(str(exc))


def progress_bar() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)


@app.command()
def init() -> None:
    """Create ./.kosh (or KOSH_HOME) with an owner-only key file, and the database schema."""
    from kosh.core.crypto import write_key_file
    from kosh.core.files import private_dir

    settings = get_settings()
    private_dir(settings.home)
    created = write_key_file(settings.resolved_key_file)
    console.print(f"key file {settings.resolved_key_file}: {'created (mode 600)' if created else 'kept'}")
    _context()
    console.print(f"database ready: {settings.resolved_database_url.split('@')[-1]}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest revision."""
    from kosh.core import db

    ctx = _context()
    console.print(f"schema at revision {db.current_revision(ctx.engine)}")


@users_app.command("add")
def users_add(username: str, role: str = typer.Option(..., help="admin, officer, host, analyst or auditor"),
              password: Optional[str] = typer.Option(None, help="prompted when omitted"),
              regions: str = typer.Option("", help="comma-separated KATO prefixes (officers)"),
              host_party: Optional[str] = typer.Option(None, help="IIN or BIN a host submits as"),
              name: str = typer.Option("", help="display name")) -> None:
    """Add a user account."""
    from kosh.core import auth

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = _context()
    try:
        with ctx.transaction() as s:
            user = auth.create_user(s, ctx, username=username, password=password, role=role,
                                    regions=regions.split(","), host_party=host_party, display_name=name)
    except KoshError as exc:
        _fail(str(exc))
    console.print(f"user {user.username} ({user.role}) created")


def _account_change(action) -> None:  # noqa: ANN001 — callable(session, ctx, actor) -> message
    """Run one account change as the operator (system principal) and print what it did."""
    from kosh.core.security import system_principal

    ctx = _context()
    try:
        with ctx.transaction() as s:
            message = action(s, ctx, system_principal("account administration"))
    except KoshError as exc:
        _fail(str(exc))
    console.print(message)


@users_app.command("list")
def users_list() -> None:
    """List the accounts: role, regions, active, valid API tokens."""
    from kosh.core import auth
    from kosh.core.security import system_principal

    ctx = _context()
    with ctx.transaction() as s:
        rows = auth.list_users(s, ctx, system_principal("account administration"))
        table = Table("user", "role", "regions", "active", "valid tokens")
        for r in rows:
            table.add_row(r.user.username, r.user.role, ",".join(r.user.regions or []) or "—",
                          "yes" if r.user.active else "no", str(r.active_tokens))
    console.print(table)


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate an account: its sessions end and its API tokens are revoked, at once."""
    from kosh.core import auth

    _account_change(lambda s, ctx, actor: f"user {auth.set_active(s, ctx, actor, username, False).username} "
                                          "deactivated; sessions ended and tokens revoked")


@users_app.command("activate")
def users_activate(username: str) -> None:
    """Reactivate an account (its old tokens stay revoked)."""
    from kosh.core import auth

    _account_change(lambda s, ctx, actor: f"user {auth.set_active(s, ctx, actor, username, True).username} "
                                          "can sign in again")


@users_app.command("tokens")
def users_tokens(username: str) -> None:
    """List a user's API tokens (id, name, issued, expires, state)."""
    from kosh.core import auth
    from kosh.core.security import system_principal, utcnow

    ctx = _context()
    try:
        with ctx.transaction() as s:
            tokens = auth.tokens_of(s, ctx, system_principal("account administration"), username)
    except KoshError as exc:
        _fail(str(exc))
    table = Table("id", "name", "issued", "expires", "state")
    for t in tokens:
        expired = t.expires_at is not None and auth.aware(t.expires_at) < utcnow()
        table.add_row(str(t.id), t.name, t.created_at.date().isoformat(),
                      t.expires_at.date().isoformat() if t.expires_at else "never",
                      "revoked" if t.revoked else "expired" if expired else "valid")
    console.print(table)


@users_app.command("revoke-token")
def users_revoke_token(token_id: int) -> None:
    """Revoke one API token by its id (see `kosh users tokens NAME`)."""
    from kosh.core import auth

    _account_change(lambda s, ctx, actor: f"token {auth.revoke_token(s, ctx, actor, token_id).id} revoked")


@users_app.command("revoke-tokens")
def users_revoke_tokens(username: str) -> None:
    """Revoke every API token of a user."""
    from kosh.core import auth

    _account_change(lambda s, ctx, actor: f"{auth.revoke_user_tokens(s, ctx, actor, username)} token(s) of "
                                          f"{username} revoked")


@app.command("import")
def import_cmd(path: Path, kind: str = typer.Option("border_events", help="border_events, notifications or residence_permits"),
               fmt: Optional[str] = typer.Option(None, "--format", help="csv, jsonl or parquet (default: from the extension)"),
               rejects_dir: Optional[Path] = typer.Option(None, help="where the rejects file goes")) -> None:
    """Import a feed file; rerunning resumes an interrupted import and adds nothing twice."""
    from kosh.core.security import system_principal
    from kosh.stay import ingest

    ctx = _context()
    principal = system_principal(f"import {path.name}")
    with progress_bar() as bar:
        task = bar.add_task(f"import {path.name}", total=None)
        refresh: list = []

        def refreshed(done: int, total: int) -> None:
            if not refresh:
                refresh.append(bar.add_task("recompute stay status", total=total))
            bar.update(refresh[0], completed=done, total=total)

        try:
            report = ingest.import_file(ctx, principal, path, kind, fmt=fmt, rejects_dir=rejects_dir,
                                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                                        refresh_progress=refreshed)
        except KoshError as exc:
            _fail(str(exc))
    _print_report(report)
    if report.rejected:
        raise typer.Exit(1 if report.accepted == 0 and report.duplicates == 0 else 0)


def _print_report(report) -> None:  # noqa: ANN001
    if report.already_imported:
        console.print(f"{report.kind}: this file was imported before (batch {report.batch_id}); nothing added")
        return
    resumed = f", resumed at row {report.resumed_from + 1}" if report.resumed_from else ""
    console.print(f"{report.kind}: {report.rows_total} rows — {report.accepted} recorded, "
                  f"{report.duplicates} already known, {report.rejected} rejected{resumed}")
    if report.rejected:
        console.print(f"rejects: {report.rejects_path}")


@stay_app.command("calc")
def stay_calc(citizenship: str = typer.Option(..., help="ISO 3166-1 alpha-3, e.g. UZB"),
              trip: list[str] = typer.Option(..., help="ENTRY:EXIT dates (YYYY-MM-DD); ENTRY: when still in the country"),
              on: Optional[str] = typer.Option(None, help="the date to count on (default today)"),
              as_json: bool = typer.Option(False, "--json", help="print a JSON object")) -> None:
    """Days used, days left and the last lawful day under the short-stay rules."""
    from pydantic import ValidationError

    from kosh.core.validation import field_errors
    from kosh.jurisdictions import load_pack
    from kosh.stay import rules
    from kosh.stay.schemas import CalculatorIn

    trips = []
    for t in trip:
        start, sep, end = t.partition(":")
        if not sep:
            _fail(f"trip '{t}' must be ENTRY:EXIT or ENTRY: (still in the country)")
        trips.append({"start": start, **({"end": end} if end else {})})
    try:
        body = CalculatorIn.model_validate({"citizenship": citizenship, "trips": trips, **({"on": on} if on else {})})
    except ValidationError as exc:
        _fail("; ".join(f"{e.field}: {e.message}" for e in field_errors(exc)))
    day = body.on or dt.date.today()
    try:
        result = rules.calculate_trips(body.citizenship, [(t.start, t.end) for t in body.trips], day,
                                       load_pack(get_settings().jurisdiction).stay_rules)
    except ValueError as exc:
        _fail(str(exc))
    _print_assessment(result, day, body.citizenship, as_json)


def _assessment_dict(result, day: dt.date, citizenship: str) -> dict:  # noqa: ANN001
    from kosh.stay.service import rule_code

    return {"on": day.isoformat(), "citizenship": citizenship, "status": result.status,
            "days_used": result.days_used, "days_left": result.days_left,
            "last_lawful_day": result.last_lawful_day.isoformat() if result.last_lawful_day else None,
            "overstay_days": result.overstay_days, "in_country": result.in_country,
            "rule": {"code": rule_code(result.rule), "text": result.rule.text, "source": str(result.rule.source)},
            "reasons": list(result.reasons),
            "deadlines": [{"kind": d.kind, "due": d.due.isoformat(), "met": d.met} for d in result.deadlines]}


def _print_assessment(result, day: dt.date, citizenship: str, as_json: bool) -> None:  # noqa: ANN001
    data = _assessment_dict(result, day, citizenship)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    table = Table(show_header=False)
    for key in ("on", "citizenship", "status", "days_used", "days_left", "last_lawful_day", "overstay_days"):
        table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("rule", data["rule"]["text"])
    console.print(table)
    for r in data["reasons"]:
        console.print(f"• {r}")


@stay_app.command("status")
def stay_status(person_id: str, on: Optional[str] = typer.Option(None, help="date (default today)"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """A registered person's stay status (audited as a read by the operator)."""
    from kosh.core.security import system_principal
    from kosh.stay import service

    ctx = _context()
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        _fail(f"'{on}' is not a date (YYYY-MM-DD)")
    try:
        with ctx.transaction() as s:
            citizenship, result, day = service.stay_status(s, ctx, system_principal("kosh stay status"), person_id, day)
    except KoshError as exc:
        _fail(str(exc))
    _print_assessment(result, day, citizenship, as_json)


@identity_app.command("scan")
def identity_scan() -> None:
    """Compare likely pairs of persons and queue those that may be one person for review."""
    from kosh.core.security import system_principal
    from kosh.identity import service

    ctx = _context()
    with console.status("comparing likely pairs …"):
        with ctx.transaction() as s:
            queued = service.scan(s, ctx, system_principal("kosh identity scan"))
    console.print(f"{queued} pair(s) queued for review (weight ≥ {ctx.settings.identity_review_weight:g})")


def _identity_model(path: Optional[Path]):  # noqa: ANN202 — identity.model.Model
    from kosh.identity.model import ModelError
    from kosh.identity.registry import model_at

    try:
        return model_at(str(path) if path else get_settings().identity_model)
    except ModelError as exc:
        _fail(str(exc))


def _prepared_records(input_path: Path, rejects_path: Path):  # noqa: ANN202 — polars DataFrame
    """Read, validate (rejects file with row and reason) and prepare the records of a file."""
    import polars as pl

    from kosh.core.csvsafe import write_frame
    from kosh.identity import linking

    try:
        raw = linking.read_records(input_path)
    except linking.InputError as exc:
        _fail(str(exc))
    records, rejected = linking.validate(raw)
    if rejected:
        write_frame(pl.DataFrame({"row": [r.row for r in rejected], "record_id": [r.record_id for r in rejected],
                      "reason": [r.reason for r in rejected]}), rejects_path)
        err.print(f"[yellow]{len(rejected)} row(s) rejected[/] — rows and reasons in {rejects_path}")
    if records.is_empty():
        _fail(f"{input_path.name}: no record to link")
    with progress_bar() as bar:
        task = bar.add_task("name keys", total=records.height)
        prepared = linking.prepare(records, progress=lambda done, total: bar.update(task, completed=done))
    return prepared


@identity_app.command("link")
def identity_link(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV or Parquet: record_id, source, surname, "
                                      "given_names, patronymic, sex, birth_date, citizenship, document_number"),
    out: Path = typer.Option(..., "--out", help="where to write record_id,person_id (CSV)"),
    engine: str = typer.Option("duckdb", help="duckdb (embedded) or spark (pyspark)"),
    spark_master: Optional[str] = typer.Option(None, envvar="KOSH_SPARK_MASTER",
                                               help="Spark master URL (default local[1])"),
    model_path: Optional[Path] = typer.Option(None, "--model", help="trained model JSON (default: configured)"),
    link_weight: Optional[float] = typer.Option(None, help="match weight to link at (default: configured)"),
    review_weight: Optional[float] = typer.Option(None, help="match weight to list for review (default: configured)"),
    review_out: Optional[Path] = typer.Option(None, help="also write the pairs to review (CSV)"),
    memory_limit: Optional[str] = typer.Option(None, help="DuckDB memory limit, e.g. 6GB"),
) -> None:
    """Link a file of records in bulk: which records are one person."""
    import time

    from kosh.core.csvsafe import write_frame
    from kosh.identity import linking
    from kosh.identity.model import ModelError

    if engine not in linking.ENGINES:
        _fail(f"unknown engine '{engine}': use {' or '.join(linking.ENGINES)}")
    settings = get_settings()
    model = _identity_model(model_path)
    link_w = settings.identity_link_weight if link_weight is None else link_weight
    review_w = settings.identity_review_weight if review_weight is None else review_weight
    started = time.perf_counter()
    prepared = _prepared_records(input_path, out.with_name(out.stem + ".rejects.csv"))
    try:
        with console.status(f"linking {prepared.height} records on {engine} …"):
            with linking.engine(engine, spark_master=spark_master, memory_limit=memory_limit) as db:
                result = linking.link(prepared, db, model, link_weight=link_w, review_weight=review_w)
    except (ModelError, linking.InputError) as exc:
        _fail(str(exc))
    write_frame(result.clusters, out)
    if review_out:
        write_frame(result.review, review_out)
    persons = result.clusters["person_id"].n_unique()
    console.print(f"{prepared.height} records → {persons} persons ({engine}, model {model.version}, "
                  f"link weight {link_w:g}; {result.review.height} pair(s) to review) in "
                  f"{time.perf_counter() - started:.1f} s → {out}")


@identity_app.command("rebuild")
def identity_rebuild(
    engine: str = typer.Option("duckdb", help="duckdb or spark, for scoring the pairs"),
    fresh: bool = typer.Option(False, "--fresh", help="score anew even if an interrupted run's pairs are there"),
    memory_limit: Optional[str] = typer.Option(None, help="DuckDB memory limit, e.g. 6GB"),
) -> None:
    """Re-link the whole registry with the configured model (a nightly job): index every person
    row, score all likely pairs with Splink, merge the certain ones and queue the rest. Rerun
    after an interruption to resume."""
    from kosh.identity import linking, registry

    if engine not in linking.ENGINES:
        _fail(f"unknown engine '{engine}': use {' or '.join(linking.ENGINES)}")
    ctx = _context()
    labels = {"index": "indexing person rows", "read": "reading person rows", "score": "scoring pairs (Splink)",
              "link": "merging and queueing"}
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            report = registry.rebuild(ctx, engine=engine, progress=tick, fresh=fresh, memory_limit=memory_limit)
        except KoshError as exc:
            _fail(str(exc))
    model = registry.current_model(ctx)
    console.print(f"{report.rows} person rows ({report.indexed} indexed now), {report.pairs_scored} pairs scored"
                  f"{' (reused from the interrupted run)' if report.resumed else ''}; "
                  f"{report.outcome.merges} merge(s), {report.outcome.queued} pair(s) queued for review "
                  f"(model {model.version}, link weight {ctx.settings.identity_link_weight:g}, review weight "
                  f"{ctx.settings.identity_review_weight:g}) in "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))


@identity_app.command("train")
def identity_train(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="records to train on (as for `link`)"),
    out: Path = typer.Option(..., "--out", help="where to write the trained model (JSON)"),
    version: str = typer.Option(..., help="a name for this model version, e.g. kz-2026-11"),
    engine: str = typer.Option("duckdb", help="duckdb or spark"),
    seed: int = typer.Option(1, help="seed of the random pairs that estimate u"),
) -> None:
    """Train the linkage model (EM, no labels needed) on a file of records and save it as JSON."""
    from kosh.identity import linking

    prepared = _prepared_records(input_path, out.with_name(out.stem + ".rejects.csv"))
    with console.status(f"training on {prepared.height} records …"):
        with linking.engine(engine) as db:
            model = linking.train(prepared, db, version=version, trained_on=input_path.name, seed=seed)
    out.write_text(model.dumps() + "\n", encoding="utf-8")
    console.print(f"model {version} ({model.digest}) trained on {prepared.height} records → {out}")


def _checkpoint_file(given: Optional[Path], settings) -> Path:  # noqa: ANN001
    if given is not None and not given.is_file():
        _fail(f"no checkpoint file at {given}")
    return given or settings.resolved_audit_checkpoint_file


def _report_broken(result) -> None:  # noqa: ANN001 — audit.VerifyResult
    from rich.markup import escape

    at = f" at record {result.first_broken_seq}" if result.first_broken_seq is not None else ""
    err.print(f"[bold red]audit chain broken[/]{at}: {escape(result.reason)} "
              f"({result.checked} records verified before it)")
    raise typer.Exit(1)


@retention_app.command("run")
def retention_run(on: Optional[str] = typer.Option(None, help="the day the terms are counted to (default today)"),
                  dry_run: bool = typer.Option(False, "--dry-run", help="count what would go; change nothing"),
                  batch: int = typer.Option(500, min=1, help="persons (or rows) per transaction")) -> None:
    """Delete or anonymise what is past its retention term (daily; safe beside the server)."""
    from kosh.stay import retention

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        _fail(f"'{on}' is not a date (YYYY-MM-DD)")
    ctx = _context()
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def tick(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.replace("_", " "), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = retention.run(ctx, day, dry_run=dry_run, batch=batch, progress=tick)
    policy = ctx.pack.retention
    table = Table(title=f"Retention on {report.on.isoformat()}" + (" — dry run, nothing changed" if dry_run else ""))
    table.add_column("what")
    table.add_column("would go" if dry_run else "removed", justify="right")
    table.add_column("rule")
    for kind, n in report.removed.items():
        rule = policy.rule(kind)
        if rule is None:
            text = "no rule: kept"
        elif rule.action == "keep":
            text = "kept"
        else:
            extra = f" ({rule.term_without_exit} with no exit)" if rule.term_without_exit else ""
            text = (f"{rule.action} {rule.term}{extra} after {rule.counted_from.replace('_', ' ')}"
                    + (" — policy default" if rule.policy_default else ""))
        table.add_row(kind.replace("_", " "), str(n), text)
    console.print(table)


@audit_app.command("verify")
def audit_verify(checkpoints: Optional[Path] = typer.Option(
        None, "--checkpoints", help="a checkpoint file to check against (a witness's copy); "
                                    "default KOSH_HOME/audit-checkpoints.jsonl")) -> None:
    """Check the whole audit chain, its head and every signed checkpoint; exits 1 and names the first problem."""
    from kosh.core import audit

    ctx = _context()
    path = _checkpoint_file(checkpoints, ctx.settings)
    with ctx.transaction() as s:
        result = audit.verify(s, ctx.keyring, checkpoints=path)
    if not result.ok:
        _report_broken(result)
    console.print(f"audit chain intact: {result.checked} records verified, "
                  f"{result.checkpoints} signed checkpoint(s) of {path} hold")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head and append it to KOSH_HOME/audit-checkpoints.jsonl (and stdout, syslog); for cron."""
    from kosh.core import audit

    ctx = _context()
    path = ctx.settings.resolved_audit_checkpoint_file
    try:
        with ctx.transaction() as s:
            cp = audit.write_checkpoint(s, ctx.keyring, path)
    except KoshError as exc:
        _fail(str(exc), code=1)
    assert cp is not None  # always written unless only_if_moved
    typer.echo(cp.to_json())  # not through Rich: a witness reads the line whole
    audit.publish(cp, syslog=ctx.settings.audit_checkpoint_syslog)
    err.print(f"checkpoint at record {cp.seq} appended to {path} (public key: {audit.checkpoint_public_key_path(path)})")


@audit_app.command("seal")
def audit_seal() -> None:
    """Tag a head last moved before head tags existed, once the chain and checkpoints verify."""
    from kosh.core import audit

    ctx = _context()
    with ctx.transaction() as s:
        result = audit.seal(s, ctx.keyring, checkpoints=ctx.settings.resolved_audit_checkpoint_file)
    if not result.ok:
        _report_broken(result)
    console.print(f"audit head carries a valid tag: {result.checked} records verified")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8000, help="port"), workers: int = typer.Option(1, help="worker processes")) -> None:
    """Run the web app and API."""
    import uvicorn

    _context()  # upgrades the schema and checks the keys before listening
    console.print(f"Kosh on http://{host}:{port}/  (API docs at /api/v1/docs)")
    uvicorn.run("kosh.web.server:app", host=host, port=port, workers=workers, log_level="warning",
                factory=False)


@app.command()
def demo(seed: int = typer.Option(7, help="random seed: the same seed builds the same country"),
         size: str = typer.Option("small", help="small, medium or large"),
         serve_after: bool = typer.Option(True, "--serve/--no-serve", help="start the web app afterwards"),
         host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """Build a synthetic country into the embedded database and (by default) serve it."""
    from kosh.demo.build import build_demo

    if size not in ("small", "medium", "large"):
        _fail(f"unknown size '{size}': use small, medium or large")
    try:
        summary = build_demo(seed=seed, size=size, console=console, progress_factory=progress_bar)
    except KoshError as exc:
        _fail(str(exc))
    table = Table(title="Demo logins (password for all: " + summary["password"] + ")")
    table.add_column("username")
    table.add_column("role")
    table.add_column("scope")
    for u in summary["users"]:
        table.add_row(u["username"], u["role"], u["scope"])
    console.print(table)
    if serve_after:
        serve(host=host, port=port, workers=1)


@app.command()
def bench(what: str = typer.Argument("stay", help="what to measure: stay, identity"),
          size: Optional[str] = typer.Option(None, help="demo size (default: medium; for identity, the size of "
                                             "the multilingual demo set)"),
          seconds: float = typer.Option(10.0, help="duration of each load phase"),
          postgres_url: Optional[str] = typer.Option(None, envvar="KOSH_BENCH_POSTGRES_URL",
                                                     help="PostgreSQL for the import and API runs"),
          rate: float = typer.Option(300.0, help="requests/s offered in the paced API latency run (0: skip it)"),
          sets: str = typer.Option("febrl3,febrl4,multilingual,scale,registry",
                                   help="identity: data sets to run, from febrl3, febrl4, multilingual, scale, "
                                        "registry"),
          scale: str = typer.Option("100k,1M", help="identity: synthetic record counts of the scale runs"),
          engines: str = typer.Option("duckdb,spark", help="identity: engines of the scale runs (duckdb, spark; "
                                      "Spark runs up to 100k records)")) -> None:
    """Measure and print figures for this machine (no pass/fail)."""
    from kosh import bench as bench_mod

    if what == "identity":
        from kosh.identity.benchmark import parse_count

        def items(text: str) -> tuple[str, ...]:
            return tuple(t.strip().lower() for t in text.split(",") if t.strip())

        if size is not None and size not in ("small", "medium", "large"):
            _fail(f"unknown size '{size}': use small, medium or large")
        for chosen, allowed, kind in ((items(sets), bench_mod.IDENTITY_SETS, "set"),
                                      (items(engines), bench_mod.IDENTITY_ENGINES, "engine")):
            unknown = [c for c in chosen if c not in allowed]
            if unknown or not chosen:
                _fail(f"unknown {kind} '{','.join(unknown)}': use {', '.join(allowed)}")
        try:
            sizes = tuple(parse_count(t) for t in items(scale))
        except ValueError as exc:
            _fail(str(exc))
        bench_mod.run_identity(console=console, size=size or "medium", sets=items(sets), scale_sizes=sizes,
                               engines=items(engines))
        return
    if what != "stay":
        _fail(f"unknown benchmark '{what}': use stay or identity")
    bench_mod.run_stay(console=console, size=size or "medium", seconds=seconds, postgres_url=postgres_url, rate=rate)


if __name__ == "__main__":
    app()

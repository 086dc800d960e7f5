"""Commands of identity: link files of records in bulk, train the model, rebuild the registry's
links, scan for pairs to review."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kosh.platform.cli import console, err, fail, open_ctx, progress_bar
from kosh.platform.errors import KoshError

if TYPE_CHECKING:
    import polars as pl
    from rich.progress import TaskID

    from kosh.identity.model import Model

identity_app = typer.Typer(help="One person across records: linking, the review queue, rebuilds.", no_args_is_help=True)


@identity_app.command("scan")
def identity_scan() -> None:
    """Compare likely pairs of persons and queue those that may be one person for review."""
    from kosh.identity import registry
    from kosh.platform.security import system_principal

    ctx = open_ctx()
    with console.status("comparing likely pairs …"):
        with ctx.transaction() as s:
            queued = registry.scan(s, ctx, system_principal("kosh identity scan"))
    console.print(f"{queued} pair(s) queued for review (weight ≥ {ctx.settings.identity_review_weight:g})")


def _identity_model(path: Path | None) -> Model:
    from kosh.identity.model import ModelError
    from kosh.identity.registry import model_at
    from kosh.platform.config import get_settings

    try:
        return model_at(str(path) if path else get_settings().identity_model)
    except ModelError as exc:
        fail(str(exc))


def _prepared_records(input_path: Path, rejects_path: Path) -> pl.DataFrame:
    """Read, validate (rejects file with row and reason) and prepare the records of a file."""
    from kosh.identity import linking
    from kosh.platform.rejects import write_rejects

    try:
        raw = linking.read_records(input_path)
    except linking.InputError as exc:
        fail(str(exc))
    records, rejected = linking.validate(raw)
    if rejected:
        write_rejects(rejects_path, linking.REJECT_COLUMNS,
                      ({"row": r.row, "record_id": r.record_id, "reason": r.reason} for r in rejected))
        err.print(f"[yellow]{len(rejected)} row(s) rejected[/] — rows and reasons in {rejects_path}")
    if records.is_empty():
        fail(f"{input_path.name}: no record to link")
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
    spark_master: str | None = typer.Option(None, envvar="KOSH_SPARK_MASTER",
                                               help="Spark master URL (default local[1])"),
    model_path: Path | None = typer.Option(None, "--model", help="trained model JSON (default: configured)"),
    link_weight: float | None = typer.Option(None, help="match weight to link at (default: configured)"),
    review_weight: float | None = typer.Option(None, help="match weight to list for review (default: configured)"),
    review_out: Path | None = typer.Option(None, help="also write the pairs to review (CSV)"),
    memory_limit: str | None = typer.Option(None, help="DuckDB memory limit, e.g. 6GB"),
) -> None:
    """Link a file of records in bulk: which records are one person."""
    import time

    from kosh.identity import linking
    from kosh.identity.model import ModelError
    from kosh.platform.config import get_settings
    from kosh.platform.csvsafe import write_frame

    if engine not in linking.ENGINES:
        fail(f"unknown engine '{engine}': use {' or '.join(linking.ENGINES)}")
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
        fail(str(exc))
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
    memory_limit: str | None = typer.Option(None, help="DuckDB memory limit, e.g. 6GB"),
) -> None:
    """Re-link the whole registry with the configured model (a nightly job): index every person
    row, score all likely pairs with Splink, merge the certain ones and queue the rest. Rerun
    after an interruption to resume."""
    from kosh.identity import linking, registry

    if engine not in linking.ENGINES:
        fail(f"unknown engine '{engine}': use {' or '.join(linking.ENGINES)}")
    ctx = open_ctx()
    labels = {"index": "indexing person rows", "read": "reading person rows", "score": "scoring pairs (Splink)",
              "link": "merging and queueing"}
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            report = registry.rebuild(ctx, engine=engine, progress=tick, fresh=fresh, memory_limit=memory_limit)
        except KoshError as exc:
            fail(str(exc))
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



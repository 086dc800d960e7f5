"""Commands of the flows: import a feed file (the intake flow) and the retention run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from kosh.platform.cli import console, fail, open_ctx, parse_day, progress_bar
from kosh.platform.errors import KoshError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from kosh.flows.intake import ImportReport

retention_app = typer.Typer(help="Remove personal data past the terms of the jurisdiction pack.", no_args_is_help=True)


def import_cmd(path: Path,
               kind: str = typer.Option("border_events", help="border_events, notifications, residence_permits, "
                                                         "quotas, household_payments or work_permits"),
               fmt: str | None = typer.Option(None, "--format",
                                              help="csv, jsonl or parquet (default: from the extension)"),
               rejects_dir: Path | None = typer.Option(None, help="where the rejects file goes")) -> None:
    """Import a feed file (or work-permit quotas, household prepayments, permits of a previous system);
    rerunning resumes an interrupted import and adds nothing twice."""
    from kosh.flows import intake
    from kosh.platform.security import system_principal

    ctx = open_ctx()
    principal = system_principal(f"import {path.name}")
    with progress_bar() as bar:
        task = bar.add_task(f"import {path.name}", total=None)
        refresh: list[TaskID] = []

        def refreshed(done: int, total: int) -> None:
            if not refresh:
                refresh.append(bar.add_task("recompute stay status", total=total))
            bar.update(refresh[0], completed=done, total=total)

        try:
            report = intake.import_file(ctx, principal, path, kind, fmt=fmt, rejects_dir=rejects_dir,
                                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                                        refresh_progress=refreshed)
        except KoshError as exc:
            fail(str(exc))
    _print_report(report)
    if report.rejected:
        raise typer.Exit(1 if report.accepted == 0 and report.duplicates == 0 else 0)


def _print_report(report: ImportReport) -> None:
    if report.already_imported:
        console.print(f"{report.kind}: this file was imported before (batch {report.batch_id}); nothing added")
        return
    resumed = f", resumed at row {report.resumed_from + 1}" if report.resumed_from else ""
    console.print(f"{report.kind}: {report.rows_total} rows — {report.accepted} recorded, "
                  f"{report.duplicates} already known, {report.rejected} rejected{resumed}")
    if report.rejected:
        console.print(f"rejects: {report.rejects_path}")


@retention_app.command("run")
def retention_run(on: str | None = typer.Option(None, help="the day the terms are counted to (default today)"),
                  dry_run: bool = typer.Option(False, "--dry-run", help="count what would go; change nothing"),
                  batch: int = typer.Option(500, min=1, help="persons (or rows) per transaction")) -> None:
    """Delete or anonymise what is past its retention term (daily; safe beside the server)."""
    from kosh.flows import retention

    day = parse_day(on)
    ctx = open_ctx()
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

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



"""The `kosh` command: each capability's commands mounted under one root, and the commands of the
whole product (serve, demo, bench). Every command imports what it needs when it runs."""

from __future__ import annotations

import typer
from rich.table import Table

from kosh.flows.cli import import_cmd, retention_app
from kosh.identity.cli import identity_app
from kosh.permits.cli import permits_app
from kosh.platform.cli import audit_app, console, db_app, fail, init, open_ctx, progress_bar, users_app
from kosh.platform.errors import KoshError
from kosh.stay.cli import stay_app

app = typer.Typer(help="Kosh — register, record and monitor the lawful stay of foreign nationals.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(stay_app, name="stay")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(identity_app, name="identity")
app.add_typer(retention_app, name="retention")
app.add_typer(permits_app, name="permits")
app.command()(init)
app.command("import")(import_cmd)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8000, help="port"), workers: int = typer.Option(1, help="worker processes")) -> None:
    """Run the web app and API."""
    import uvicorn

    open_ctx()  # upgrades the schema and checks the keys before listening
    console.print(f"Kosh on http://{host}:{port}/  (API docs at /api/v1/docs)")
    uvicorn.run("kosh.web.server:app", host=host, port=port, workers=workers, log_level="warning",
                factory=False)


@app.command()
def demo(seed: int = typer.Option(7, help="random seed: the same seed builds the same country"),
         size: str = typer.Option("small", help="small, medium or large"),
         serve_after: bool = typer.Option(True, "--serve/--no-serve", help="start the web app afterwards"),
         host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """Build a synthetic country into the embedded database and (by default) serve it."""
    from kosh_demo.build import build_demo

    if size not in ("small", "medium", "large"):
        fail(f"unknown size '{size}': use small, medium or large")
    try:
        summary = build_demo(seed=seed, size=size, console=console, progress_factory=progress_bar)
    except KoshError as exc:
        fail(str(exc))
    table = Table(title="Demo logins (password for all: " + summary["password"] + ")")
    table.add_column("username")
    table.add_column("role")
    table.add_column("scope")
    for u in summary["users"]:
        table.add_row(u["username"], u["role"], u["scope"])
    console.print(table)
    if serve_after:
        serve(host=host, port=port, workers=1)


def _benchmarks_on_path() -> None:
    """The benchmarks live beside the product (`benchmarks/` of the checkout), not in the package."""
    import importlib.util
    import sys
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "benchmarks" / "bench.py").is_file():
        if str(checkout) not in sys.path:
            sys.path.insert(0, str(checkout))
    elif importlib.util.find_spec("benchmarks") is None:
        fail("kosh bench runs from a source checkout: benchmarks/ is not installed with the package")


@app.command()
def bench(what: str = typer.Argument("stay", help="what to measure: stay, identity, permits"),
          size: str | None = typer.Option(None, help="demo size (default: medium; for identity, the size of "
                                             "the multilingual demo set)"),
          seconds: float = typer.Option(10.0, help="duration of each load phase"),
          postgres_url: str | None = typer.Option(None, envvar="KOSH_BENCH_POSTGRES_URL",
                                                     help="PostgreSQL for the import and API runs"),
          rate: float = typer.Option(300.0, help="requests/s offered in the paced API latency run (0: skip it)"),
          sets: str = typer.Option("febrl3,febrl4,multilingual,scale,registry",
                                   help="identity: data sets to run, from febrl3, febrl4, multilingual, scale, "
                                        "registry"),
          scale: str = typer.Option("100k,1M", help="identity: synthetic record counts of the scale runs"),
          engines: str = typer.Option("duckdb,spark", help="identity: engines of the scale runs (duckdb, spark; "
                                      "Spark runs up to 100k records)"),
          database_url: str | None = typer.Option(None, envvar="KOSH_DATABASE_URL",
                                                  help="permits: a PostgreSQL database to run in (a schema of its "
                                                       "own); otherwise a temporary SQLite file"),
          approvals: int = typer.Option(2000, help="permits: applications approved in each run")) -> None:
    """Measure and print figures for this machine (no pass/fail)."""
    _benchmarks_on_path()
    from benchmarks import bench as bench_mod

    if what == "identity":
        from benchmarks.identity import parse_count

        def items(text: str) -> tuple[str, ...]:
            return tuple(t.strip().lower() for t in text.split(",") if t.strip())

        if size is not None and size not in ("small", "medium", "large"):
            fail(f"unknown size '{size}': use small, medium or large")
        for chosen, allowed, kind in ((items(sets), bench_mod.IDENTITY_SETS, "set"),
                                      (items(engines), bench_mod.IDENTITY_ENGINES, "engine")):
            unknown = [c for c in chosen if c not in allowed]
            if unknown or not chosen:
                fail(f"unknown {kind} '{','.join(unknown)}': use {', '.join(allowed)}")
        try:
            sizes = tuple(parse_count(t) for t in items(scale))
        except ValueError as exc:
            fail(str(exc))
        bench_mod.run_identity(console=console, size=size or "medium", sets=items(sets), scale_sizes=sizes,
                               engines=items(engines))
        return
    if what == "permits":
        from benchmarks.permits import run_permits

        result = run_permits(console, database_url if database_url and database_url.startswith("postgresql")
                             else None, approvals=approvals)
        if not result.ok:
            fail("the quota was overdrawn, the ledger disagrees with its movements or approvals failed")
        return
    if what != "stay":
        fail(f"unknown benchmark '{what}': use stay, identity or permits")
    bench_mod.run_stay(console=console, size=size or "medium", seconds=seconds, postgres_url=postgres_url, rate=rate)


if __name__ == "__main__":
    app()

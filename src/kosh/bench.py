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

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

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
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
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


def _fresh_schema(base: str, schema: str) -> None:
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _use_database(database_url: str, home: Path) -> None:
    """Point this process's settings at another database and home (the bench runs several)."""
    from kosh.core import config, db

    os.environ["KOSH_HOME"] = str(home)
    os.environ["KOSH_DATABASE_URL"] = database_url
    config.reset_settings()
    db.engine_for.cache_clear()


def build_into(database_url: str, home: Path, size: str) -> tuple[dict, float]:
    """Build the demo into a database; returns the summary and the border-event import seconds."""
    from kosh.demo import build

    _use_database(database_url, home)
    summary = build.build_demo(seed=11, size=size)
    return summary, summary["import_seconds"]["border_events"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(base: str, token: str, person_ids: list[str], seconds: float, concurrency: int) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"authorization": f"Bearer {token}", "x-purpose": "benchmark"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        async def worker(seed: int) -> None:
            nonlocal errors
            rnd = random.Random(seed)
            while time.perf_counter() < deadline:
                pid = rnd.choice(person_ids)
                t0 = time.perf_counter()
                r = await client.get(f"/api/v1/persons/{pid}/stay")
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, errors


def bench_api(database_url: str, home: Path, seconds: float, concurrency: int = 16, workers: int = 2) -> dict:
    from kosh.core import auth
    from kosh.core.context import open_context
    from kosh.stay.models import StayStatus

    _use_database(database_url, home)
    ctx = open_context()
    with ctx.transaction() as s:
        ids = list(s.execute(sa.select(StayStatus.person_id).limit(5000)).scalars())
        token = auth.issue_token(s, ctx, auth.user_by_name(s, "admin"), "bench")
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
            return _wrk(f"http://127.0.0.1:{port}", token, ids, seconds, concurrency) | {"workers": workers}
        t0 = time.perf_counter()
        lat, errors = asyncio.run(_load(f"http://127.0.0.1:{port}", token, ids, seconds, concurrency))
        elapsed = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lat.sort()
    q = statistics.quantiles(lat, n=100) if len(lat) > 100 else [float("nan")] * 99
    return {"requests": len(lat), "errors": errors, "rps": len(lat) / elapsed, "p50_ms": q[49] * 1000,
            "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "concurrency": concurrency, "workers": workers,
            "client": "httpx (Python, same cores)"}


_WRK_SCRIPT = """
local ids = {}
for line in io.lines(os.getenv("KOSH_BENCH_IDS")) do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KOSH_BENCH_TOKEN")
wrk.headers["X-Purpose"] = "benchmark"
request = function()
  return wrk.format("GET", "/api/v1/persons/" .. ids[math.random(#ids)] .. "/stay")
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout
  io.write(string.format("KOSH %d %d %f %f %f %f\\n", summary.requests, bad, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk(base: str, token: str, ids: list[str], seconds: float, concurrency: int) -> dict:
    """Load from wrk (C, one thread): far less CPU than a Python client on the same 2 cores."""
    with tempfile.TemporaryDirectory() as tmp:
        script, idfile = Path(tmp) / "status.lua", Path(tmp) / "ids.txt"
        script.write_text(_WRK_SCRIPT)
        idfile.write_text("\n".join(ids) + "\n")
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", str(script), base],
                             capture_output=True, text=True, env=dict(os.environ, KOSH_BENCH_IDS=str(idfile),
                                                                      KOSH_BENCH_TOKEN=token), check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("KOSH "))
    n, bad, secs, p50, p95, p99 = line.split()[1:]
    return {"requests": int(n), "errors": int(bad), "rps": int(n) / float(secs), "p50_ms": float(p50),
            "p95_ms": float(p95), "p99_ms": float(p99), "concurrency": concurrency, "client": "wrk (C, 1 thread)"}


def run_stay(console: Console, size: str = "medium", seconds: float = 10.0, postgres_url: str | None = None) -> None:
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
            pg_url = _pg_url_with_schema(base, "kosh_bench")
            pg_home = Path(tmp) / "pg"
            summary, secs = build_into(pg_url, pg_home, size)
            n = summary["reports"]["border_events"].accepted
            table.add_row(f"import into PostgreSQL, events/s ({n:,} events)", f"{n / secs:,.0f}")
            console.print(f"PostgreSQL import: {n:,} events in {secs:.1f} s = {n / secs:,.0f} events/s")
            for concurrency in (16, 4):
                api = bench_api(pg_url, pg_home, seconds, concurrency=concurrency)
                label = f"stay-status API, {api['workers']} workers, {concurrency} connections ({api['client']})"
                table.add_row(f"{label}: requests/s", f"{api['rps']:,.0f}")
                table.add_row(f"{label}: p50 / p95 / p99 ms",
                              f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} / {api['p99_ms']:.1f}")
                if api["errors"]:
                    table.add_row(f"{label}: errors", str(api["errors"]))
            _fresh_schema(base, "kosh_bench")
    console.print(table)
    console.print("[dim]The load generator runs on the same cores as the server: requests/s is a floor.[/]")

"""`kosh bench permits`: work-permit approvals per second from concurrent akimat clients, and the
check that the quota was never overdrawn.

N applications are prepared as the akimat finds them after their holds lapsed (checked, no
places reserved), so every approval draws its places again through the ledger's conditional
update. 16 client threads, each with its own session and transaction per approval, call
`kosh.permits.service.take_step(... approve ...)` as the akimat of the region:

(a) one hot quota cell with fewer places than applications: exactly `allowed` approvals
    succeed, the rest are refused with Conflict;
(b) 200 cells (20 regions × 5 categories × 2 years), each with room for its applications.

Afterwards: ledger.integrity_errors is empty and reserved + used ≤ allowed in every cell.
On PostgreSQL the runs use a schema of their own (dropped afterwards), like `kosh bench stay`;
on SQLite a temporary file. Figures only, no pass/fail on speed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from benchmarks.bench import DEFAULT_PG, _drop_schema, _fresh_schema, _pg_url_with_schema, machine

if TYPE_CHECKING:
    from kosh.platform.context import Context

CLIENTS = 16
SCHEMA = "kosh_bench_permits"
YEARS = (2026, 2027)
CATEGORIES = ("1", "2", "3", "4", "seasonal")
HOT = (2025, "75", "3")  # a year of its own: the spread run's cells are 2026 and 2027
BIN = "180240000012"  # the employer all applications are filed for (a valid BIN)
TODAY = dt.date(2026, 3, 2)


@dataclass
class RunResult:
    name: str
    cells: int
    attempted: int
    approved: int
    refused: int  # Conflict: the cell had no place left
    errors: list[str]
    seconds: float
    allowed: int  # places allowed over the run's cells

    @property
    def per_second(self) -> float:
        return self.approved / self.seconds if self.seconds else 0.0

    @property
    def attempts_per_second(self) -> float:
        return self.attempted / self.seconds if self.seconds else 0.0


@dataclass
class PermitsBench:
    database: str
    machine: str
    runs: list[RunResult] = field(default_factory=list)
    integrity_errors: list[str] = field(default_factory=list)
    overdrawn: list[str] = field(default_factory=list)  # cells with reserved + used > allowed
    hot_exact: bool = False  # the hot cell approved exactly its allowed places

    @property
    def ok(self) -> bool:
        return not self.integrity_errors and not self.overdrawn and self.hot_exact and not any(
            r.errors for r in self.runs)


def _context(url: str, home: Path) -> Context:
    from kosh.platform import db
    from kosh.platform.config import Settings
    from kosh.platform.context import Context
    from kosh.platform.crypto import Keyring

    home.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(url)
    db.upgrade(engine)
    return Context(settings=Settings(home=home), engine=engine, keyring=Keyring.generate())


def _regions(ctx: Context) -> list[str]:
    return sorted(r.kato for r in ctx.pack.regions)


def prepare(ctx: Context, cells: dict[tuple[int, str, str], int],
            applications: Sequence[tuple[int, str, str]], prefix: str = "WP-BNCH-") -> list[str]:
    """Set the cells' quotas as the ministry, then store the applications (one worker each) as
    checked with their holds lapsed: what the akimat's queue holds after the daily job lapsed
    them. Returns their references, in order."""
    from kosh.people import service as people
    from kosh.permits import ledger, service
    from kosh.permits.models import PermitWorker, WorkPermit
    from kosh.permits.schemas import EmployerIn
    from kosh.platform.security import Principal, Role, system_principal

    ministry = Principal("ministry", Role.MINISTRY, purpose="bench quotas")
    admin = system_principal("bench")
    refs: list[str] = []
    with ctx.transaction() as s:
        for (year, region, category), allowed in cells.items():
            ledger.set_quota(s, ctx, ministry, year=year, region=region, category=category, allowed=allowed)
        employer = service.save_employer(s, ctx, admin, EmployerIn(employer_name="Bench Qurylys LLP", region="75",
                                                                   sector="construction"), party=BIN)
        worker = people.resolve_identities(s, ctx, [people.IdentityRecord(
            source="bench", surname="Karimov", given_names="Aziz", citizenship="UZB", document_number="FA9000001",
            issuing_state="UZB", sex="M", birth_date="1990-01-01", region_kato="750000000")])[0].person_id
        details = ctx.keyring.encrypt('{"surname": "Karimov"}', service.WORKER_CONTEXT)
        applied = TODAY - dt.timedelta(days=20)
        rows = []
        for n, (year, region, category) in enumerate(applications):
            ref = f"{prefix}{n:06d}"
            refs.append(ref)
            rows.append({"reference": ref, "employer_id": employer.id, "channel": "employer_quota",
                         "category": category, "occupation": "7112", "term_months": 12,
                         "starts_on": dt.date(year, 4, 1), "year": year, "regions": {region: 1}, "staff_total": 100,
                         "staff_citizens": 95, "state": "checked", "applied_on": applied,
                         "decide_by": applied + dt.timedelta(days=14), "reserved_until": None})
        for chunk in range(0, len(rows), 1000):
            s.execute(sa.insert(WorkPermit), rows[chunk:chunk + 1000])
        ids = dict(s.execute(sa.select(WorkPermit.reference, WorkPermit.id)
                             .where(WorkPermit.reference.in_(refs))).all())
        workers = [{"permit_id": ids[ref], "person_id": worker, "region": region, "citizenship": "UZB",
                    "details_encrypted": details} for ref, (_, region, _) in zip(refs, applications, strict=True)]
        for chunk in range(0, len(workers), 1000):
            s.execute(sa.insert(PermitWorker), workers[chunk:chunk + 1000])
    return refs


def approve_all(ctx: Context, refs: Sequence[str], regions: Sequence[str],
                clients: int = CLIENTS) -> tuple[int, int, list[str], float]:
    """Approve every reference from `clients` threads (the akimat of each application's region;
    one transaction per approval). Returns (approved, refused for want of quota, other errors,
    seconds)."""
    from kosh.permits import service
    from kosh.permits.schemas import StepIn
    from kosh.platform.errors import Conflict
    from kosh.platform.security import Principal, Role

    akimats = {r: Principal(f"akimat.{r}", Role.AKIMAT, regions=(r,), purpose="bench") for r in set(regions)}
    lock = threading.Lock()
    queue = list(zip(refs, regions, strict=True))
    queue.reverse()  # popped from the end: approved in the order prepared
    approved = refused = 0
    errors: list[str] = []
    start = threading.Barrier(clients + 1)
    body = StepIn(step="approve")

    def client() -> None:
        nonlocal approved, refused
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                ref, region = queue.pop()
            try:
                with ctx.transaction() as s:
                    service.take_step(s, ctx, akimats[region], ref, body, TODAY)
            except Conflict:
                with lock:
                    refused += 1
            except Exception as exc:  # noqa: BLE001 — counted and shown: a bench reports, it does not stop
                with lock:
                    errors.append(f"{ref}: {exc.__class__.__name__}: {str(exc)[:200]}")
            else:
                with lock:
                    approved += 1

    threads = [threading.Thread(target=client, name=f"akimat-client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return approved, refused, errors, time.perf_counter() - t0


def check(ctx: Context, result: PermitsBench, hot_allowed: int) -> None:
    from kosh.permits import ledger
    from kosh.permits.models import QuotaCell, WorkPermit

    with ctx.transaction() as s:
        result.integrity_errors = ledger.integrity_errors(s)
        cells = s.execute(sa.select(QuotaCell)).scalars().all()
        result.overdrawn = [f"{c.year}/{c.region}/{c.category}" for c in cells if c.reserved + c.used > c.allowed]
        hot = next(c for c in cells if (c.year, c.region, c.category) == HOT)
        hot_approved = s.execute(sa.select(sa.func.count()).select_from(WorkPermit).where(
            WorkPermit.state == "approved", WorkPermit.year == HOT[0], WorkPermit.category == HOT[2])).scalar_one()
    result.hot_exact = hot.reserved == hot_allowed and hot_approved == hot_allowed and hot.used == 0


def run_on(url: str, home: Path, approvals: int = 2000, clients: int = CLIENTS, cells: int = 200,
           label: str = "") -> PermitsBench:
    """Both runs on one (empty) database: the hot cell, then the spread cells."""
    ctx = _context(url, home)
    try:
        result = PermitsBench(label or ctx.engine.dialect.name, machine())
        regions = _regions(ctx)
        spread_cells = [(y, r, c) for y in YEARS for r in regions for c in CATEGORIES][:cells]
        per_cell = -(-approvals // len(spread_cells))
        hot_allowed = approvals - approvals // 4  # more approvals are attempted than it has places
        quota = {HOT: hot_allowed} | {cell: per_cell for cell in spread_cells}
        hot_apps = [HOT] * approvals
        spread_apps = [spread_cells[i % len(spread_cells)] for i in range(approvals)]
        hot_refs = prepare(ctx, quota, hot_apps, "WP-BNCH-H")
        spread_refs = prepare(ctx, {}, spread_apps, "WP-BNCH-S")
        for name, run_refs, apps, allowed in (
                ("one hot cell", hot_refs, hot_apps, hot_allowed),
                (f"{len(set(spread_apps))} cells", spread_refs, spread_apps, per_cell * len(spread_cells))):
            approved, refused, errors, seconds = approve_all(ctx, run_refs, [a[1] for a in apps], clients)
            result.runs.append(RunResult(name, len(set(apps)), len(run_refs), approved, refused, errors,
                                         seconds, allowed))
        check(ctx, result, hot_allowed)
        return result
    finally:
        ctx.engine.dispose()


def _server(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return str(conn.execute(sa.text("SHOW server_version")).scalar_one()).split()[0]
            return str(conn.execute(sa.text("select sqlite_version()")).scalar_one())
    finally:
        engine.dispose()


def run_permits(console: Console, database_url: str | None = None, approvals: int = 2000,
                clients: int = CLIENTS, cells: int = 200) -> PermitsBench:
    """The bench on PostgreSQL when `database_url` names one (in a schema of its own), else on a
    temporary SQLite file; prints the figures and the overdraw check."""
    console.print(f"[bold]kosh bench permits[/] — {machine()}")
    postgres = bool(database_url) and str(database_url).startswith("postgresql")
    with tempfile.TemporaryDirectory() as tmp:
        if postgres:
            assert database_url is not None
            _fresh_schema(database_url, SCHEMA)
            url = _pg_url_with_schema(database_url, SCHEMA)
            label = f"PostgreSQL {_server(database_url)} (schema {SCHEMA})"
        else:
            url = f"sqlite:///{Path(tmp) / 'kosh.db'}"
            label = f"SQLite {_server(url)} (temporary file)"
        console.print(f"started {dt.datetime.now().isoformat(timespec='seconds')}; {label}; {approvals:,} "
                      f"approvals per run from {clients} client threads")
        try:
            result = run_on(url, Path(tmp) / "home", approvals, clients, cells, label)
        finally:
            if postgres:
                assert database_url is not None
                _drop_schema(database_url, SCHEMA)
    table = Table(title=f"Work-permit approvals, {clients} concurrent akimat clients ({label})")
    for col in ("quota cells", "attempted", "approved", "refused (no places)", "errors", "seconds", "approvals/s",
                "attempts/s"):
        table.add_column(col, justify="left" if col == "quota cells" else "right")
    for r in result.runs:
        table.add_row(r.name, f"{r.attempted:,}", f"{r.approved:,}", f"{r.refused:,}", str(len(r.errors)),
                      f"{r.seconds:.2f}", f"{r.per_second:,.0f}", f"{r.attempts_per_second:,.0f}")
    console.print(table)
    for r in result.runs:
        for e in r.errors[:5]:
            console.print(f"[red]{r.name}: {e}[/]")
    hot = result.runs[0]
    console.print(f"hot cell: {hot.allowed:,} places, {hot.attempted:,} attempted, {hot.approved:,} approved — "
                  + ("exactly the places allowed" if result.hot_exact else "[red]NOT the places allowed[/]"))
    console.print("ledger integrity (counters = movements): "
                  + ("ok" if not result.integrity_errors else f"[red]{len(result.integrity_errors)} cells differ[/]"))
    console.print("overdraw (reserved + used > allowed): "
                  + ("none" if not result.overdrawn else f"[red]{', '.join(result.overdrawn[:10])}[/]"))
    console.print("[dim]Every approval draws its place again (the hold had lapsed): one conditional UPDATE of the "
                  "cell, the permit's step and one audit record (last), one transaction. The audit chain's head "
                  "row serialises all writers, and the clients share the 2 cores with the database.[/]")
    return result


__all__ = ["DEFAULT_PG", "PermitsBench", "RunResult", "run_on", "run_permits"]

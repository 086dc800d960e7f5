"""`kosh demo`: a synthetic country built into the configured (by default embedded) database,
through the same import path a real feed takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from rich.console import Console
from sqlalchemy import func, select

from kosh.platform import auth, db
from kosh.platform.config import get_settings
from kosh.platform.context import open_context
from kosh.platform.crypto import write_key_file
from kosh.platform.errors import KoshError
from kosh.platform.files import private_dir
from kosh.platform.security import system_principal

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from kosh.flows.intake import ImportReport
    from kosh_demo.permits import DemoPermits

DEMO_PASSWORD = "kosh-demo-2026"
IMPORT_ORDER = ("border_events", "notifications", "residence_permits")


def _advance(bar: Progress, task: TaskID, done: int, total: int) -> None:
    bar.update(task, completed=done, total=total)


def _reset_sqlite(url: str) -> None:
    path = Path(url.split("///", 1)[-1])
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()
    db.create_private_file(path)  # the cached engine would otherwise recreate it world-readable


class DemoUser(TypedDict):
    username: str
    role: str
    regions: NotRequired[list[str]]
    host_party: NotRequired[str]
    scope: str  # what the account sees, for the printed table


class DemoSummary(TypedDict):
    password: str
    users: list[DemoUser]
    reports: dict[str, ImportReport]  # by feed
    import_seconds: dict[str, float]  # by feed, and work_permits (employers, quotas, permits)
    permits: DemoPermits
    paths: dict[str, Path]  # by feed, and the truth
    database: str


def build_demo(seed: int = 7, size: str = "small", console: Console | None = None,
               progress_factory: Callable[[], Progress] | None = None, today: date | None = None) -> DemoSummary:
    from kosh.flows import intake
    from kosh.people.models import Person
    from kosh_demo.feeds import write_feeds
    from kosh_demo.generator import generate
    from kosh_demo.permits import build_permits

    console = console or Console(quiet=True)
    settings = get_settings()
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        db.engine_for(url).dispose()  # pooled connections would keep writing to the unlinked file
        _reset_sqlite(url)
    private_dir(settings.home)
    write_key_file(settings.resolved_key_file)
    ctx = open_context()
    if not url.startswith("sqlite"):
        with ctx.transaction() as s:
            if s.execute(select(func.count()).select_from(Person)).scalar_one():
                raise KoshError("the database already holds persons; the demo builds only into an empty database")
    console.print(f"generating a {size} synthetic country (seed {seed}) …")
    country = generate(seed=seed, size=size, today=today)
    paths = write_feeds(country, settings.home / "demo", fmt="csv")
    principal = system_principal("demo build")
    reports: dict[str, ImportReport] = {}
    seconds: dict[str, float] = {}
    for kind in IMPORT_ORDER:
        started = time.perf_counter()
        if progress_factory is not None:
            with progress_factory() as bar:
                task = bar.add_task(f"import {kind}", total=None)
                refresh = bar.add_task("  recompute stay status", total=None)
                reports[kind] = intake.import_file(
                    ctx, principal, paths[kind], kind, rejects_dir=settings.home / "rejects",
                    progress=partial(_advance, bar, task), refresh_progress=partial(_advance, bar, refresh))
        else:
            reports[kind] = intake.import_file(ctx, principal, paths[kind], kind, rejects_dir=settings.home / "rejects")
        seconds[kind] = time.perf_counter() - started
        r = reports[kind]
        console.print(f"  {kind}: {r.accepted} recorded, {r.duplicates} duplicates, {r.rejected} rejected")
    started = time.perf_counter()
    permits = build_permits(ctx, country, country.today)
    seconds["work_permits"] = time.perf_counter() - started
    states = ", ".join(f"{n} {state}" for state, n in permits.states.items())
    console.print(f"  work permits: {sum(permits.states.values())} ({states}); {permits.employers} employers, "
                  f"{permits.quota_cells} quota cells")
    host = next(h for h in country.hosts if h["host_kind"] == "individual")
    org = next(h for h in country.hosts if h["host_kind"] == "organisation")
    users: list[DemoUser] = [
        {"username": "admin", "role": "admin", "regions": [], "scope": "everything"},
        {"username": "officer.almaty", "role": "officer", "regions": ["75"], "scope": "Almaty (KATO 75)"},
        {"username": "officer.south", "role": "officer", "regions": ["61", "79"],
         "scope": "Turkistan Region and Shymkent (KATO 61, 79)"},
        {"username": "host", "role": "host", "host_party": host["host_id"],
         "scope": f"own notifications as {host['host_name']}"},
        {"username": "host.org", "role": "host", "host_party": org["host_id"],
         "scope": f"own notifications as {org['host_name']}"},
        {"username": "analyst", "role": "analyst", "regions": [], "scope": "aggregates only"},
        {"username": "auditor", "role": "auditor", "regions": [], "scope": "audit trail"},
        {"username": "border.feed", "role": "border", "regions": [], "scope": "writes border crossings, reads nothing"},
        {"username": "employer", "role": "employer", "host_party": permits.employer_party,
         "scope": f"own work-permit applications as {permits.employer_name}"},
        {"username": "household.employer", "role": "employer", "host_party": permits.household_party,
         "scope": f"own household workers' permits as {permits.household_name}"},
        {"username": "akimat.almaty", "role": "akimat", "regions": ["75"], "scope": "work permits of Almaty (KATO 75)"},
        {"username": "akimat.south", "role": "akimat", "regions": ["61", "79"],
         "scope": "work permits of Turkistan Region and Shymkent (KATO 61, 79)"},
        {"username": "ministry", "role": "ministry", "regions": [], "scope": "work-permit quotas, every permit"},
    ]
    with ctx.transaction() as s:
        for u in users:
            auth.create_user(s, ctx, username=u["username"], password=DEMO_PASSWORD, role=u["role"],
                             regions=u.get("regions"), host_party=u.get("host_party"),
                             display_name=u["username"].replace(".", " ").title())
    return {"password": DEMO_PASSWORD, "users": users, "reports": reports, "import_seconds": seconds, "paths": paths,
            "database": url, "permits": permits}

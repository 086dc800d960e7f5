"""The work permits' daily job on the platform's job runner (`kosh.platform.jobs`): once a day the
web app queues a "permits_daily" job for the day, and a runner runs `permits.service.run_daily` as
the system. The job is idempotent (a rerun after a crash, or a second job for the same day queued
by another server process, changes nothing), so no lock keeps two processes from queuing it.

`schedule(ctx, runner)` is called by the web app once its runner has started: it registers the
handler and starts a small thread that, at start and whenever the installation's day changes,
queues the day's job unless one is already there. `kosh permits daily` runs the same from cron
on installations that run no web process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kosh.permits import service
from kosh.platform import clock, jobs
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.models import Job
from kosh.platform.security import system_principal

log = logging.getLogger("kosh.jobs")

PERMITS_DAILY = "permits_daily"


def local_today(ctx: Context) -> dt.date:
    return clock.local_today(ctx.pack.zone)


def run_daily_job(ctx: Context, payload: dict[str, Any]) -> None:
    """The handler: the day's run of the permits' daily job (idempotent, as a rerun needs)."""
    day = dt.date.fromisoformat(payload["on"])
    with ctx.transaction() as s:
        report = service.run_daily(s, ctx, system_principal("work permits, daily job"), day)
    log.info("permits daily job for %s: %s", day.isoformat(), report)


def job_for(session: Session, day: dt.date) -> int | None:
    """The id of a daily job already queued (or run) for the day, if any."""
    # Jobs of recent days only: the payload is JSON, read here rather than queried in SQL on two databases.
    since = utcnow() - dt.timedelta(days=3)
    for job_id, payload in session.execute(select(Job.id, Job.payload).where(
            Job.kind == PERMITS_DAILY, Job.created_at >= since).order_by(Job.id.desc())).all():
        if payload.get("on") == day.isoformat():
            return int(job_id)
    return None


def submit_daily(session: Session, day: dt.date) -> int | None:
    """Queue the daily job for the day unless one is there or no permit is open or valid; its id or None."""
    if job_for(session, day) is not None:
        return None
    if not service.daily_has_work(session):
        return None
    return jobs.submit(session, PERMITS_DAILY, {"on": day.isoformat()})


def register_handlers() -> None:
    jobs.register(PERMITS_DAILY, run_daily_job)


def schedule(ctx: Context, runner: jobs.Runner, *, check_seconds: float = 60.0) -> threading.Thread | None:
    """Register the handler and queue the day's job now and after every change of day, while the
    runner runs (None when this process runs no jobs)."""
    register_handlers()
    if runner.workers <= 0:
        return None

    def loop() -> None:
        queued_for: dt.date | None = None
        while not runner.stop_requested:
            today = local_today(ctx)
            if today != queued_for:
                try:
                    with ctx.transaction() as s:
                        submit_daily(s, today)
                    queued_for = today
                except Exception as exc:  # the database is away: try again at the next look
                    log.warning("could not queue the permits daily job: %s", jobs.describe(exc))
            for _ in range(int(check_seconds)):  # wakes each second to notice the runner stopping
                if runner.stop_requested:
                    return
                time.sleep(1.0)

    thread = threading.Thread(target=loop, name="kosh-permits-daily", daemon=True)
    thread.start()
    return thread

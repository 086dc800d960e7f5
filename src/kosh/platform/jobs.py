"""Durable background jobs: long work (an import started from a page) that outlives its request
and a restart of the server.

A job is a row of `jobs`: a registered kind, a JSON payload, a state (queued, running, done,
failed). `submit` adds it in the caller's transaction. A `Runner` in each serving process claims
jobs with an UPDATE that only one claimant can win — a queued job, or a running one whose lease
ran out because the process holding it died — runs the handler registered for its kind in a
worker thread and renews its leases by heartbeat. A job interrupted by a restart therefore runs
again from its start: handlers must be idempotent. The platform knows no kind of job: the layers
above register theirs (`register`) before starting a runner.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, event, or_, select, update
from sqlalchemy.orm import Session

from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import KoshError
from kosh.platform.models import Job
from kosh.platform.sql import rowcount

log = logging.getLogger("kosh.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
Work = Callable[[Context, dict[str, Any]], None]


@dataclass(frozen=True)
class Handler:
    run: Work
    # Called once a job is given up (it took its process down `max_attempts` times): the cleanup
    # a run would have done on failing.
    give_up: Work | None = None


_handlers: dict[str, Handler] = {}
_runners: weakref.WeakSet[Runner] = weakref.WeakSet()
_current = threading.local()


def register(kind: str, fn: Work, *, give_up: Work | None = None) -> None:
    """The handler of a kind of job: fn(ctx, payload), idempotent (it may run again after a crash)."""
    _handlers[kind] = Handler(fn, give_up)


class Failed(Exception):
    """Raised by a handler to fail its job with a reason that holds no personal data: it is
    recorded as it is (any other error is recorded as its class only)."""


class Interrupted(BaseException):  # like CancelledError: not an error, so `except Exception` lets it by
    """Raised by `check_stop` in a handler whose runner is stopping or lost the job's lease: the
    job goes back to the queue, not counted as an attempt."""


def stopping() -> bool:
    """Whether the job running in this thread should stop at its next safe point."""
    slot = getattr(_current, "slot", None)
    if slot is None:
        return False
    runner, job_id = slot
    return runner.stop_requested or job_id in runner.lost


def check_stop() -> None:
    """A safe point of a handler (e.g. between committed chunks): raise Interrupted when `stopping`."""
    if stopping():
        raise Interrupted()


def describe(exc: BaseException) -> str:
    """What is recorded of a job's error: its class, and a message only when known to hold no
    personal data (a Failed reason, a KoshError's title); other messages may quote values."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    message = str(exc) if isinstance(exc, Failed) else exc.title if isinstance(exc, KoshError) else ""
    return (f"{name}: {message}" if message else name)[:300]


def _wake_local_runners(_session: Session) -> None:
    for runner in list(_runners):
        runner.wake()


def submit(session: Session, kind: str, payload: dict[str, Any]) -> int:
    """Queue a job in the caller's transaction; this process's runners look for it on commit
    (others within their poll interval)."""
    json.dumps(payload)  # refused now, not in the runner
    job = Job(kind=kind, payload=payload, state=QUEUED, attempts=0)
    session.add(job)
    session.flush()
    if not event.contains(session, "after_commit", _wake_local_runners):
        event.listen(session, "after_commit", _wake_local_runners)
    return job.id


def pending(session: Session, kind: str) -> list[dict[str, Any]]:
    """The payloads of the jobs of a kind that are queued or running (a running one whose process
    died is taken over by the next runner to look)."""
    return list(session.execute(select(Job.payload).where(Job.kind == kind, Job.state.in_((QUEUED, RUNNING)))
                                .order_by(Job.id)).scalars())


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(Job.state == QUEUED, and_(Job.state == RUNNING, Job.lease_until < now))


class Runner:
    """Runs jobs in worker threads of this process (started and stopped with the web app)."""

    def __init__(self, ctx: Context, *, workers: int | None = None, lease_seconds: float | None = None,
                 poll_seconds: float | None = None, max_attempts: int = 5) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.workers = settings.job_workers if workers is None else workers
        self.lease = dt.timedelta(seconds=lease_seconds or settings.job_lease_seconds)
        self.poll = poll_seconds or settings.job_poll_seconds
        self.max_attempts = max_attempts
        # The nonce: a restarted process may get the same pid (pid 1 in a container).
        self.owner = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lost: set[int] = set()  # held jobs whose lease another runner took over
        self._held: set[int] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._halt = threading.Event()  # the heartbeat's: it runs until the workers are gone
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._threads or self.workers <= 0:
            return
        self._stop.clear()
        self._halt.clear()
        _runners.add(self)
        self._threads = [threading.Thread(target=self._work, name=f"kosh-job-{n}", daemon=True)
                         for n in range(self.workers)]
        self._threads.append(threading.Thread(target=self._heartbeat, name="kosh-job-heartbeat", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self, grace: float = 10.0) -> None:
        """Ask running handlers to stop at their next safe point and wait up to `grace` seconds;
        jobs still running then go back to the queue for the next runner (their threads die with
        the process; whatever they still commit is what a rerun would have done)."""
        self._stop.set()
        self._wake.set()
        _runners.discard(self)
        deadline = time.monotonic() + grace
        workers, heartbeat = self._threads[:-1], self._threads[-1:]
        for thread in workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._halt.set()
        for thread in heartbeat:
            thread.join(5)
        with self._guard:
            left = set(self._held)
        if left:
            self._hand_back(left)
        self._threads = []

    # -- claiming ------------------------------------------------------------------------------

    def claim(self) -> tuple[int, str, dict[str, Any]] | None:
        """One job for this runner, or None: a queued job, or a running one whose lease ran out.
        The UPDATE re-checks that condition, so of several claimants (threads or processes) one wins."""
        kinds = list(_handlers)
        if not kinds:
            return None
        with self.ctx.transaction() as s:
            ids = list(s.execute(select(Job.id).where(Job.kind.in_(kinds), _claimable(utcnow()))
                                 .order_by(Job.id).limit(8)).scalars())
        for job_id in ids:
            now = utcnow()
            with self.ctx.transaction() as s:
                won = rowcount(s.execute(update(Job).where(Job.id == job_id, _claimable(now))
                                         .values(state=RUNNING, owner=self.owner, lease_until=now + self.lease,
                                                 attempts=Job.attempts + 1, started_at=now, finished_at=None,
                                                 last_error=None)
                                         .execution_options(synchronize_session=False))) == 1
                if not won:
                    continue
                kind, payload, attempts = s.execute(select(Job.kind, Job.payload, Job.attempts)
                                                    .where(Job.id == job_id)).one()
            with self._guard:
                self._held.add(job_id)
            if attempts > self.max_attempts:
                self._give_up(job_id, kind, payload, attempts - 1)
                continue
            return job_id, kind, payload
        return None

    def run_pending(self) -> int:
        """Run jobs in the calling thread until none is left to claim; how many ran."""
        ran = 0
        while (claimed := self.claim()) is not None:
            self._run(*claimed)
            ran += 1
        return ran

    # -- running -------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.claim()
            except Exception as exc:  # the database is away: try again after the poll interval
                log.warning("job runner could not claim: %s", describe(exc))
                claimed = None
            if claimed is None:
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            try:
                self._run(*claimed)
            except Exception as exc:  # recording the outcome failed: the lease runs out, it reruns
                log.warning("job %s: its outcome could not be recorded: %s", claimed[0], describe(exc))

    def _run(self, job_id: int, kind: str, payload: dict[str, Any]) -> None:
        _current.slot = (self, job_id)
        try:
            _handlers[kind].run(self.ctx, payload)
        except Interrupted:
            self._hand_back({job_id})
        except Exception as exc:  # the job's failure, recorded on it
            log.warning("job %s (%s) failed: %s", job_id, kind, describe(exc))
            self._finish(job_id, FAILED, describe(exc))
        else:
            self._finish(job_id, DONE, None)
        finally:
            _current.slot = None
            with self._guard:
                self._held.discard(job_id)
                self.lost.discard(job_id)

    def _give_up(self, job_id: int, kind: str, payload: dict[str, Any], attempts: int) -> None:
        """A job whose runs took their process down every time: its cleanup, then failed for good."""
        cleanup = _handlers[kind].give_up
        try:
            if cleanup is not None:
                cleanup(self.ctx, payload)
        except Exception as exc:  # failed all the same
            log.warning("job %s (%s): giving up failed: %s", job_id, kind, describe(exc))
        self._finish(job_id, FAILED, f"gave up after {attempts} interrupted attempts")
        with self._guard:
            self._held.discard(job_id)

    def _finish(self, job_id: int, state: str, error: str | None) -> None:
        with self.ctx.transaction() as s:
            done = rowcount(s.execute(update(Job).where(Job.id == job_id, Job.owner == self.owner,
                                                        Job.state == RUNNING)
                                      .values(state=state, finished_at=utcnow(), lease_until=None, last_error=error)
                                      .execution_options(synchronize_session=False)))
        if not done:
            log.warning("job %s was taken over by another runner before it ended here", job_id)

    def _hand_back(self, job_ids: set[int]) -> None:
        """Back to the queue, not counted as an attempt: the run was stopped, it did not fail."""
        with self.ctx.transaction() as s:
            s.execute(update(Job).where(Job.id.in_(job_ids), Job.owner == self.owner, Job.state == RUNNING)
                      .values(state=QUEUED, owner=None, lease_until=None, attempts=Job.attempts - 1)
                      .execution_options(synchronize_session=False))

    # -- leases --------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        while not self._halt.wait(self.lease.total_seconds() / 3):
            try:
                self.renew()
            except Exception as exc:  # the database is away: the next beat tries again
                log.warning("job runner could not renew its leases: %s", describe(exc))

    def renew(self) -> None:
        """Extend the leases of the jobs this runner holds; a job another runner took over meanwhile
        (this process stalled past its lease) is marked lost, so its handler stops."""
        with self._guard:
            held = set(self._held)
        if not held:
            return
        with self.ctx.transaction() as s:
            kept = set(s.execute(select(Job.id).where(Job.id.in_(held), Job.owner == self.owner,
                                                      Job.state == RUNNING)).scalars())
            if kept:
                s.execute(update(Job).where(Job.id.in_(kept), Job.owner == self.owner, Job.state == RUNNING)
                          .values(lease_until=utcnow() + self.lease).execution_options(synchronize_session=False))
        with self._guard:
            self.lost |= (held - kept) & self._held

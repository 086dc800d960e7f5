"""The durable job runner: jobs run once and end done or failed with their error's class, a job
whose process died is taken over when its lease runs out, claimants never share a job (on
SQLite and PostgreSQL), a stopping runner hands its jobs back, and the platform names no
capability."""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from kosh.platform import jobs
from kosh.platform.models import Job

JOBS_MODULE = Path(jobs.__file__)


def _wait(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _job(ctx, job_id: int) -> Job:
    with ctx.transaction() as s:
        job = s.get(Job, job_id)
        s.expunge(job)
        return job


def _submit(ctx, kind: str, payload: dict | None = None) -> int:
    with ctx.transaction() as s:
        return jobs.submit(s, kind, payload or {})


def _add(ctx, **fields) -> int:
    with ctx.transaction() as s:
        job = Job(**fields)
        s.add(job)
        s.flush()
        return job.id


def test_a_submitted_job_runs_once_and_ends_done(ctx):
    ran: list[dict] = []
    jobs.register("test-ok", lambda _ctx, payload: ran.append(payload))
    runner = jobs.Runner(ctx, workers=1, poll_seconds=30)  # only the commit's wake-up can start it soon
    runner.start()
    try:
        time.sleep(0.2)  # the runner has looked once and found nothing
        job_id = _submit(ctx, "test-ok", {"batch_id": 7})
        _wait(lambda: _job(ctx, job_id).state == "done", timeout=10)
    finally:
        runner.stop()
    job = _job(ctx, job_id)
    assert ran == [{"batch_id": 7}]
    assert (job.attempts, job.owner, job.lease_until, job.last_error) == (1, runner.owner, None, None)
    assert job.started_at <= job.finished_at


def test_a_failing_job_is_recorded_failed_with_its_error_class_and_never_its_message(ctx):
    def leaky(_ctx, _payload):
        raise RuntimeError("no person holds document KZ N1234567 (Ivanov Ivan)")

    def refused(_ctx, _payload):
        raise jobs.Failed("the importing account is gone or inactive")

    jobs.register("test-leaky", leaky)
    jobs.register("test-refused", refused)
    leaky_id, refused_id = _submit(ctx, "test-leaky"), _submit(ctx, "test-refused")
    assert jobs.Runner(ctx).run_pending() == 2
    leaky_job, refused_job = _job(ctx, leaky_id), _job(ctx, refused_id)
    assert (leaky_job.state, leaky_job.last_error) == ("failed", "RuntimeError")
    assert (refused_job.state, refused_job.last_error) == (
        "failed", "kosh.platform.jobs.Failed: the importing account is gone or inactive")
    assert leaky_job.finished_at is not None and leaky_job.lease_until is None
    assert jobs.Runner(ctx).run_pending() == 0  # a failed job is not run again


def test_a_job_whose_runner_died_is_run_again_once_its_lease_ran_out(ctx):
    ran: list[int] = []
    jobs.register("test-resume", lambda _ctx, payload: ran.append(payload["n"]))
    now = dt.datetime.now(dt.UTC)
    dead = _add(ctx, kind="test-resume", payload={"n": 1}, state="running", attempts=1, owner="gone:1:dead",
                started_at=now - dt.timedelta(minutes=5), lease_until=now - dt.timedelta(seconds=1))
    alive = _add(ctx, kind="test-resume", payload={"n": 2}, state="running", attempts=1, owner="busy:2:live",
                 started_at=now, lease_until=now + dt.timedelta(minutes=1))
    runner = jobs.Runner(ctx)
    assert runner.run_pending() == 1
    assert ran == [1]
    taken = _job(ctx, dead)
    assert (taken.state, taken.attempts, taken.owner) == ("done", 2, runner.owner)
    held = _job(ctx, alive)
    assert (held.state, held.owner) == ("running", "busy:2:live")  # its process is alive: left alone


def test_a_job_that_took_its_process_down_every_time_is_given_up_with_its_cleanup(ctx):
    ran, cleaned = [], []
    jobs.register("test-poison", lambda _ctx, p: ran.append(p), give_up=lambda _ctx, p: cleaned.append(p))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    job_id = _add(ctx, kind="test-poison", payload={"n": 3}, state="running", attempts=3, owner="gone:1:dead",
                  lease_until=past)
    assert jobs.Runner(ctx, max_attempts=3).run_pending() == 0
    job = _job(ctx, job_id)
    assert (job.state, job.last_error) == ("failed", "gave up after 3 interrupted attempts")
    assert (ran, cleaned) == ([], [{"n": 3}])


def test_claimants_racing_for_the_same_jobs_each_win_a_job_at_most_once(ctx):
    jobs.register("test-race", lambda _ctx, _p: None)
    ids = [_submit(ctx, "test-race", {"n": n}) for n in range(6)]
    runners = [jobs.Runner(ctx) for _ in range(6)]
    won: list[tuple[str, int]] = []
    start = threading.Barrier(len(runners))

    def claim_all(runner: jobs.Runner) -> None:
        start.wait(10)
        while (claimed := runner.claim()) is not None:
            won.append((runner.owner, claimed[0]))

    threads = [threading.Thread(target=claim_all, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(job_id for _, job_id in won) == ids  # every job claimed, none twice
    for owner, job_id in won:
        assert (_job(ctx, job_id).owner, _job(ctx, job_id).attempts) == (owner, 1)


def test_two_running_runners_never_run_the_same_job(ctx):
    ran: list[int] = []
    guard = threading.Lock()

    def record(_ctx, payload):
        with guard:
            ran.append(payload["n"])
        time.sleep(0.01)

    jobs.register("test-share", record)
    ids = [_submit(ctx, "test-share", {"n": n}) for n in range(30)]
    runners = [jobs.Runner(ctx, workers=3, poll_seconds=0.05) for _ in range(2)]
    for runner in runners:
        runner.start()
    try:
        _wait(lambda: all(_job(ctx, i).state == "done" for i in ids), timeout=60)
    finally:
        for runner in runners:
            runner.stop()
    assert sorted(ran) == list(range(30))
    assert {_job(ctx, i).attempts for i in ids} == {1}


def test_a_stopping_runner_hands_its_job_back_and_the_next_runner_finishes_it(ctx):
    started, calls = threading.Event(), []

    def long_work(_ctx, _payload):
        calls.append(1)
        if len(calls) > 1:
            return
        started.set()
        while True:  # a long import, with a safe point after each chunk
            jobs.check_stop()
            time.sleep(0.01)

    jobs.register("test-long", long_work)
    job_id = _submit(ctx, "test-long")
    first = jobs.Runner(ctx, workers=1, poll_seconds=0.05)
    first.start()
    assert started.wait(10)
    first.stop()
    job = _job(ctx, job_id)
    assert (job.state, job.owner, job.attempts) == ("queued", None, 0)  # a stop is not a failed attempt
    assert jobs.Runner(ctx).run_pending() == 1
    assert (_job(ctx, job_id).state, _job(ctx, job_id).attempts) == ("done", 1)


def test_a_runner_that_lost_its_lease_is_told_to_stop_and_records_nothing(ctx):
    jobs.register("test-lost", lambda _ctx, _p: None)
    job_id = _submit(ctx, "test-lost")
    stalled, other = jobs.Runner(ctx), jobs.Runner(ctx)
    assert stalled.claim()[0] == job_id
    with ctx.transaction() as s:  # the stalled process missed its heartbeats
        s.execute(sa.update(Job).where(Job.id == job_id)
                  .values(lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert other.claim()[0] == job_id
    stalled.renew()
    assert job_id in stalled.lost
    stalled._finish(job_id, "failed", "RuntimeError")
    assert (_job(ctx, job_id).state, _job(ctx, job_id).owner) == ("running", other.owner)


CAPABILITIES = ("kosh.people", "kosh.identity", "kosh.stay", "kosh.flows", "kosh.web", "kosh_demo")


def test_the_job_runner_imports_no_capability():
    tree = ast.parse(JOBS_MODULE.read_text())
    named = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    named |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {m for m in named if m.startswith("kosh")} <= {m for m in named if m.startswith("kosh.platform")}
    loaded = subprocess.run([sys.executable, "-c", "import sys, kosh.platform.jobs; print('\\n'.join(sys.modules))"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert [m for m in loaded if m.startswith(CAPABILITIES)] == []

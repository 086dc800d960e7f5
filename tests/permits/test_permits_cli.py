"""`kosh permits` end to end on a temporary home (SQLite): quotas set, shown and moved; permits listed;
a permit's code checked offline with the published key alone (exit 1 when not valid); the daily job.
And the daily job on the job runner (both databases): queued once a day, run as the system, a
permit past its end expired, a second run for the same day changing nothing."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa
from typer.testing import CliRunner

from kosh.cli import app
from kosh.flows import permit_jobs
from kosh.permits import service, verify_views
from kosh.permits.models import PermitAction, QuotaCell, WorkPermit
from kosh.platform import jobs
from kosh.platform.context import open_context
from kosh.platform.crypto import Keyring
from kosh.platform.models import Job
from kosh.platform.security import system_principal
from permits.test_verify import EMPLOYER, _permit

runner = CliRunner()


def _ok(*args: str) -> str:
    r = runner.invoke(app, ["permits", *args])
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())  # the console wraps long lines


def _code(ctx, ref: str) -> str:
    with ctx.transaction() as s:
        detail = service.get_permit(s, ctx, EMPLOYER, ref)
        tail = service.employer_party_tail(s, ctx, detail.permit.employer_id)
    return verify_views.payloads(ctx, detail, tail)[0][1]


def test_quotas_are_set_shown_and_moved(home):
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert "75" in _ok("quota", "set", "2026", "75", "3", "10", "--reason", "decree 1")
    shown = _ok("quota", "show", "2026")
    assert "Almaty" in shown and "10" in shown
    moved = _ok("quota", "move", "2026", "3", "75", "71", "4", "--reason", "more building in Astana")
    assert "Astana" in moved
    with open_context().transaction() as s:
        cells = {c.region: c.allowed for c in s.execute(sa.select(QuotaCell)).scalars()}
    assert cells == {"75": 6, "71": 4}
    too_many = runner.invoke(app, ["permits", "quota", "move", "2026", "3", "75", "71", "40", "--reason", "x"])
    assert too_many.exit_code == 2 and "places" in too_many.output
    assert runner.invoke(app, ["permits", "quota", "set", "2026", "99", "3", "1"]).exit_code == 2


def test_a_code_verifies_offline_with_the_published_key_and_the_daily_job_expires(home, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    ctx = open_context()
    ref = _permit(ctx)
    listed = _ok("list")
    assert ref in listed and "issued" in listed and "1 permits" in listed
    assert ref not in _ok("list", "--state", "revoked")
    assert runner.invoke(app, ["permits", "list", "--state", "bogus"]).exit_code == 2
    code = _code(ctx, ref)
    pem = runner.invoke(app, ["permits", "public-key"]).stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = tmp_path / "key.pem"
    key.write_text(pem)
    checked = _ok("verify", code, "--public-key", str(key))
    assert "OK" in checked and "KARIMOVB AZIZ" in checked and "Almaty" in checked and ref in checked
    assert "2026-03-10 – 2027-03-09" in checked
    assert "OK" in _ok("verify", code)  # the installation's own keys
    head, body, sig = code.split(".")
    forged = runner.invoke(app, ["permits", "verify", f"{head}.{body}.{sig[::-1]}", "--public-key", str(key)])
    assert forged.exit_code == 1 and "NOT VALID" in forged.output
    other = tmp_path / "other.pem"
    from kosh.permits import signing

    other.write_text(signing.public_key_pem(Keyring.generate()))
    stranger = runner.invoke(app, ["permits", "verify", code, "--public-key", str(other)])
    assert stranger.exit_code == 1 and "does not know" in " ".join(stranger.output.split())
    garbage = runner.invoke(app, ["permits", "verify", "hello", "--public-key", str(key)])
    assert garbage.exit_code == 1 and "not a Kosh work permit code" in " ".join(garbage.output.split())
    daily = _ok("daily", "--on", "2027-03-10")
    assert "│ permits expired │ 1 │" in daily
    assert "│ permits expired │ 0 │" in _ok("daily", "--on", "2027-03-10")
    with ctx.transaction() as s:
        assert s.execute(sa.select(WorkPermit.state)).scalar_one() == "expired"


def _actions(ctx) -> list[tuple[str, str]]:
    with ctx.transaction() as s:
        return [(a, b) for a, b in s.execute(sa.select(PermitAction.step, PermitAction.to_state)
                                               .order_by(PermitAction.id)).all()]


def test_the_daily_job_is_queued_once_a_day_and_a_second_run_changes_nothing(ctx):
    permit_jobs.register_handlers()
    day = dt.date(2026, 4, 10)
    with ctx.transaction() as s:
        assert permit_jobs.submit_daily(s, day) is None  # no permit: nothing to queue
    ref = _permit(ctx, term_months=1)  # valid 10 March – 9 April 2026
    with ctx.transaction() as s:
        first = permit_jobs.submit_daily(s, day)
    with ctx.transaction() as s:
        assert first is not None and permit_jobs.submit_daily(s, day) is None
        assert permit_jobs.job_for(s, day) == first
    assert jobs.Runner(ctx, workers=1).run_pending() == 1
    with ctx.transaction() as s:
        row = s.execute(sa.select(WorkPermit).where(WorkPermit.reference == ref)).scalar_one()
        assert row.state == "expired"
        cells = [(c.allowed, c.reserved, c.used) for c in s.execute(sa.select(QuotaCell)).scalars()]
    before = _actions(ctx)
    assert before[-1] == ("expire", "expired")
    with ctx.transaction() as s:  # the same day again (another server queued it, or a crash reran it)
        jobs.submit(s, permit_jobs.PERMITS_DAILY, {"on": day.isoformat()})
    assert jobs.Runner(ctx, workers=1).run_pending() == 1
    assert _actions(ctx) == before
    with ctx.transaction() as s:
        assert [(c.allowed, c.reserved, c.used) for c in s.execute(sa.select(QuotaCell)).scalars()] == cells
        assert {j.state for j in s.execute(sa.select(Job)).scalars()} == {"done"}
        assert service.run_daily(s, ctx, system_principal("test"), day).permits_expired == 0


def test_the_web_apps_scheduler_queues_todays_job(ctx):
    _permit(ctx)
    runner_ = jobs.Runner(ctx, workers=1)  # not started: the job stays queued for the test to see
    thread = permit_jobs.schedule(ctx, runner_, check_seconds=1)
    assert thread is not None
    today = permit_jobs.local_today(ctx)
    deadline = time.monotonic() + 15
    found = None
    while found is None and time.monotonic() < deadline:
        with ctx.transaction() as s:
            found = permit_jobs.job_for(s, today)
        time.sleep(0.05)
    runner_.stop()
    thread.join(10)
    assert found is not None and not thread.is_alive()
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Job)).scalar_one() == 1
    assert permit_jobs.schedule(ctx, jobs.Runner(ctx, workers=0)) is None


def test_the_checks_of_an_application_are_the_same_named_rules_on_the_command_line(home, tmp_path):
    import json

    assert runner.invoke(app, ["init"]).exit_code == 0
    _ok("quota", "set", "2026", "75", "3", "1")
    body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-20", "term_months": 24, "starts_on": "2026-03-10", "staff_total": 100,
            "staff_citizens": 95, "workers": [{"surname": "Karimov", "birth_date": "1990-01-01", "citizenship": "UZB",
                                               "document_number": "FA1234567", "issuing_state": "UZB",
                                               "work_region": "75"}]}
    path = tmp_path / "application.json"
    path.write_text(json.dumps(body))
    r = runner.invoke(app, ["permits", "check", str(path), "--on", "2026-03-02", "--json"])
    assert r.exit_code == 1, r.output  # the vacancy was posted 10 days before; 24 months is too long for category 3
    found = {c["check"]: c["outcome"] for c in json.loads(r.output)}
    assert found == {"vacancy_posting": "failed", "local_content": "passed", "term": "failed", "quota": "passed"}
    path.write_text(json.dumps(body | {"vacancy_posted_on": "2026-02-01", "term_months": 12}))
    assert runner.invoke(app, ["permits", "check", str(path), "--on", "2026-03-02"]).exit_code == 0
    path.write_text(json.dumps(body | {"occupation": "71"}))
    bad = runner.invoke(app, ["permits", "check", str(path)])
    assert bad.exit_code != 0 and "occupation" in bad.output

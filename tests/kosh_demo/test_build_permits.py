"""`kosh demo` builds work permits too: employers, quotas 2023–2026 and permits in every state,
lived through the permits service so that the quota ledger agrees with its movements, and the
accounts of the new roles. One small demo built into SQLite for the whole module."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kosh.permits import ledger, service
from kosh.permits.models import Employer, PermitWorker, QuotaCell, WorkPermit
from kosh.platform import auth, db
from kosh.platform.config import reset_settings
from kosh.platform.context import Context, open_context
from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.identifiers import iin
from kosh.platform.security import Principal
from kosh.stay.models import BorderEvent
from kosh_demo.build import DEMO_PASSWORD, DemoSummary, build_demo
from kosh_demo.permits import QUOTA_SCALE, national_quotas, regional_quotas

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoSummary, Context]]:
    home: Path = tmp_path_factory.mktemp("demo") / "kosh"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KOSH_HOME", str(home))
        mp.delenv("KOSH_DATABASE_URL", raising=False)
        mp.delenv("KOSH_KEYS", raising=False)
        reset_settings()
        db.engine_for.cache_clear()
        summary = build_demo(seed=7, size="small", today=TODAY)
        ctx = open_context()
        yield summary, ctx
        ctx.engine.dispose()
    reset_settings()
    db.engine_for.cache_clear()


def _permits(ctx: Context) -> list[WorkPermit]:
    with ctx.transaction() as s:
        rows = list(s.execute(select(WorkPermit).order_by(WorkPermit.id)).scalars())
        s.expunge_all()
    return rows


def test_the_demo_has_permits_in_every_state_a_permit_can_rest_in(built) -> None:
    _, ctx = built
    states = Counter(p.state for p in _permits(ctx))
    # drafts are not stored, and the automatic check follows submission in the same transaction
    assert set(states) == {"checked", "approved", "fee_paid", "issued", "extended", "suspended", "revoked",
                           "refused", "returned", "expired"}


def test_some_are_late_overdue_multi_region_or_household_suspended_for_an_unpaid_month(built) -> None:
    _, ctx = built
    views = [service._view(p, "") for p in _permits(ctx)]
    late = Counter(v.state for v in views if v.late(TODAY))
    assert late["checked"] >= 1  # past the decision deadline
    assert late["approved"] >= 1  # the fee is overdue, the daily job has not expired it yet
    assert any(v.state == "checked" and not v.late(TODAY) for v in views)
    assert sum(1 for v in views if len(v.regions) > 1) >= 2
    household = [v for v in views if v.channel == "household_worker"]
    assert any(v.state == "suspended" and v.reason_code == "prepayment_unpaid" for v in household)
    assert any(v.state == "issued" for v in household)
    assert any(v.state == "suspended" and v.reason_code == "employer_violation" for v in views)
    assert any(v.state == "extended" and v.extensions == 1 for v in views)


def test_the_quota_ledger_agrees_with_its_movements_and_nothing_is_overdrawn(built) -> None:
    summary, ctx = built
    assert summary["permits"].integrity_errors == []
    with ctx.transaction() as s:
        assert ledger.integrity_errors(s) == []
        cells = s.execute(select(QuotaCell)).scalars().all()
        assert all(c.reserved + c.used <= c.allowed for c in cells)
        assert sum(c.used for c in cells) > 0 and sum(c.reserved for c in cells) > 0
        years = {c.year for c in cells}
        assert {2023, 2024, 2025, 2026} <= years
        by_line: Counter[tuple[int, str]] = Counter()
        for c in cells:
            by_line[(c.year, c.category)] += c.allowed
    national = national_quotas()
    # the national figures of the notes, scaled down for the small demo, spread over the regions
    assert by_line[(2025, "3")] == round(national[2025]["3"] * QUOTA_SCALE["small"])
    assert by_line[(2023, "household")] == round(296_700 * QUOTA_SCALE["small"])
    assert national[2023]["1"] == 949 and national[2025]["seasonal"] == 4_097


def test_regional_quotas_follow_the_2025_examples_as_weights() -> None:
    regions = ["10", "23", "27", "35", "71", "75", "79"]
    cells = regional_quotas("large", regions, [2025])
    seasonal = {r: cells[(2025, r, "seasonal")] for r in regions}
    assert sum(seasonal.values()) == 4_097
    assert seasonal["23"] > seasonal["75"] > seasonal["71"] > seasonal["79"]  # Atyrau > Almaty > Astana > Shymkent


def test_workers_are_persons_of_the_demo_country(built) -> None:
    _, ctx = built
    with ctx.transaction() as s:
        workers = s.execute(select(PermitWorker.person_id)).scalars().all()
        crossed = set(s.execute(select(BorderEvent.person_id).where(BorderEvent.person_id.in_(workers))).scalars())
        kinds = Counter(s.execute(select(Employer.sector)).scalars())
    assert workers and set(workers) == crossed  # each one already crossed the border in the feeds
    assert {"construction", "agriculture", "trade", "oil_gas", "household"} <= set(kinds)


def test_the_demo_accounts_of_the_new_roles(built) -> None:
    summary, ctx = built
    users = {u["username"]: u for u in summary["users"]}
    assert users["employer"]["role"] == "employer" and bin_rules.is_valid(users["employer"]["host_party"])
    assert users["household.employer"]["role"] == "employer"
    assert iin.is_valid(users["household.employer"]["host_party"])
    assert (users["akimat.almaty"]["role"], users["akimat.almaty"]["regions"]) == ("akimat", ["75"])
    assert (users["akimat.south"]["role"], users["akimat.south"]["regions"]) == ("akimat", ["61", "79"])
    assert users["ministry"]["role"] == "ministry"
    with ctx.transaction() as s:
        for name in ("employer", "household.employer", "akimat.almaty", "akimat.south", "ministry"):
            assert auth.login(s, ctx, name, DEMO_PASSWORD) is not None
        def principal(name: str) -> Principal:
            user = auth.user_by_name(s, name)
            assert user is not None
            return auth.principal_for(user, keyring=ctx.keyring)

        mine = service.list_permits(s, ctx, principal("employer"))
        household = service.list_permits(s, ctx, principal("household.employer"))
        queue = service.list_permits(s, ctx, principal("akimat.almaty"), states=["checked"])
        total = s.execute(select(func.count()).select_from(WorkPermit)).scalar_one()
    # the construction company's account holds permits in many states, the household its own
    assert mine.total >= 10 and len({p.state for p in mine.items}) >= 5
    assert household.total >= 4 and all(p.channel == "household_worker" for p in household.items)
    assert 0 < queue.total < total

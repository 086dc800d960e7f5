"""The work-permit quota ledger: never overdrawn, counters always the sums of their movements."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select

from kosh.permits import ledger
from kosh.permits.models import QuotaCell, QuotaMovement
from kosh.platform.errors import Conflict, Forbidden, ValidationFailed
from kosh.platform.i18n import say
from kosh.platform.models import AuditRecord
from kosh.platform.security import Principal, Role

MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
OFFICER = Principal("akimat.almaty", Role.AKIMAT, user_id=10, regions=("75",))
ANALYST = Principal("analyst", Role.ANALYST, user_id=12)
YEAR = 2027


def _set(ctx, region: str, allowed: int, category: str = "3") -> None:
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=YEAR, region=region, category=category, allowed=allowed)


def _cells(ctx) -> dict[str, tuple[int, int, int]]:
    with ctx.transaction() as s:
        return {f"{c.region}/{c.category}": (c.allowed, c.reserved, c.used)
                for c in s.scalars(select(QuotaCell)).all()}


def _moves(ctx) -> int:
    with ctx.transaction() as s:
        return s.scalar(select(func.count()).select_from(QuotaMovement)) or 0


def test_counters_equal_the_sums_of_movements_after_random_sequences(ctx):
    rng = random.Random(20270101)
    regions = ["75", "71", "19"]
    model: dict[str, list[int]] = {r: [0, 0, 0] for r in regions}  # allowed, reserved, used
    held: dict[str, dict[str, list[int]]] = {}  # reference -> region -> [reserved, used]
    for step in range(120):
        op = rng.choice(["set", "reserve", "reserve", "consume", "release", "redistribute"])
        try:
            with ctx.transaction() as s:
                if op == "set":
                    region, allowed = rng.choice(regions), rng.randint(0, 12)
                    ledger.set_quota(s, ctx, MINISTRY, year=YEAR, region=region, category="3", allowed=allowed)
                    model[region][0] = allowed
                elif op == "reserve":
                    chosen = rng.sample(regions, rng.randint(1, 3))
                    shares = {r: rng.randint(1, 3) for r in chosen}
                    ref = f"APP-{step}"
                    ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares=shares, reference=ref)
                    held[ref] = {r: [n, 0] for r, n in shares.items()}
                    for r, n in shares.items():
                        model[r][1] += n
                elif op == "consume" and held:
                    ref = rng.choice(sorted(held))
                    ledger.consume(s, ctx, OFFICER, reference=ref)
                    for r, (n, _) in held[ref].items():
                        model[r][1] -= n
                        model[r][2] += n
                        held[ref][r] = [0, held[ref][r][1] + n]
                elif op == "release" and held:
                    ref = rng.choice(sorted(held))
                    ledger.release(s, ctx, OFFICER, reference=ref, reason="refused")
                    for r, (n, u) in held.pop(ref).items():
                        model[r][1] -= n
                        model[r][2] -= u
                elif op == "redistribute":
                    a, b = rng.sample(regions, 2)
                    n = rng.randint(1, 4)
                    ledger.redistribute(s, ctx, MINISTRY, year=YEAR, category="3", from_region=a, to_region=b,
                                        places=n, reason="demand moved")
                    model[a][0] -= n
                    model[b][0] += n
        except (Conflict, ValidationFailed):
            pass  # refused: the model is unchanged, and so must the ledger be
        with ctx.transaction() as s:
            assert ledger.integrity_errors(s) == []
        cells = _cells(ctx)
        for r in regions:
            got = cells.get(f"{r}/3", (0, 0, 0))
            assert list(got) == model[r]
            assert 0 <= got[1] + got[2] <= got[0]


def test_a_multi_region_reservation_is_all_or_nothing(ctx):
    _set(ctx, "75", 5)
    _set(ctx, "71", 2)
    _set(ctx, "19", 5)
    before = _moves(ctx)
    with ctx.transaction() as s, pytest.raises(Conflict) as refused:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 2, "71": 3, "19": 1},
                       reference="APP-1")
    assert _cells(ctx) == {"75/3": (5, 0, 0), "71/3": (2, 0, 0), "19/3": (5, 0, 0)}
    assert _moves(ctx) == before
    said = say(refused.value.detail, "ru")
    assert "Астана" in said and "3-я категория" in said
    assert "осталось мест: 2" in said and "запрошено: 3" in said
    assert "Астана" in say(refused.value.detail, "kk") and "3-санат" in say(refused.value.detail, "kk")

    with ctx.transaction() as s:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 2, "71": 2, "19": 1},
                       reference="APP-2")
    assert _cells(ctx) == {"75/3": (5, 2, 0), "71/3": (2, 2, 0), "19/3": (5, 1, 0)}


def test_a_refusal_caught_inside_a_transaction_still_stores_nothing(ctx):
    _set(ctx, "75", 5)
    _set(ctx, "71", 1)
    with ctx.transaction() as s:
        with pytest.raises(Conflict):
            ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 4, "71": 2}, reference="APP-1")
    assert _cells(ctx) == {"75/3": (5, 0, 0), "71/3": (1, 0, 0)}


def test_a_region_without_a_quota_has_no_places(ctx):
    with ctx.transaction() as s, pytest.raises(Conflict) as refused:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="seasonal", shares={"75": 1}, reference="APP-1")
    assert "0 places left, 1 asked" in str(refused.value.detail)
    assert _cells(ctx) == {}


def test_setting_a_quota_below_what_is_reserved_and_used_is_refused(ctx):
    _set(ctx, "75", 10)
    with ctx.transaction() as s:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 4}, reference="APP-1")
        ledger.consume(s, ctx, OFFICER, reference="APP-1")
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 3}, reference="APP-2")
    with ctx.transaction() as s, pytest.raises(ValidationFailed) as refused:
        ledger.set_quota(s, ctx, MINISTRY, year=YEAR, region="75", category="3", allowed=6)
    assert refused.value.errors[0].field == "allowed"
    assert "7 places are already reserved or used" in str(refused.value.errors[0].message)
    assert _cells(ctx) == {"75/3": (10, 3, 4)}
    _set(ctx, "75", 7)
    assert _cells(ctx) == {"75/3": (7, 3, 4)}


def test_only_the_ministry_sets_quotas(ctx):
    with ctx.transaction() as s, pytest.raises(Forbidden):
        ledger.set_quota(s, ctx, OFFICER, year=YEAR, region="75", category="3", allowed=5)
    with ctx.transaction() as s, pytest.raises(ValidationFailed) as bad:
        ledger.set_quota(s, ctx, MINISTRY, year=YEAR, region="00", category="5", allowed=-1)
    assert {e.field for e in bad.value.errors} == {"region", "category"}
    assert _cells(ctx) == {}


def test_redistribution_moves_exactly_the_amount_and_keeps_both_cells_valid(ctx):
    _set(ctx, "75", 10)
    _set(ctx, "71", 3)
    with ctx.transaction() as s:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 6, "71": 3}, reference="APP-1")
    with ctx.transaction() as s, pytest.raises(ValidationFailed):
        ledger.redistribute(s, ctx, MINISTRY, year=YEAR, category="3", from_region="75", to_region="71",
                            places=5, reason="Astana needs more")
    assert _cells(ctx) == {"75/3": (10, 6, 0), "71/3": (3, 3, 0)}
    with ctx.transaction() as s:
        ledger.redistribute(s, ctx, MINISTRY, year=YEAR, category="3", from_region="75", to_region="71",
                            places=4, reason="Astana needs more")
    assert _cells(ctx) == {"75/3": (6, 6, 0), "71/3": (7, 3, 0)}
    with ctx.transaction() as s:
        reasons = s.scalars(select(QuotaMovement.reason).where(QuotaMovement.kind == "redistribute")).all()
        assert reasons == ["Astana needs more", "Astana needs more"]
        assert ledger.integrity_errors(s) == []


def test_release_gives_back_reserved_and_used_places(ctx):
    _set(ctx, "75", 4)
    with ctx.transaction() as s:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 2}, reference="APP-1")
        ledger.consume(s, ctx, OFFICER, reference="APP-1")
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 1}, reference="APP-2")
    with ctx.transaction() as s:
        assert ledger.release(s, ctx, OFFICER, reference="APP-1", reason="revoked") == 2
        assert ledger.release(s, ctx, OFFICER, reference="APP-1", reason="revoked") == 0
    with ctx.transaction() as s, pytest.raises(Conflict):
        ledger.consume(s, ctx, OFFICER, reference="APP-1")
    with ctx.transaction() as s:
        rows = ledger.utilisation(s, ctx, ANALYST, year=YEAR)
    assert [(u.region, u.category, u.allowed, u.reserved, u.used, u.free) for u in rows] == [("75", "3", 4, 1, 0, 3)]
    with ctx.transaction() as s:
        actions = s.scalars(select(AuditRecord.subject_type)).all()
    assert actions.count("quota_reservation") == 5 and "quota_cell" in actions


def _race(ctx, attempts: int, shares_for=lambda i: {"75": 1}) -> tuple[list[str], list[str], list[BaseException]]:
    """`attempts` threads at once, each its own transaction, thread i reserving `shares_for(i)`."""
    start = threading.Barrier(attempts)
    won: list[str] = []
    refused: list[str] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def approve(i: int) -> None:
        ref = f"APP-{i}"
        try:
            start.wait()
            with ctx.transaction() as s:
                ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares=shares_for(i), reference=ref)
            with lock:
                won.append(ref)
        except Conflict:
            with lock:
                refused.append(ref)
        except BaseException as exc:  # anything else (a busy database, a deadlock) is a failure
            with lock:
                failed.append(exc)

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, refused, failed


def test_fifty_parallel_approvals_against_ten_places_leave_exactly_ten(ctx):
    _set(ctx, "75", 30)
    with ctx.transaction() as s:
        ledger.reserve(s, ctx, OFFICER, year=YEAR, category="3", shares={"75": 20}, reference="EARLIER")
    won, refused, failed = _race(ctx, 50)
    assert failed == []
    assert len(won) == 10 and len(refused) == 40
    assert _cells(ctx) == {"75/3": (30, 30, 0)}
    with ctx.transaction() as s:
        assert ledger.integrity_errors(s) == []
        refs = set(s.scalars(select(QuotaMovement.reference).where(QuotaMovement.kind == "reserve")).all())
    assert refs == {"EARLIER", *won}


def test_parallel_multi_region_reservations_in_either_order_neither_deadlock_nor_overdraw(ctx):
    _set(ctx, "75", 7)
    _set(ctx, "71", 7)
    # Half name Almaty first, half Astana first: the ledger takes the cells in one order anyway.
    won, refused, failed = _race(ctx, 30, lambda i: {"75": 1, "71": 1} if i % 2 else {"71": 1, "75": 1})
    assert failed == []
    assert len(won) == 7 and len(refused) == 23
    assert _cells(ctx) == {"75/3": (7, 7, 0), "71/3": (7, 7, 0)}

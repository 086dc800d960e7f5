"""The audit chain: every access appends; altering, removing or inserting a record is detected."""

from __future__ import annotations

import sqlalchemy as sa

from kosh.core import audit
from kosh.core.models import AuditHead, AuditRecord
from kosh.core.security import Principal, Role


def _append(ctx, n: int) -> None:
    p = Principal("officer1", Role.OFFICER, user_id=1, regions=("75",), purpose="case 12")
    with ctx.transaction() as s:
        audit.append(s, ctx.keyring, p, [audit.Access("read", "person", f"p{i}") for i in range(n)])


def _verify(ctx) -> audit.VerifyResult:
    with ctx.transaction() as s:
        return audit.verify(s, ctx.keyring)


def test_records_chain_and_verify(ctx):
    _append(ctx, 3)
    _append(ctx, 2)
    result = _verify(ctx)
    assert result.ok and result.checked == 5
    with ctx.transaction() as s:
        recs = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
        assert recs[0].prev_mac == audit.GENESIS
        assert all(b.prev_mac == a.mac for a, b in zip(recs, recs[1:]))
        assert recs[0].actor == "officer1" and recs[0].purpose == "case 12" and recs[0].role == "officer"


def test_altered_record_is_found(ctx):
    _append(ctx, 5)
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(AuditRecord).where(AuditRecord.seq == 3).values(subject_id="someone-else"))
    result = _verify(ctx)
    assert not result.ok
    assert result.first_broken_seq == 3
    assert "altered" in result.reason


def test_removed_record_in_the_middle_is_found(ctx):
    _append(ctx, 5)
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 2))
    result = _verify(ctx)
    assert not result.ok and result.first_broken_seq == 2 and "missing" in result.reason


def test_removed_tail_is_found(ctx):
    _append(ctx, 4)
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 4))
    result = _verify(ctx)
    assert not result.ok and "removed" in result.reason


def test_recomputed_chain_without_the_key_is_found(ctx):
    """An attacker who rewrites a record and recomputes MACs with another key still fails."""
    from kosh.core.crypto import Keyring

    _append(ctx, 3)
    forger = Keyring.generate()
    with ctx.transaction() as s:
        recs = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        prev = audit.GENESIS
        for r in recs:
            audit._aware(r)
            r.subject_id = "forged"
            r.prev_mac = prev
            r.mac = forger.audit_mac(audit._payload(r))
            prev = r.mac
        head = s.get(AuditHead, 1)
        head.mac = prev
    result = _verify(ctx)
    assert not result.ok and result.first_broken_seq == 1

"""The append-only, tamper-evident audit trail of every access to personal data.

Each record's MAC (HMAC-SHA256 under the audit key) covers its content and the MAC of
the record before it, and `audit_head` holds the last sequence number and MAC: a record
altered, inserted or removed anywhere (the tail included) breaks verification.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from kosh.core.crypto import Keyring
from kosh.core.models import AuditHead, AuditRecord
from kosh.core.security import Principal, utcnow

GENESIS = "0" * 64


def _payload(rec: AuditRecord) -> bytes:
    return json.dumps(
        [rec.seq, rec.at.isoformat(), rec.actor, rec.role, rec.purpose, rec.action,
         rec.subject_type, rec.subject_id, rec.detail, rec.prev_mac],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def _aware(rec: AuditRecord) -> AuditRecord:
    # SQLite returns naive datetimes; the MAC was computed on the UTC-aware value.
    if rec.at.tzinfo is None:
        rec.at = rec.at.replace(tzinfo=utcnow().tzinfo)
    return rec


@dataclass(frozen=True)
class Access:
    action: str  # read | create | update | import | login | export ...
    subject_type: str
    subject_id: str
    detail: dict[str, Any] | None = None


class _Pending:
    """A record being appended: the attributes `_payload` reads, without an ORM instance."""

    __slots__ = ("seq", "at", "actor", "role", "purpose", "action", "subject_type", "subject_id", "detail",
                 "prev_mac", "mac")

    def __init__(self, **values: Any) -> None:
        for k, v in values.items():
            setattr(self, k, v)


_HEAD = AuditHead.__table__
_LOG = AuditRecord.__table__
# Built once: the statements run on every read of personal data, and SQLAlchemy's compiled
# cache is keyed on them.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.mac).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(_LOG)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("head_seq"), mac=bindparam("head_mac"))
# PostgreSQL: the record and the new head in one statement, one round trip less under the lock.
_INSERT_ONE_AND_MOVE_HEAD = _MOVE_HEAD.add_cte(
    insert(_LOG).values({c: bindparam(c, type_=_LOG.c[c].type) for c in _Pending.__slots__}).cte("appended"))


def append(session: Session, keyring: Keyring, principal: Principal, accesses: Iterable[Access]) -> int:
    """Append records in the caller's transaction; the head row lock serialises writers.

    Plain Core statements rather than the ORM unit of work: this runs on every read of
    personal data, so it is on the hot path of every request. The lock is taken as late as
    possible: everything that does not depend on the previous record is prepared first.
    """
    accesses = list(accesses)
    if not accesses:
        return 0
    actor, role, purpose = principal.username, str(principal.role), principal.purpose or "unspecified"
    details = [json.dumps(a.detail or {}, ensure_ascii=False, sort_keys=True, default=str) for a in accesses]
    conn = session.connection()
    seq, prev = conn.execute(_LOCK_HEAD).one()
    n = utcnow()  # after the lock, so that times follow the sequence
    now = n.replace(microsecond=(n.microsecond // 1000) * 1000)
    rows = []
    for access, detail in zip(accesses, details):
        seq += 1
        rec = _Pending(seq=seq, at=now, actor=actor, role=role, purpose=purpose, action=access.action,
                       subject_type=access.subject_type, subject_id=str(access.subject_id), detail=detail,
                       prev_mac=prev)
        rec.mac = prev = keyring.audit_mac(_payload(rec))
        rows.append({c: getattr(rec, c) for c in _Pending.__slots__})
    if len(rows) == 1 and conn.dialect.name == "postgresql":
        conn.execute(_INSERT_ONE_AND_MOVE_HEAD, rows[0] | {"head_seq": seq, "head_mac": prev})
    else:
        conn.execute(_INSERT, rows)
        conn.execute(_MOVE_HEAD, {"head_seq": seq, "head_mac": prev})
    return len(accesses)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


def verify(session: Session, keyring: Keyring, batch: int = 5000) -> VerifyResult:
    prev_mac, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    after = 0
    while True:
        rows = session.execute(
            select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for rec in rows:
            _aware(rec)
            if rec.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"record {expected_seq} is missing (next present is {rec.seq})")
            if rec.prev_mac != prev_mac:
                return VerifyResult(False, checked, rec.seq, f"record {rec.seq} does not link to record {rec.seq - 1}")
            if keyring.audit_mac(_payload(rec)) != rec.mac:
                return VerifyResult(False, checked, rec.seq, f"record {rec.seq} was altered (its MAC does not match)")
            prev_mac, expected_seq, last_seq = rec.mac, expected_seq + 1, rec.seq
            checked += 1
        after = rows[-1].seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, checked, None, "the audit head is missing")
    if head.seq != last_seq or head.mac != prev_mac:
        return VerifyResult(False, checked, last_seq + 1,
                            f"the log ends at record {last_seq} but the head says {head.seq}: records were removed")
    return VerifyResult(True, checked)


def records(session: Session, keyring: Keyring, principal: Principal, *, after_seq: int = 0,
            limit: int = 100) -> list[AuditRecord]:
    """The trail for auditors, oldest first from a sequence number; reading it is itself audited."""
    from kosh.core.security import Permission

    principal.require(Permission.AUDIT_READ)
    rows = list(session.execute(select(AuditRecord).where(AuditRecord.seq > after_seq)
                                .order_by(AuditRecord.seq).limit(limit)).scalars())
    append(session, keyring, principal, [Access("read", "audit_log", f"{after_seq + 1}+", {"count": len(rows)})])
    return rows

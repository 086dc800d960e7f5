"""What the public status page reads and keeps (kosh.flows.selfservice): a person's own status,
with no principal, and the proofs of status they take from it.

The caller has already matched the person by citizenship, document number and date of birth and
audits every read; nothing here is scoped, because nothing here is reachable with an account.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.security import system_principal
from kosh.stay import repository, rules
from kosh.stay.models import StatusProof
from kosh.stay.service import asked_day, assess_person, local_today

_PROOF_CONTEXT = "status_proof"
# The people capability's "sees every person" (the admins' shape of scope).
_UNSCOPED: tuple[None, ColumnElement[bool], dict[str, Any]] = (None, true(), {})


@dataclass(frozen=True)
class OwnStatus:
    """A person's status on `on`, the host notifications on record (arrival, submitted day) and
    the periods of their visas and permits (a work permit's included: first and last day)."""

    citizenship: str
    on: dt.date
    assessment: rules.StayAssessment
    notifications: tuple[tuple[dt.date, dt.date], ...]
    permits: tuple[tuple[dt.date, dt.date], ...] = ()


def own_status(session: Session, ctx: Context, person_id: str, on: dt.date | None = None) -> OwnStatus | None:
    """The person's stay status from all their records, or None when there is no such person."""
    found = repository.status_inputs(session, system_principal("own status"), _UNSCOPED, person_id)
    if found is None:
        return None
    on = asked_day(on or local_today(ctx))
    result = assess_person(ctx, found.citizenship, found.crossings, found.notifications, found.permits, on)
    zone = ctx.pack.zone
    notes = tuple(sorted((n.arrival_date, n.submitted_at.astimezone(zone).date()) for n in found.notifications))
    return OwnStatus(found.citizenship, on, result, notes,
                     tuple(sorted((p.valid_from, p.valid_to) for p in found.permits)))


@dataclass(frozen=True)
class Proof:
    person_id: str
    snapshot: dict[str, Any]
    issued_at: dt.datetime
    valid_until: dt.datetime


def proof_lookup(ctx: Context, code: str, birth_date: dt.date) -> str:
    """The keyed hash a proof is found by: its code with the holder's date of birth, so a wrong
    date of birth finds nothing, exactly like a wrong code."""
    return ctx.keyring.blind_index(f"{code}|{birth_date.isoformat()}", _PROOF_CONTEXT)


def keep_proof(session: Session, ctx: Context, person_id: str, lookup: str, snapshot: dict[str, Any],
               days: int) -> Proof:
    """Store a proof (its snapshot encrypted); it can be checked for `days` days."""
    now = utcnow()
    proof = Proof(person_id, snapshot, now, now + dt.timedelta(days=days))
    session.add(StatusProof(lookup=lookup, person_id=person_id, issued_at=now, valid_until=proof.valid_until,
                            snapshot_encrypted=ctx.keyring.encrypt(json.dumps(snapshot, ensure_ascii=False),
                                                                   _PROOF_CONTEXT)))
    session.flush()
    return proof


def find_proof(session: Session, ctx: Context, lookup: str) -> Proof | None:
    """The proof with this lookup hash, expired or not (the caller tells the two apart)."""
    row = session.execute(select(StatusProof).where(StatusProof.lookup == lookup)).scalar_one_or_none()
    if row is None:
        return None
    snapshot = json.loads(ctx.keyring.decrypt(row.snapshot_encrypted, _PROOF_CONTEXT))
    return Proof(row.person_id, snapshot, row.issued_at, row.valid_until)

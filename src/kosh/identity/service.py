"""Identity decisions across capabilities: merge two persons into one, and undo a merge.

Persons are stable ids. A merge keeps the older person (by creation, then id), moves the other's
documents, spellings and records to it and leaves the other's id as an alias that leads to the
kept person; undoing it gives each person back exactly the rows it had (plus crossings and
notifications recorded since under its documents). Both are audited with their reason.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from kosh.core import audit
from kosh.core.context import Context
from kosh.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from kosh.core.security import Permission, Principal, utcnow
from kosh.identity.models import PersonMerge
from kosh.people import repository as people_repository
from kosh.people import service as people
from kosh.stay import service as stay


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "give the reason for this decision")])
    if len(reason) > 2000:
        raise ValidationFailed([FieldError("reason", "the reason is longer than 2000 characters")])
    return reason


def _visible(session: Session, principal: Principal, person_id: str):  # noqa: ANN202 — Person
    person = people_repository.get_person(session, principal, person_id)
    if person is None:
        raise NotFound(f"no person {person_id} in your regions")
    return person


def merge(session: Session, ctx: Context, principal: Principal, first_id: str, second_id: str,
          reason: str) -> PersonMerge:
    """Merge two persons the caller may see; the older one is kept."""
    principal.require(Permission.IDENTITY_MERGE)
    reason = _reason(reason)
    if first_id == second_id:
        raise Conflict("a person cannot be merged with itself")
    a, b = _visible(session, principal, first_id), _visible(session, principal, second_id)
    for p in (a, b):
        if p.merged_into:
            raise Conflict(f"person {p.id} was merged into {p.merged_into} already")
    kept, merged = sorted((a, b), key=lambda p: (p.created_at, p.id))
    moved = people.move_identity(session, merged.id, kept.id) | stay.move_records(session, merged.id, kept.id)
    stay.recompute_after_identity_change(session, ctx, [kept.id], gone=[merged.id])
    record = PersonMerge(kept_id=kept.id, merged_id=merged.id, reason=reason, decided_by=principal.username,
                         moved=json.dumps(moved, sort_keys=True))
    session.add(record)
    session.flush()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "merge", "person", kept.id, {"merge": record.id, "merged": merged.id, "reason": reason,
                                     "moved": {k: len(v) for k, v in moved.items()}})])
    return record


def unmerge(session: Session, ctx: Context, principal: Principal, merge_id: int, reason: str) -> PersonMerge:
    """Undo a merge: both persons stand on their own again with the rows each had."""
    principal.require(Permission.IDENTITY_MERGE)
    reason = _reason(reason)
    record = session.get(PersonMerge, merge_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no merge {merge_id}")
    _visible(session, principal, record.kept_id)
    if record.undone_at is not None:
        raise Conflict(f"merge {merge_id} was undone on {record.undone_at:%Y-%m-%d %H:%M} UTC already")
    later = session.execute(select(PersonMerge.id).where(PersonMerge.merged_id == record.kept_id,
                                                         PersonMerge.undone_at.is_(None))).scalar()
    if later is not None:
        raise Conflict(f"person {record.kept_id} was itself merged later (merge {later}): undo that merge first")
    moved = json.loads(record.moved)
    people.restore_identity(session, moved, record.kept_id, record.merged_id)
    stay.restore_records(session, moved, record.kept_id, record.merged_id, moved.get("travel_documents", []))
    stay.recompute_after_identity_change(session, ctx, [record.kept_id, record.merged_id])
    record.undone_at, record.undone_by, record.undo_reason = utcnow(), principal.username, reason
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "unmerge", "person", record.kept_id, {"merge": record.id, "restored": record.merged_id, "reason": reason})])
    return record


def merges_of(session: Session, ctx: Context, principal: Principal, person_id: str) -> list[PersonMerge]:
    """Every merge the person took part in, newest first."""
    principal.require(Permission.PERSON_READ)
    _visible(session, principal, person_id)
    rows = list(session.execute(select(PersonMerge).where((PersonMerge.kept_id == person_id)
                                                          | (PersonMerge.merged_id == person_id))
                                .order_by(PersonMerge.id.desc())).scalars())
    audit.append(session, ctx.keyring, principal, [audit.Access("read", "person_merges", person_id,
                                                                {"merges": [r.id for r in rows]})])
    return rows

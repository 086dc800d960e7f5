"""Identity decisions across capabilities: merge two persons into one, and undo a merge.

Persons are stable ids. A merge keeps the older person (by creation, then id), moves the other's
documents, spellings and records to it and leaves the other's id as an alias that leads to the
kept person; undoing it gives each person back exactly the rows it had (plus crossings and
notifications recorded since under its documents). Both are audited with their reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kosh.identity.models import UNDECIDED, IdentityCandidate, PersonMerge, ReviewStatus
from kosh.people import service as people
from kosh.platform import audit, events
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from kosh.platform.security import Permission, Principal
from kosh.platform.sql import rowcount
from kosh.platform.words import N_, Msg


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", Msg(N_("give the reason for this decision")))])
    if len(reason) > 2000:
        raise ValidationFailed([FieldError("reason", Msg(N_("must be at most %(max_length)s characters long"),
                                                         max_length=2000))])
    return reason


def _visible(session: Session, principal: Principal, person_id: str) -> people.Person:
    """Identity questions (merge, undo, review) are for the officers the person is registered
    with: a merge moves records, so it must not be decided by who merely holds one of them."""
    return people.registered_in_scope(session, principal, person_id)


class AlreadyUndone(Conflict):
    """The merge was undone before."""


class _Created(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> dt.datetime: ...


P = TypeVar("P", bound=_Created)


def kept_of(a: P, b: P) -> P:
    """Which of two persons a merge keeps: the older one (by creation, then id)."""
    return min((a, b), key=lambda p: (p.created_at, p.id))


def merge(session: Session, ctx: Context, principal: Principal, first_id: str, second_id: str,
          reason: str, *, defer_refresh: bool = False) -> PersonMerge:
    """Merge two persons the caller may see; the older one is kept. `defer_refresh` (bulk
    imports) queues the kept person's stay status instead of recomputing it now."""
    principal.require(Permission.IDENTITY_MERGE)
    reason = _reason(reason)
    if first_id == second_id:
        raise Conflict(Msg(N_("A person cannot be merged with itself.")))
    a, b = _visible(session, principal, first_id), _visible(session, principal, second_id)
    for p in (a, b):
        if p.merged_into:
            raise Conflict(Msg(N_("Person %(person)s was merged into %(into)s already."), person=p.id,
                               into=p.merged_into))
    kept = kept_of(a, b)
    merged = b if kept is a else a
    moved = people.move_identity(session, merged.id, kept.id)
    # Every other capability holding rows of the merged person moves its own (stay: crossings,
    # notifications, permits, and its status anew) and lists what it moved for the undo.
    events.publish(session, ctx, events.PersonsMerged(kept.id, merged.id, moved, defer_refresh))
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
        raise NotFound(Msg(N_("There is no merge %(id)s."), id=merge_id))
    # Both persons must be the officer's: the restored person is registered where they were when
    # merged, and the undo would otherwise hand the officer a person of another region. A merge
    # out of reach answers like a missing one, naming no person.
    try:
        _visible(session, principal, record.kept_id)
        _visible(session, principal, record.merged_id)
    except NotFound:
        raise NotFound(Msg(N_("There is no merge %(id)s."), id=merge_id)) from None
    if record.undone_at is not None:
        raise AlreadyUndone(Msg(N_("Merge %(id)s was undone on %(day)s already."), id=merge_id,
                                day=record.undone_at.date()))
    later = session.execute(select(PersonMerge.id).where(PersonMerge.merged_id == record.kept_id,
                                                         PersonMerge.undone_at.is_(None))).scalar()
    if later is not None:
        raise Conflict(Msg(N_("Person %(person)s was itself merged later (merge %(later)s): undo that merge first."),
                           person=record.kept_id, later=later))
    moved = json.loads(record.moved)
    people.restore_identity(session, moved, record.kept_id, record.merged_id)
    events.publish(session, ctx, events.PersonsUnmerged(record.kept_id, record.merged_id, moved))
    record.undone_at, record.undone_by, record.undo_reason = utcnow(), principal.username, reason
    # The pair accepted from the queue turned out to be two persons.
    session.execute(update(IdentityCandidate).where(IdentityCandidate.merge_id == record.id).values(
        status=ReviewStatus.REJECTED, decided_by=principal.username, decided_at=utcnow(),
        decision_reason=f"unmerged: {reason}"))
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "unmerge", "person", record.kept_id, {"merge": record.id, "restored": record.merged_id, "reason": reason})])
    return record


def merges_of(session: Session, ctx: Context, principal: Principal, person_id: str, *,
              audited: bool = True) -> list[PersonMerge]:
    """Every merge the person took part in, newest first (`audited=False` for a page whose
    read of the person is audited already)."""
    principal.require(Permission.PERSON_READ)
    people.person_in_scope(session, principal, person_id)
    rows = list(session.execute(select(PersonMerge).where((PersonMerge.kept_id == person_id)
                                                          | (PersonMerge.merged_id == person_id))
                                .order_by(PersonMerge.id.desc())).scalars())
    if audited:
        audit.append(session, ctx.keyring, principal, [audit.Access("read", "person_merges", person_id,
                                                                    {"merges": [r.id for r in rows]})])
    return rows


# -- the review queue -------------------------------------------------------------------------

@dataclass(frozen=True)
class CandidateView:
    candidate: IdentityCandidate
    evidence: list[dict[str, Any]]  # per comparison: field, level, weight
    a: people.PersonView
    b: people.PersonView


def review_queue(session: Session, ctx: Context, principal: Principal, status: str = ReviewStatus.OPEN,
                 limit: int = 50, offset: int = 0) -> list[IdentityCandidate]:
    """Candidates of one status, strongest first; an officer sees pairs of their regions only."""
    principal.require(Permission.IDENTITY_MERGE)
    if status not in STATUSES:
        raise ValidationFailed([FieldError("status", Msg(N_("must be one of: %(expected)s"),
                                                         expected=[str(s.value) for s in STATUSES]))])
    visible = people.registered_ids(principal)
    rows = list(session.execute(select(IdentityCandidate).where(
        IdentityCandidate.status == status, IdentityCandidate.person_a.in_(visible),
        IdentityCandidate.person_b.in_(visible)).order_by(IdentityCandidate.weight.desc(), IdentityCandidate.id)
        .limit(limit).offset(offset)).scalars())
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "list", "identity_candidates", status, {"ids": [r.id for r in rows]})])
    return rows


def _candidate(session: Session, principal: Principal, candidate_id: int, *, lock: bool = False) -> IdentityCandidate:
    found = session.get(IdentityCandidate, candidate_id, with_for_update=lock)
    if found is None:
        raise NotFound(Msg(N_("There is no review candidate %(id)s."), id=candidate_id))
    try:
        _visible(session, principal, found.person_a)
        _visible(session, principal, found.person_b)
    except NotFound:
        raise NotFound(Msg(N_("There is no review candidate %(id)s."), id=candidate_id)) from None  # names no person
    return found


def candidate(session: Session, ctx: Context, principal: Principal, candidate_id: int) -> CandidateView:
    """One pair side by side: both persons (names, documents, spellings) and the evidence."""
    principal.require(Permission.IDENTITY_MERGE)
    found = _candidate(session, principal, candidate_id)
    a = people.get_person(session, ctx, principal, found.person_a, audited=False)
    b = people.get_person(session, ctx, principal, found.person_b, audited=False)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "identity_candidate", str(candidate_id), {"persons": [found.person_a, found.person_b]})])
    return CandidateView(found, json.loads(found.evidence), a, b)


STATUSES = tuple(ReviewStatus)
DECISIONS = {"accept": ReviewStatus.ACCEPTED, "reject": ReviewStatus.REJECTED, "defer": ReviewStatus.DEFERRED}


def decide(session: Session, ctx: Context, principal: Principal, candidate_id: int, decision: str,
           reason: str) -> IdentityCandidate:
    """Accept (merge the two), reject, or defer a candidate pair."""
    principal.require(Permission.IDENTITY_MERGE)
    if decision not in DECISIONS:
        raise ValidationFailed([FieldError("decision", Msg(N_("must be one of: %(expected)s"),
                                                           expected=list(DECISIONS)))])
    reason = _reason(reason)
    found = _candidate(session, principal, candidate_id, lock=True)
    if found.status not in UNDECIDED:
        raise Conflict(Msg(N_("Candidate %(id)s was %(status)s already."), id=candidate_id,
                           status=Msg(str(found.status))))
    if decision == "accept":
        found.merge_id = merge(session, ctx, principal, found.person_a, found.person_b, reason).id
    found.status, found.decided_by, found.decided_at = DECISIONS[decision], principal.username, utcnow()
    found.decision_reason = reason
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "decide", "identity_candidate", str(candidate_id), {"decision": decision, "reason": reason})])
    return found


# -- retention (kosh retention run) --------------------------------------------------------------

def forget_persons(session: Session, person_ids: Sequence[str]) -> None:
    """Review pairs, merges and index rows of persons being removed (the audit trail keeps the
    record of every decision)."""
    from sqlalchemy import delete, or_

    from kosh.identity.models import IdentityKey, IdentityRecord

    ids = list(set(person_ids))
    if not ids:
        return
    merges = select(PersonMerge.id).where(or_(PersonMerge.kept_id.in_(ids), PersonMerge.merged_id.in_(ids)))
    session.execute(delete(IdentityCandidate).where(or_(
        IdentityCandidate.person_a.in_(ids), IdentityCandidate.person_b.in_(ids),
        IdentityCandidate.merge_id.in_(merges.scalar_subquery()))))
    session.execute(delete(PersonMerge).where(or_(PersonMerge.kept_id.in_(ids), PersonMerge.merged_id.in_(ids))))
    for table in (IdentityKey, IdentityRecord):
        session.execute(delete(table).where(table.person_id.in_(ids)))


def delete_stale_pairs(session: Session, created_before: dt.datetime, limit: int = 5000) -> int:
    """Up to `limit` review pairs still open or deferred that were queued before `created_before`."""
    from sqlalchemy import delete

    ids = list(session.execute(select(IdentityCandidate.id).where(
        IdentityCandidate.status.in_(UNDECIDED), IdentityCandidate.created_at < created_before)
        .order_by(IdentityCandidate.id).limit(limit)).scalars())
    if not ids:
        return 0
    return rowcount(session.execute(delete(IdentityCandidate).where(IdentityCandidate.id.in_(ids)))) or 0

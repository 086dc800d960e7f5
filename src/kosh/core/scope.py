"""Who reads which records: the one place that turns a caller into SQL conditions.

Every record (crossing, notification, permit, document, spelling, a person's identity as first
recorded) carries the KATO code of the region it was made in, and an officer reads a record
because its region is one of theirs — never because a person was linked or moved. Admins read
every region. A break-glass grant opens one person's records to one officer, for a stated
purpose and a limited time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from kosh.core.models import BreakGlassGrant
from kosh.core.security import Principal, utcnow


def regions_clause(column: ColumnElement, principal: Principal) -> ColumnElement[bool]:
    """`column` (a KATO code) lies in one of the caller's regions (KATO prefixes)."""
    if principal.all_regions:
        return true()
    if not principal.regions:
        return false()
    return or_(*(column.startswith(p) for p in principal.regions))


def granted_person_ids(principal: Principal, now: dt.datetime | None = None) -> Select:
    """The persons a break-glass grant opens to the caller now (a subquery)."""
    now = now or utcnow()
    if principal.user_id is None:
        return select(BreakGlassGrant.person_id).where(false())
    return select(BreakGlassGrant.person_id).where(
        BreakGlassGrant.user_id == principal.user_id, BreakGlassGrant.expires_at > now,
        BreakGlassGrant.ended_at.is_(None))


def record_clause(kato: ColumnElement, person_id: ColumnElement, principal: Principal) -> ColumnElement[bool]:
    """A record of `person_id` made in region `kato` is readable by the caller."""
    if principal.all_regions:
        return true()
    return or_(regions_clause(kato, principal), person_id.in_(granted_person_ids(principal)))

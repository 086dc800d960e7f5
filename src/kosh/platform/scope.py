"""Who reads which records: the one place that turns a caller into SQL conditions.

Every record (crossing, notification, permit, document, spelling, a person's identity as first
recorded) carries the KATO code of the region it was made in, and an officer reads a record
because its region is one of theirs — never because a person was linked or moved. Admins read
every region. A break-glass grant opens one person's records to one officer, for a stated
purpose and a limited time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from kosh.platform.models import BreakGlassGrant
from kosh.platform.security import Principal, utcnow


def prefix_clause(column: ColumnElement, prefixes: Sequence[Any]) -> ColumnElement[bool]:
    """`column` (a KATO code) starts with one of these prefixes (values or bound parameters)."""
    return or_(*(column.startswith(p) for p in prefixes)) if prefixes else false()


def regions_clause(column: ColumnElement, principal: Principal) -> ColumnElement[bool]:
    """`column` (a KATO code) lies in one of the caller's regions (KATO prefixes)."""
    return true() if principal.all_regions else prefix_clause(column, principal.regions)


def live_grants(user_id: Any, now: Any) -> Select:
    """The persons a user's live break-glass grants open (values or bound parameters)."""
    return select(BreakGlassGrant.person_id).where(
        BreakGlassGrant.user_id == user_id, BreakGlassGrant.expires_at > now, BreakGlassGrant.ended_at.is_(None))


def granted_person_ids(principal: Principal, now: dt.datetime | None = None) -> Select:
    """The persons a break-glass grant opens to the caller now (a subquery)."""
    if principal.user_id is None:
        return select(BreakGlassGrant.person_id).where(false())
    return live_grants(principal.user_id, now or utcnow())


def record_clause(kato: ColumnElement, person_id: ColumnElement, principal: Principal) -> ColumnElement[bool]:
    """A record of `person_id` made in region `kato` is readable by the caller."""
    if principal.all_regions:
        return true()
    return or_(regions_clause(kato, principal), person_id.in_(granted_person_ids(principal)))

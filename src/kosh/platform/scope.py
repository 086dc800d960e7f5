"""Who reads which records: the one place that turns a caller into conditions, in SQL for the
repositories and in Python for rows already loaded.

Every record (crossing, notification, permit, document, spelling, a person's identity as first
recorded) carries the KATO code of the region it was made in, and an officer reads a record
because its region is one of theirs — never because a person was linked or moved. Admins read
every region. A break-glass grant opens one person's records to one officer, for a stated
purpose and a limited time. Roles that read aggregates only (analysts, auditors) count the whole
country and read no record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    bindparam,
    false,
    or_,
    select,
    true,
)

from kosh.platform.clock import utcnow
from kosh.platform.errors import Forbidden
from kosh.platform.models import BreakGlassGrant
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.words import N_, Msg, region_name

# -- in Python --------------------------------------------------------------------------------


def within_regions(kato: str | None, prefixes: Sequence[str]) -> bool:
    """A KATO code lies in one of these regions (KATO prefixes); `prefix_clause` is its SQL form."""
    if not kato:
        return False
    return any(kato.startswith(p) for p in prefixes)


def sees_region(principal: Principal, kato: str | None) -> bool:
    """A record made in this region (KATO code) is in the caller's scope; `regions_clause` in SQL."""
    return principal.all_regions or within_regions(kato, principal.regions)


def require_region(principal: Principal, region: str) -> None:
    """A region the caller names (a list's filter) must be one of theirs: Forbidden otherwise."""
    if not sees_region(principal, region):
        raise Forbidden(outside_regions(principal, region))


def outside_regions(principal: Principal, region: str) -> Msg:
    """"Almaty Region is outside your regions (Astana, Almaty)": regions by name, in the reader's language."""
    yours: object = [region_name(r) for r in principal.regions] if principal.regions else Msg(N_("none"))
    return Msg(N_("%(region)s is outside your regions (%(yours)s)."), region=region_name(region), yours=yours)


def for_aggregates(principal: Principal) -> Principal:
    """The principal whose scope counts are taken in: officers count their regions; roles that
    read aggregates only count the whole country."""
    return system_principal("aggregates") if principal.role in (Role.ANALYST, Role.AUDITOR) else principal


# -- in SQL -----------------------------------------------------------------------------------


def prefix_clause(column: SQLColumnExpression[str], prefixes: Sequence[Any]) -> ColumnElement[bool]:
    """`column` (a KATO code) starts with one of these prefixes (values or bound parameters)."""
    return or_(*(column.startswith(p) for p in prefixes)) if prefixes else false()


def regions_clause(column: SQLColumnExpression[str], principal: Principal) -> ColumnElement[bool]:
    """`column` (a KATO code) lies in one of the caller's regions (KATO prefixes)."""
    return true() if principal.all_regions else prefix_clause(column, principal.regions)


def in_regions(stmt: Select, column: SQLColumnExpression[str], principal: Principal) -> Select:
    """The statement limited to rows whose `column` (a KATO code) lies in the caller's regions;
    unchanged for admins."""
    return stmt if principal.all_regions else stmt.where(regions_clause(column, principal))


def live_grants(user_id: Any, now: Any) -> Select:
    """The persons a user's live break-glass grants open (values or bound parameters)."""
    return select(BreakGlassGrant.person_id).where(
        BreakGlassGrant.user_id == user_id, BreakGlassGrant.expires_at > now, BreakGlassGrant.ended_at.is_(None))


def granted_person_ids(principal: Principal, now: dt.datetime | None = None) -> Select:
    """The persons a break-glass grant opens to the caller now (a subquery)."""
    if principal.user_id is None:
        return select(BreakGlassGrant.person_id).where(false())
    return live_grants(principal.user_id, now or utcnow())


def record_clause(kato: SQLColumnExpression[str], person_id: SQLColumnExpression[str],
                  principal: Principal) -> ColumnElement[bool]:
    """A record of `person_id` made in region `kato` is readable by the caller."""
    if principal.all_regions:
        return true()
    return or_(regions_clause(kato, principal), person_id.in_(granted_person_ids(principal)))


# -- in SQL, the caller as bound parameters ---------------------------------------------------
# A condition built from these is one object for every caller with as many regions, so a
# statement holding it is built once per shape and hits SQLAlchemy's compiled cache.


def bound_scope(principal: Principal) -> tuple[int | None, dict[str, Any]]:
    """The shape of the caller's scope (None: every region; else how many region prefixes) and the
    values of the parameters of `bound_regions` and `bound_live_grants`."""
    if principal.all_regions:
        return None, {}
    params: dict[str, Any] = {f"vr{i}": r for i, r in enumerate(principal.regions)}
    return len(principal.regions), params | {
        "vuid": principal.user_id if principal.user_id is not None else -1, "vnow": utcnow()}


def bound_regions(n_regions: int) -> list[BindParameter[str]]:
    """The caller's region prefixes as parameters, for `prefix_clause`."""
    return [bindparam(f"vr{i}", type_=String) for i in range(n_regions)]


def bound_live_grants() -> Select:
    """`live_grants` of the caller now, as parameters."""
    return live_grants(bindparam("vuid", type_=Integer), bindparam("vnow", type_=BreakGlassGrant.expires_at.type))

"""The work-permit quota ledger: a year's places per region and category, reserved when a permit
is approved, consumed when it is issued, released when it is refused, revoked or expires, and
moved between regions by the ministry.

The guarantee is that no cell ever holds more reserved and used places than it allows, whatever
runs at the same time. Every change is one conditional UPDATE per cell (`… WHERE reserved + used
+ :n <= allowed`) whose row count says whether it fitted, cells taken in id order so that two
multi-region reservations never wait for each other in a circle; the same statement is safe on
PostgreSQL (a concurrent update re-checks the condition on the row it waited for) and on SQLite
(writers are serialised by BEGIN IMMEDIATE). The cells' check constraints back it up.

Each counter equals the sum of its deltas over the cell's append-only movements: every counter
change is written with its movement in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.orm import Session

from kosh.permits.models import QuotaCell, QuotaMovement
from kosh.platform import audit
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, Forbidden, ValidationFailed
from kosh.platform.security import Permission, Principal
from kosh.platform.sql import rowcount
from kosh.platform.words import N_, Msg, field_labels, region_name

CATEGORIES: dict[str, str] = {
    "1": N_("category 1 (heads and deputies)"),
    "2": N_("category 2 (heads of structural units)"),
    "3": N_("category 3 (specialists)"),
    "4": N_("category 4 (skilled workers)"),
    "seasonal": N_("seasonal work"),
    "household": N_("household work"),
}
MAX_PLACES = 10_000_000

field_labels({"quota_year": N_("Year"), "region": N_("Region"), "category": N_("Category"),
              "allowed": N_("Places allowed"), "places": N_("Places"), "reason": N_("Reason"),
              "from_region": N_("From region"), "to_region": N_("To region"),
              "quota_reference": N_("Application reference")})

_CELLS: Table = QuotaCell.__table__
_MOVES: Table = QuotaMovement.__table__


@dataclass(frozen=True)
class Utilisation:
    year: int
    region: str
    region_name: str
    category: str
    allowed: int
    reserved: int
    used: int

    @property
    def free(self) -> int:
        return self.allowed - self.reserved - self.used


def category_word(category: str) -> Msg:
    return Msg(CATEGORIES.get(category, category))


# --- checks -----------------------------------------------------------------------------------

def _require_ministry(principal: Principal) -> None:
    """Quotas are set and moved nationally: the ministry (and the installation's administrator)."""
    if not principal.can(Permission.QUOTA_MANAGE):
        raise Forbidden(Msg(N_("Only the ministry may set or move work-permit quotas.")))


def _require_permit_actor(principal: Principal) -> None:
    """Places are reserved, consumed and released by a permit's steps: an employer applying, an
    akimat deciding, the system's daily job (the permits service checks the rest)."""
    if not (principal.can(Permission.WORK_PERMIT_APPLY) or principal.can(Permission.WORK_PERMIT_DECIDE)):
        principal.require(Permission.WORK_PERMIT_DECIDE)


def _check_cell(ctx: Context, year: int, region: str, category: str, field: str = "region") -> str:
    errors = []
    if not 2000 <= year <= 2200:
        errors.append(FieldError("quota_year", Msg(N_("Enter a year between 2000 and 2200"))))
    code = region.strip()
    if not (code.isdigit() and len(code) == 2 and ctx.pack.region_for_kato(code.ljust(9, "0")) is not None):
        errors.append(FieldError(field, Msg(N_("%(code)s is not a region code"), code=code)))
    if category not in CATEGORIES:
        errors.append(FieldError("category", Msg(N_("%(category)s is not a work-permit category"),
                                                 category=category)))
    if errors:
        raise ValidationFailed(errors)
    return code


def _check_places(places: int, field: str = "places", minimum: int = 1) -> None:
    if not minimum <= places <= MAX_PLACES:
        raise ValidationFailed([FieldError(field, Msg(N_("Enter a whole number from %(low)s to %(high)s"),
                                                      low=str(minimum), high=str(MAX_PLACES)))])


def _check_reference(reference: str) -> str:
    ref = reference.strip()
    if not ref or len(ref) > 100:
        raise ValidationFailed([FieldError("quota_reference", Msg(N_("Enter the application reference")))])
    return ref


def _check_reason(reason: str, required: bool) -> str:
    text = reason.strip()
    if (required and not text) or len(text) > 500:
        raise ValidationFailed([FieldError("reason", Msg(N_("Give the reason, in at most 500 characters")))])
    return text


# --- cells and movements ------------------------------------------------------------------------

def _cell_id(session: Session, year: int, region: str, category: str, *, create: bool) -> int | None:
    key = and_(_CELLS.c.year == year, _CELLS.c.region == region, _CELLS.c.category == category)
    found = session.execute(select(_CELLS.c.id).where(key)).scalar_one_or_none()
    if found is not None or not create:
        return found
    # A concurrent first insert of the same cell fails the unique key: IntegrityError, which the
    # web layer turns into "send it again" (kosh.platform.errors.database_conflict).
    with session.begin_nested():
        session.execute(insert(_CELLS).values(year=year, region=region, category=category,
                                              allowed=0, reserved=0, used=0))
    return session.execute(select(_CELLS.c.id).where(key)).scalar_one()


def _move(session: Session, principal: Principal, cell_id: int, kind: str, amount: int, *, allowed: int = 0,
          reserved: int = 0, used: int = 0, reference: str = "", reason: str = "") -> None:
    session.execute(insert(_MOVES).values(cell_id=cell_id, kind=kind, amount=amount, allowed_delta=allowed,
                                          reserved_delta=reserved, used_delta=used, reference=reference,
                                          reason=reason, actor=principal.username, at=utcnow()))


def _counters(session: Session, cell_id: int) -> tuple[int, int, int]:
    row = session.execute(select(_CELLS.c.allowed, _CELLS.c.reserved, _CELLS.c.used)
                          .where(_CELLS.c.id == cell_id)).one()
    return row.allowed, row.reserved, row.used


def _subject(year: int, region: str, category: str) -> str:
    return f"{year}/{region}/{category}"


def _exhausted(region: str, category: str, left: int, asked: int) -> Conflict:
    return Conflict(Msg(N_("Not enough quota in %(region)s, %(category)s: %(left)s places left, "
                           "%(asked)s asked. Nothing was reserved."),
                        category=category_word(category), region=region_name(region), left=str(left),
                        asked=str(asked)))


# --- use cases ----------------------------------------------------------------------------------

def set_quota(session: Session, ctx: Context, principal: Principal, *, year: int, region: str, category: str,
              allowed: int, reason: str = "") -> Utilisation:
    """Set a cell's allowed places for the year (creating the cell); refused below what is
    already reserved and used there."""
    _require_ministry(principal)
    region = _check_cell(ctx, year, region, category)
    _check_places(allowed, "allowed", minimum=0)
    reason = _check_reason(reason, required=False)
    cell_id = _cell_id(session, year, region, category, create=True)
    assert cell_id is not None
    # The row lock first, so that `before` is still the value the update replaces.
    before = session.execute(select(_CELLS.c.allowed).where(_CELLS.c.id == cell_id).with_for_update()).scalar_one()
    done = session.execute(update(_CELLS).where(_CELLS.c.id == cell_id,
                                                _CELLS.c.reserved + _CELLS.c.used <= allowed)
                           .values(allowed=allowed))
    if rowcount(done) != 1:
        _, reserved, used = _counters(session, cell_id)
        raise ValidationFailed([FieldError("allowed", Msg(
            N_("%(region)s, %(category)s: %(taken)s places are already reserved or used, "
               "the quota cannot be lower"),
            region=region_name(region), taken=str(reserved + used), category=category_word(category)))])
    now_allowed, reserved, used = _counters(session, cell_id)
    _move(session, principal, cell_id, "set", abs(allowed - before), allowed=allowed - before, reason=reason)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "quota_cell", _subject(year, region, category), {"allowed": allowed, "before": before})])
    return Utilisation(year, region, region_name(region), category, now_allowed, reserved, used)


def reserve(session: Session, ctx: Context, principal: Principal, *, year: int, category: str,
            shares: Mapping[str, int], reference: str, audited: bool = True) -> None:
    """Reserve each region's share of a permit's places, all or nothing: when one region has
    too few left, nothing is reserved anywhere (a savepoint undoes the regions already taken)
    and Conflict names that region, the category and the places left."""
    _require_permit_actor(principal)
    reference = _check_reference(reference)
    if not shares:
        raise ValidationFailed([FieldError("places", Msg(N_("Give at least one region's places")))])
    wanted: dict[int, tuple[str, int]] = {}
    for raw, places in shares.items():
        region = _check_cell(ctx, year, raw, category)
        _check_places(places)
        cell_id = _cell_id(session, year, region, category, create=False)
        if cell_id is None:
            raise _exhausted(region, category, 0, places)
        wanted[cell_id] = (region, places)
    # One cell needs no savepoint: its conditional update either takes the places or changes nothing.
    with session.begin_nested() if len(wanted) > 1 else nullcontext():
        for cell_id in sorted(wanted):  # a fixed order: no deadlock between multi-region reservations
            region, places = wanted[cell_id]
            done = session.execute(update(_CELLS).where(
                _CELLS.c.id == cell_id, _CELLS.c.reserved + _CELLS.c.used + places <= _CELLS.c.allowed)
                .values(reserved=_CELLS.c.reserved + places))
            if rowcount(done) != 1:
                allowed, reserved, used = _counters(session, cell_id)
                raise _exhausted(region, category, max(allowed - reserved - used, 0), places)
            _move(session, principal, cell_id, "reserve", places, reserved=places, reference=reference)
    if audited:  # a permit's step records the reservation in its own audit record
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "create", "quota_reservation", reference,
            {"year": year, "category": category, "shares": {r: p for r, p in wanted.values()}})])


def _held(session: Session, reference: str) -> list[tuple[int, int, int]]:
    """(cell id, places reserved, places used) the reference holds, by cell id."""
    rows = session.execute(
        select(_MOVES.c.cell_id, func.sum(_MOVES.c.reserved_delta), func.sum(_MOVES.c.used_delta))
        .where(_MOVES.c.reference == reference).group_by(_MOVES.c.cell_id).order_by(_MOVES.c.cell_id)).all()
    return [(cell, int(r or 0), int(u or 0)) for cell, r, u in rows if (r or 0) or (u or 0)]


def _lock(session: Session, reference: str) -> list[tuple[int, int, int]]:
    """Lock the reference's cells in id order, then read what it holds (after the lock, so that a
    concurrent consume or release of the same reference has committed and is seen)."""
    cells = [cell for cell, _, _ in _held(session, reference)]
    if cells:
        session.execute(select(_CELLS.c.id).where(_CELLS.c.id.in_(cells)).order_by(_CELLS.c.id).with_for_update())
    return _held(session, reference)


def consume(session: Session, ctx: Context, principal: Principal, *, reference: str, audited: bool = True) -> int:
    """Turn the reference's reserved places into used ones (the permit is issued); returns the
    places consumed. Conflict when the reference holds no reservation."""
    _require_permit_actor(principal)
    reference = _check_reference(reference)
    held = [(cell, r) for cell, r, _ in _lock(session, reference) if r > 0]
    if not held:
        raise Conflict(Msg(N_("Application %(reference)s holds no reserved quota places"), reference=reference))
    for cell_id, places in held:
        done = session.execute(update(_CELLS).where(_CELLS.c.id == cell_id, _CELLS.c.reserved >= places)
                               .values(reserved=_CELLS.c.reserved - places, used=_CELLS.c.used + places))
        if rowcount(done) != 1:  # cannot happen while counters equal their movements
            raise Conflict(Msg(N_("The quota ledger does not match its movements; nothing was changed")))
        _move(session, principal, cell_id, "consume", places, reserved=-places, used=places, reference=reference)
    total = sum(p for _, p in held)
    if audited:
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "update", "quota_reservation", reference, {"consumed": total})])
    return total


def release(session: Session, ctx: Context, principal: Principal, *, reference: str, reason: str,
            audited: bool = True) -> int:
    """Give back every place the reference holds, reserved or used (refusal, revocation,
    expiry); returns the places released, 0 when it held none."""
    _require_permit_actor(principal)
    reference = _check_reference(reference)
    reason = _check_reason(reason, required=True)
    held = _lock(session, reference)
    for cell_id, reserved, used in held:
        done = session.execute(update(_CELLS).where(_CELLS.c.id == cell_id, _CELLS.c.reserved >= reserved,
                                                    _CELLS.c.used >= used)
                               .values(reserved=_CELLS.c.reserved - reserved, used=_CELLS.c.used - used))
        if rowcount(done) != 1:
            raise Conflict(Msg(N_("The quota ledger does not match its movements; nothing was changed")))
        _move(session, principal, cell_id, "release", reserved + used, reserved=-reserved, used=-used,
              reference=reference, reason=reason)
    total = sum(r + u for _, r, u in held)
    if audited:
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "update", "quota_reservation", reference, {"released": total, "reason": reason})])
    return total


def redistribute(session: Session, ctx: Context, principal: Principal, *, year: int, category: str,
                 from_region: str, to_region: str, places: int, reason: str) -> None:
    """Move unused places of a year and category from one region to another, with the reason."""
    _require_ministry(principal)
    source = _check_cell(ctx, year, from_region, category, "from_region")
    target = _check_cell(ctx, year, to_region, category, "to_region")
    if source == target:
        raise ValidationFailed([FieldError("to_region", Msg(N_("Choose a region other than the one the places "
                                                               "come from")))])
    _check_places(places)
    reason = _check_reason(reason, required=True)
    source_id = _cell_id(session, year, source, category, create=False)
    if source_id is None:
        raise _not_enough_unused(source, category, 0, places)
    target_id = _cell_id(session, year, target, category, create=True)
    assert target_id is not None
    link = f"{source}>{target}"
    for cell_id in sorted((source_id, target_id)):
        if cell_id == source_id:
            done = session.execute(update(_CELLS).where(
                _CELLS.c.id == cell_id, _CELLS.c.reserved + _CELLS.c.used + places <= _CELLS.c.allowed)
                .values(allowed=_CELLS.c.allowed - places))
            if rowcount(done) != 1:
                allowed, reserved, used = _counters(session, cell_id)
                raise _not_enough_unused(source, category, max(allowed - reserved - used, 0), places)
            _move(session, principal, cell_id, "redistribute", places, allowed=-places, reference=link, reason=reason)
        else:
            session.execute(update(_CELLS).where(_CELLS.c.id == cell_id).values(allowed=_CELLS.c.allowed + places))
            _move(session, principal, cell_id, "redistribute", places, allowed=places, reference=link, reason=reason)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "update", "quota_cell", _subject(year, source, category),
        {"moved": places, "to": target, "reason": reason})])


def _not_enough_unused(region: str, category: str, left: int, asked: int) -> ValidationFailed:
    return ValidationFailed([FieldError("places", Msg(
        N_("%(region)s, %(category)s: only %(left)s places are unused, not %(asked)s"),
        region=region_name(region), left=str(left), category=category_word(category), asked=str(asked)))])


def utilisation(session: Session, ctx: Context, principal: Principal, *, year: int,
                regions: Sequence[str] | None = None) -> list[Utilisation]:
    """Allowed, reserved, used and free places per region × category for the year."""
    principal.require(Permission.AGGREGATES_READ)
    query = select(_CELLS).where(_CELLS.c.year == year).order_by(_CELLS.c.region, _CELLS.c.category)
    if regions:
        query = query.where(_CELLS.c.region.in_(list(regions)))
    rows = session.execute(query).all()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "quota_cell", str(year), {"view": "utilisation", "cells": len(rows)})])
    return [Utilisation(r.year, r.region, region_name(r.region), r.category, r.allowed, r.reserved, r.used)
            for r in rows]


def free_places(session: Session, *, year: int, category: str, regions: Sequence[str]) -> dict[str, int]:
    """Places left per region (a region without a cell has none): what a check shows before a
    reservation, which alone decides."""
    rows = session.execute(select(_CELLS.c.region, _CELLS.c.allowed - _CELLS.c.reserved - _CELLS.c.used).where(
        _CELLS.c.year == year, _CELLS.c.category == category, _CELLS.c.region.in_(list(regions)))).all()
    return {r: int(free) for r, free in rows}


def integrity_errors(session: Session) -> list[str]:
    """Cells whose counters differ from the sums of their movements (empty when all agree)."""
    sums = (select(_MOVES.c.cell_id, func.sum(_MOVES.c.allowed_delta).label("a"),
                   func.sum(_MOVES.c.reserved_delta).label("r"), func.sum(_MOVES.c.used_delta).label("u"))
            .group_by(_MOVES.c.cell_id).subquery())
    rows = session.execute(select(_CELLS, sums.c.a, sums.c.r, sums.c.u)
                           .outerjoin(sums, sums.c.cell_id == _CELLS.c.id)).all()
    return [_subject(r.year, r.region, r.category) for r in rows
            if (r.allowed, r.reserved, r.used) != (int(r.a or 0), int(r.r or 0), int(r.u or 0))]


__all__ = ["CATEGORIES", "Utilisation", "category_word", "consume", "free_places", "integrity_errors",
           "redistribute", "release", "reserve", "set_quota", "utilisation"]

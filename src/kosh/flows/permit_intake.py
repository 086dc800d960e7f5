"""The work-permit kinds of the intake flow (`kosh.flows.intake`): quota files, household workers'
prepayment files and permits issued by a previous system, read, chunked, locked, resumed and
rejected exactly like the stay feeds.

Each kind is recorded through the permits capability's own use cases (`ledger.set_quota`,
`household.record_payments`, `service.import_permit`), which check what no row model can (a
permit that does not exist, a quota below the places already taken). A row those refuse is undone
alone (a savepoint) and goes to the rejects file with its row number, field and reason; the other
rows of its chunk are kept, as the intake flow keeps the good rows of a file.

Who may import what (besides the `import` permission the /import page asks for):
- `quotas`: `quota.manage` — the ministry and the administrator, who set quotas anyway;
- `household_payments`: `import` and `work_permit.read` — the ministry and the administrator (the
  payment file comes from the tax authority and names permits nationally; an akimat reads permits
  but imports nothing, an officer imports stay feeds but reads no permits);
- `work_permits`: `work_permit.decide` and `quota.manage` — the administrator alone: an imported
  permit is recorded as issued without an akimat's decision, under a quota the ministry set, and
  only the administrator holds both powers (`service.import_permit` checks it again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from kosh.permits import household, ledger, service
from kosh.permits.schemas import PaymentImportIn, PermitImportIn, QuotaImportIn
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, Forbidden, KoshError, ValidationFailed
from kosh.platform.security import Permission, Principal
from kosh.platform.words import N_

# The kinds by name, as the import page offers them (`{{ _(kind) }}`).
KIND_WORDS = {"quotas": N_("quotas"), "household_payments": N_("household_payments"),
              "work_permits": N_("work_permits")}
KIND_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "quotas": (Permission.QUOTA_MANAGE,),
    "household_payments": (Permission.IMPORT, Permission.WORK_PERMIT_READ),
    "work_permits": (Permission.WORK_PERMIT_DECIDE, Permission.QUOTA_MANAGE),
}
# The column a reject names the row by (the stay feeds' is source_event_id).
KEY_COLUMNS = {"household_payments": "payment_ref", "work_permits": "reference_external"}

R = TypeVar("R")


@dataclass
class RowsResult:
    """What a chunk's valid rows came to: stored, already there, and refused by the use case
    (each with the index of its row among those given and the reasons)."""

    accepted: int
    duplicates: int
    refused: list[tuple[int, list[FieldError]]] = field(default_factory=list)


def _reasons(exc: KoshError, rename: Mapping[str, str]) -> list[FieldError]:
    """The use case's errors, each under the file's column name (the service names some fields
    as its forms do); an error about no one field keeps its detail, with no field."""
    if exc.errors:
        return [FieldError(rename.get(e.field, e.field), e.message) for e in exc.errors]
    return [FieldError("", exc.detail)]


def _each(session: Session, rows: Sequence[R], record: Callable[[R], bool], rename: Mapping[str, str]) -> RowsResult:
    """Record row by row, each in a savepoint: a row the use case refuses is undone alone (the
    chunk's other rows and their audit records stay); `record` says whether it stored the row
    (False: it was there already)."""
    result = RowsResult(0, 0)
    for i, row in enumerate(rows):
        try:
            with session.begin_nested():
                stored = record(row)
        except Forbidden:
            raise  # not the row's fault: the whole import is refused
        except KoshError as exc:
            result.refused.append((i, _reasons(exc, rename)))
            continue
        if stored:
            result.accepted += 1
        else:
            result.duplicates += 1
    return result


def record_quotas(session: Session, ctx: Context, principal: Principal, rows: Sequence[QuotaImportIn],
                  batch_id: int | None = None, defer_refresh: bool = False) -> RowsResult:
    """Set each row's cell to its places (the ledger refuses a quota below what is reserved and
    used there: that row is rejected). Setting a cell again to the same places changes nothing
    but is counted as recorded."""
    principal.require(Permission.QUOTA_MANAGE)

    def one(r: QuotaImportIn) -> bool:
        ledger.set_quota(session, ctx, principal, year=r.year, region=r.region, category=r.category,
                         allowed=r.allowed, reason=r.reason)
        return True

    return _each(session, rows, one, {"quota_year": "year"})


def record_household_payments(session: Session, ctx: Context, principal: Principal,
                              rows: Sequence[PaymentImportIn], batch_id: int | None = None,
                              defer_refresh: bool = False) -> RowsResult:
    """Store the prepayments, all of the chunk at once; a repeated payment reference (or a month
    already paid) is a duplicate. When a row names no household worker's permit, the chunk is
    recorded row by row so that only such rows are rejected. The daily job
    (`service.run_daily`) suspends and restores permits by what is paid."""
    for needed in KIND_PERMISSIONS["household_payments"]:
        principal.require(needed)
    payments = [household.PaymentIn(r.permit_reference, r.month, r.amount_kzt, r.paid_on, r.payment_ref)
                for r in rows]
    try:
        with session.begin_nested():
            stored = household.record_payments(session, ctx, principal, payments, batch_id=batch_id)
        return RowsResult(stored, len(payments) - stored)
    except ValidationFailed:
        pass  # some row names an unknown permit or not a household one: find which

    def one(p: household.PaymentIn) -> bool:
        return household.record_payments(session, ctx, principal, [p], batch_id=batch_id) == 1

    return _each(session, payments, one, {"reference": "permit_reference"})


def record_work_permits(session: Session, ctx: Context, principal: Principal, rows: Sequence[PermitImportIn],
                        batch_id: int | None = None, defer_refresh: bool = False) -> RowsResult:
    """Record each permit with its worker and employer (`service.import_permit`); a permit whose
    external reference was imported before is a duplicate and is left as it is."""
    for needed in KIND_PERMISSIONS["work_permits"]:
        principal.require(needed)

    def one(r: PermitImportIn) -> bool:
        if service.imported_permit(session, r.reference_external) is not None:
            return False
        service.import_permit(session, ctx, principal, r)
        return True

    return _each(session, rows, one, {"region": "employer_region", "workers": "document_number"})


KINDS: dict[str, tuple[type[Any], Callable[..., RowsResult]]] = {
    "quotas": (QuotaImportIn, record_quotas),
    "household_payments": (PaymentImportIn, record_household_payments),
    "work_permits": (PermitImportIn, record_work_permits),
}

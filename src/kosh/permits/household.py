"""Household workers' monthly tax prepayments: recorded per permit and month from payment files;
the daily job (kosh.permits.service.run_daily) suspends a permit with a begun, unpaid month (the
worker and the employer see which month and how much) and restores it once every begun month is
paid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kosh.permits import rules
from kosh.permits.models import HouseholdPayment, WorkPermit
from kosh.permits.rules import PermitState
from kosh.platform import audit
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, ValidationFailed
from kosh.platform.security import Principal
from kosh.platform.words import N_, Msg, field_labels

UNPAID = "prepayment_unpaid"  # the pack's reason code for a suspension the job makes (and lifts)

field_labels({"month": N_("Month"), "amount_kzt": N_("Amount (KZT)"), "payment_ref": N_("Payment reference")})


@dataclass(frozen=True)
class PaymentIn:
    reference: str  # the permit's
    month: str  # YYYY-MM
    amount_kzt: int
    paid_on: dt.date
    payment_ref: str


def monthly_amount(ctx: Context, on: dt.date) -> int | None:
    """KZT due per month for a prepayment made on `on`: the pack's MCI per month times the MCI of
    that year; None when the pack lacks either."""
    mci = rules.household_prepayment_mci(ctx.pack.permits, on, 1)
    value = ctx.pack.mci_value(on.year)
    return None if mci is None or value is None else mci * value


def paid_months(session: Session, permit_id: int) -> set[str]:
    return paid_months_of(session, [permit_id]).get(permit_id, set())


def paid_months_of(session: Session, permit_ids: Sequence[int]) -> dict[int, set[str]]:
    """The months paid per permit, in one query (lists and the daily job ask for many)."""
    found: dict[int, set[str]] = {}
    if permit_ids:
        for permit_id, month in session.execute(select(HouseholdPayment.permit_id, HouseholdPayment.month)
                                                .where(HouseholdPayment.permit_id.in_(list(permit_ids)))):
            found.setdefault(permit_id, set()).add(month)
    return found


def next_payment(session: Session, ctx: Context, row: WorkPermit, today: dt.date,
                 paid: set[str] | None = None) -> tuple[str, int] | None:
    """The first month not yet paid (begun or next) and its amount at today's rate; None when
    every month of the term is paid or the permit is not in force. `paid`: the months paid, when
    the caller read them for many permits at once."""
    if row.valid_from is None or row.valid_to is None or row.state not in (
            PermitState.ISSUED, PermitState.EXTENDED, PermitState.SUSPENDED):
        return None
    if paid is None:
        paid = paid_months(session, row.id)
    for month in rules.household_months(row.valid_from, row.valid_to):
        if month.key not in paid:
            return month.key, monthly_amount(ctx, today) or 0
    return None


def record_payments(session: Session, ctx: Context, principal: Principal, payments: Sequence[PaymentIn],
                    batch_id: int | None = None) -> int:
    """Store each prepayment once (a repeated payment reference is the same payment); a month of
    a permit paid twice keeps the first. Returns the payments stored."""
    refs = sorted({p.reference for p in payments})
    permits = {r.reference: r for r in session.execute(
        select(WorkPermit).where(WorkPermit.reference.in_(refs))).scalars()}
    errors = [FieldError("reference", Msg(N_("No household worker's permit %(reference)s"), reference=p.reference))
              for p in payments if p.reference not in permits or permits[p.reference].channel != "household_worker"]
    if errors:
        raise ValidationFailed(errors)
    seen_refs = set(session.execute(select(HouseholdPayment.payment_ref).where(
        HouseholdPayment.payment_ref.in_([p.payment_ref for p in payments]))).scalars())
    paid = paid_months_of(session, [r.id for r in permits.values()])
    stored = 0
    for p in payments:
        permit = permits[p.reference]
        months = paid.setdefault(permit.id, set())
        if p.payment_ref in seen_refs or p.month in months:
            continue
        session.add(HouseholdPayment(permit_id=permit.id, month=p.month, amount_kzt=p.amount_kzt, paid_on=p.paid_on,
                                     payment_ref=p.payment_ref, batch_id=batch_id))
        seen_refs.add(p.payment_ref)
        months.add(p.month)
        stored += 1
    session.flush()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create", "household_payment", str(batch_id or "form"), {"count": stored, "permits": len(permits)})])
    return stored

"""Tables of work permits: the quota ledger (one cell per year, region and category with its
counters, and the append-only movements whose sums the counters always equal), employers, the
permits with their workers and steps, and household workers' monthly prepayments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kosh.platform.clock import utcnow
from kosh.platform.orm import Base, UTCDateTime


class QuotaCell(Base):
    """A year's quota for one region (KATO prefix) and category ("1".."4", "seasonal",
    "household"). The check constraints are the last line of defence: the ledger's conditional
    updates never try to break them."""

    __tablename__ = "quota_cells"
    __table_args__ = (
        UniqueConstraint("year", "region", "category", name="uq_quota_cells_year_region_category"),
        CheckConstraint("allowed >= 0 AND reserved >= 0 AND used >= 0", name="non_negative"),
        CheckConstraint("reserved + used <= allowed", name="within_allowed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(9))
    category: Mapped[str] = mapped_column(String(10))
    allowed: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)


class QuotaMovement(Base):
    """One change to a cell, never updated or deleted. `amount` is the number of places the
    movement is about; the three deltas are its effect on the cell's counters, so that each
    counter equals the sum of its deltas over the cell's movements."""

    __tablename__ = "quota_movements"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("quota_cells.id"), index=True)
    kind: Mapped[str] = mapped_column(String(13))  # set | reserve | consume | release | redistribute
    amount: Mapped[int] = mapped_column(Integer)
    allowed_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    used_delta: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(100), default="", index=True)  # e.g. an application id
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Employer(Base):
    """An employer of foreign workers: an organisation by its BIN or an individual (a household)
    by its IIN. The number is kept encrypted with a blind index to find it; an employer's account
    (role `employer`) carries the same number and sees this employer only."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_index: Mapped[str] = mapped_column(String(64), unique=True)
    party_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(12))  # organisation | individual
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(2))  # KATO region of its registered address
    sector: Mapped[str] = mapped_column(String(20), default="other")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkPermit(Base):
    """An application for a work permit and, once issued, the permit: one row through the whole
    lifecycle (`state`, kosh.permits.rules), each step kept in work_permit_actions. `regions`
    holds the places per region (KATO region → workers), all drawn from the quota or none."""

    __tablename__ = "work_permits"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(10), default="")  # the quota line; "" outside the quota
    occupation: Mapped[str] = mapped_column(String(4), default="")  # ISCO-08 / NKZ unit group
    vacancy_code: Mapped[str] = mapped_column(String(40), default="")
    vacancy_posted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    certificate: Mapped[str] = mapped_column(String(40), default="")  # independent employment
    term_months: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)  # the quota year drawn from
    regions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    staff_total: Mapped[int] = mapped_column(Integer, default=0)
    staff_citizens: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), index=True)
    applied_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decide_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reserved_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # None: holds no reservation
    approved_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    fee_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    fee_paid_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    issued_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    valid_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    reason_code: Mapped[str] = mapped_column(String(30), default="")  # of the last return/refusal/suspension/revocation
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PermitWorker(Base):
    """A named foreign worker on a permit: the person (found or created through people), the
    region of the permit they work in, and their details as the employer wrote them (encrypted)."""

    __tablename__ = "work_permit_workers"
    __table_args__ = (UniqueConstraint("permit_id", "person_id", name="uq_work_permit_workers_permit_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("work_permits.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(2))
    citizenship: Mapped[str] = mapped_column(String(3))
    details_encrypted: Mapped[bytes] = mapped_column(LargeBinary)


class PermitAction(Base):
    """One step taken on a permit, never changed: its trail (who, in which role, from which
    state to which, why)."""

    __tablename__ = "work_permit_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("work_permits.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    on: Mapped[dt.date] = mapped_column(Date)
    reason_code: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HouseholdPayment(Base):
    """A household worker's monthly tax prepayment as a payment file reported it: one row per
    permit and month paid (the first report of a month counts; a repeat of the same payment
    reference is the same payment)."""

    __tablename__ = "household_payments"
    __table_args__ = (UniqueConstraint("payment_ref", name="uq_household_payments_payment_ref"),
                      UniqueConstraint("permit_id", "month", name="uq_household_payments_permit_month"))

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("work_permits.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_kzt: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    payment_ref: Mapped[str] = mapped_column(String(60))
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

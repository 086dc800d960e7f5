"""Tables of the work-permit quota ledger: one cell per (year, region, category) with its
counters, and the append-only movements whose sums the counters always equal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
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

"""Tables of identity decisions: merges of two persons into one, and their undoing."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kosh.platform.clock import utcnow
from kosh.platform.orm import Base, UTCDateTime


class ReviewStatus(StrEnum):
    """Where a likely pair stands in the review queue."""

    OPEN = "open"
    ACCEPTED = "accepted"  # merged
    REJECTED = "rejected"  # not one person (also a merge undone)
    DEFERRED = "deferred"


# A pair still waiting for a decision.
UNDECIDED = (ReviewStatus.OPEN, ReviewStatus.DEFERRED)
# The statuses as a request parameter's type: a Literal of plain strings keeps the API's schema and
# its error messages as they are (an enum would print its members); a test holds the two equal.
ReviewStatusName = Literal["open", "accepted", "rejected", "deferred"]


class PersonMerge(Base):
    """One person (`merged_id`) folded into an older one (`kept_id`).

    `moved` lists, per table, the ids of the rows that changed hands (JSON), so that undoing
    the merge gives each person back exactly the rows it had.
    """

    __tablename__ = "person_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    moved: Mapped[str] = mapped_column(Text)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class IdentityCandidate(Base):
    """A pair of persons that may be one: waits in the review queue for an officer's decision."""

    __tablename__ = "identity_candidates"
    __table_args__ = (UniqueConstraint("person_a", "person_b", name="uq_identity_candidates_pair"),
                      Index("ix_identity_candidates_status_weight", "status", "weight"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_a: Mapped[str] = mapped_column(ForeignKey("persons.id"))  # the smaller id of the two
    person_b: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)  # JSON list of {field, level, weight, a, b}
    scorer: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default=ReviewStatus.OPEN)  # a ReviewStatus
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("person_merges.id"), nullable=True)


class IdentityRecord(Base):
    """A person row (as first recorded, merged or not) as the linkage model sees it: indexed
    under its blocking keys by `model`, with the document it was recorded with."""

    __tablename__ = "identity_records"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("travel_documents.id", ondelete="SET NULL"),
                                                    nullable=True)
    model: Mapped[str] = mapped_column(String(80))
    indexed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityKey(Base):
    """Blocking keys: person rows sharing a key are compared (the model's blocking rules). The
    document key is a keyed hash, never the number."""

    __tablename__ = "identity_keys"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)

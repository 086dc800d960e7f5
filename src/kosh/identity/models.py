"""Tables of identity decisions: merges of two persons into one, and their undoing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kosh.core.db import Base
from kosh.core.models import utcnow


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
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    moved: Mapped[str] = mapped_column(Text)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

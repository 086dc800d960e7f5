"""Tables of the stay registry: border events, host notifications, residence permits,
the per-person stay status kept current at every write, imports and data-quality findings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kosh.platform.clock import utcnow
from kosh.platform.orm import Base, UTCDateTime
from kosh.stay.rules import Direction, PermitKind


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done | failed
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)  # the resumable cursor
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects_path: Mapped[str] = mapped_column(String(500), default="")
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BorderEvent(Base):
    __tablename__ = "border_events"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_border_events_source_event_id"),
        Index("ix_border_events_person_on", "person_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("travel_documents.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(String(5))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    occurred_on: Mapped[dt.date] = mapped_column(Date)  # local date at the checkpoint
    checkpoint: Mapped[str] = mapped_column(String(40))
    kato: Mapped[str] = mapped_column(String(9), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HostNotification(Base):
    __tablename__ = "host_notifications"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_host_notifications_source_event_id"),
        Index("ix_host_notifications_person_arrival", "person_id", "arrival_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("travel_documents.id", ondelete="CASCADE"))
    host_kind: Mapped[str] = mapped_column(String(12))  # individual | organisation
    host_id_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    host_id_index: Mapped[str] = mapped_column(String(64), index=True)
    host_name: Mapped[str] = mapped_column(String(300))
    kato: Mapped[str] = mapped_column(String(9), index=True)
    address: Mapped[str] = mapped_column(String(500))
    arrival_date: Mapped[dt.date] = mapped_column(Date)
    expected_departure: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    # Whether this notification registers the person in its region (the legal event): one
    # from the host itself or the national feed does; one an officer enters for a person
    # registered elsewhere is a record of that officer's region only.
    registers: Mapped[bool] = mapped_column(Boolean, default=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResidencePermit(Base):
    __tablename__ = "residence_permits"
    __table_args__ = (UniqueConstraint("source_event_id", name="uq_residence_permits_source_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PermitKind] = mapped_column(String(5))
    purpose: Mapped[str] = mapped_column(String(30), default="")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    kato: Mapped[str] = mapped_column(String(9), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StayStatus(Base):
    """Per person, what the stay engine concluded from all records, independent of 'today':
    lists ask e.g. `in_country and last_lawful_day < today` for overstays."""

    __tablename__ = "stay_status"
    __table_args__ = (
        Index("ix_stay_status_region_overstay", "region_kato", "in_country", "last_lawful_day"),
        Index("ix_stay_status_region_notification", "region_kato", "in_country", "notification_due"),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    citizenship: Mapped[str] = mapped_column(String(3))
    region_kato: Mapped[str] = mapped_column(String(9), default="")
    in_country: Mapped[bool] = mapped_column(Boolean, default=False)
    current_entry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_lawful_day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The deadline of an unmet host notification for the current stay, else null.
    notification_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    rule: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataQualityFinding(Base):
    __tablename__ = "data_quality_findings"
    __table_args__ = (UniqueConstraint("person_id", "code", "on", name="uq_findings_person_code_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    on: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StayRefreshQueue(Base):
    """Persons whose stored stay status waits to be recomputed. A bulk import queues the persons
    of each chunk in that chunk's transaction and recomputes each of them once at its end, so a
    crash loses no refresh and a person crossing in many chunks is assessed once, not per chunk."""

    __tablename__ = "stay_refresh_queue"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)

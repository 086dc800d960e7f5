"""Tables of the stay registry: border events, host notifications, residence permits,
the per-person stay status kept current at every write, imports and data-quality findings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
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
        UniqueConstraint("reference", "version", name="uq_host_notifications_reference_version"),
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
    # The host workspace (kosh.stay.hosting): every version of a notification shares its reference
    # (what the host quotes); a correction adds a version and marks the one before superseded, a
    # cancellation keeps the row. Neither a superseded nor a cancelled version counts for the engine.
    reference: Mapped[str | None] = mapped_column(String(20), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    departed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    departure_reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The guest as the host wrote them (JSON, encrypted): the host's own list shows what it
    # submitted, never the registry's person (who may hold records the host must not learn).
    guest_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    @property
    def in_force(self) -> bool:
        """Whether the stay engine counts this notification."""
        return self.superseded_at is None and self.cancelled_at is None


class HostRequestKey(Base):
    """A submission made once: a page's one-time form token or an API `Idempotency-Key`, with the
    answer first given, so that a double click, a resubmitted form or a retry stores nothing twice."""

    __tablename__ = "host_request_keys"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key", name="uq_host_request_keys_user_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(80))  # "form:new", "POST /api/v1/notifications", ...
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    response: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("host_notifications.id", ondelete="SET NULL"),
                                                        nullable=True)
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


class StatusProof(Base):
    """A proof of stay status a person took from the public status page (kosh.flows.selfservice):
    a snapshot of what the page showed them, found again by whoever they give its share code to,
    together with their date of birth. Neither the code nor the snapshot is kept in clear: `lookup`
    is a keyed hash of the code with the date of birth, the snapshot (JSON) is encrypted."""

    __tablename__ = "status_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    snapshot_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StayViolation(Base):
    """A violation the stay engine found in a person's records (an overstay run, a host
    notification missed or late), as of the last recompute of their status: a person's rows are
    replaced each time, so they always follow the records (merges, retention, corrections)."""

    __tablename__ = "stay_violations"
    __table_args__ = (Index("ix_stay_violations_kind_days", "kind", "first_day", "last_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)  # the day assessed, for a run still going on
    # Still going on when assessed (the person in the country, the run reaching that day): it
    # lasts until a record ends it, so it overlaps every later period.
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    stay_entry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # host notification kinds
    filed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # notification_late
    assessed_on: Mapped[dt.date] = mapped_column(Date)

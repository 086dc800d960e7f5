"""Tables of persons, the names they were seen under, and their travel documents."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kosh.platform.clock import utcnow
from kosh.platform.orm import Base, UTCDateTime


def new_person_id() -> str:
    return str(uuid.uuid4())


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_person_id)
    # Names as written in the document's (or form's) script, and the Latin form.
    surname: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    patronymic: Mapped[str] = mapped_column(String(200), default="")
    surname_latin: Mapped[str] = mapped_column(String(200), default="")
    given_names_latin: Mapped[str] = mapped_column(String(200), default="")
    sex: Mapped[str] = mapped_column(String(1), default="X")
    birth_date: Mapped[str] = mapped_column(String(10), default="", index=True)  # ISO, possibly partial
    birth_date_earliest: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    citizenship: Mapped[str] = mapped_column(String(3), index=True)
    # Where the person is registered (latest notification) or last crossed; scopes officers.
    region_kato: Mapped[str] = mapped_column(String(9), default="", index=True)
    # The region of the record that first brought this person (their identity as first
    # recorded is read there; other regions see the spellings recorded in their own).
    origin_kato: Mapped[str] = mapped_column(String(9), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when this person was merged into another: the id stays valid and leads there.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), nullable=True, index=True)

    documents: Mapped[list[TravelDocument]] = relationship(back_populates="person", lazy="raise")


class PersonName(Base):
    """Every spelling a person was recorded under, with its search tokens."""

    __tablename__ = "person_names"
    __table_args__ = (UniqueConstraint("person_id", "full_name", "kato", name="uq_person_names_person_full_kato"),
                      Index("ix_person_names_person_kato", "person_id", "kato"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(40))
    search_key: Mapped[str] = mapped_column(String(400), index=True)
    # The region of the record the spelling came with: a spelling is read in its region only.
    kato: Mapped[str] = mapped_column(String(9), default="")


class PersonNameToken(Base):
    __tablename__ = "person_name_tokens"
    __table_args__ = (Index("ix_person_name_tokens_token_person", "token", "person_id"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The region of the spelling the token comes from: search matches in the caller's regions only.
    kato: Mapped[str] = mapped_column(String(9), primary_key=True, default="")


class TravelDocument(Base):
    __tablename__ = "travel_documents"
    __table_args__ = (UniqueConstraint("issuing_state", "number_index", name="uq_travel_documents_state_number"),
                      Index("ix_travel_documents_number_index", "number_index"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    document_type: Mapped[str] = mapped_column(String(2), default="P")
    issuing_state: Mapped[str] = mapped_column(String(3))
    # The number is encrypted; number_index is a keyed hash of the normalised number.
    number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    number_index: Mapped[str] = mapped_column(String(64))
    expiry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="documents", lazy="raise")


class DocumentRegion(Base):
    """A region where a record under this document was made: the number is read there only.
    It follows the document when a merge moves it (and back when the merge is undone)."""

    __tablename__ = "document_regions"

    document_id: Mapped[int] = mapped_column(ForeignKey("travel_documents.id", ondelete="CASCADE"),
                                             primary_key=True)
    kato: Mapped[str] = mapped_column(String(9), primary_key=True)


class TravelDocumentPart(Base):
    """A keyed hash of every run of 4 or more consecutive characters of a document's normalised
    number, for search by part of a number. The number itself stays encrypted: the table holds
    no characters, only HMACs (under the index key, in a context of their own) that match the
    same keyed hash of what an officer types. A run is one exact lookup, so a part finds its
    documents through an index, with a total and pages in SQL, and nothing is decrypted to search."""

    __tablename__ = "travel_document_parts"
    __table_args__ = (Index("ix_travel_document_parts_document_id", "document_id"),)

    part_index: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("travel_documents.id", ondelete="CASCADE"),
                                             primary_key=True)

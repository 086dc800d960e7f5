"""Every query on persons, names and documents; reads apply the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import Session

from kosh.core.sql import in_values

from kosh.core.security import Principal
from kosh.people.models import Person, PersonName, PersonNameToken, TravelDocument


def scoped(stmt: Select, principal: Principal) -> Select:
    """Officers see persons of their regions only; admins see all."""
    if principal.all_regions:
        return stmt
    if not principal.regions:
        return stmt.where(False)
    return stmt.where(or_(*(Person.region_kato.startswith(p) for p in principal.regions)))


def documents_by_index(session: Session, indexes: Iterable[str]) -> list:
    """(id, person_id, issuing_state, number_index) rows; no ciphertext is loaded."""
    indexes = list(set(indexes))
    if not indexes:
        return []
    return list(session.execute(select(TravelDocument.id, TravelDocument.person_id, TravelDocument.issuing_state,
                                       TravelDocument.number_index)
                                .where(in_values(session, TravelDocument.number_index, indexes))))


def names_of(session: Session, person_ids: Iterable[str]) -> set[tuple[str, str]]:
    ids = list(set(person_ids))
    if not ids:
        return set()
    # Plain tuples: membership tests against Row objects compare in Python, tuples in C.
    rows = session.execute(
        select(PersonName.person_id, PersonName.full_name).where(in_values(session, PersonName.person_id, ids)))
    return {(pid, name) for pid, name in rows}


def get_person(session: Session, principal: Principal, person_id: str) -> Person | None:
    return session.execute(scoped(select(Person).where(Person.id == person_id), principal)).scalar_one_or_none()


def persons_in_scope(session: Session, principal: Principal, person_ids: Iterable[str]) -> dict[str, Person]:
    ids = sorted(set(person_ids))
    out: dict[str, Person] = {}
    for chunk in _chunks(ids):
        out.update((p.id, p) for p in session.execute(scoped(select(Person).where(in_values(session, Person.id, chunk)),
                                                             principal)).scalars())
    return out


def citizenship_in_scope(session: Session, principal: Principal, person_id: str) -> str | None:
    return session.execute(scoped(select(Person.citizenship).where(Person.id == person_id), principal)).scalar()


def search(session: Session, principal: Principal, *, tokens: Sequence[str], document_index: str | None,
           citizenship: str | None, limit: int, offset: int) -> tuple[list[Person], int]:
    stmt = select(Person)
    conditions = []
    if document_index:
        conditions.append(Person.id.in_(select(TravelDocument.person_id)
                                        .where(TravelDocument.number_index == document_index)))
    for i, token in enumerate(tokens):
        # Whole-word match on every token but the last, which may be a prefix (type-ahead).
        match = PersonNameToken.token.startswith(token) if i == len(tokens) - 1 else PersonNameToken.token == token
        conditions.append(Person.id.in_(select(PersonNameToken.person_id).where(match)))
    if citizenship:
        conditions.append(Person.citizenship == citizenship)
    if not conditions:
        return [], 0
    stmt = scoped(stmt.where(and_(*conditions)), principal)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Person.surname_latin, Person.given_names_latin, Person.id)
                           .limit(limit).offset(offset)).scalars().all()
    return list(rows), total


def documents_of(session: Session, person_id: str) -> list[TravelDocument]:
    return list(session.execute(select(TravelDocument).where(TravelDocument.person_id == person_id)
                                .order_by(TravelDocument.created_at)).scalars())


def spellings_of(session: Session, person_id: str) -> list[PersonName]:
    return list(session.execute(select(PersonName).where(PersonName.person_id == person_id)
                                .order_by(PersonName.id)).scalars())


def tokens_of(session: Session, person_ids: Iterable[str]) -> set[tuple[str, str]]:
    ids = list(set(person_ids))
    if not ids:
        return set()
    rows = session.execute(select(PersonNameToken.person_id, PersonNameToken.token)
                           .where(in_values(session, PersonNameToken.person_id, ids)))
    return {(pid, token) for pid, token in rows}  # tuples, for the same reason as names_of


def profile_of(session: Session, person_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.citizenship, Person.region_kato)
                           .where(in_values(session, Person.id, ids)))
    return {pid: (c, r) for pid, c, r in rows}


def brief_names(session: Session, person_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.surname, Person.given_names).where(in_values(session, Person.id, ids)))
    return {pid: (s, g) for pid, s, g in rows}


def visible_ids(principal: Principal) -> Select:
    """The ids of the persons the caller may see, as a subquery for other capabilities' lists."""
    return scoped(select(Person.id), principal)


def spellings_by_person(session: Session, person_ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    rows = session.execute(select(PersonName.person_id, PersonName.full_name)
                           .where(in_values(session, PersonName.person_id, list(set(person_ids))))
                           .order_by(PersonName.id))
    for pid, full in rows:
        out.setdefault(pid, []).append(full)
    return out


def identity_fields(session: Session, person_ids: Iterable[str]) -> list:
    ids = list(set(person_ids))
    if not ids:
        return []
    first_doc = (select(func.min(TravelDocument.id)).where(TravelDocument.person_id == Person.id)
                 .correlate(Person).scalar_subquery())
    out = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(Person.id, Person.surname, Person.given_names, Person.patronymic, Person.sex,
                                          Person.birth_date, Person.citizenship, Person.created_at,
                                          Person.merged_into, first_doc).where(in_values(session, Person.id, chunk))))
    return out


def encrypted_documents(session: Session, document_ids: Iterable[int]) -> list:
    ids = list(set(document_ids))
    out = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(TravelDocument.id, TravelDocument.issuing_state,
                                          TravelDocument.number_encrypted)
                                   .where(in_values(session, TravelDocument.id, chunk))))
    return out


def person_ids_after(session: Session, last: str, limit: int) -> list[str]:
    return list(session.execute(select(Person.id).where(Person.id > last).order_by(Person.id).limit(limit)).scalars())


def count_person_rows(session: Session):  # noqa: ANN201 — (int, datetime | None)
    count, newest = session.execute(select(func.count(), func.max(Person.created_at)).select_from(Person)).one()
    return int(count), newest


def _chunks(values: list, size: int = 20000):  # noqa: ANN202
    # SQLite binds one parameter per value (at most 32766 in a statement); PostgreSQL one array.
    for i in range(0, len(values), size):
        yield values[i:i + size]


def merged_into(session: Session, person_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, merged_into) of the ids among these that were merged."""
    ids = list(set(person_ids))
    out = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(Person.id, Person.merged_into)
                                   .where(in_values(session, Person.id, chunk), Person.merged_into.is_not(None))))
    return [(a, b) for a, b in out]

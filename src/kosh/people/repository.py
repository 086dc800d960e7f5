"""Every query on persons, names and documents; reads apply the caller's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from kosh.people.models import (
    DocumentRegion,
    Person,
    PersonName,
    PersonNameToken,
    TravelDocument,
    TravelDocumentPart,
)
from kosh.platform import scope
from kosh.platform.scope import granted_person_ids, prefix_clause, record_clause, regions_clause
from kosh.platform.security import Principal
from kosh.platform.sql import in_values, rowcount

T = TypeVar("T")


def visible_template(principal: Principal) -> tuple[int | None, ColumnElement[bool], dict[str, Any]]:
    """Whether the caller sees a `persons` row, with the caller's regions, user id and the time as
    bound parameters: (shape, condition, parameters). One condition per shape (all regions, or n
    prefixes), so a statement built on it is built once and SQLAlchemy's compiled cache is hit."""
    shape, params = scope.bound_scope(principal)
    if shape is None:
        return None, true(), {}
    return shape, _visible_template(shape), params


@lru_cache(maxsize=32)
def _visible_template(n_regions: int) -> ColumnElement[bool]:
    prefixes = scope.bound_regions(n_regions)
    granted = Person.id.in_(scope.bound_live_grants())
    if not prefixes:
        return granted  # an officer without regions sees only what a grant opens
    spelled = exists().where(PersonName.person_id == Person.id, prefix_clause(PersonName.kato, prefixes))
    documented = exists().where(TravelDocument.person_id == Person.id, DocumentRegion.document_id == TravelDocument.id,
                                prefix_clause(DocumentRegion.kato, prefixes))
    return or_(prefix_clause(Person.region_kato, prefixes), spelled, documented, granted)


def scoped(stmt: Select, principal: Principal) -> Select:
    """The statement limited to the persons the caller sees: registered in their regions, or with
    a record (a spelling, a document) made there, or opened by a break-glass grant; admins, all."""
    shape, condition, params = visible_template(principal)
    return stmt.where(condition) if shape is None else stmt.where(condition).params(**params)


def registered_clause(principal: Principal) -> ColumnElement[bool]:
    """Persons registered in the caller's regions (the officers answerable for them)."""
    return regions_clause(Person.region_kato, principal)


def documents_by_index(session: Session, indexes: Iterable[str]) -> list:
    """(id, person_id, issuing_state, number_index) rows; no ciphertext is loaded."""
    indexes = list(set(indexes))
    if not indexes:
        return []
    return list(session.execute(select(TravelDocument.id, TravelDocument.person_id, TravelDocument.issuing_state,
                                       TravelDocument.number_index)
                                .where(in_values(session, TravelDocument.number_index, indexes))))


def holders_matching(session: Session, number_index: str, citizenship: str, birth_date: str) -> list[str]:
    """Ids of the (unmerged) persons holding a document with this number index whose citizenship
    and recorded date of birth are exactly these; at most two (enough to tell one from many)."""
    stmt = (select(Person.id).join(TravelDocument, TravelDocument.person_id == Person.id)
            .where(TravelDocument.number_index == number_index, Person.citizenship == citizenship,
                   Person.birth_date == birth_date, Person.merged_into.is_(None))
            .distinct().limit(2))
    return list(session.execute(stmt).scalars())


def names_of(session: Session, person_ids: Iterable[str]) -> set[tuple[str, str, str]]:
    """(person, spelling, region) of every spelling these persons hold."""
    ids = list(set(person_ids))
    if not ids:
        return set()
    # Plain tuples: membership tests against Row objects compare in Python, tuples in C.
    rows = session.execute(select(PersonName.person_id, PersonName.full_name, PersonName.kato)
                           .where(in_values(session, PersonName.person_id, ids)))
    return {(pid, name, kato) for pid, name, kato in rows}


def document_regions_of(session: Session, document_ids: Iterable[int]) -> set[tuple[int, str]]:
    ids = list(set(document_ids))
    if not ids:
        return set()
    rows = session.execute(select(DocumentRegion.document_id, DocumentRegion.kato)
                           .where(in_values(session, DocumentRegion.document_id, ids)))
    return {(d, k) for d, k in rows}


def get_person(session: Session, principal: Principal, person_id: str) -> Person | None:
    return session.execute(scoped(select(Person).where(Person.id == person_id), principal)).scalar_one_or_none()


def get_registered(session: Session, principal: Principal, person_id: str) -> Person | None:
    return session.execute(select(Person).where(Person.id == person_id, registered_clause(principal))
                           ).scalar_one_or_none()


def rows_by_id(session: Session, person_ids: Iterable[str]) -> list[Person]:
    ids = sorted(set(person_ids))
    out: list[Person] = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(Person).where(in_values(session, Person.id, chunk))).scalars())
    return out


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
           citizenship: str | None, limit: int, offset: int, document_part_index: str | None = None,
           birth_dates: Sequence[str] = (), birth_prefix: str | None = None,
           sort: str = "name") -> tuple[list[Person], int]:
    """Persons whose document, part of a document number, date of birth or spellings *recorded
    in the caller's regions* match (every criterion given): a spelling, number or identity
    recorded only elsewhere finds no one, so search reveals no other region's record.
    `birth_dates`: stored dates that match exactly; `birth_prefix`: stored dates that start so."""
    stmt = select(Person)
    conditions: list[ColumnElement[bool]] = []
    if document_index:
        conditions.append(Person.id.in_(select(TravelDocument.person_id).where(
            TravelDocument.number_index == document_index, _document_readable(principal))))
    if document_part_index:
        holding = TravelDocumentPart.document_id == TravelDocument.id
        conditions.append(Person.id.in_(select(TravelDocument.person_id).join(TravelDocumentPart, holding).where(
            TravelDocumentPart.part_index == document_part_index, _document_readable(principal))))
    if birth_dates or birth_prefix:
        conditions.append(_born(principal, birth_dates, birth_prefix))
    for i, token in enumerate(tokens):
        # Whole-word match on every token but the last, which may be a prefix (type-ahead).
        match = PersonNameToken.token.startswith(token) if i == len(tokens) - 1 else PersonNameToken.token == token
        conditions.append(Person.id.in_(select(PersonNameToken.person_id).where(
            match, record_clause(PersonNameToken.kato, PersonNameToken.person_id, principal))))
    if citizenship:
        conditions.append(Person.citizenship == citizenship)
    if not conditions or not (document_index or tokens or document_part_index or birth_dates or birth_prefix):
        return [], 0
    stmt = stmt.where(and_(*conditions))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(*_search_order(principal, sort)).limit(limit).offset(offset)).scalars().all()
    return list(rows), total


SEARCH_SORTS = ("name", "-name", "born", "-born", "citizenship")


def _search_order(principal: Principal, sort: str) -> list[ColumnElement[Any]]:
    """The order of search results (a key of SEARCH_SORTS; every order ends on the id, so that
    pages never overlap). A date of birth first recorded in another region is not the caller's
    to read: it sorts as unknown, so that the order tells nothing of it."""
    name: list[ColumnElement[Any]] = [Person.surname_latin.expression, Person.given_names_latin.expression]
    born: ColumnElement[Any] = Person.birth_date.expression if principal.all_regions else case(
        (or_(regions_clause(Person.origin_kato, principal), Person.id.in_(granted_person_ids(principal))),
         Person.birth_date), else_="")
    orders: dict[str, list[ColumnElement[Any]]] = {
        "name": name, "-name": [c.desc() for c in name], "born": [born, *name], "-born": [born.desc(), *name],
        "citizenship": [Person.citizenship.expression, *name]}
    last = Person.id.desc() if sort == "-name" else Person.id.expression
    return [*orders.get(sort, name), last]


def _born(principal: Principal, exact: Sequence[str], prefix: str | None) -> ColumnElement[bool]:
    """The person (not merged away) has a date of birth that matches, as recorded by a record the
    caller reads: the person's own first record or one merged into it, first recorded in the
    caller's regions (the identity is read there, see `identity_row`), or any under a grant."""
    row = aliased(Person)
    match = or_(*([row.birth_date.in_(list(exact))] if exact else []),
                *([row.birth_date.startswith(prefix, autoescape=True)] if prefix else []))
    readable = true() if principal.all_regions else or_(regions_clause(row.origin_kato, principal),
                                                        Person.id.in_(granted_person_ids(principal)))
    return and_(Person.merged_into.is_(None),
                exists().where(or_(row.id == Person.id, row.merged_into == Person.id), match, readable))


def _document_readable(principal: Principal) -> ColumnElement[bool]:
    """A document is read where a record under it was made (or under a break-glass grant)."""
    if principal.all_regions:
        return true()
    return or_(TravelDocument.person_id.in_(granted_person_ids(principal)),
               exists().where(DocumentRegion.document_id == TravelDocument.id,
                              regions_clause(DocumentRegion.kato, principal)))


def documents_of(session: Session, principal: Principal, person_id: str) -> tuple[list[TravelDocument], int]:
    """The person's documents recorded in the caller's regions, and how many others there are."""
    rows = session.execute(select(TravelDocument, _document_readable(principal).label("readable"))
                           .where(TravelDocument.person_id == person_id).order_by(TravelDocument.created_at)).all()
    return [d for d, ok in rows if ok], sum(1 for _, ok in rows if not ok)


def spellings_of(session: Session, principal: Principal, person_id: str) -> tuple[list[PersonName], int]:
    """The spellings recorded in the caller's regions (each once), and how many others there are."""
    rows = session.execute(select(PersonName, record_clause(PersonName.kato, PersonName.person_id, principal)
                                  .label("readable")).where(PersonName.person_id == person_id)
                           .order_by(PersonName.id)).all()
    seen: set[str] = set()
    out = []
    for n, ok in rows:
        if ok and n.full_name not in seen:
            seen.add(n.full_name)
            out.append(n)
    hidden = {n.full_name for n, ok in rows if not ok} - seen
    return out, len(hidden)


def identity_row(session: Session, principal: Principal, person: Person) -> Person | None:
    """The person row (this one, or one merged into it) whose first record the caller may read:
    the identity as first recorded is read in the region of that record (the caller holds no
    grant for the person: then every row is theirs to read)."""
    if scope.sees_region(principal, person.origin_kato):
        return person
    return session.execute(select(Person).where(or_(Person.id == person.id, Person.merged_into == person.id),
                                                regions_clause(Person.origin_kato, principal))
                           .order_by(Person.id != person.id, Person.created_at, Person.id).limit(1)).scalar()


def granted(session: Session, principal: Principal, person_id: str) -> bool:
    """The caller holds a live break-glass grant for this person (admins need none)."""
    return principal.all_regions or bool(session.execute(select(
        exists().where(granted_person_ids(principal).subquery().c.person_id == person_id))).scalar())


def tokens_of(session: Session, person_ids: Iterable[str]) -> set[tuple[str, str, str]]:
    ids = list(set(person_ids))
    if not ids:
        return set()
    rows = session.execute(select(PersonNameToken.person_id, PersonNameToken.token, PersonNameToken.kato)
                           .where(in_values(session, PersonNameToken.person_id, ids)))
    return {(pid, token, kato) for pid, token, kato in rows}  # tuples, for the same reason as names_of


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
    rows = session.execute(select(Person.id, Person.surname, Person.given_names)
                           .where(in_values(session, Person.id, ids)))
    return {pid: (s, g) for pid, s, g in rows}


def registered_ids(principal: Principal) -> Select[str]:
    """The ids of the persons registered in the caller's regions, as a subquery."""
    return select(Person.id).where(registered_clause(principal))


def spellings_by_person(session: Session, person_ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    rows = session.execute(select(PersonName.person_id, PersonName.full_name)
                           .where(in_values(session, PersonName.person_id, list(set(person_ids))))
                           .order_by(PersonName.id))
    for pid, full in rows:
        names = out.setdefault(pid, [])
        if full not in names:  # a spelling recorded in several regions is one spelling
            names.append(full)
    return out


# (id, surname, given names, patronymic, sex, birth date, citizenship, created at, merged into,
# first document id)
IdentityFields = tuple[str, str, str, str, str, str, str, dt.datetime, str | None, int | None]


def identity_fields(session: Session, person_ids: Iterable[str]) -> list[IdentityFields]:
    ids = list(set(person_ids))
    if not ids:
        return []
    out: list[IdentityFields] = []
    for chunk in _chunks(ids):
        # The first document in a query of its own, grouped: as a correlated subquery PostgreSQL
        # planned it per row over the whole table (8 s for 20,000 persons on a fresh import).
        first_doc = dict(session.execute(select(TravelDocument.person_id, func.min(TravelDocument.id))
                                         .where(in_values(session, TravelDocument.person_id, chunk))
                                         .group_by(TravelDocument.person_id)).all())
        out.extend((*row, first_doc.get(row[0])) for row in session.execute(
            select(Person.id, Person.surname, Person.given_names, Person.patronymic, Person.sex, Person.birth_date,
                   Person.citizenship, Person.created_at, Person.merged_into)
            .where(in_values(session, Person.id, chunk))))
    return out


def encrypted_documents(session: Session, document_ids: Iterable[int]) -> list[Row[int, str, bytes]]:
    ids = list(set(document_ids))
    out: list[Row[int, str, bytes]] = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(TravelDocument.id, TravelDocument.issuing_state,
                                          TravelDocument.number_encrypted)
                                   .where(in_values(session, TravelDocument.id, chunk))))
    return out


def person_ids_after(session: Session, last: str, limit: int) -> list[str]:
    return list(session.execute(select(Person.id).where(Person.id > last).order_by(Person.id).limit(limit)).scalars())


def count_person_rows(session: Session) -> tuple[int, dt.datetime | None]:
    count, newest = session.execute(select(func.count(), func.max(Person.created_at)).select_from(Person)).one()
    return int(count), newest


def _chunks(values: list[T], size: int = 20000) -> Iterator[list[T]]:
    # SQLite binds one parameter per value (at most 32766 in a statement); PostgreSQL one array.
    for i in range(0, len(values), size):
        yield values[i:i + size]


def merged_into(session: Session, person_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, merged_into) of the ids among these that were merged."""
    ids = list(set(person_ids))
    out: list[tuple[str, str]] = []
    for chunk in _chunks(ids):
        out.extend((a, b) for a, b in session.execute(
            select(Person.id, Person.merged_into)
            .where(in_values(session, Person.id, chunk), Person.merged_into.is_not(None))) if b is not None)
    return out


# -- retention (kosh retention run) --------------------------------------------------------------

def persons_recorded_before(session: Session, before: dt.datetime, after: str, limit: int) -> list[str]:
    """Persons standing for themselves (not merged away), recorded before `before`, in id order after `after`."""
    # An anonymised person keeps no surname: it is not removed again at every run.
    return list(session.execute(select(Person.id).where(Person.created_at < before, Person.merged_into.is_(None),
                                                        Person.surname != "", Person.id > after)
                                .order_by(Person.id).limit(limit)).scalars())


def aliases_of(session: Session, person_ids: Iterable[str]) -> set[str]:
    """Every id merged, directly or through others, into these persons."""
    found: set[str] = set()
    frontier = set(person_ids)
    while frontier:
        step = set(session.execute(select(Person.id).where(in_values(session, Person.merged_into, list(frontier))))
                   .scalars()) - found
        found |= step
        frontier = step
    return found


def delete_persons(session: Session, person_ids: Iterable[str]) -> int:
    """Persons with their spellings, search tokens and documents (and what cascades from those)."""
    from sqlalchemy import delete, update

    ids = list(set(person_ids))
    if not ids:
        return 0
    for table in (PersonNameToken, PersonName, TravelDocument):
        session.execute(delete(table).where(in_values(session, table.person_id, ids)))
    # Aliases point at the persons they were merged into: unlink before removing both.
    session.execute(update(Person).where(in_values(session, Person.id, ids)).values(merged_into=None))
    return rowcount(session.execute(delete(Person).where(in_values(session, Person.id, ids)))) or 0


def anonymise_persons(session: Session, person_ids: Iterable[str]) -> int:
    """Keep each person row (audit records name its id) with its citizenship only: names, sex,
    birth date, region, spellings, tokens and documents go."""
    from sqlalchemy import delete, update

    ids = list(set(person_ids))
    if not ids:
        return 0
    for table in (PersonNameToken, PersonName, TravelDocument):
        session.execute(delete(table).where(in_values(session, table.person_id, ids)))
    return rowcount(session.execute(update(Person).where(in_values(session, Person.id, ids)).values(
        surname="", given_names="", patronymic="", surname_latin="", given_names_latin="", sex="X", birth_date="",
        birth_date_earliest=None, region_kato=""))) or 0

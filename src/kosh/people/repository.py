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
    if not ids:
        return {}
    return {p.id: p for p in session.execute(scoped(select(Person).where(in_values(session, Person.id, ids)),
                                                    principal)).scalars()}


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


def likely_pairs(session: Session, person_ids: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(smaller id, larger id) of persons worth comparing: a spelling with the same search key
    and the same birth year, or the same birth date and a shared name word (a misspelt name;
    any citizenship, for a second nationality's passport). Only pairs with one of `person_ids`
    when given."""
    p1, p2 = aliased(Person), aliased(Person)
    n1, n2 = aliased(PersonName), aliased(PersonName)
    t1, t2 = aliased(PersonNameToken), aliased(PersonNameToken)
    by_key = (select(n1.person_id, n2.person_id)
              .join(n2, (n1.search_key == n2.search_key) & (n1.person_id < n2.person_id))
              .join(p1, p1.id == n1.person_id).join(p2, p2.id == n2.person_id)
              .where(func.substr(p1.birth_date, 1, 4) == func.substr(p2.birth_date, 1, 4)))
    by_birth = (select(p1.id, p2.id)
                .join(p2, (p1.birth_date == p2.birth_date) & (p1.id < p2.id))
                .join(t1, t1.person_id == p1.id).join(t2, (t2.person_id == p2.id) & (t2.token == t1.token)))
    pairs: set[tuple[str, str]] = set()
    for stmt in (by_key, by_birth):
        if person_ids is not None:
            ids = list(person_ids)
            first, second = stmt.selected_columns
            stmt = stmt.where(first.in_(ids) | second.in_(ids))
        pairs.update((a, b) for a, b in session.execute(stmt.distinct()))
    return pairs

"""Use cases on persons: resolve identities from incoming records, search, read.

Identity here is exact: a travel document (issuing state + number) identifies a person.
Fuzzy linkage across spellings and second passports builds on `resolve_identities`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from kosh.core import audit
from kosh.core.context import Context
from kosh.core.errors import Conflict, NotFound
from kosh.core.sql import bulk_insert, bulk_update, reassign
from kosh.core.security import Permission, Principal
from kosh.people import names, repository
from kosh.people.dates import parse as parse_partial_date
from kosh.people.mrz import normalize_document_number
from kosh.people.models import Person, PersonName, PersonNameToken, TravelDocument, new_person_id

_DOC_CONTEXT = "travel_document"
def document_index(ctx: Context, number: str) -> str:
    return ctx.keyring.blind_index(normalize_document_number(number), _DOC_CONTEXT)


@dataclass(frozen=True)
class IdentityRecord:
    """The identity part of any incoming record (border event, notification, permit, form)."""

    source: str
    surname: str
    given_names: str
    citizenship: str
    document_number: str
    issuing_state: str
    sex: str = "X"
    birth_date: str = ""  # ISO, possibly partial
    birth_date_earliest: dt.date | None = None
    patronymic: str = ""
    surname_latin: str = ""
    given_names_latin: str = ""
    document_type: str = "P"
    document_expiry: dt.date | None = None
    region_kato: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_names, self.patronymic) if p).strip()

    @property
    def full_name_latin(self) -> str:
        return " ".join(p for p in (self.surname_latin, self.given_names_latin) if p).strip()


@dataclass
class Resolution:
    person_id: str
    document_id: int
    created: bool = False


@dataclass
class _Pending:
    person: dict
    document: dict
    spellings: set[str] = field(default_factory=set)


def _latin_form(rec: IdentityRecord) -> tuple[str, str]:
    if rec.surname_latin or rec.given_names_latin:
        return rec.surname_latin.upper(), rec.given_names_latin.upper()
    lang = names.language_for_citizenship(rec.citizenship)
    return names.romanize(rec.surname, lang).upper(), names.romanize(rec.given_names, lang).upper()


def resolve_identities(session: Session, ctx: Context, records: Sequence[IdentityRecord]) -> list[Resolution]:
    """Find or create the person and document behind each record, in bulk, in order."""
    indexes = [document_index(ctx, r.document_number) for r in records]
    known = {(d.issuing_state, d.number_index): d for d in repository.documents_by_index(session, indexes)}
    pending: dict[tuple[str, str], _Pending] = {}
    for rec, idx in zip(records, indexes):
        key = (rec.issuing_state, idx)
        if key in known or key in pending:
            continue
        pid = new_person_id()
        surname_latin, given_latin = _latin_form(rec)
        pending[key] = _Pending(
            person={"id": pid, "surname": rec.surname, "given_names": rec.given_names, "patronymic": rec.patronymic,
                    "surname_latin": surname_latin, "given_names_latin": given_latin, "sex": rec.sex,
                    "birth_date": rec.birth_date, "birth_date_earliest": rec.birth_date_earliest,
                    "citizenship": rec.citizenship, "region_kato": rec.region_kato},
            document={"person_id": pid, "document_type": rec.document_type, "issuing_state": rec.issuing_state,
                      "number_encrypted": ctx.keyring.encrypt(normalize_document_number(rec.document_number),
                                                              f"{_DOC_CONTEXT}:{rec.issuing_state}"),
                      "number_index": idx, "expiry": rec.document_expiry},
        )
    if pending:
        bulk_insert(session, Person.__table__, [p.person for p in pending.values()])
        returned = bulk_insert(session, TravelDocument.__table__, [p.document for p in pending.values()],
                               returning=["id", "person_id"])
        by_person = {p.person["id"]: p for p in pending.values()}
        for doc_id, pid in returned:  # each new person holds exactly one new document
            by_person[pid].document["id"] = doc_id
    results: list[Resolution] = []
    for rec, idx in zip(records, indexes):
        key = (rec.issuing_state, idx)
        if key in known:
            results.append(Resolution(known[key].person_id, known[key].id))
        else:
            p = pending[key]
            results.append(Resolution(p.person["id"], p.document["id"], created=True))
    _record_spellings(session, records, results)
    return results


def _record_spellings(session: Session, records: Sequence[IdentityRecord], results: Sequence[Resolution]) -> None:
    seen = repository.names_of(session, {r.person_id for r in results if not r.created})
    new_names: dict[tuple[str, str], dict] = {}
    new_tokens: set[tuple[str, str]] = set()
    for rec, res in zip(records, results):
        for full in (rec.full_name, rec.full_name_latin):
            if not full or (res.person_id, full) in seen or (res.person_id, full) in new_names:
                continue
            new_names[(res.person_id, full)] = {"person_id": res.person_id, "full_name": full, "source": rec.source,
                                                "search_key": names.search_key(full)}
            new_tokens.update((res.person_id, t) for t in names.name_tokens(full) if t)
    if new_names:
        bulk_insert(session, PersonName.__table__, list(new_names.values()))
    if new_tokens:
        existing = repository.tokens_of(session, {pid for pid, _ in new_tokens})
        rows = [{"person_id": pid, "token": t} for pid, t in sorted(new_tokens - existing)]
        if rows:
            bulk_insert(session, PersonNameToken.__table__, rows)


# -- merging (the identity capability decides; these move what people own) ------------------

def current_id(session: Session, person_id: str) -> str:
    """The person an id stands for now: a merged person's id leads to the one it was merged into."""
    seen: set[str] = set()
    pid = person_id
    while pid not in seen:
        seen.add(pid)
        nxt = session.execute(select(Person.merged_into).where(Person.id == pid)).scalar()
        if not nxt:
            return pid
        pid = nxt
    return pid


def current_ids(session: Session, person_ids: Sequence[str]) -> dict[str, str]:
    """`current_id` of many ids: one query per level of merging."""
    out = {pid: pid for pid in person_ids}
    frontier = set(out)
    seen: set[str] = set()
    while frontier:
        seen |= frontier
        step = dict(repository.merged_into(session, frontier))
        if not step:
            break
        for pid, target in out.items():
            if target in step:
                out[pid] = step[target]
        frontier = set(step.values()) - seen
    return out


def move_identity(session: Session, from_id: str, to_id: str) -> dict[str, list[int]]:
    """Give `to_id` the documents and spellings of `from_id` (a spelling both have stays put).
    Returns the ids of the rows moved, per table."""
    spellings = PersonName.__table__
    already = select(spellings.c.full_name).where(spellings.c.person_id == to_id).scalar_subquery()
    moved = {"travel_documents": reassign(session, TravelDocument.__table__, from_id, to_id),
             "person_names": reassign(session, spellings, from_id, to_id, where=spellings.c.full_name.not_in(already))}
    session.execute(update(Person.__table__).where(Person.id == from_id).values(merged_into=to_id))
    rebuild_tokens(session, [from_id, to_id])
    return moved


def restore_identity(session: Session, moved: dict[str, list[int]], kept_id: str, merged_id: str) -> None:
    """Undo `move_identity`: the rows listed go back to `merged_id`, which stands for itself again."""
    for table in (TravelDocument.__table__, PersonName.__table__):
        reassign(session, table, kept_id, merged_id, ids=moved.get(table.name, []))
    session.execute(update(Person.__table__).where(Person.id == merged_id).values(merged_into=None))
    rebuild_tokens(session, [kept_id, merged_id])


def rebuild_tokens(session: Session, person_ids: Sequence[str]) -> None:
    """Search tokens from each person's spellings; a merged person has none (search finds the
    person it was merged into)."""
    tokens = PersonNameToken.__table__
    session.execute(delete(tokens).where(tokens.c.person_id.in_(list(person_ids))))
    active = select(Person.id).where(Person.id.in_(list(person_ids)), Person.merged_into.is_(None))
    rows = session.execute(select(PersonName.person_id, PersonName.full_name)
                           .where(PersonName.person_id.in_(active))).all()
    new = sorted({(pid, t) for pid, full in rows for t in names.name_tokens(full) if t})
    if new:
        bulk_insert(session, tokens, [{"person_id": pid, "token": t} for pid, t in new])


def set_regions(session: Session, regions: dict[str, str]) -> None:
    """The stay capability tells which region each person is registered in (scopes officers)."""
    bulk_update(session, Person.__table__, [{"id": pid, "region_kato": kato} for pid, kato in regions.items()], "id")


# -- reads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchPage:
    items: list[Person]
    total: int
    limit: int
    offset: int


def search_persons(session: Session, ctx: Context, principal: Principal, query: str, *, citizenship: str | None = None,
                   limit: int = 25, offset: int = 0) -> SearchPage:
    principal.require(Permission.PERSON_READ)
    query = query.strip()
    doc_idx = document_index(ctx, query) if any(c.isdigit() for c in query) else None
    tokens = [] if doc_idx else [t for t in names.name_tokens(query) if t]
    items, total = repository.search(session, principal, tokens=tokens, document_index=doc_idx,
                                     citizenship=citizenship, limit=limit, offset=offset)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "search", "person", "*", {"results": [p.id for p in items], "kind": "document" if doc_idx else "name"})])
    return SearchPage(items, total, limit, offset)


@dataclass(frozen=True)
class DocumentView:
    id: int
    document_type: str
    issuing_state: str
    number: str
    expiry: dt.date | None


@dataclass(frozen=True)
class PersonView:
    person: Person
    documents: list[DocumentView]
    spellings: list[PersonName]


def citizenship_in_scope(session: Session, principal: Principal, person_id: str) -> str:
    """The person's citizenship, if the caller may see the person (for answers without identity data)."""
    principal.require(Permission.PERSON_READ)
    found = repository.citizenship_in_scope(session, principal, person_id)
    if found is None:
        raise NotFound(f"no person {person_id} in your regions")
    return found


def get_person(session: Session, ctx: Context, principal: Principal, person_id: str, *, audited: bool = True) -> PersonView:
    principal.require(Permission.PERSON_READ)
    asked = person_id
    person = repository.get_person(session, principal, person_id)
    if person is not None and person.merged_into:
        # A merged person's id stays valid: it answers with the person it was merged into.
        person_id = current_id(session, person_id)
        person = repository.get_person(session, principal, person_id)
    if person is None:
        # Out-of-scope and absent look the same, so scope does not leak existence.
        raise NotFound(f"no person {asked} in your regions")
    docs = [DocumentView(d.id, d.document_type, d.issuing_state,
                         ctx.keyring.decrypt(d.number_encrypted, f"{_DOC_CONTEXT}:{d.issuing_state}"), d.expiry)
            for d in repository.documents_of(session, person_id)]
    if audited:
        audit.append(session, ctx.keyring, principal, [audit.Access("read", "person", person_id)])
    return PersonView(person, docs, repository.spellings_of(session, person_id))


def find_documents(session: Session, ctx: Context,
                   refs: Sequence[tuple[str, str]]) -> list[tuple[str, int] | None]:
    """(person id, document id) for each (issuing state, number), or None when unknown."""
    indexes = [document_index(ctx, n) for _, n in refs]
    known = {(d.issuing_state, d.number_index): (d.person_id, d.id)
             for d in repository.documents_by_index(session, indexes)}
    return [known.get((state, idx)) for (state, _), idx in zip(refs, indexes)]


def profile_of(session: Session, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(citizenship, registered region) of each person."""
    return repository.profile_of(session, person_ids)


def persons_in_scope(session: Session, principal: Principal, person_ids: set[str]) -> dict[str, Person]:
    """The persons among these ids that the caller may see, in one query (for pages that list
    them; the caller audits the listing)."""
    principal.require(Permission.PERSON_READ)
    return repository.persons_in_scope(session, principal, person_ids)


def person_in_scope(session: Session, principal: Principal, person_id: str) -> Person:
    """The person row itself (no alias followed, nothing decrypted, not audited), if the caller
    may see it; else NotFound, as for a person that does not exist."""
    principal.require(Permission.PERSON_READ)
    person = repository.get_person(session, principal, person_id)
    if person is None:
        raise NotFound(f"no person {person_id} in your regions")
    return person


def visible_ids(principal: Principal):  # noqa: ANN201 — Select
    """A subquery of the ids of the persons the caller may see."""
    return repository.visible_ids(principal)


def spellings_by_person(session: Session, person_ids: Sequence[str]) -> dict[str, list[str]]:
    """Every spelling of each person, oldest first (the caller audits its use)."""
    return repository.spellings_by_person(session, person_ids)


def brief_names(session: Session, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Surname and given names for list pages (the caller audits the listing)."""
    return repository.brief_names(session, person_ids)


def create_person(session: Session, ctx: Context, principal: Principal, body) -> str:  # noqa: ANN001 — PersonIn
    """Record a person from a form or the API; a known document returns its holder instead."""
    principal.require(Permission.PERSON_WRITE)
    holders = find_documents(session, ctx, [(d.issuing_state, d.number) for d in body.documents])
    known = {h[0] for h in holders if h}
    if len(known) > 1:
        raise Conflict("these documents belong to different persons already")
    records = [IdentityRecord(
        source="api", surname=body.surname, given_names=body.given_names, patronymic=body.patronymic,
        surname_latin=body.surname_latin, given_names_latin=body.given_names_latin, citizenship=body.citizenship,
        document_number=d.number, issuing_state=d.issuing_state, sex=body.sex, birth_date=body.birth_date,
        birth_date_earliest=parse_partial_date(body.birth_date).earliest(), document_type=d.document_type,
        document_expiry=d.expiry) for d in body.documents]
    first = resolve_identities(session, ctx, records[:1])[0]
    if len(records) > 1:
        # Further documents of the same person attach to the first one's holder.
        _attach_documents(session, ctx, first.person_id, records[1:])
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create" if first.created else "update", "person", first.person_id, {"documents": len(records)})])
    if first.created:
        # A new person is linked to the registry at once: if the model is certain it is someone
        # recorded before, the record joins that (older) person.
        from kosh.identity import registry  # identity builds on people: imported at call time

        if registry.link_new(session, ctx, [first.person_id]).merges:
            return current_id(session, first.person_id)
    return first.person_id


def _attach_documents(session: Session, ctx: Context, person_id: str, records: Sequence[IdentityRecord]) -> None:
    indexes = [document_index(ctx, r.document_number) for r in records]
    known = {(d.issuing_state, d.number_index) for d in repository.documents_by_index(session, indexes)}
    rows = [{"person_id": person_id, "document_type": r.document_type, "issuing_state": r.issuing_state,
             "number_encrypted": ctx.keyring.encrypt(normalize_document_number(r.document_number),
                                                     f"{_DOC_CONTEXT}:{r.issuing_state}"),
             "number_index": idx, "expiry": r.document_expiry}
            for r, idx in zip(records, indexes) if (r.issuing_state, idx) not in known]
    if rows:
        session.execute(insert(TravelDocument), rows)


# -- what identity linkage reads (the identity capability audits its use) ----------------------

@dataclass(frozen=True)
class IdentityFields:
    """A person row as first recorded (merged or not), for the linkage model."""

    person_id: str
    surname: str
    given_names: str
    patronymic: str
    sex: str
    birth_date: str
    citizenship: str
    created_at: dt.datetime
    merged_into: str | None
    first_document_id: int | None  # the lowest-numbered document the row holds now


def identity_fields(session: Session, person_ids: Sequence[str]) -> dict[str, IdentityFields]:
    return {r[0]: IdentityFields(*r) for r in repository.identity_fields(session, person_ids)}


def document_numbers(session: Session, ctx: Context, document_ids: Sequence[int]) -> dict[int, str]:
    """The decrypted, normalised numbers of these documents."""
    out = {}
    for doc_id, state, blob in repository.encrypted_documents(session, document_ids):
        out[doc_id] = ctx.keyring.decrypt(blob, f"{_DOC_CONTEXT}:{state}")
    return out


def person_id_pages(session: Session, page: int = 5000):  # noqa: ANN201 — Iterator[list[str]]
    """Every person row's id (merged ones too), in pages, in id order."""
    last = ""
    while True:
        ids = repository.person_ids_after(session, last, page)
        if not ids:
            return
        yield ids
        last = ids[-1]


def count_person_rows(session: Session) -> tuple[int, dt.datetime | None]:
    """How many person rows there are and the newest's creation time (a registry fingerprint)."""
    return repository.count_person_rows(session)

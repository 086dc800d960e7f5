"""Use cases on persons: resolve identities from incoming records, search, read.

Identity here is exact: a travel document (issuing state + number) identifies a person.
Fuzzy linkage across spellings and second passports builds on `resolve_identities`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from kosh.people import names, repository
from kosh.people.countries import normalize_country
from kosh.people.dates import parse as parse_partial_date
from kosh.people.models import (
    DocumentRegion,
    Person,
    PersonName,
    PersonNameToken,
    TravelDocument,
    TravelDocumentPart,
    new_person_id,
)
from kosh.people.mrz import normalize_document_number
from kosh.platform import audit, events
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.models import BreakGlassGrant
from kosh.platform.scope import outside_regions, sees_region
from kosh.platform.security import Permission, Principal
from kosh.platform.sql import bulk_insert, bulk_update, reassign
from kosh.platform.words import N_, Msg

if TYPE_CHECKING:
    from kosh.people.schemas import PersonIn

_DOC_CONTEXT = "travel_document"
def document_index(ctx: Context, number: str) -> str:
    return ctx.keyring.blind_index(normalize_document_number(number), _DOC_CONTEXT)


# Search by part of a number. Numbers stay encrypted; each run of MIN_DOCUMENT_PART or more
# consecutive characters of a normalised number is kept as a keyed hash (travel_document_parts),
# in a context of its own so that no part's hash equals a whole number's. A part typed is then one
# exact index lookup (a total and pages in SQL, nothing decrypted to search), at the cost of about
# 20 short rows per passport number; no character of a number is stored in clear. Shorter parts
# are refused: they would match too many documents to narrow anything, and their hashes would be
# too few to hide much.
MIN_DOCUMENT_PART = 4
SEARCH_SORTS = repository.SEARCH_SORTS
_PART_CONTEXT = "travel_document_part"


def document_part_index(ctx: Context, part: str) -> str:
    return ctx.keyring.blind_index(part, _PART_CONTEXT)[:32]


def _document_parts(ctx: Context, number: str) -> set[str]:
    n = normalize_document_number(number)
    return {document_part_index(ctx, n[i:j]) for i in range(len(n)) for j in range(i + MIN_DOCUMENT_PART, len(n) + 1)}


def _index_document_parts(session: Session, ctx: Context, documents: Iterable[tuple[int, str]]) -> None:
    """Index the parts of these (document id, number) of new documents."""
    rows = [{"part_index": idx, "document_id": doc_id} for doc_id, number in documents
            for idx in sorted(_document_parts(ctx, number))]
    if rows:
        bulk_insert(session, TravelDocumentPart.__table__, rows, conflict=["part_index", "document_id"])


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
    for rec, idx in zip(records, indexes, strict=True):
        key = (rec.issuing_state, idx)
        if key in known or key in pending:
            continue
        pid = new_person_id()
        surname_latin, given_latin = _latin_form(rec)
        pending[key] = _Pending(
            person={"id": pid, "surname": rec.surname, "given_names": rec.given_names, "patronymic": rec.patronymic,
                    "surname_latin": surname_latin, "given_names_latin": given_latin, "sex": rec.sex,
                    "birth_date": rec.birth_date, "birth_date_earliest": rec.birth_date_earliest,
                    "citizenship": rec.citizenship, "region_kato": rec.region_kato, "origin_kato": rec.region_kato},
            document={"person_id": pid, "document_type": rec.document_type, "issuing_state": rec.issuing_state,
                      "number_encrypted": ctx.keyring.encrypt(normalize_document_number(rec.document_number),
                                                              f"{_DOC_CONTEXT}:{rec.issuing_state}"),
                      "number_index": idx, "expiry": rec.document_expiry},
        )
    if pending:
        bulk_insert(session, Person.__table__, [p.person for p in pending.values()])
        returned = bulk_insert(session, TravelDocument.__table__, [p.document for p in pending.values()],
                               conflict=["issuing_state", "number_index"], returning=["id", "person_id"])
        by_person = {p.person["id"]: p for p in pending.values()}
        for doc_id, pid in returned:  # each new person holds exactly one new document
            by_person[pid].document["id"] = doc_id
        numbers = {key: rec.document_number for rec, key in
                   ((rec, (rec.issuing_state, idx)) for rec, idx in zip(records, indexes, strict=True))}
        _index_document_parts(session, ctx, [(p.document["id"], numbers[key]) for key, p in pending.items()
                                             if "id" in p.document])
        lost = [key for key, p in pending.items() if "id" not in p.document]
        if lost:  # a concurrent writer recorded these documents first: the records join its person, ours goes
            known.update(((d.issuing_state, d.number_index), d)
                         for d in repository.documents_by_index(session, [idx for _, idx in lost]))
            if any(key not in known for key in lost):
                raise Conflict(Msg(N_("A document of this record was changed by another request at the same time. "
                                      "Send it again.")))
            orphans = [pending.pop(key).person["id"] for key in lost]
            session.execute(delete(Person.__table__).where(Person.id.in_(orphans)))
    results: list[Resolution] = []
    for rec, idx in zip(records, indexes, strict=True):
        key = (rec.issuing_state, idx)
        if key in known:
            results.append(Resolution(known[key].person_id, known[key].id))
        else:
            p = pending[key]
            results.append(Resolution(p.person["id"], p.document["id"], created=True))
    _record_spellings(session, records, results)
    _record_document_regions(session, [(res.document_id, rec.region_kato)
                                       for rec, res in zip(records, results, strict=True)])
    return results


def _record_document_regions(session: Session, pairs: Sequence[tuple[int, str]]) -> None:
    """Note the regions where records under each document were made (its number is read there)."""
    wanted = {(d, k) for d, k in pairs if k}
    if not wanted:
        return
    fresh = wanted - repository.document_regions_of(session, {d for d, _ in wanted})
    if fresh:
        bulk_insert(session, DocumentRegion.__table__, [{"document_id": d, "kato": k} for d, k in sorted(fresh)],
                    conflict=["document_id", "kato"])


def note_document_regions(session: Session, pairs: Sequence[tuple[int, str]]) -> None:
    """A record of another capability (a permit) was made under this document in this region."""
    _record_document_regions(session, pairs)


def _record_spellings(session: Session, records: Sequence[IdentityRecord], results: Sequence[Resolution]) -> None:
    seen = repository.names_of(session, {r.person_id for r in results if not r.created})
    # A spelling is kept per region it was recorded in: each region reads its own.
    new_names: dict[tuple[str, str, str], dict] = {}
    new_tokens: set[tuple[str, str, str]] = set()
    for rec, res in zip(records, results, strict=True):
        kato = rec.region_kato
        for full in (rec.full_name, rec.full_name_latin):
            key = (res.person_id, full, kato)
            if not full or key in seen or key in new_names:
                continue
            new_names[key] = {"person_id": res.person_id, "full_name": full, "source": rec.source,
                              "search_key": names.search_key(full), "kato": kato}
            new_tokens.update((res.person_id, t, kato) for t in names.name_tokens(full) if t)
    if new_names:
        bulk_insert(session, PersonName.__table__, list(new_names.values()),
                    conflict=["person_id", "full_name", "kato"])
    if new_tokens:
        existing = repository.tokens_of(session, {pid for pid, _, _ in new_tokens})
        rows = [{"person_id": pid, "token": t, "kato": k} for pid, t, k in sorted(new_tokens - existing)]
        if rows:
            bulk_insert(session, PersonNameToken.__table__, rows, conflict=["person_id", "token", "kato"])


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
    # Every link of every chain is read first, then followed: an id asked for may itself be the
    # middle of another id's chain (X merged into Y, Y into Z, both X and Y asked).
    next_of: dict[str, str] = {}
    asked: set[str] = set()
    frontier = set(person_ids)
    while frontier:
        asked |= frontier
        step = dict(repository.merged_into(session, frontier))
        next_of.update(step)
        frontier = set(step.values()) - asked
    out = {}
    for pid in person_ids:
        current = pid
        while current in next_of:
            current = next_of[current]
        out[pid] = current
    return out


def move_identity(session: Session, from_id: str, to_id: str) -> dict[str, list[int]]:
    """Give `to_id` the documents and spellings of `from_id` (a spelling both have stays put).
    Returns the ids of the rows moved, per table."""
    spellings = PersonName.__table__
    held = spellings.alias("held")
    already = exists().where(held.c.person_id == to_id, held.c.full_name == spellings.c.full_name,
                             held.c.kato == spellings.c.kato)
    moved = {"travel_documents": reassign(session, TravelDocument.__table__, from_id, to_id),
             "person_names": reassign(session, spellings, from_id, to_id, where=~already)}
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
    rows = session.execute(select(PersonName.person_id, PersonName.full_name, PersonName.kato)
                           .where(PersonName.person_id.in_(active))).all()
    new = sorted({(pid, t, kato) for pid, full, kato in rows for t in names.name_tokens(full) if t})
    if new:
        bulk_insert(session, tokens, [{"person_id": pid, "token": t, "kato": k} for pid, t, k in new],
                    conflict=["person_id", "token", "kato"])


def set_regions(session: Session, regions: dict[str, str]) -> None:
    """The stay capability tells which region each person is registered in (scopes officers)."""
    bulk_update(session, Person.__table__, [{"id": pid, "region_kato": kato} for pid, kato in regions.items()], "id")


# -- reads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchPage:
    items: list[PersonFacts]
    total: int
    limit: int
    offset: int


def search_persons(session: Session, ctx: Context, principal: Principal, query: str = "", *,
                   citizenship: str | None = None, limit: int = 25, offset: int = 0, birth_date: str | None = None,
                   document_part: str | None = None, sort: str = "name") -> SearchPage:
    """Persons by name (any script) or whole document number (`query`), date of birth (full or
    partial) and part of a document number: every criterion given must match, each in records
    made in the caller's regions; `citizenship` narrows them; `sort` is one of SEARCH_SORTS.
    Audited with the kinds of criteria (not their values)."""
    principal.require(Permission.PERSON_READ)
    query = query.strip()
    if sort not in SEARCH_SORTS:
        raise ValidationFailed([FieldError("sort", Msg(N_("Choose a sort order from the list.")))])
    if citizenship:
        try:
            citizenship = normalize_country(citizenship)
        except InvalidIdentifier as exc:
            raise ValidationFailed([FieldError("citizenship", exc.message)]) from None
    born, part_idx = _birth_criterion(birth_date), _document_part_criterion(ctx, document_part)
    doc_idx = document_index(ctx, query) if any(c.isdigit() for c in query) else None
    tokens = [] if doc_idx else [t for t in names.name_tokens(query) if t]
    items, total = repository.search(session, principal, tokens=tokens, document_index=doc_idx,
                                     citizenship=citizenship, limit=limit, offset=offset,
                                     document_part_index=part_idx, birth_dates=born[0], birth_prefix=born[1],
                                     sort=sort)
    kinds = [k for k, given in (("document" if doc_idx else "name", bool(doc_idx or tokens)),
                                ("birth_date", bool(born[0] or born[1])), ("document_part", bool(part_idx))) if given]
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "search", "person", "*", {"results": [p.id for p in items], "kind": "+".join(kinds) or "none"})])
    return SearchPage([facts_for(session, principal, p) for p in items], total, limit, offset)


def _birth_criterion(value: str | None) -> tuple[list[str], str | None]:
    """(stored dates that match exactly, prefix of stored dates that match) for a date of birth
    searched: a full date also finds persons recorded with only its year and month, or year."""
    if not value or not value.strip():
        return [], None
    try:
        asked = parse_partial_date(value, "birth_date")
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldError("birth_date", exc.message)]) from None
    year = f"{asked.year:04d}"
    if asked.month is None:
        return [], year
    month = f"{year}-{asked.month:02d}"
    if asked.day is None:
        return [year], month
    return [asked.isoformat(), month, year], None


def _document_part_criterion(ctx: Context, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    part = normalize_document_number(value)
    if len(part) < MIN_DOCUMENT_PART or not part.isalnum() or not part.isascii():
        raise ValidationFailed([FieldError("document_part", Msg(
            N_("Give at least %(n)s letters or digits of the document number, as written in the document."),
            n=MIN_DOCUMENT_PART))])
    return document_part_index(ctx, part)


def facts_for(session: Session, principal: Principal, person: Person) -> PersonFacts:
    """A person row as the caller may read it (see PersonFacts)."""
    if principal.all_regions or (sees_region(principal, person.origin_kato)
                                 and sees_region(principal, person.region_kato)):
        return _row_facts(person, person, person.region_kato)
    return _facts(session, principal, person, repository.spellings_of(session, principal, person.id)[0],
                  repository.granted(session, principal, person.id))


@dataclass(frozen=True)
class DocumentView:
    id: int
    document_type: str
    issuing_state: str
    number: str
    expiry: dt.date | None


@dataclass(frozen=True)
class PersonFacts:
    """A person as the caller may read them: the identity as first recorded when that record
    is in the caller's regions (or a merged record's that is), else only the name recorded there."""

    id: str
    surname: str
    given_names: str
    patronymic: str
    surname_latin: str
    given_names_latin: str
    sex: str
    birth_date: str
    citizenship: str
    region_kato: str
    created_at: dt.datetime
    merged_into: str | None


@dataclass(frozen=True)
class PersonView:
    person: PersonFacts
    documents: list[DocumentView]
    spellings: list[PersonName]
    # Records of this person made in regions the caller does not read (not shown).
    hidden_documents: int = 0
    hidden_spellings: int = 0
    complete: bool = True  # the caller reads every record (admin, or a break-glass grant)


def _row_facts(person: Person, row: Person, registered: str) -> PersonFacts:
    """`person` named as `row` (itself, or a row merged into it) records them."""
    return PersonFacts(person.id, row.surname, row.given_names, row.patronymic, row.surname_latin,
                       row.given_names_latin, row.sex, row.birth_date, person.citizenship, registered,
                       person.created_at, person.merged_into)


def _facts(session: Session, principal: Principal, person: Person, spellings: Sequence[PersonName],
           granted: bool) -> PersonFacts:
    """`granted`: the caller reads every record of this person (admins; a break-glass grant)."""
    row = person if granted else repository.identity_row(session, principal, person)
    # Where the person is registered comes from a notification: said only to that region's officers.
    registered = person.region_kato if granted or sees_region(principal, person.region_kato) else ""
    if row is not None:
        return _row_facts(person, row, registered)
    # Only spellings recorded here: show the first of them, nothing of the first record elsewhere.
    native = next((n.full_name for n in spellings if not n.full_name.isascii()), "")
    latin = next((n.full_name for n in spellings if n.full_name.isascii()), "")
    return PersonFacts(person.id, native or latin, "", "", latin, "", "X", "", person.citizenship, registered,
                       person.created_at, person.merged_into)


def citizenship_in_scope(session: Session, principal: Principal, person_id: str) -> str:
    """The person's citizenship, if the caller may see the person (for answers without identity data)."""
    principal.require(Permission.PERSON_READ)
    found = repository.citizenship_in_scope(session, principal, person_id)
    if found is None:
        raise NotFound(Msg(N_("There is no person %(id)s in your regions."), id=person_id))
    return found


def get_person(session: Session, ctx: Context, principal: Principal, person_id: str, *,
               audited: bool = True) -> PersonView:
    """The person with the documents and spellings recorded in the caller's regions."""
    principal.require(Permission.PERSON_READ)
    asked = person_id
    person = repository.get_person(session, principal, person_id)
    if person is not None and person.merged_into:
        # A merged person's id stays valid: it answers with the person it was merged into.
        person_id = current_id(session, person_id)
        person = repository.get_person(session, principal, person_id)
    if person is None:
        # Out-of-scope and absent look the same, so scope does not leak existence.
        raise NotFound(Msg(N_("There is no person %(id)s in your regions."), id=asked))
    documents, hidden_documents = repository.documents_of(session, principal, person_id)
    docs = [DocumentView(d.id, d.document_type, d.issuing_state,
                         ctx.keyring.decrypt(d.number_encrypted, f"{_DOC_CONTEXT}:{d.issuing_state}"), d.expiry)
            for d in documents]
    spellings, hidden_spellings = repository.spellings_of(session, principal, person_id)
    complete = repository.granted(session, principal, person_id)
    if audited:
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "read", "person", person_id, {"break_glass": True} if complete and not principal.all_regions else None)])
    return PersonView(_facts(session, principal, person, spellings, complete), docs, spellings, hidden_documents,
                      hidden_spellings, complete)


def visible_among(session: Session, principal: Principal, person_ids: Sequence[str]) -> set[str]:
    """The ids among these that the caller may see now (e.g. before a write, for its reply)."""
    if not person_ids:
        return set()
    if principal.all_regions:
        return set(person_ids)
    return set(repository.persons_in_scope(session, principal, person_ids))


def registered_in_scope(session: Session, principal: Principal, person_id: str) -> Person:
    """The person row if registered in the caller's regions (officers decide identity questions
    of the persons they answer for); else NotFound."""
    principal.require(Permission.PERSON_READ)
    person = repository.get_registered(session, principal, person_id)
    if person is None:
        raise NotFound(Msg(N_("There is no person %(id)s in your regions."), id=person_id))
    return person


def registered_among(session: Session, principal: Principal, person_ids: Iterable[str]) -> set[str]:
    """The ids among these registered in the caller's regions."""
    ids = set(person_ids)
    if principal.all_regions:
        return ids
    return {pid for pid, (_, region) in repository.profile_of(session, ids).items()
            if sees_region(principal, region)}


def registered_ids(principal: Principal) -> Select[str]:
    """A subquery of the ids of the persons registered in the caller's regions."""
    return repository.registered_ids(principal)


def display_names(session: Session, principal: Principal, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Surname and given names for list pages of persons the caller sees, as the caller may read
    them (see PersonFacts); the caller audits the listing."""
    out = {}
    for person in repository.rows_by_id(session, person_ids):
        if sees_region(principal, person.origin_kato):
            out[person.id] = (person.surname, person.given_names)
        else:  # first recorded elsewhere (rare in a region's list): read what this region may
            facts = _facts(session, principal, person, repository.spellings_of(session, principal, person.id)[0],
                           repository.granted(session, principal, person.id))
            out[person.id] = (facts.surname, facts.given_names)
    return out


def find_documents(session: Session, ctx: Context,
                   refs: Sequence[tuple[str, str]]) -> list[tuple[str, int] | None]:
    """(person id, document id) for each (issuing state, number), or None when unknown."""
    indexes = [document_index(ctx, n) for _, n in refs]
    known = {(d.issuing_state, d.number_index): (d.person_id, d.id)
             for d in repository.documents_by_index(session, indexes)}
    return [known.get((state, idx)) for (state, _), idx in zip(refs, indexes, strict=True)]


def find_holder(session: Session, ctx: Context, citizenship: str, document_number: str,
                birth_date: dt.date) -> str | None:
    """The one person holding this document number whose citizenship and full date of birth are
    exactly these, or None when no one or more than one is (the public status page: a person
    finding their own record, kosh.flows.selfservice). No principal and no audit here: the caller
    proves nothing but these three facts, answers "not found" alike in both cases, and audits."""
    ids = repository.holders_matching(session, document_index(ctx, document_number), citizenship,
                                      birth_date.isoformat())
    return ids[0] if len(ids) == 1 else None


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
        raise NotFound(Msg(N_("There is no person %(id)s in your regions."), id=person_id))
    return person


def visible_template(principal: Principal) -> tuple[int | None, ColumnElement[bool], dict[str, Any]]:
    """The condition that the caller sees a `persons` row, with its parameters bound separately
    (for one-statement reads elsewhere that are built once per shape)."""
    return repository.visible_template(principal)


def spellings_by_person(session: Session, person_ids: Sequence[str]) -> dict[str, list[str]]:
    """Every spelling of each person, oldest first (the caller audits its use)."""
    return repository.spellings_by_person(session, person_ids)


def brief_names(session: Session, person_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Surname and given names for list pages (the caller audits the listing)."""
    return repository.brief_names(session, person_ids)


def _write_region(ctx: Context, principal: Principal, region: str | None) -> str:
    """The region a person form records in: the one given (an officer's own), else the officer's
    first region; admins may leave it empty (no region reads it but theirs)."""
    if region:
        if ctx.pack.region_for_kato(region) is None:
            raise ValidationFailed([FieldError("region", Msg(N_("%(code)s is not in a known region"), code=region))])
        if not principal.writes_anywhere and not sees_region(principal, region):
            raise Forbidden(outside_regions(principal, region))
        return region
    if principal.writes_anywhere or not principal.regions:
        return ""
    return principal.regions[0].ljust(9, "0")


def create_person(session: Session, ctx: Context, principal: Principal, body: PersonIn) -> str:
    """Record a person from a form or the API, in the writer's region. A known document returns
    its holder if the writer may see them; a holder recorded only in other regions is refused
    (409) rather than opened: a write never reveals what its writer could not read."""
    principal.require(Permission.PERSON_WRITE)
    region = _write_region(ctx, principal, getattr(body, "region", None))
    documents = [d.state_and_number for d in body.documents]
    holders = find_documents(session, ctx, documents)
    known = {h[0] for h in holders if h}
    if len(known) > 1:
        raise Conflict(Msg(N_("These documents belong to different persons already.")))
    if known and not visible_among(session, principal, list(known)):
        raise Conflict(Msg(N_("A person with this document is recorded in another region. To add to their record, "
                              "open it with a stated purpose (break-glass access).")))
    records = [IdentityRecord(
        source="api", surname=body.surname, given_names=body.given_names, patronymic=body.patronymic,
        surname_latin=body.surname_latin, given_names_latin=body.given_names_latin, citizenship=body.citizenship,
        document_number=number, issuing_state=state, sex=body.sex, birth_date=body.birth_date,
        birth_date_earliest=parse_partial_date(body.birth_date).earliest(), document_type=d.document_type,
        document_expiry=d.expiry, region_kato=region)
        for d, (state, number) in zip(body.documents, documents, strict=True)]
    first = resolve_identities(session, ctx, records[:1])[0]
    if len(records) > 1:
        # Further documents of the same person attach to the first one's holder.
        _attach_documents(session, ctx, first.person_id, records[1:])
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "create" if first.created else "update", "person", first.person_id, {"documents": len(records)})])
    if first.created:
        # A new person is linked to the registry at once: if the model is certain it is someone
        # recorded before, the record joins that (older) person. The reply still names the
        # person this write created: the link opens nothing of the older person's records.
        events.publish(session, ctx, events.PersonsCreated((first.person_id,)))
    return first.person_id


def _attach_documents(session: Session, ctx: Context, person_id: str, records: Sequence[IdentityRecord]) -> None:
    indexes = [document_index(ctx, r.document_number) for r in records]
    known = {(d.issuing_state, d.number_index) for d in repository.documents_by_index(session, indexes)}
    rows = [{"person_id": person_id, "document_type": r.document_type, "issuing_state": r.issuing_state,
             "number_encrypted": ctx.keyring.encrypt(normalize_document_number(r.document_number),
                                                     f"{_DOC_CONTEXT}:{r.issuing_state}"),
             "number_index": idx, "expiry": r.document_expiry}
            for r, idx in zip(records, indexes, strict=True) if (r.issuing_state, idx) not in known]
    if rows:
        session.execute(insert(TravelDocument), rows)
    ids = {(d.issuing_state, d.number_index): d.id for d in repository.documents_by_index(session, indexes)}
    if rows:
        _index_document_parts(session, ctx, [(ids[(r.issuing_state, idx)], r.document_number)
                                             for r, idx in zip(records, indexes, strict=True)
                                             if (r.issuing_state, idx) not in known and (r.issuing_state, idx) in ids])
    _record_document_regions(session, [(ids[(r.issuing_state, idx)], r.region_kato)
                                       for r, idx in zip(records, indexes, strict=True)
                                       if (r.issuing_state, idx) in ids])


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


def person_id_pages(session: Session, page: int = 5000) -> Iterator[list[str]]:
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


# -- retention (kosh retention run) --------------------------------------------------------------

def persons_recorded_before(session: Session, before: dt.datetime, after: str = "", limit: int = 500) -> list[str]:
    """A page of persons (not merged away) recorded before `before`, in id order."""
    return repository.persons_recorded_before(session, before, after, limit)


def with_aliases(session: Session, person_ids: Sequence[str]) -> list[str]:
    """These persons and every id merged into them: they go together."""
    return sorted(set(person_ids) | repository.aliases_of(session, person_ids))


def remove_persons(session: Session, person_ids: Sequence[str], *, anonymise: bool = False) -> int:
    """Remove (or anonymise) persons no record is left for, with their documents, spellings and
    tokens; the other capabilities forget their rows of them first."""
    if anonymise:
        return repository.anonymise_persons(session, person_ids)
    return repository.delete_persons(session, person_ids)


# -- break-glass access -------------------------------------------------------------------------

BREAK_GLASS_MIN_PURPOSE = 10


def open_break_glass(session: Session, ctx: Context, principal: Principal, *, purpose: str, hours: int,
                     person_id: str | None = None, document: tuple[str, str] | None = None) -> BreakGlassGrant:
    """Open every record of one person to an officer outside their regions, for a stated
    purpose (a case, a court order) and a limited time. The person is named by id or by a
    travel document (issuing state, number): out-of-region persons cannot be searched for."""
    principal.require(Permission.BREAK_GLASS)
    if principal.user_id is None:
        raise Forbidden(Msg(N_("Break-glass access is for signed-in users.")))
    errors = []
    purpose = (purpose or "").strip()
    if len(purpose) < BREAK_GLASS_MIN_PURPOSE:
        errors.append(FieldError("purpose", Msg(N_("state the purpose (a case or order number and why) in at least "
                                                   "%(n)s characters"), n=BREAK_GLASS_MIN_PURPOSE)))
    elif len(purpose) > 500:
        errors.append(FieldError("purpose", Msg(N_("must be at most %(max_length)s characters long"), max_length=500)))
    longest = ctx.settings.break_glass_max_hours
    if not 1 <= hours <= longest:
        errors.append(FieldError("hours", Msg(N_("choose from 1 to %(n)s hours"), n=longest)))
    if not person_id and not document:
        errors.append(FieldError("person", Msg(N_("name the person by id or by a travel document"))))
    if errors:
        raise ValidationFailed(errors, Msg(N_("The access cannot be opened.")))
    target = None
    if person_id:
        target = session.get(Person, person_id)
    elif document:
        holder = find_documents(session, ctx, [document])[0]
        target = session.get(Person, holder[0]) if holder else None
    if target is None:
        raise NotFound(Msg(N_("There is no such person or document.")))
    target_id = current_id(session, target.id)
    now = utcnow()
    grant = BreakGlassGrant(user_id=principal.user_id, username=principal.username, person_id=target_id,
                            purpose=purpose, granted_at=now, expires_at=now + dt.timedelta(hours=hours))
    session.add(grant)
    session.flush()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "break_glass", "person", target_id, {"grant": grant.id, "purpose": purpose, "hours": hours})])
    return grant


def end_break_glass(session: Session, ctx: Context, principal: Principal, grant_id: int) -> BreakGlassGrant:
    """End one's own grant before it expires (admins may end anyone's)."""
    grant = session.get(BreakGlassGrant, grant_id)
    if grant is None or (grant.user_id != principal.user_id and not principal.all_regions):
        raise NotFound(Msg(N_("There is no access grant %(id)s."), id=grant_id))
    if grant.ended_at is None:
        grant.ended_at = utcnow()
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "break_glass_end", "person", grant.person_id, {"grant": grant.id})])
    return grant


def break_glass_grants(session: Session, ctx: Context, principal: Principal, *, limit: int = 100,
                       offset: int = 0) -> list[BreakGlassGrant]:
    """Auditors (and admins) see every grant, newest first; an officer sees their own."""
    query = select(BreakGlassGrant).order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
    if principal.can(Permission.AUDIT_READ):
        rows = list(session.execute(query.limit(limit).offset(offset)).scalars())
        audit.append(session, ctx.keyring, principal, [audit.Access(
            "list", "break_glass_grants", "*", {"ids": [g.id for g in rows]})])
        return rows
    principal.require(Permission.BREAK_GLASS)
    return list(session.execute(query.where(BreakGlassGrant.user_id == principal.user_id)
                                .limit(limit).offset(offset)).scalars())

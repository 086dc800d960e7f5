"""Linking the registry's persons with the trained model: at ingest, one chunk at a time, and
as a full rebuild.

A *person row* is a person as first recorded (one per new travel document); merged rows stay,
as aliases. Each row is indexed under its blocking keys (`identity_keys`). Two rows sharing a
key are compared with the model; pairs at or above the link weight are one person (the rows'
persons are merged, keeping the older), pairs between the review and link weights go to the
review queue. The clusters are the connected components of the linked pairs, however the rows
arrive, so linking at ingest and `rebuild` (Splink over the whole registry) give the same
persons on the same data.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from kosh.identity import features as feat
from kosh.identity import linking, service
from kosh.identity.model import Model
from kosh.identity.models import IdentityCandidate, IdentityKey, IdentityRecord, PersonMerge, ReviewStatus
from kosh.people import service as people
from kosh.platform import audit
from kosh.platform.context import Context
from kosh.platform.security import Permission, Principal, system_principal
from kosh.platform.sql import bulk_insert, in_values

Progress = Callable[[str, int, int], None]
_DOC_KEY_CONTEXT = "identity_key:document"
# What an officer sees of each compared field in the review queue's evidence.
# (the comparisons named after an IdentityFields attribute; the document number is not shown)
_SHOWN = frozenset({"surname", "given_names", "patronymic", "birth_date", "sex", "citizenship"})


@lru_cache(maxsize=4)
def model_at(path: str) -> Model:
    """The model file at `path` (read once per process); '' is the one shipped with Kosh."""
    return Model.load(path) if path else Model.default()


def current_model(ctx: Context) -> Model:
    """The configured model (KOSH_IDENTITY_MODEL), else the one shipped with Kosh."""
    return model_at(ctx.settings.identity_model)


def scorer_name(model: Model) -> str:
    return f"splink:{model.version}"


# -- rows and keys ---------------------------------------------------------------------------

@dataclass
class Row:
    person_id: str
    fields: people.IdentityFields
    document_id: int | None
    features: dict[str, str | None]


def _documents(session: Session, rows: dict[str, people.IdentityFields]) -> dict[str, int | None]:
    """The document each row was recorded with: as indexed, else the row's own first document,
    else (a row merged away before it was indexed) the first document its merge moved."""
    ids = list(rows)
    known = {pid: doc for pid, doc in session.execute(
        select(IdentityRecord.person_id, IdentityRecord.document_id).where(in_values(session, IdentityRecord.person_id,
                                                                                     ids)))} if ids else {}
    out: dict[str, int | None] = {}
    missing = []
    for pid, f in rows.items():
        if pid in known:
            out[pid] = known[pid]
        elif f.first_document_id is not None:
            out[pid] = f.first_document_id
        else:
            missing.append(pid)
    if missing:
        for merged_id, moved in session.execute(select(PersonMerge.merged_id, PersonMerge.moved)
                                                .where(PersonMerge.merged_id.in_(missing))
                                                .order_by(PersonMerge.id)):
            docs = json.loads(moved).get("travel_documents") or []
            out.setdefault(merged_id, min(docs) if docs else None)
    for pid in missing:
        out.setdefault(pid, None)
    return out


def load_rows(session: Session, ctx: Context, person_ids: Sequence[str]) -> dict[str, Row]:
    """Person rows with their model features (document numbers decrypted in memory only)."""
    fields = people.identity_fields(session, person_ids)
    docs = _documents(session, fields)
    numbers = people.document_numbers(session, ctx, [d for d in docs.values() if d is not None])
    out = {}
    for pid, f in fields.items():
        doc = docs[pid]
        number = numbers.get(doc) if doc is not None else None
        out[pid] = Row(pid, f, doc, feat.features(f.surname, f.given_names, f.patronymic, f.sex, f.birth_date,
                                                        f.citizenship, number))
    return out


def keys_of(ctx: Context, row: Row) -> list[str]:
    """The row's blocking keys as stored: the document keys are keyed hashes."""
    out = []
    for key in feat.blocking_keys(row.features):
        if key.startswith(("doc:", "bk_ds:")):
            column, value = key.split(":", 1)
            key = f"{column}:" + ctx.keyring.blind_index(value, _DOC_KEY_CONTEXT)
        out.append(key)
    return out


def index_rows(session: Session, ctx: Context, model: Model, rows: dict[str, Row], *,
               new: bool = False) -> dict[str, list[str]]:
    """Store (or restore) each row's record and keys; returns the keys per row. `new`: rows just
    created, with nothing indexed to replace."""
    if not rows:
        return {}
    ids = list(rows)
    if not new:
        session.execute(delete(IdentityKey).where(in_values(session, IdentityKey.person_id, ids)))
        session.execute(delete(IdentityRecord).where(in_values(session, IdentityRecord.person_id, ids)))
    keys = {pid: keys_of(ctx, row) for pid, row in rows.items()}
    bulk_insert(session, IdentityRecord.__table__, [{"person_id": pid, "document_id": row.document_id,
                                                     "model": model.version} for pid, row in rows.items()])
    key_rows = [{"key": k, "person_id": pid} for pid, ks in keys.items() for k in dict.fromkeys(ks)]
    if key_rows:
        bulk_insert(session, IdentityKey.__table__, key_rows)
    return keys


def _sharing(session: Session, keys: Iterable[str]) -> dict[str, set[str]]:
    """Rows indexed under each of these keys."""
    keys = list(set(keys))
    out: dict[str, set[str]] = {}
    for i in range(0, len(keys), 20000):
        for key, pid in session.execute(select(IdentityKey.key, IdentityKey.person_id)
                                        .where(in_values(session, IdentityKey.key, keys[i:i + 20000]))):
            out.setdefault(key, set()).add(pid)
    return out


# -- deciding on scored pairs ----------------------------------------------------------------

@dataclass
class Outcome:
    compared: int = 0
    linked_pairs: int = 0
    merges: int = 0
    queued: int = 0
    merged_ids: list[str] = field(default_factory=list)


def _evidence(model: Model, rows: dict[str, Row], a: str, b: str, evidence: list[tuple[str, str, float]]) -> str:
    """Per field: the level reached, its weight and what each record holds; first the model's
    starting point (the prior), so that the weights add up to the pair's match weight."""
    out = [{"field": "prior", "level": "prior", "weight": round(model.prior_weight, 2), "a": "", "b": ""}]
    for name, level, weight in evidence:
        shown_a = getattr(rows[a].fields, name) if name in _SHOWN else ""
        shown_b = getattr(rows[b].fields, name) if name in _SHOWN else ""
        out.append({"field": name, "level": level, "weight": round(weight, 2), "a": shown_a, "b": shown_b})
    return json.dumps(out, ensure_ascii=False)


def _rejected(session: Session, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if not pairs:
        return set()
    firsts = list({a for a, _ in pairs})
    found = {(a, b) for a, b in session.execute(select(IdentityCandidate.person_a, IdentityCandidate.person_b)
                                                .where(IdentityCandidate.status == ReviewStatus.REJECTED,
                                                       in_values(session, IdentityCandidate.person_a, firsts)))}
    return found & pairs


def apply_links(session: Session, ctx: Context, model: Model, rows: dict[str, Row],
                scored: Sequence[tuple[str, str, float, list]], *, principal: Principal | None = None,
                defer_refresh: bool = False, outcome: Outcome | None = None) -> Outcome:
    """Merge the persons of pairs at or above the link weight (keeping the older; never across a
    pair an officer rejected) and queue the pairs between the review and link weights."""

    out = outcome or Outcome()
    principal = principal or system_principal("identity linkage")
    link_w, review_w = ctx.settings.identity_link_weight, ctx.settings.identity_review_weight
    strong = [(a, b, w) for a, b, w, _ in scored if w >= link_w]
    out.linked_pairs += len(strong)
    involved = sorted({p for a, b, _ in strong for p in (a, b)})
    current = people.current_ids(session, involved)
    # Groups of the persons the rows stand for now: two rows of different groups may already be
    # one person (merged before), and their groups are then one group, merged once.
    joined_pairs = [(current[a], current[b], w) for a, b, w in strong if current[a] != current[b]]
    persons = sorted({p for a, b, _ in joined_pairs for p in (a, b)})
    groups = linking.components(persons, [(a, b) for a, b, _ in joined_pairs])
    persons_of: dict[str, set[str]] = {}
    weight_of: dict[str, float] = {}
    for a, _, w in joined_pairs:
        weight_of[groups[a]] = max(w, weight_of.get(groups[a], w))
    for pid, root in groups.items():
        persons_of.setdefault(root, set()).add(pid)
    joins = {root: sorted(members) for root, members in persons_of.items() if len(members) > 1}
    refused = _rejected(session, {pair for members in joins.values() for pair in itertools.combinations(members, 2)})
    for root, members in sorted(joins.items()):
        kept, joined = members[0], {members[0]}
        for other in members[1:]:
            if any(tuple(sorted((other, p))) in refused for p in joined):
                continue
            # The merge keeps the older person (service.kept_of), whichever is passed first.
            kept = service.merge(session, ctx, principal, kept, other,
                                 automatic_reason(weight_of[root], link_w, scorer_name(model)),
                                 defer_refresh=defer_refresh).kept_id
            joined.add(other)
            out.merges += 1
            out.merged_ids.append(other)
    _queue(session, model, rows, [(a, b, w, ev) for a, b, w, ev in scored if review_w <= w < link_w], out)
    return out


def automatic_reason(weight: float, threshold: float, scorer: str) -> str:
    """The reason stored on a merge the linker makes (pages say it in the reader's language:
    identity.page_words)."""
    return f"linked automatically: match weight {weight:.1f} ≥ {threshold:g} ({scorer})"


def _queue(session: Session, model: Model, rows: dict[str, Row], pairs: Sequence[tuple[str, str, float, list]],
           out: Outcome) -> None:
    best: dict[tuple[str, str], tuple[float, str, str, list]] = {}
    current = people.current_ids(session, sorted({p for a, b, _, _ in pairs for p in (a, b)}))
    for a, b, w, ev in pairs:
        ca, cb = current[a], current[b]
        if ca == cb:
            continue
        key = (ca, cb) if ca < cb else (cb, ca)
        if key not in best or w > best[key][0]:
            best[key] = (w, a, b, ev)
    if not best:
        return
    firsts = list({a for a, _ in best})
    seen = set(session.execute(select(IdentityCandidate.person_a, IdentityCandidate.person_b)
                               .where(in_values(session, IdentityCandidate.person_a, firsts))).all())
    new = [{"person_a": pa, "person_b": pb, "weight": round(w, 3), "scorer": scorer_name(model),
            "status": ReviewStatus.OPEN, "evidence": _evidence(model, rows, a, b, ev)}
           for (pa, pb), (w, a, b, ev) in sorted(best.items()) if (pa, pb) not in seen]
    if new:
        session.execute(insert(IdentityCandidate), new)
    out.queued += len(new)


# -- at ingest -------------------------------------------------------------------------------

def link_new(session: Session, ctx: Context, person_ids: Sequence[str], *, defer_refresh: bool = False,
             principal: Principal | None = None) -> Outcome:
    """Index new person rows and link them against every row sharing a key (and each other),
    in the caller's transaction. Returns what was merged and queued."""
    if not person_ids or not ctx.settings.identity_link_at_ingest:
        return Outcome()
    model = current_model(ctx)
    new = load_rows(session, ctx, person_ids)
    keys = index_rows(session, ctx, model, new, new=True)
    sharing = _sharing(session, {k for ks in keys.values() for k in ks})
    pairs: set[tuple[str, str]] = set()
    for pid, ks in keys.items():
        for k in ks:
            for other in sharing.get(k, ()):
                if other != pid:
                    pairs.add((pid, other) if pid < other else (other, pid))
    rows = dict(new)
    others = {p for pair in pairs for p in pair} - set(rows)
    rows.update(load_rows(session, ctx, sorted(others)))
    scored = []
    for a, b in sorted(pairs):
        w, ev = model.score(rows[a].features, rows[b].features)
        scored.append((a, b, w, ev))
    out = apply_links(session, ctx, model, rows, scored, principal=principal, defer_refresh=defer_refresh)
    out.compared = len(scored)
    audit.append(session, ctx.keyring, principal or system_principal("identity linkage"), [audit.Access(
        "link", "persons", f"{len(new)} new", {"model": model.version, "compared": out.compared,
                                               "merges": out.merges, "queued": out.queued})])
    return out


# -- the whole registry ----------------------------------------------------------------------

@dataclass
class RebuildReport:
    rows: int = 0
    indexed: int = 0
    pairs_scored: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    resumed: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def _state_paths(ctx: Context) -> tuple[Path, Path]:
    directory = Path(ctx.settings.home) / "identity-rebuild"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / "state.json", directory / "pairs.parquet"


def rebuild(ctx: Context, *, engine: str = "duckdb", progress: Progress | None = None, batch: int = 5000,
            principal: Principal | None = None, fresh: bool = False, memory_limit: str | None = None) -> RebuildReport:
    """Re-link the whole registry with Splink: index every row (skipping rows indexed by this
    model), score all blocked pairs at once, then merge and queue in batches, each in its own
    transaction. Interrupted, it resumes: indexed rows are kept, the scored pairs are reused while
    the registry has not changed, merges already made are not made again."""
    principal = principal or system_principal("kosh identity rebuild")
    model = current_model(ctx)
    report = RebuildReport()
    tick = progress or (lambda stage, done, total: None)
    state_file, pairs_file = _state_paths(ctx)

    started = time.perf_counter()
    with ctx.transaction() as s:
        report.rows, newest = people.count_person_rows(s)
        pages = list(people.person_id_pages(s, batch))
    fingerprint = {"model": model.digest, "rows": report.rows, "newest": newest.isoformat() if newest else None}
    state = json.loads(state_file.read_text()) if state_file.exists() and not fresh else {}
    reuse = state.get("fingerprint") == fingerprint and pairs_file.exists()
    schema = {"record_id": pl.String, **{c: pl.String for c in feat.COLUMNS}}
    frames = []
    done = 0
    for ids in pages:
        # One read per page serves both the index (rows not indexed by this model) and, unless
        # an interrupted run's pairs are reused, the records Splink scores.
        with ctx.transaction() as s:
            indexed = {pid for pid, m in s.execute(select(IdentityRecord.person_id, IdentityRecord.model)
                                                   .where(in_values(s, IdentityRecord.person_id, ids)))
                       if m == model.version}
            todo = [pid for pid in ids if pid not in indexed]
            rows = load_rows(s, ctx, todo if reuse else ids)
            if todo:
                index_rows(s, ctx, model, {pid: rows[pid] for pid in todo})
                report.indexed += len(todo)
        done += len(ids)
        tick("index", done, report.rows)
        if not reuse:
            frames.append(pl.DataFrame([{"record_id": pid, **r.features} for pid, r in rows.items()], schema=schema))
            tick("read", done, report.rows)
    report.seconds["index"] = time.perf_counter() - started

    started = time.perf_counter()
    if reuse:
        pairs = pl.read_parquet(pairs_file)
        report.resumed = True
        tick("score", 1, 1)
    else:
        records = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
        tick("score", 0, 1)
        with linking.engine(engine, memory_limit=memory_limit) as db:
            pairs = linking.predict(records, db, model, ctx.settings.identity_review_weight) if records.height \
                else pl.DataFrame(schema={"record_id_l": pl.String, "record_id_r": pl.String,
                                          "match_weight": pl.Float64})
        pairs.write_parquet(pairs_file)
        state = {"fingerprint": fingerprint, "applied": 0}
        state_file.write_text(json.dumps(state))
        tick("score", 1, 1)
    report.pairs_scored = pairs.height
    report.seconds["score"] = time.perf_counter() - started

    started = time.perf_counter()
    # Strongest first: every merge is made before a weaker pair is queued, so the queue holds
    # no pair that the same rebuild makes one person.
    scored = sorted(pairs.iter_rows(), key=lambda p: (-p[2], p[0], p[1]))
    applied = int(state.get("applied", 0))
    step = max(1, batch // 10)
    for i in range(applied, len(scored), step):
        chunk = scored[i:i + step]
        with ctx.transaction() as s:
            rows = load_rows(s, ctx, sorted({p for a, b, _ in chunk for p in (a, b)}))
            with_evidence = [(a, b, w, model.score(rows[a].features, rows[b].features)[1]) for a, b, w in chunk]
            apply_links(s, ctx, model, rows, with_evidence, principal=principal, outcome=report.outcome)
        state["applied"] = i + len(chunk)
        state_file.write_text(json.dumps(state))
        tick("link", state["applied"], len(scored))
    tick("link", len(scored), len(scored))
    report.seconds["link"] = time.perf_counter() - started
    with ctx.transaction() as s:
        audit.append(s, ctx.keyring, principal, [audit.Access(
            "rebuild", "persons", "*", {"model": model.version, "rows": report.rows, "indexed": report.indexed,
                                        "pairs": report.pairs_scored, "merges": report.outcome.merges,
                                        "queued": report.outcome.queued, "resumed": report.resumed})])
    return report


# -- an officer's scan -----------------------------------------------------------------------

def index_missing(session: Session, ctx: Context) -> int:
    """Index the person rows that have no identity record yet (recorded before linking existed
    or with linking at ingest switched off)."""
    model = current_model(ctx)
    count = 0
    for ids in people.person_id_pages(session):
        have = set(session.execute(select(IdentityRecord.person_id)
                                   .where(in_values(session, IdentityRecord.person_id, ids))).scalars())
        todo = [pid for pid in ids if pid not in have]
        if todo:
            index_rows(session, ctx, model, load_rows(session, ctx, todo))
            count += len(todo)
    return count


def key_pairs(session: Session, person_ids: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(smaller, larger) rows sharing a blocking key; only pairs with one of `person_ids` when given."""
    a, b = IdentityKey.__table__.alias("a"), IdentityKey.__table__.alias("b")
    stmt = select(a.c.person_id, b.c.person_id).join(b, (a.c.key == b.c.key) & (a.c.person_id < b.c.person_id))
    if person_ids is None:
        return set(session.execute(stmt.distinct()).all())
    out: set[tuple[str, str]] = set()
    ids = list(person_ids)
    for i in range(0, len(ids), 10000):
        part = ids[i:i + 10000]
        out.update(session.execute(stmt.where(in_values(session, a.c.person_id, part)
                                              | in_values(session, b.c.person_id, part)).distinct()).all())
    return out


def scan(session: Session, ctx: Context, principal: Principal, person_ids: Sequence[str] | None = None) -> int:
    """Compare every pair of rows sharing a key whose persons the caller may see and that are
    not one person already, and queue those at or above the review weight (an officer's scan
    queues; it does not merge). Returns how many pairs were queued."""
    principal.require(Permission.IDENTITY_MERGE)
    model = current_model(ctx)
    index_missing(session, ctx)
    pairs = key_pairs(session, people.current_ids(session, person_ids).values() if person_ids else None)
    involved = sorted({p for pair in pairs for p in pair})
    current = people.current_ids(session, involved)
    visible = people.registered_among(session, principal, set(current.values()))
    pairs = {(a, b) for a, b in pairs if current[a] != current[b] and current[a] in visible and current[b] in visible}
    rows = load_rows(session, ctx, sorted({p for pair in pairs for p in pair}))
    scored = []
    for a, b in sorted(pairs):
        w, ev = model.score(rows[a].features, rows[b].features)
        if w >= ctx.settings.identity_review_weight:
            scored.append((a, b, w, ev))
    out = Outcome(compared=len(pairs))
    _queue(session, model, rows, scored, out)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "scan", "identity_candidates", "*", {"model": model.version, "compared": len(pairs), "queued": out.queued})])
    return out.queued

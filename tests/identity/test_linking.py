"""Bulk linking: `kosh identity link` on CSV and Parquet with rejects, training a model, and the
same clusters on DuckDB and on Spark (local[1])."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from identity.linkage_data import groups, records, true_groups
from kosh.cli import app
from kosh.identity import linking
from kosh.identity.model import Model

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KOSH_HOME", str(tmp_path / "kosh"))
    from kosh.platform.config import get_settings
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_link_a_csv_file_into_persons(home):
    df = records()
    path = home / "records.csv"
    df.drop("person_key").write_csv(path)
    out = home / "clusters.csv"
    review = home / "review.csv"
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(out), "--review-out", str(review)])
    assert r.exit_code == 0, r.output
    clusters = pl.read_csv(out, infer_schema=False)
    assert clusters.columns == ["record_id", "person_id"]
    assert groups(clusters) == true_groups(df)
    assert f"{df.height} records → {df['person_key'].n_unique()} persons" in r.output
    assert pl.read_csv(review).height == 0  # every pair above the review weight is within one person
    assert not (home / "clusters.rejects.csv").exists()
    # a stricter link weight leaves the weaker pairs of a person for review, across clusters
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(out), "--review-out", str(review),
                            "--link-weight", "20"])
    assert r.exit_code == 0, r.output
    of = dict(pl.read_csv(out, infer_schema=False).iter_rows())
    pairs = pl.read_csv(review, schema_overrides={"record_id_l": pl.String, "record_id_r": pl.String})
    assert pairs.columns == ["record_id_l", "record_id_r", "match_weight"] and pairs.height > 0
    assert (pairs["match_weight"] < 20).all() and (pairs["match_weight"] >= -2).all()
    assert all(of[a] != of[b] for a, b in zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))


def test_link_a_parquet_file_with_bad_rows_and_missing_columns(home):
    df = records().drop("person_key", "patronymic", "source")
    bad = pl.DataFrame({"record_id": ["", "r01", "x9"], "surname": ["A", "B", ""], "given_names": ["", "", ""],
                        "sex": [None] * 3, "birth_date": [None] * 3, "citizenship": [None] * 3,
                        "document_number": [None, None, " "]}, schema={c: pl.String for c in df.columns})
    path = home / "records.parquet"
    pl.concat([df, bad]).write_parquet(path)
    out = home / "clusters.csv"
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rejects = pl.read_csv(home / "clusters.rejects.csv", infer_schema=False)
    assert rejects["row"].to_list() == [str(df.height + 1), str(df.height + 2), str(df.height + 3)]
    assert rejects["reason"].to_list() == ["record_id is empty", "record_id 'r01' appears more than once",
                                           "neither a name nor a document number to link on"]
    assert pl.read_csv(out, infer_schema=False)["record_id"].to_list() == df["record_id"].to_list()


@pytest.mark.parametrize("content, message", [
    ("surname,given_names\nA,B\n", "missing column(s) record_id"),
    ("record_id,surname,shoe_size\n1,A,44\n", "unknown column(s) shoe_size"),
])
def test_a_file_that_cannot_be_linked_is_refused_with_the_reason(home, content, message):
    path = home / "in.csv"
    path.write_text(content)
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(home / "out.csv")])
    assert r.exit_code == 2 and message in r.output
    assert not (home / "out.csv").exists()
    r = runner.invoke(app, ["identity", "link", str(home / "in.xlsx"), "--out", str(home / "out.csv")])
    assert r.exit_code == 2 and "expected a .csv or .parquet file" in r.output
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(home / "o.csv"), "--engine", "oracle"])
    assert r.exit_code == 2 and "unknown engine" in r.output


def test_train_a_model_and_link_with_it(home):
    from benchmarks import evaluation
    from kosh_demo import generate

    df = evaluation.demo_records(generate(seed=4, size="small"))
    path = home / "train.csv"
    df.drop("person_key").write_csv(path)
    model_path = home / "model.json"
    r = runner.invoke(app, ["identity", "train", str(path), "--out", str(model_path), "--version", "test-1"])
    assert r.exit_code == 0, r.output
    model = Model.load(model_path)
    assert model.version == "test-1" and model.meta["records"] == df.height
    assert model.term_frequencies["sn_sk"] and abs(sum(model.term_frequencies["sn_sk"].values()) - 1) < 1e-9
    levels = {c["output_column_name"]: c["comparison_levels"]
              for c in json.loads(model_path.read_text())["comparisons"]}
    assert all("m_probability" in lv for lv in levels["birth_date"] if not lv.get("is_null_level"))
    out = home / "clusters.csv"
    r = runner.invoke(app, ["identity", "link", str(path), "--out", str(out), "--model", str(model_path)])
    assert r.exit_code == 0 and "model test-1" in r.output
    scores = evaluation.score_clusters(pl.read_csv(out, infer_schema=False), df)
    assert scores.pairwise.f1 > 0.95 and scores.cluster_f1 > 0.95


def test_the_same_clusters_and_weights_on_spark_as_on_duckdb():
    df = records()
    prepared = linking.prepare(df.drop("person_key"))
    model = Model.default()
    results = {}
    for engine in ("duckdb", "spark"):
        with linking.engine(engine, spark_master="local[1]") as db:
            results[engine] = linking.link(prepared, db, model, link_weight=8.0, review_weight=-2.0)
    duck, spark = results["duckdb"], results["spark"]
    assert groups(duck.clusters) == groups(spark.clusters) == true_groups(df)
    joined = duck.pairs.join(spark.pairs, on=["record_id_l", "record_id_r"], how="full", coalesce=True)
    assert joined.height == duck.pairs.height == spark.pairs.height
    assert (joined["match_weight"] - joined["match_weight_right"]).abs().max() < 1e-6


def test_training_works_without_citizenship_or_documents():
    """A training session whose block finds no pair (no citizenship anywhere) is skipped; the
    others train the comparisons."""
    from benchmarks import evaluation
    from kosh_demo import generate

    df = evaluation.demo_records(generate(seed=4, size="small")).with_columns(
        citizenship=pl.lit(None, pl.String))
    prepared = linking.prepare(df.drop("person_key"))
    with linking.engine("duckdb") as db:
        model = linking.train(prepared, db, version="no-cit", trained_on="test")
        result = linking.link(prepared, db, model, link_weight=8.0, review_weight=0.0)
    by_name = {c["output_column_name"]: c for c in model.data["comparisons"]}
    dob = {lv["label_for_charts"]: lv for lv in by_name["birth_date"]["comparison_levels"]}
    assert dob["exact"]["m_probability"] > dob["different"]["m_probability"]
    assert evaluation.score_clusters(result.clusters, df).pairwise.f1 > 0.9


def test_duckdb_linking_needs_no_pandas(monkeypatch):
    """The runtime install has no pandas (only the Spark extra brings it): DuckDB results come
    out through Arrow."""
    import sys

    df = records()
    prepared = linking.prepare(df.drop("person_key"))
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    with linking.engine("duckdb") as db:
        result = linking.link(prepared, db, Model.default(), link_weight=8.0, review_weight=-2.0)
    assert groups(result.clusters) == true_groups(df)

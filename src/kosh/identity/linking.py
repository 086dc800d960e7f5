"""Batch linking with Splink: train the model, score pairs, cluster records into persons.

Engines: DuckDB (embedded, the default) and Spark (`pyspark`: local[N] or a cluster URL). Both
run the same settings; only the SQL dialect of two functions differs (see `model.settings`).
Inputs are Polars frames of feature columns (`prepare`) with a `record_id` column.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from kosh.identity import features as feat
from kosh.identity.model import DETERMINISTIC_RULES, FORMAT, TRAINING_BLOCKS, Model, ModelError, block_sql
from kosh.identity.model import settings as untrained_settings
from kosh.platform.clock import utcnow

INPUT_COLUMNS = ("record_id", "source", "surname", "given_names", "patronymic", "sex", "birth_date", "citizenship",
                 "document_number")
REQUIRED_COLUMNS = ("record_id",)
ENGINES = ("duckdb", "spark")
Progress = Callable[[int, int], None]
_names = itertools.count(1)

# Splink logs every SQL step at INFO; our own progress bars say what is happening.
logging.getLogger("splink").setLevel(logging.WARNING)


class InputError(ValueError):
    """An input file that cannot be linked at all (missing columns, unreadable)."""


@dataclass
class Rejected:
    row: int  # 1-based data row (the header is row 0)
    record_id: str
    reason: str


REJECT_COLUMNS = ("row", "record_id", "reason")  # of the rejects file, one Rejected a row


def read_records(path: Path) -> pl.DataFrame:
    """A CSV or Parquet file of records, every column as text; missing optional columns are
    added empty. Raises InputError for a file that is not one or lacks `record_id`."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pl.read_parquet(path)
        elif suffix in (".csv", ".txt"):
            df = pl.read_csv(path, infer_schema=False, encoding="utf8")
        else:
            raise InputError(f"{path.name}: expected a .csv or .parquet file")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path.name}: cannot read: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}; expected {', '.join(INPUT_COLUMNS)}")
    unknown = [c for c in df.columns if c not in INPUT_COLUMNS]
    if unknown:
        raise InputError(f"{path.name}: unknown column(s) {', '.join(unknown)}; expected {', '.join(INPUT_COLUMNS)}")
    # Polars would turn an object or a list into text like "{1}" and link on it.
    nested = [c for c, t in df.schema.items() if t.is_nested()]
    if nested:
        raise InputError(f"{path.name}: column(s) {', '.join(nested)} hold objects or lists; every value must be "
                         "text, a number or a date")
    df = df.with_columns(pl.col(c).cast(pl.String) for c in df.columns)
    return df.with_columns(pl.lit(None, pl.String).alias(c) for c in INPUT_COLUMNS if c not in df.columns) \
             .select(INPUT_COLUMNS)


def validate(df: pl.DataFrame) -> tuple[pl.DataFrame, list[Rejected]]:
    """Rows that can be linked, and the rest with the reason: a record needs a non-empty,
    unique id and something to link on (a name or a document number)."""
    seen: set[str] = set()
    keep: list[int] = []
    rejected: list[Rejected] = []
    ids = df["record_id"].to_list()
    names_present = (df["surname"].fill_null("").str.strip_chars().str.len_chars() > 0) | \
                    (df["given_names"].fill_null("").str.strip_chars().str.len_chars() > 0)
    docs_present = df["document_number"].fill_null("").str.strip_chars().str.len_chars() > 0
    for i, (rid, has_name, has_doc) in enumerate(zip(ids, names_present, docs_present, strict=True)):
        rid = (rid or "").strip()
        if not rid:
            rejected.append(Rejected(i + 1, "", "record_id is empty"))
        elif rid in seen:
            rejected.append(Rejected(i + 1, rid, f"record_id {rid!r} appears more than once"))
        elif not has_name and not has_doc:
            rejected.append(Rejected(i + 1, rid, "neither a name nor a document number to link on"))
        else:
            seen.add(rid)
            keep.append(i)
    out = df[keep].with_columns(pl.col("record_id").str.strip_chars())
    return out, rejected


def prepare(df: pl.DataFrame, progress: Progress | None = None) -> pl.DataFrame:
    """record_id plus the model's feature columns, one row per input row."""
    cols: dict[str, list[Any]] = {c: [] for c in feat.COLUMNS}
    total = df.height
    step = max(1, total // 100)
    for i, row in enumerate(df.select("surname", "given_names", "patronymic", "sex", "birth_date", "citizenship",
                                      "document_number").iter_rows()):
        f = feat.features(*row)
        for c in feat.COLUMNS:
            cols[c].append(f[c])
        if progress and (i + 1) % step == 0:
            progress(i + 1, total)
    if progress:
        progress(total, total)
    return pl.DataFrame({"record_id": df["record_id"], **cols},
                        schema={"record_id": pl.String, **{c: pl.String for c in feat.COLUMNS}})


# -- engines ---------------------------------------------------------------------------------

@contextlib.contextmanager
def engine(kind: str = "duckdb", spark_master: str | None = None, memory_limit: str | None = None,
           temp_directory: str | None = None) -> Iterator[Any]:
    """A Splink database API for the engine; a Spark session is started (and stopped) here."""
    if kind == "duckdb":
        import duckdb
        from splink import DuckDBAPI
        con = duckdb.connect()
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        # Spill to the system's temporary folder, not to ./.tmp of whatever folder we run in.
        spill = Path(temp_directory or tempfile.gettempdir()) / "kosh-duckdb"
        con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        con.execute("SET preserve_insertion_order = false")
        try:
            yield DuckDBAPI(connection=con)
        finally:
            con.close()
    elif kind == "spark":
        spark = _spark_session(spark_master or os.environ.get("KOSH_SPARK_MASTER", "local[1]"))
        from splink import SparkAPI
        try:
            yield SparkAPI(spark_session=spark, num_partitions_on_repartition=_spark_partitions(spark))
        finally:
            spark.stop()
    else:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {kind!r}")


def _spark_partitions(spark: Any) -> int:
    return max(2, int(spark.sparkContext.defaultParallelism) * 2)


def _spark_session(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - the test lock installs pyspark
        raise InputError("the Spark engine needs pyspark: install Kosh with the 'spark' extra") from exc
    from splink.backends.spark import similarity_jar_location
    builder = (SparkSession.builder.master(master).appName("kosh-identity")
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.sql.session.timeZone", "UTC"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(Path(os.environ.get("TMPDIR", "/tmp")) / "kosh-spark-checkpoints"))
    return spark


def _dialect(db_api: Any) -> str:
    return "spark" if type(db_api).__name__.startswith("Spark") else "duckdb"


def _register(db_api: Any, df: pl.DataFrame, name: str) -> Any:
    """Register a frame under a fresh name (`name` is for reading Splink's SQL logs)."""
    table = df.to_pandas() if _dialect(db_api) == "spark" else df.to_arrow()
    return db_api.register(table, table_name=f"{name}_{next(_names)}")


# -- training --------------------------------------------------------------------------------

def train(records: pl.DataFrame, db_api: Any, *, version: str, trained_on: str, seed: int = 1,
          max_pairs: float = 2e6) -> Model:
    """EM training on `records` (prepared features). The prior comes from deterministic rules,
    u from random pairs, m from EM sessions each blocking on other fields; term frequencies of
    the name skeletons are stored in the model so every later scoring uses the same."""
    from splink import Linker
    table = _register(db_api, records, "kosh_training")
    linker = Linker(table, untrained_settings(_dialect(db_api)), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    trained = 0
    for columns in TRAINING_BLOCKS:
        # A session whose block finds no pair (no citizenship, no documents in this data) is
        # skipped beforehand: Splink, failing inside one, drops the blocked comparisons from the
        # model. The other sessions train what it would have.
        if records.drop_nulls(list(columns)).group_by(list(columns)).len().filter(pl.col("len") > 1).is_empty():
            continue
        linker.training.estimate_parameters_using_expectation_maximisation(block_sql(columns),
                                                                           record_sample_proportion=1.0)
        trained += 1
    if not trained:
        raise ModelError("no training session found pairs: the records share no birth date, name or document")
    data = regularise(linker.misc.save_model_to_json())
    data["kosh"] = {"format": FORMAT, "version": version, "trained_on": trained_on, "records": records.height,
                    "trained_at": utcnow().isoformat(timespec="seconds"),
                    "splink": _splink_version()}
    data["kosh_term_frequencies"] = term_frequencies(records)
    return Model(data)


MIN_WEIGHT, MAX_WEIGHT, MIN_U = -10.0, 16.0, 1e-6


def regularise(data: dict[str, Any]) -> dict[str, Any]:
    """Bound every level's weight to [MIN_WEIGHT, MAX_WEIGHT] by moving m, and give levels the
    training never saw a neutral value. EM drives m to zero for a level that no true pair in the
    training data shows (a sex or birth-date typo in a clean sample), which would make one typo
    veto any match (-80); real registries have such typos."""
    for comp in data["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            u = level.get("u_probability")
            m = level.get("m_probability")
            u = MIN_U if not isinstance(u, (int, float)) or u < MIN_U else float(u)
            m = u if not isinstance(m, (int, float)) else float(m)
            m = min(max(m, u * 2 ** MIN_WEIGHT), u * 2 ** MAX_WEIGHT)
            level["u_probability"], level["m_probability"] = u, min(m, 1.0)
    return data


def _splink_version() -> str:
    import splink
    return splink.__version__


def term_frequencies(records: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Share of records per value of each TF-adjusted column (as Splink computes them)."""
    out: dict[str, dict[str, float]] = {}
    for col in ("sn_sk", "gn_sk"):
        s = records[col].drop_nulls()
        counts = s.value_counts()
        total = s.len()
        out[col] = {v: c / total for v, c in counts.iter_rows()} if total else {}
    return out


def _register_tf(linker: Any, db_api: Any, model: Model) -> None:
    for col, table in model.term_frequencies.items():
        tf = pl.DataFrame({col: list(table.keys()), f"tf_{col}": list(table.values())},
                          schema={col: pl.String, f"tf_{col}": pl.Float64})
        linker.table_management.register_term_frequency_lookup(_register(db_api, tf, f"kosh_tf_{col}"), col)


# -- predicting and clustering ---------------------------------------------------------------

def _linker(records: pl.DataFrame, db_api: Any, model: Model) -> Any:
    from splink import Linker
    table = _register(db_api, records, "kosh_records")
    linker = Linker(table, model.splink_settings(_dialect(db_api)), log_level=logging.WARNING)
    _register_tf(linker, db_api, model)
    return linker


def predict(records: pl.DataFrame, db_api: Any, model: Model, threshold: float) -> pl.DataFrame:
    """Scored pairs at or above `threshold` (match weight): record_id_l, record_id_r, match_weight."""
    linker = _linker(records, db_api, model)
    pairs = linker.inference.predict(threshold_match_weight=threshold, warning_mode="never")
    return _pairs_frame(pairs)


def _to_polars(table: Any) -> pl.DataFrame:
    """A Splink result as a Polars frame: through Arrow on DuckDB (the runtime install has no
    pandas), through pandas on Spark (pyspark's own way out)."""
    if hasattr(table, "as_duckdbpyrelation"):
        frame = pl.from_arrow(table.as_duckdbpyrelation().to_arrow_table())
        assert isinstance(frame, pl.DataFrame)  # an Arrow table makes a frame (an array would make a Series)
        return frame
    return pl.from_pandas(table.as_pandas_dataframe())


def _pairs_frame(pairs: Any) -> pl.DataFrame:
    df = _to_polars(pairs)
    if df.is_empty():
        return pl.DataFrame(schema={"record_id_l": pl.String, "record_id_r": pl.String, "match_weight": pl.Float64})
    return df.select(pl.col("record_id_l").cast(pl.String), pl.col("record_id_r").cast(pl.String),
                     pl.col("match_weight").cast(pl.Float64))


@dataclass
class LinkResult:
    clusters: pl.DataFrame  # record_id, person_id
    pairs: pl.DataFrame  # the scored pairs at or above the review weight
    review: pl.DataFrame  # pairs between the review and link weights, across clusters


def link(records: pl.DataFrame, db_api: Any, model: Model, *, link_weight: float,
         review_weight: float) -> LinkResult:
    """Cluster records: connected components of the pairs at or above the link weight (as
    Splink's `cluster_pairwise_predictions_at_threshold`); each person is named by its
    smallest record id, so the output does not depend on the engine."""
    link_w, review_w = link_weight, review_weight
    if review_w > link_w:
        raise ModelError(f"review weight {review_w} is above the link weight {link_w}")
    linker = _linker(records, db_api, model)
    scored = linker.inference.predict(threshold_match_weight=review_w, warning_mode="never")
    pairs = _pairs_frame(scored)
    strong = pairs.filter(pl.col("match_weight") >= link_w)
    strong_table = _register(db_api, strong, "kosh_links")
    nodes = linker.clustering.cluster_pairwise_predictions_at_threshold(strong_table)
    clustered = _to_polars(nodes).select(pl.col("record_id").cast(pl.String),
                                                                   pl.col("cluster_id").cast(pl.String))
    clusters = canonical_clusters(records["record_id"], clustered)
    of = dict(clusters.iter_rows())
    review = pairs.filter(pl.col("match_weight") < link_w)
    review = review.filter(pl.Series([of[a] != of[b]
                                      for a, b in zip(review["record_id_l"], review["record_id_r"], strict=True)],
                                     dtype=pl.Boolean)) if review.height else review
    return LinkResult(clusters, pairs, review)


def canonical_clusters(record_ids: pl.Series, clustered: pl.DataFrame) -> pl.DataFrame:
    """record_id, person_id where person_id is the smallest record id of the cluster."""
    df = pl.DataFrame({"record_id": record_ids.cast(pl.String)}).join(clustered, on="record_id", how="left")
    df = df.with_columns(pl.col("cluster_id").fill_null(pl.col("record_id")))
    df = df.with_columns(pl.col("record_id").min().over("cluster_id").alias("person_id"))
    return df.select("record_id", "person_id")


def components(record_ids: list[str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """Connected components by union-find: each record to the smallest record id of its component.
    The Python twin of Splink's clustering, for the incremental path and the tests."""
    parent = {r: r for r in record_ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {r: find(r) for r in record_ids}

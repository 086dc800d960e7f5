"""The identity linkage model: comparisons, Splink settings, and the same model scored in Python.

The model is Fellegi–Sunter as Splink implements it. Each comparison has ordered levels; each
level is written twice, once as SQL for Splink (batch linking on DuckDB or Spark) and once as a
Python predicate (`Model.score`, for linking one record at ingest without a SQL engine). The
trained parameters (m and u per level, the prior, term frequencies) live in one JSON file that
both read, so the two give the same match weight for the same pair — a test holds them equal.

Model files are Splink settings JSON with a `kosh` block (format, version, trained on, date).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein

from kosh.identity.features import BLOCKING_COLUMNS

FORMAT = "kosh-identity-model/1"
Row = Mapping[str, Any]
JW_THRESHOLD = 0.88
# Jaro-Winkler is a Splink-registered UDF on Spark, a built-in on DuckDB.
_JW = {"duckdb": "jaro_winkler_similarity", "spark": "jaro_winkler"}


@dataclass(frozen=True)
class Level:
    code: str  # stable: stored in review evidence, translated on pages
    label: str  # Splink's chart label; a model file's levels must carry the same
    sql: str  # with {jw} for the dialect's Jaro-Winkler function
    test: Callable[[Row, Row], bool]
    null: bool = False
    tf: str | None = None  # term-frequency adjustment column


@dataclass(frozen=True)
class ComparisonDef:
    name: str
    description: str
    levels: tuple[Level, ...]


def _eq(a: Any, b: Any) -> bool:
    return a is not None and a == b


# Levels every comparison builds from: missing (the null level), equal, a bounded edit
# distance, and the final 'different'.

def _missing(col: str) -> Level:
    return Level("missing", "missing", f"{col}_l IS NULL OR {col}_r IS NULL",
                 lambda left, right: left[col] is None or right[col] is None, null=True)


def _equal(code: str, label: str, col: str, tf: str | None = None) -> Level:
    return Level(code, label, f"{col}_l = {col}_r", lambda left, right: _eq(left[col], right[col]), tf=tf)


# SQL function (the same name on DuckDB and in Splink's Spark jar) and its Python twin.
_DISTANCES = {"levenshtein": Levenshtein, "damerau_levenshtein": DamerauLevenshtein}


def _within(code: str, label: str, col: str, distance: str, n: int) -> Level:
    metric = _DISTANCES[distance]

    def test(left: Row, right: Row) -> bool:
        a, b = left[col], right[col]
        return a is not None and b is not None and metric.distance(a, b) <= n
    return Level(code, label, f"{distance}({col}_l, {col}_r) <= {n}", test)


DIFFERENT = Level("different", "different", "ELSE", lambda left, right: True)


def _name_levels(p: str, other: str) -> tuple[Level, ...]:
    """Levels for one name part `p`; `other` is the part a swapped name order would put here."""
    def romanised(left: Row, right: Row) -> bool:
        theirs = {right[f"{p}_r1"], right[f"{p}_r2"], right[f"{p}_r3"]} - {None}
        return any(left[f"{p}_{k}"] in theirs for k in ("r1", "r2", "r3"))

    def jw(left: Row, right: Row) -> bool:
        a, b = left[f"{p}_r1"], right[f"{p}_r1"]
        return a is not None and b is not None and JaroWinkler.similarity(a, b) >= JW_THRESHOLD

    def swapped_similar(left: Row, right: Row) -> bool:
        pairs = ((left[f"{p}_r1"], right[f"{other}_r1"]), (left[f"{other}_r1"], right[f"{p}_r1"]))
        return all(a is not None and b is not None and JaroWinkler.similarity(a, b) >= JW_THRESHOLD
                   for a, b in pairs)

    rom_sql = " OR ".join(f"{p}_{k}_l IN ({p}_r1_r, {p}_r2_r, {p}_r3_r)" for k in ("r1", "r2", "r3"))
    return (
        _missing(f"{p}_sk"),
        _equal("exact", "exact as written", p, tf=f"{p}_sk"),
        Level("romanised", "same in a romanisation", f"({rom_sql})", romanised, tf=f"{p}_sk"),
        _equal("skeleton", "same skeleton", f"{p}_sk", tf=f"{p}_sk"),
        Level("swapped", "swapped with the other name", f"{p}_sk_l = {other}_sk_r AND {other}_sk_l = {p}_sk_r",
              lambda left, right: (_eq(left[f"{p}_sk"], right[f"{other}_sk"])
                                   and _eq(left[f"{other}_sk"], right[f"{p}_sk"]))),
        Level("metaphone", "same sound (Double Metaphone)", f"{p}_mp_l = {p}_mp_r OR {p}_mp2_l = {p}_mp2_r",
              lambda left, right: (_eq(left[f"{p}_mp"], right[f"{p}_mp"])
                                   or _eq(left[f"{p}_mp2"], right[f"{p}_mp2"]))),
        Level("similar", f"similar (Jaro-Winkler ≥ {JW_THRESHOLD})",
              f"{{jw}}({p}_r1_l, {p}_r1_r) >= {JW_THRESHOLD}", jw),
        Level("swapped_similar", "swapped with the other name, spelt similarly",
              f"{{jw}}({p}_r1_l, {other}_r1_r) >= {JW_THRESHOLD} AND {{jw}}({other}_r1_l, {p}_r1_r) >= {JW_THRESHOLD}",
              swapped_similar),
        DIFFERENT,
    )


def _swap(left: Row, right: Row) -> bool:
    return (_eq(left["dob_y"], right["dob_y"]) and _eq(left["dob_m"], right["dob_d"])
            and _eq(left["dob_d"], right["dob_m"]) and left["dob_m"] != left["dob_d"])


COMPARISONS: tuple[ComparisonDef, ...] = (
    ComparisonDef("surname", "Surname in any script", _name_levels("sn", "gn")),
    ComparisonDef("given_names", "Given names in any script", _name_levels("gn", "sn")),
    ComparisonDef("patronymic", "Patronymic", (
        _missing("pn_sk"), _equal("skeleton", "same skeleton", "pn_sk"), DIFFERENT)),
    ComparisonDef("birth_date", "Date of birth", (
        _missing("dob_y"),
        _equal("exact", "exact", "dob"),
        Level("day_month_swap", "day and month swapped",
              "dob_y_l = dob_y_r AND dob_m_l = dob_d_r AND dob_d_l = dob_m_r AND dob_m_l <> dob_d_l", _swap),
        _within("one_off", "one character off", "dob", "levenshtein", 1),
        _equal("same_year", "same year", "dob_y"),
        DIFFERENT,
    )),
    ComparisonDef("document", "Travel document number", (
        _missing("doc"),
        _equal("exact", "exact", "doc"),
        # A typist's swap of two neighbouring digits is one edit too (Damerau-Levenshtein).
        _within("one_edit", "one edit", "doc", "damerau_levenshtein", 1),
        DIFFERENT,
    )),
    ComparisonDef("sex", "Sex", (_missing("sex"), _equal("same", "same", "sex"), DIFFERENT)),
    ComparisonDef("citizenship", "Citizenship", (_missing("cit"), _equal("same", "same", "cit"), DIFFERENT)),
)

BLOCKING_RULES = tuple(f"l.{c} = r.{c}" for c in BLOCKING_COLUMNS)
# Rules that admit almost no false pairs: the prior is estimated from them.
DETERMINISTIC_RULES = ("l.doc = r.doc AND l.sn_sk = r.sn_sk",
                       "l.sn = r.sn AND l.gn = r.gn AND l.dob = r.dob AND l.cit = r.cit")
# EM sessions: each blocks on some fields and trains the others.
TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (("dob", "cit"), ("sn_sk", "gn_sk"), ("doc",))


def block_sql(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"l.{c} = r.{c}" for c in columns)


def settings(dialect: str = "duckdb") -> dict[str, Any]:
    """Untrained Splink settings for the dialect ('duckdb' or 'spark')."""
    if dialect not in _JW:
        raise ValueError(f"dialect must be one of {', '.join(_JW)}, got {dialect!r}")
    comparisons = []
    for comp in COMPARISONS:
        levels = []
        for level in comp.levels:
            item: dict[str, Any] = {"sql_condition": level.sql.format(jw=_JW[dialect]),
                                    "label_for_charts": level.label}
            if level.null:
                item["is_null_level"] = True
            if level.tf:
                item["tf_adjustment_column"] = level.tf
                item["tf_adjustment_weight"] = 1.0
                # The adjustment's base u is this level's own (log2 u_level - log2 tf).
                item["disable_tf_exact_match_detection"] = True
            levels.append(item)
        comparisons.append({"output_column_name": comp.name, "comparison_description": comp.description,
                            "comparison_levels": levels})
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "blocking_rules_to_generate_predictions": [{"blocking_rule": r, "sql_dialect": "duckdb"}
                                                   for r in BLOCKING_RULES],
        "comparisons": comparisons,
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
        "max_iterations": 25,
        "em_convergence": 0.0001,
    }


class ModelError(ValueError):
    """A model file that does not fit this version of Kosh's comparisons."""


@dataclass(frozen=True)
class LevelWeight:
    label: str
    weight: float  # log2(m/u); 0 for the null level
    null: bool
    tf: str | None
    log2_u_exact: float | None  # log2 of this level's u: the TF adjustment's base


class Model:
    """A trained model: Splink settings JSON plus the `kosh` block and term frequencies."""

    def __init__(self, data: dict[str, Any]):
        meta = data.get("kosh") or {}
        if meta.get("format") != FORMAT:
            raise ModelError(f"not a Kosh identity model (format {meta.get('format')!r}, expected {FORMAT!r})")
        self.data = data
        self.meta = meta
        self.version: str = str(meta.get("version", ""))
        lam = float(data["probability_two_random_records_match"])
        self.prior_weight = math.log2(lam / (1 - lam))
        self.term_frequencies: dict[str, dict[str, float]] = {k: dict(v) for k, v in
                                                               (data.get("kosh_term_frequencies") or {}).items()}
        self.levels: list[list[LevelWeight]] = []
        stored = {c["output_column_name"]: c for c in data["comparisons"]}
        for comp in COMPARISONS:
            got = stored.get(comp.name)
            if got is None or [lv.get("label_for_charts") for lv in got["comparison_levels"]] != \
                    [lv.label for lv in comp.levels]:
                raise ModelError(f"model comparison {comp.name!r} does not match this version's levels")
            weights = []
            # the labels were checked equal above, so the lengths are too
            for definition, lv in zip(comp.levels, got["comparison_levels"], strict=True):
                u = lv.get("u_probability")
                weights.append(LevelWeight(definition.label, _level_weight(lv), definition.null, definition.tf,
                                           math.log2(u) if (definition.tf and u) else None))
            self.levels.append(weights)

    # -- loading and saving --------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Model:
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise ModelError(f"cannot read identity model {path}: {exc}") from exc

    @classmethod
    def default(cls) -> Model:
        """The model shipped with Kosh (trained on the demo generator's multilingual records)."""
        text = resources.files("kosh.identity").joinpath("model/default.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def dumps(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.dumps().encode()).hexdigest()[:12]

    def splink_settings(self, dialect: str = "duckdb") -> dict[str, Any]:
        """The trained settings for Splink in `dialect` (SQL re-rendered for it)."""
        out = copy.deepcopy({k: v for k, v in self.data.items() if not k.startswith("kosh")})
        fresh = settings(dialect)
        for comp, new in zip(out["comparisons"], fresh["comparisons"], strict=True):
            for lv, nlv in zip(comp["comparison_levels"], new["comparison_levels"], strict=True):
                lv["sql_condition"] = nlv["sql_condition"]
        return out

    # -- scoring one pair in Python ------------------------------------------------------

    def _tf(self, column: str, value: Any) -> float | None:
        table = self.term_frequencies.get(column)
        return None if table is None or value is None else table.get(value)

    def score(self, left: Row, right: Row) -> tuple[float, list[tuple[str, str, float]]]:
        """Match weight of a pair of feature rows and, per comparison, (name, level code, weight):
        the same as Splink's `match_weight` for the pair with the same model."""
        total = self.prior_weight
        evidence = []
        for comp, weights in zip(COMPARISONS, self.levels, strict=True):
            for definition, lw in zip(comp.levels, weights, strict=True):
                if definition.test(left, right):
                    w = lw.weight
                    if lw.tf and lw.log2_u_exact is not None:
                        tl, tr = self._tf(lw.tf, left[lw.tf]), self._tf(lw.tf, right[lw.tf])
                        if tl is not None or tr is not None:
                            tf = max(t for t in (tl, tr) if t is not None)
                            w += lw.log2_u_exact - math.log2(tf)
                    total += w
                    evidence.append((comp.name, definition.code, w))
                    break
        return total, evidence


def _level_weight(level: Mapping[str, Any]) -> float:
    if level.get("is_null_level"):
        return 0.0
    m, u = level.get("m_probability"), level.get("u_probability")
    if m is None or u is None or m <= 0 or u <= 0:
        return 0.0
    return math.log2(m / u)


def probability(weight: float) -> float:
    return 1 - 1 / (1 + 2 ** weight)

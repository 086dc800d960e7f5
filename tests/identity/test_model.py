"""The linkage model: its Python scorer equals Splink's match weight, pair by pair; the pure
properties of the scorer; the model file's checks and bounds."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import evaluation
from identity.linkage_data import records
from kosh.identity import linking
from kosh.identity.features import features
from kosh.identity.model import COMPARISONS, Model, ModelError, probability
from kosh_demo import generate

MODEL = Model.default()


@pytest.fixture(scope="module")
def demo_prepared():
    df = evaluation.demo_records(generate(seed=3, size="small"))
    return linking.prepare(df.drop("person_key"))


def test_python_scorer_equals_splink_on_every_blocked_pair(demo_prepared):
    crafted = linking.prepare(records().drop("person_key"))
    data = demo_prepared.vstack(crafted)
    with linking.engine("duckdb") as db:
        linker = linking._linker(data, db, MODEL)
        pairs = linking._pairs_frame(linker.inference.predict(warning_mode="never"))
    rows = {r["record_id"]: r for r in data.iter_rows(named=True)}
    assert pairs.height > 1000
    levels_seen = set()
    for a, b, weight in pairs.iter_rows():
        mine, evidence = MODEL.score(rows[a], rows[b])
        assert mine == pytest.approx(weight, abs=1e-6), (a, b)
        levels_seen.update((name, level) for name, level, _ in evidence)
    # the comparison covered most levels, not only exact agreement
    assert {("surname", "romanised"), ("surname", "swapped"), ("birth_date", "day_month_swap"),
            ("document", "one_edit"), ("document", "different")} <= levels_seen


NAMES = st.sampled_from(["Абдуллаев", "ABDULLAYEV", "Abdulloev", "Қасымов", "KASYMOV", "Ёқубов", "YAKUBOV",
                         "Шухрат", "SHUXRAT", "Нурлан", "NURLAN", "", "O'G'LI", "Раҳимов"])
DATES = st.sampled_from(["1990-05-17", "1990-17-05", "1990-05-18", "1990", "1991-05-17", "", "1985-03-15"])
RECORD = st.builds(features, NAMES, NAMES, st.sampled_from(["", "Алишерович", "Petrovich"]),
                   st.sampled_from(["M", "F", "X", ""]), DATES, st.sampled_from(["UZB", "KAZ", "RUS", ""]),
                   st.sampled_from(["FA1234567", "FA1234576", "FA1234568", "", "N0000001"]))


@settings(max_examples=300, deadline=None)
@given(RECORD, RECORD)
def test_the_score_is_symmetric_and_each_comparison_gives_one_level(a, b):
    wa, ea = MODEL.score(a, b)
    wb, eb = MODEL.score(b, a)
    assert wa == pytest.approx(wb) and [e[:2] for e in ea] == [e[:2] for e in eb]
    assert [name for name, _, _ in ea] == [c.name for c in COMPARISONS]
    assert 0.0 <= probability(wa) <= 1.0


@settings(max_examples=100, deadline=None)
@given(RECORD)
def test_a_record_matches_itself_and_with_a_document_is_certain(a):
    weight, evidence = MODEL.score(a, a)
    levels = dict((name, level) for name, level, _ in evidence)
    assert "different" not in levels.values()
    assert all(level in ("exact", "missing", "same", "skeleton", "same_year") for level in levels.values())
    if a["sn_sk"] and a["gn_sk"] and a["dob"] and a["doc"]:
        assert weight >= 8.0  # the configured link weight


def test_a_rare_surname_weighs_more_than_a_common_one():
    common = features("ABDULLAYEV", "SHUKHRAT", "", "M", "1990-05-17", "UZB", "FA1")
    rare = features("ZARIPBAYEV", "SHUKHRAT", "", "M", "1990-05-17", "UZB", "FA1")
    tf = MODEL.term_frequencies["sn_sk"]
    assert tf.get(common["sn_sk"], 0) > tf.get(rare["sn_sk"], 0)
    w_common, ev_common = MODEL.score(common, common)
    w_rare, ev_rare = MODEL.score(rare, rare)
    assert dict((n, w) for n, _, w in ev_rare)["surname"] > dict((n, w) for n, _, w in ev_common)["surname"]
    assert w_rare > w_common


def test_a_model_file_must_fit_this_version():
    with pytest.raises(ModelError, match="not a Kosh identity model"):
        Model({"kosh": {"format": "something-else"}})
    data = copy.deepcopy(MODEL.data)
    data["comparisons"][0]["comparison_levels"].pop(2)
    with pytest.raises(ModelError, match="surname"):
        Model(data)
    assert Model(json.loads(MODEL.dumps())).digest == MODEL.digest


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1))
def test_regularised_weights_stay_within_bounds(m, u):
    data = {"comparisons": [{"comparison_levels": [{"m_probability": m, "u_probability": u},
                                                   {"is_null_level": True, "m_probability": m}]}]}
    level = linking.regularise(data)["comparisons"][0]["comparison_levels"][0]
    weight = math.log2(level["m_probability"] / level["u_probability"])
    assert linking.MIN_WEIGHT - 1e-9 <= weight <= linking.MAX_WEIGHT + 1e-9
    assert 0 < level["m_probability"] <= 1 and level["u_probability"] >= linking.MIN_U

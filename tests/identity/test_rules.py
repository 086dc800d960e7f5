"""The pair scorer: levels per field, symmetry, and the variant families of one name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kosh.identity.rules import Profile, birth_level, compare, name_level


def P(pid, *spellings, birth="1990-05-17", sex="M", cit="UZB"):  # noqa: N802
    return Profile(pid, spellings, birth, sex, cit)


def test_birth_levels():
    assert birth_level("1990-05-17", "1990-05-17") == "exact"
    assert birth_level("1990-03-05", "1990-05-03") == "day_month_swap"
    assert birth_level("1990-05-17", "1990-05-18") == "one_digit"
    assert birth_level("1990-05-17", "1990-11-02") == "same_year"
    assert birth_level("1990-05-17", "1985-05-17") == "different"
    assert birth_level("1990", "1990-05-17") == "same_year"
    assert birth_level("", "1990-05-17") == "unknown"


def test_name_levels_across_scripts():
    assert name_level(["ABDULLAYEV SHUKHRAT"], ["Abdullayev Shukhrat"])[0] == "exact"
    assert name_level(["Абдуллаев Шухрат"], ["ABDULLAEV SHUKHRAT"])[0] == "same_key"
    assert name_level(["Қасымов Нұрлан"], ["KASYMOV NURLAN"])[0] == "same_key"
    assert name_level(["SHUKHRAT ABDULLAEV"], ["Абдуллаев Шухрат"])[0] == "same_key"  # order swapped
    assert name_level(["ABDULLAEV SHUKHRAT RUSTAMOVICH"], ["ABDULLAEV SHUKHRAT"])[0] == "partial"
    assert name_level(["IVANOV PETR"], ["ABDULLAEV SHUKHRAT"])[0] == "different"


def test_the_same_man_scores_high_and_strangers_low():
    same = compare(P("a", "ABDULLAYEV SHUKHRAT"), P("b", "Абдуллаев Шухрат", birth="1990-05-17"))
    swap = compare(P("a", "ABDULLAYEV SHUKHRAT", birth="1990-03-05"), P("b", "Абдуллаев Шухрат", birth="1990-05-03"))
    other = compare(P("a", "ABDULLAYEV SHUKHRAT"), P("b", "IVANOV PETR", birth="1971-01-01", cit="RUS"))
    assert same.weight > swap.weight > 6 > other.weight
    assert {e.field: e.level for e in swap.evidence}["birth_date"] == "day_month_swap"


names_st = st.lists(st.sampled_from(["ABDULLAYEV SHUKHRAT", "Абдуллаев Шухрат", "KASYMOV NURLAN", "Қасымов Нұрлан",
                                     "IVANOV PETR", "YAKUBOV BOBUR", "Ёқубов Бобур"]), min_size=1, max_size=3)
birth_st = st.sampled_from(["1990-05-17", "1990-05-13", "1990-03-05", "1990", "", "1985-05-17"])


@given(names_st, names_st, birth_st, birth_st, st.sampled_from("MFX"), st.sampled_from("MFX"),
       st.sampled_from(["UZB", "KGZ"]), st.sampled_from(["UZB", "KGZ"]))
def test_comparison_is_symmetric(na, nb, ba, bb, sa, sb, ca, cb):
    a, b = Profile("a", tuple(na), ba, sa, ca), Profile("b", tuple(nb), bb, sb, cb)
    ab, ba_ = compare(a, b), compare(b, a)
    assert ab.weight == ba_.weight
    assert [e.level for e in ab.evidence] == [e.level for e in ba_.evidence]


@given(names_st, birth_st, st.sampled_from("MF"))
def test_a_record_matches_itself_at_least_as_well_as_anything(spellings, birth, sex):
    me = Profile("a", tuple(spellings), birth, sex, "UZB")
    other = Profile("b", ("IVANOV PETR",), "1971-01-01", "M", "RUS")
    assert compare(me, me).weight >= compare(me, other).weight


def test_pair_scores():
    from kosh.identity.evaluation import PairScores

    s = PairScores(true_pairs=10, proposed=8, correct=6)
    assert (s.precision, s.recall) == (0.75, 0.6)
    assert abs(s.f1 - 2 * 0.75 * 0.6 / 1.35) < 1e-12
    assert PairScores(0, 0, 0).f1 == 1.0

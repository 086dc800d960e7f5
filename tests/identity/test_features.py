"""What the model compares: name forms across scripts, date parts, blocking keys."""

from __future__ import annotations

import pytest

from kosh.identity.features import BLOCKING_COLUMNS, COLUMNS, blocking_keys, features

FAMILIES = [
    ["Абдуллаев", "ABDULLAYEV", "Abdullaev", "Abdulloev", "Abdulaev"],
    ["Ёқубов", "Yoqubov", "YAKUBOV", "Iakubov", "Якубов"],
    ["Қасымов", "Qasymov", "KASYMOV", "Kassymov", "Qasimov"],
    ["Шухрат", "Shukhrat", "SHUXRAT", "Šuhrat"],
]


@pytest.mark.parametrize("family", FAMILIES)
def test_variant_spellings_share_the_skeleton(family):
    keys = {features(name, "", "", "", "", "", "")["sn_sk"] for name in family}
    assert len(keys) == 1 and None not in keys


def test_a_cyrillic_name_meets_its_passport_spelling_in_a_romanisation():
    cyr = features("Абдуллаев", "Шухрат", "", "M", "", "UZB", "")
    lat = features("ABDULLAYEV", "SHUKHRAT", "", "M", "", "UZB", "")
    assert lat["sn_r1"] in {cyr["sn_r1"], cyr["sn_r2"], cyr["sn_r3"]}
    assert cyr["sn"] == "абдуллаев" and lat["sn"] == "abdullayev"


def test_missing_values_are_none_and_dates_split():
    empty = features("", None, " ", "X", "", "", "  ")
    assert set(empty) == set(COLUMNS)
    assert all(v is None for v in empty.values())
    full = features("Иванов", "Пётр", "", "m", "1990-05-17", "rus", " fa-123 456 ")
    assert (full["dob"], full["dob_y"], full["dob_m"], full["dob_d"]) == ("1990-05-17", "1990", "05", "17")
    assert full["sex"] == "M" and full["cit"] == "RUS" and full["doc"] == "FA123456"
    partial = features("Иванов", "Пётр", "", "", "1990-05", "", "")
    assert (partial["dob"], partial["dob_y"], partial["dob_m"]) == (None, "1990", "05")


def test_swapped_names_share_the_name_pair_key_and_keys_need_their_parts():
    a = features("ABDULLAYEV", "SHUKHRAT", "", "", "1990-05-17", "", "FA1234567")
    b = features("SHUKHRAT", "ABDULLAYEV", "", "", "1990-05-17", "", "")
    assert a["bk_nm"] == b["bk_nm"] and a["bk_sy"] != b["bk_sy"]
    assert [k.split(":")[0] for k in blocking_keys(a)] == list(BLOCKING_COLUMNS)
    assert not any(k.startswith("doc:") for k in blocking_keys(b))
    no_date = features("ABDULLAYEV", "SHUKHRAT", "", "", "", "", "")
    assert blocking_keys(no_date) == []
    # a mistyped year keeps day and month; transposed digits keep the document's characters
    year_typo = features("SHUKHRAT", "ABDULLAYEV", "", "", "1909-05-17", "", "FA1234576")
    assert year_typo["bk_nd"] == a["bk_nd"] and year_typo["bk_nm"] != a["bk_nm"]
    assert year_typo["bk_ds"] != a["bk_ds"]  # the surname's first letter differs (swapped names)
    assert features("ABDULAEV", "", "", "", "", "", "FA1234576")["bk_ds"] == a["bk_ds"]

"""settlements.toml: the towns a host picks an address from — validated, searched by name in any
interface language, and chosen back from the label a list offers."""

from __future__ import annotations

import pytest

from jurisdictions.test_pack import broken_copy, problems_of
from kosh.jurisdictions import load_pack
from kosh.stay import hosting


@pytest.fixture(scope="module")
def kz():
    return load_pack("kz")


def test_every_settlement_is_named_in_every_language_and_lies_in_a_region(kz):
    assert len(kz.settlements) >= 20
    assert len({s.kato for s in kz.settlements}) == len(kz.settlements)
    for place in kz.settlements:
        assert len(place.kato) == 9 and place.kato.isdigit()
        assert kz.region_for_kato(place.kato) is not None
        assert all(place.names.get(lang) for lang in kz.locales)
    # the cities of republican significance and every region's centre are there
    assert {"710000000", "750000000", "790000000"} <= {s.kato for s in kz.settlements}
    centres = {s.kato[:2] for s in kz.settlements if s.kind in ("regional_centre", "city_republican")}
    assert centres == {r.kato for r in kz.regions}


def test_source_says_which_codes_are_checked(kz):
    from kosh.jurisdictions import _read_one
    from kosh.jurisdictions.schema import SettlementsFile

    file = _read_one("kz", "settlements.toml", SettlementsFile)
    assert file.source is not None and "replaced by an import of the full KATO classifier" in file.source.text
    assert {s.code_status for s in kz.settlements} <= {"official", "listed", "derived", "assumed"}


@pytest.mark.parametrize("typed, lang, first", [
    ("kar", "en", "351010000"), ("КАРА", "ru", "351010000"), ("қара", "kk", "351010000"),
    ("Усть", "ru", "631010000"), ("oske", "ru", "631010000"), ("Уральск", "en", "271010000"),
])
def test_search_by_the_start_of_a_name_in_any_language(kz, typed, lang, first):
    found = kz.find_settlements(typed, lang)
    assert found and found[0].kato == first
    assert all(any(w.casefold().startswith(typed.casefold()) for n in s.names.values()
                   for w in [n, *n.replace("-", " ").split()]) for s in found)


def test_search_finds_nothing_for_a_name_not_listed_and_everything_for_nothing(kz):
    assert kz.find_settlements("Atlantis") == []
    assert len(kz.find_settlements("", "ru", limit=100)) == len(kz.settlements)


def test_a_label_offered_in_any_language_chooses_the_settlement(kz):
    for place in kz.settlements:
        for lang in kz.locales:
            label = hosting.settlement_label(kz, place, lang)
            assert hosting.settlement_for(kz, label) == place
            assert hosting.settlement_for(kz, label.upper()) == place
    assert hosting.settlement_for(kz, "351010000").names["en"] == "Karaganda"
    assert hosting.settlement_for(kz, "Караганда").kato == "351010000"  # a name alone, when no other shares it
    assert hosting.settlement_for(kz, "Atlantis") is None and hosting.settlement_for(kz, "") is None


def test_a_settlement_twice_or_outside_the_regions_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "settlements.toml", 'kato = "750000000"', 'kato = "710000000"')
    assert problems_of(folder) == ["kz/settlements.toml: settlement[1].kato: '710000000' already used by settlement[0]"]
    other = tmp_path / "other"
    other.mkdir()
    folder = broken_copy(other, "settlements.toml", 'kato = "750000000"', 'kato = "990000000"')
    assert problems_of(folder) == [
        "kz/settlements.toml: settlement[1].kato: '990000000': its first two digits name no region of regions.toml"]


def test_a_settlement_without_a_name_in_an_interface_language_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "settlements.toml", 'names = { en = "Almaty", ru = "Алматы", kk = "Алматы" }',
                         'names = { en = "Almaty", ru = "Алматы" }')
    assert problems_of(folder) == [
        "kz/settlements.toml: settlement[1].names: no name in 'kk', an interface language of the pack "
        "(pack.toml locales)"]

from __future__ import annotations

import re
from typing import Any

import pycountry
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kosh.people.countries import (
    country_name,
    from_mrz_code,
    normalize_country,
    to_mrz_code,
)
from kosh.platform.identifiers import InvalidIdentifier


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("KAZ", "KAZ"),
        ("kaz", "KAZ"),
        ("KZ", "KAZ"),
        (" uz ", "UZB"),
        ("398", "KAZ"),
        ("860", "UZB"),
        ("4", "AFG"),
        ("D<<", "DEU"),
        ("D", "DEU"),
        ("DEU", "DEU"),
        ("UK", "GBR"),
        ("Germany", "DEU"),
        ("germany", "DEU"),
        ("Republic of Kazakhstan", "KAZ"),
        ("Kyrgyzstan", "KGZ"),
        ("Russia", "RUS"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Узбекистан", "UZB"),
        ("Российская Федерация", "RUS"),
        ("Қазақстан", "KAZ"),
        ("Тәжікстан", "TJK"),
    ],
)
def test_normalize_country_accepts_codes_and_names(value: str, expected: str) -> None:
    assert normalize_country(value) == expected


@pytest.mark.parametrize("code", ["XXA", "XXB", "XXC", "XXX", "xxa"])
def test_stateless_and_refugee_codes_are_valid_nationalities(code: str) -> None:
    assert normalize_country(code) == code.upper()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("XYZ", "XYZ is not a known country code"),
        ("QQ", "QQ is not a known country code"),
        ("999", "999 is not a known country code"),
        ("UTO", "UTO is not a known country code"),  # the ICAO specimen state is not a citizenship
        ("UNO", "UNO is not a known country code"),  # an issuing organisation is not a citizenship
        ("Atlantis", "Atlantis is not a known country"),
        ("   ", "is required"),
    ],
)
def test_normalize_country_rejects_unknown_values(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        normalize_country(value)
    assert err.value.field == "citizenship"
    assert err.value.message == message


def test_normalize_country_reports_the_given_field() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        normalize_country("ZZ", field="nationality")
    assert err.value.field == "nationality"


@given(st.sampled_from(list(pycountry.countries)))
def test_every_iso_country_normalises_from_each_of_its_codes(country: Any) -> None:
    assert normalize_country(country.alpha_3) == country.alpha_3
    assert normalize_country(country.alpha_2.lower()) == country.alpha_3
    assert normalize_country(country.numeric) == country.alpha_3


def test_mrz_codes_are_strict() -> None:
    assert from_mrz_code("D<<") == "DEU"
    assert from_mrz_code("UTO") == "UTO"
    assert from_mrz_code("UNO") == "UNO"
    assert from_mrz_code("XXA") == "XXA"
    for bad in ("DE<", "KZ<", "ZZZ", "U<O"):
        with pytest.raises(InvalidIdentifier, match=f"^{re.escape(bad)} is not a known country code$"):
            from_mrz_code(bad)


def test_to_mrz_code_pads_and_maps_germany() -> None:
    assert to_mrz_code("DEU") == "D<<"
    assert to_mrz_code("kaz") == "KAZ"
    assert to_mrz_code("XXA") == "XXA"
    with pytest.raises(InvalidIdentifier, match="^QQQ is not a known country code$"):
        to_mrz_code("QQQ")


@pytest.mark.parametrize(
    ("code", "locale", "expected"),
    [
        ("KAZ", "en", "Kazakhstan"),
        ("KAZ", "ru", "Казахстан"),
        ("KAZ", "kk", "Қазақстан"),
        ("UZB", "kk", "Өзбекстан"),
        ("DEU", "ru", "Германия"),
        ("RUS", "kk", "Ресей"),
        ("KGZ", "ru_KZ", "Киргизия"),
        ("UZB", "kk-KZ", "Өзбекстан"),
        ("KAZ", "xx", "Kazakhstan"),  # no translation shipped: English
        ("kaz", "en", "Kazakhstan"),
        ("XXA", "en", "Stateless person"),
        ("XXA", "ru", "Лицо без гражданства"),
        ("XXA", "kk", "Азаматтығы жоқ адам"),
        ("GBD", "ru", "British Overseas Territories Citizen"),  # no Russian name known: English
    ],
)
def test_country_name_in_three_languages_with_english_fallback(code: str, locale: str, expected: str) -> None:
    assert country_name(code, locale) == expected


def test_country_name_rejects_unknown_code() -> None:
    with pytest.raises(InvalidIdentifier, match="^ZZZ is not a known country code$"):
        country_name("ZZZ")


# pycountry's Kazakh catalogue gives Nepal's official name the Central African Republic's name.
AMBIGUOUS_TRANSLATIONS = {("CAF", "kk")}


@given(st.sampled_from(list(pycountry.countries)), st.sampled_from(["en", "ru", "kk"]))
def test_country_names_lead_back_to_the_country(country: Any, locale: str) -> None:
    name = country_name(country.alpha_3, locale)
    assume((country.alpha_3, locale) not in AMBIGUOUS_TRANSLATIONS)
    assert normalize_country(name) == country.alpha_3


def test_a_name_shared_by_two_countries_is_refused_not_guessed() -> None:
    with pytest.raises(InvalidIdentifier, match="^Орталық Африка Республикасы is not a known country$"):
        normalize_country("Орталық Африка Республикасы")

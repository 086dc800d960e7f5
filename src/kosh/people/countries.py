"""Citizenship and issuing-state codes: ISO 3166-1 via pycountry, plus ICAO 9303 codes.

Everything is stored as an ISO 3166-1 alpha-3 code, except where ISO has none
and ICAO 9303 (Part 3) defines one: stateless persons and refugees (XXA, XXB,
XXC), unspecified nationality (XXX), British nationality categories (GBD …),
and — only inside an MRZ — issuing organisations (UNO, EUE …) and the
specimen state Utopia (UTO). ICAO writes Germany as 'D' padded with fillers.
"""

from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry

from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.words import N_, Msg

# ICAO codes that can stand for a person's nationality.
ICAO_NATIONALITY_CODES: dict[str, str] = {
    "XXA": "Stateless person",
    "XXB": "Refugee (1951 Convention)",
    "XXC": "Refugee (other)",
    "XXX": "Unspecified nationality",
    "GBD": "British Overseas Territories Citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas Citizen",
    "GBP": "British Protected Person",
    "GBS": "British Subject",
}

# ICAO codes that appear only in machine-readable zones (issuers and specimens).
ICAO_MRZ_ONLY_CODES: dict[str, str] = {
    "UNO": "United Nations Organization",
    "UNA": "United Nations specialized agency",
    "UNK": "United Nations Interim Administration Mission in Kosovo",
    "EUE": "European Union",
    "XOM": "Sovereign Military Order of Malta",
    "XPO": "INTERPOL",
    "UTO": "Utopia (ICAO specimen)",
}

# Codes whose MRZ form differs from ISO alpha-3.
MRZ_TO_ALPHA3: dict[str, str] = {"D": "DEU"}
ALPHA3_TO_MRZ: dict[str, str] = {alpha3: mrz for mrz, alpha3 in MRZ_TO_ALPHA3.items()}

# Exceptionally reserved ISO alpha-2 codes still seen on forms.
ALPHA2_ALIASES: dict[str, str] = {"UK": "GBR", "EL": "GRC"}

# Everyday names that pycountry's English, Russian and Kazakh names do not cover.
NAME_ALIASES: dict[str, str] = {
    "russia": "RUS",
    "россия": "RUS",
    "turkey": "TUR",
    "great britain": "GBR",
    "кыргызстан": "KGZ",
    "белоруссия": "BLR",
}

# Names of ICAO-only codes where pycountry has no translation to offer.
ICAO_NAME_TRANSLATIONS: dict[str, dict[str, str]] = {
    "ru": {
        "XXA": "Лицо без гражданства",
        "XXB": "Беженец (Конвенция 1951 года)",
        "XXC": "Беженец (иной)",
        "XXX": "Гражданство не указано",
    },
    "kk": {
        "XXA": "Азаматтығы жоқ адам",
        "XXB": "Босқын (1951 жылғы Конвенция)",
        "XXC": "Босқын (басқа)",
        "XXX": "Азаматтығы көрсетілмеген",
    },
}


def _translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """Casefolded English, Russian and Kazakh country names → alpha-3 (ambiguous names left out)."""
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    translations = [_translation("ru"), _translation("kk")]
    for country in pycountry.countries:
        english = {
            getattr(country, attr)
            for attr in ("name", "official_name", "common_name")
            if getattr(country, attr, None)
        }
        names = set(english)
        for tr in translations:
            names.update(tr.gettext(name) for name in english)
        for name in names:
            key = " ".join(name.casefold().split())
            if index.setdefault(key, country.alpha_3) != country.alpha_3:
                ambiguous.add(key)
    for key in ambiguous:
        del index[key]
    index.update(NAME_ALIASES)
    for code, name in ICAO_NATIONALITY_CODES.items():
        index.setdefault(name.casefold(), code)
    return index


def _iso_alpha3(code: str) -> str | None:
    country = pycountry.countries.get(alpha_3=code)
    return country.alpha_3 if country else None


@lru_cache(maxsize=4096)  # a handful of codes recur in every row of a feed
def normalize_country(value: str, field: str = "citizenship") -> str:
    """ISO 3166-1 alpha-3 (or an ICAO nationality code) from a code, an MRZ code or a name.

    Accepts alpha-3 ('KAZ'), alpha-2 ('kz'), numeric ('398', '4'), MRZ codes
    ('D<<', 'XXA') and English, Russian or Kazakh names ('Germany', 'Узбекистан').
    """
    text = " ".join(str(value).split())
    code = text.upper()
    if code and set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<"):
        code = code.rstrip("<")
        if code in MRZ_TO_ALPHA3:
            return MRZ_TO_ALPHA3[code]
        if len(code) == 3:
            found = _iso_alpha3(code) or (code if code in ICAO_NATIONALITY_CODES else None)
            if found:
                return found
        elif len(code) == 2:
            if code in ALPHA2_ALIASES:
                return ALPHA2_ALIASES[code]
            country = pycountry.countries.get(alpha_2=code)
            if country:
                return country.alpha_3
        if len(code) <= 3:
            raise InvalidIdentifier(field, Msg(N_("%(value)s is not a known country code"), value=text))
    elif code.isdigit() and len(code) <= 3:
        country = pycountry.countries.get(numeric=code.zfill(3))
        if country:
            return country.alpha_3
        raise InvalidIdentifier(field, Msg(N_("%(value)s is not a known country code"), value=text))
    if not text:
        raise InvalidIdentifier(field, Msg(N_("is required")))
    found = _name_index().get(text.casefold())
    if found:
        return found
    raise InvalidIdentifier(field, Msg(N_("%(value)s is not a known country"), value=text))


def from_mrz_code(code: str, field: str = "mrz", label: str | None = None) -> str:
    """The stored code for a 3-character MRZ field ('D<<' → 'DEU'); strict: no alpha-2, no names."""
    stripped = code.rstrip("<")
    if stripped in MRZ_TO_ALPHA3:
        return MRZ_TO_ALPHA3[stripped]
    if len(stripped) == 3 and (
        _iso_alpha3(stripped) or stripped in ICAO_NATIONALITY_CODES or stripped in ICAO_MRZ_ONLY_CODES
    ):
        return stripped
    if label is not None:  # which part of the MRZ it was (the issuing state, the nationality)
        raise InvalidIdentifier(field, Msg(N_("the %(part)s %(value)s is not a known country code"), part=Msg(label),
                                           value=code))
    raise InvalidIdentifier(field, Msg(N_("%(value)s is not a known country code"), value=code))


def to_mrz_code(alpha3: str, field: str = "mrz") -> str:
    """The 3-character MRZ field for a stored code ('DEU' → 'D<<')."""
    code = str(alpha3).strip().upper()
    code = ALPHA3_TO_MRZ.get(code, code)
    from_mrz_code(code.ljust(3, "<"), field)
    return code.ljust(3, "<")


def country_name(alpha3: str, locale: str = "en") -> str:
    """The country's name in 'en', 'ru' or 'kk' (any locale pycountry translates); English otherwise."""
    code = str(alpha3).strip().upper()
    language = locale.replace("-", "_").split("_")[0].lower()
    if code in ICAO_NATIONALITY_CODES or code in ICAO_MRZ_ONLY_CODES:
        english = ICAO_NATIONALITY_CODES.get(code) or ICAO_MRZ_ONLY_CODES[code]
        return ICAO_NAME_TRANSLATIONS.get(language, {}).get(code, english)
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise InvalidIdentifier("citizenship", Msg(N_("%(value)s is not a known country code"), value=alpha3))
    if language == "en":
        return country.name
    return _translation(language).gettext(country.name)

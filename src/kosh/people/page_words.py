"""People's codes said as words on pages, in the page's language: sex, document types, countries,
where a spelling came from, and dates that may lack a day or a month."""

from __future__ import annotations

from babel.dates import format_skeleton

from kosh.people import countries
from kosh.people.dates import PartialDate
from kosh.people.dates import parse as parse_partial
from kosh.platform.i18n import format_day, translations
from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.pages import language_filter
from kosh.platform.words import N_

SEX_WORDS = {"M": N_("male"), "F": N_("female"), "X": N_("not stated")}
# ICAO 9303: P a passport, its second letter the kind; ID an identity card.
DOCUMENT_TYPE_WORDS = {"P": N_("passport"), "PD": N_("diplomatic passport"), "PS": N_("service passport"),
                       "ID": N_("identity card")}
NAME_SOURCE_WORDS = {"border": N_("border crossing"), "notification": N_("host notification"),
                     "api": N_("recorded by an officer"), "import": N_("imported feed")}


def _word(words: dict[str, str], code: object, lang: str) -> str:
    text = str(code or "")
    return translations(lang).gettext(words[text]) if text in words else (text or "—")


@language_filter("sex")
def sex(code: object, lang: str) -> str:
    return _word(SEX_WORDS, code, lang)


@language_filter("document_type")
def document_type(code: object, lang: str) -> str:
    return _word(DOCUMENT_TYPE_WORDS, code, lang)


@language_filter("name_source")
def name_source(code: object, lang: str) -> str:
    return _word(NAME_SOURCE_WORDS, code, lang)


@language_filter("country")
def country(code: object, lang: str) -> str:
    """A country (ISO alpha-3) by its name in the page's language; the code when it names none."""
    text = str(code or "")
    if not text:
        return "—"
    try:
        return countries.country_name(text, lang)
    except InvalidIdentifier:
        return text


@language_filter("partial_day")
def partial_day(value: object, lang: str) -> str:
    """A date whose day or month may be unknown ("1990-05", "1990"), written for the locale."""
    if not value:
        return "—"
    try:
        found: PartialDate = parse_partial(str(value))
    except (InvalidIdentifier, ValueError):
        return str(value)
    if found.day is not None and found.month is not None:
        return format_day(found.earliest(), lang)
    if found.month is not None:
        return format_skeleton("yMMMM", found.earliest(), locale=lang)
    return str(found.year)

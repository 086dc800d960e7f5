"""Interface languages: Babel catalogs (src/kosh/locale/<lang>/LC_MESSAGES/messages.po).

The .po files are the source of truth; they are compiled in memory at start-up with Babel,
so no compiled .mo files are kept in the repository.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Protocol, cast

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kosh.jurisdictions import interface_locales, public_locales

# The interface languages the default jurisdiction pack declares (its pack.toml `locales`).
LOCALES: tuple[str, ...] = interface_locales()
# The languages of the public pages (no account), pack.toml `public_locales`: more than the
# officers' interface, for the migrants' own languages.
PUBLIC_LOCALES: tuple[str, ...] = public_locales()
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша",
                  "uz": "Oʻzbekcha", "tg": "Тоҷикӣ", "ky": "Кыргызча"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if (lang not in LOCALES and lang not in PUBLIC_LOCALES) or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def negotiate(query: str | None, cookie: str | None, accept_language: str | None,
              offered: tuple[str, ...] = LOCALES) -> str:
    """The language of a reply among those `offered` (the officers' interface by default; the
    public pages offer PUBLIC_LOCALES): asked in the query, else kept in the cookie, else the
    browser's preference, else English."""
    for candidate in (query, cookie):
        if candidate in offered:
            return candidate
    if accept_language:
        prefs = []
        for part in accept_language.split(","):
            tag, _, q = part.strip().partition(";q=")
            try:
                prefs.append((float(q) if q else 1.0, tag.split("-")[0].lower()))
            except ValueError:
                continue
        for _, tag in sorted(prefs, key=lambda p: -p[0]):
            if tag in offered:
                return tag
    return DEFAULT


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)  # parsed once per language: every date said on a page or in a problem


def format_day(day: dt.date | None, lang: str) -> str:
    if day is None:
        return "—"
    return format_date(day, format="medium", locale=_locale(lang))


class Said(Protocol):
    """A text that carries its msgid and parameters (e.g. the stay engine's Reason, a str)."""

    message: str
    params: Mapping[str, object]


def say(message: object, lang: str) -> str:
    """A message in the interface language: texts that carry their msgid and parameters
    (`kosh.platform.words.Msg`, e.g. the stay engine's reasons) are translated, their dates
    written for the locale, a list parameter said as its words joined; a plain text as it is."""
    said_in = getattr(message, "said_in", None)
    if said_in is not None:  # a code with the pack's own names (words.Named)
        return str(said_in(lang))
    template = getattr(message, "message", None)
    if template is None:
        return str(message)
    gettext = translations(lang).gettext
    params: dict[str, object] = {}
    for key, value in cast(Said, message).params.items():  # a text with its msgid has its parameters too
        params[key] = _said_param(value, lang, gettext)
    text = gettext(template)
    return text % params if params else text


def _said_param(value: object, lang: str, gettext: Callable[[str], str]) -> object:
    if hasattr(value, "message") or hasattr(value, "said_in"):
        return say(value, lang)
    if isinstance(value, dt.date):
        return format_day(value, lang)
    if isinstance(value, (list, tuple)):  # codes (allowed values): each as its word
        return ", ".join(gettext(v) if type(v) is str else str(_said_param(v, lang, gettext)) for v in value)
    return value

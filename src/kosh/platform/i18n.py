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

from kosh.jurisdictions import interface_locales

# The interface languages the default jurisdiction pack declares (its pack.toml `locales`).
LOCALES: tuple[str, ...] = interface_locales()
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang not in LOCALES or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LOCALES:
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
            if tag in LOCALES:
                return tag
    return DEFAULT


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def format_day(day: dt.date | None, lang: str) -> str:
    if day is None:
        return "—"
    return format_date(day, format="medium", locale=Locale.parse(lang))


class Said(Protocol):
    """A text that carries its msgid and parameters (e.g. the stay engine's Reason, a str)."""

    message: str
    params: Mapping[str, object]


def say(message: object, lang: str) -> str:
    """A message in the interface language: texts that carry their msgid and parameters
    (e.g. the stay engine's reasons) are translated and their dates written for the locale."""
    template = getattr(message, "message", None)
    if template is None:
        return str(message)
    params: dict[str, object] = {}
    for key, value in cast(Said, message).params.items():  # a text with its msgid has its parameters too
        if hasattr(value, "message"):
            params[key] = say(value, lang)
        elif isinstance(value, dt.date):
            params[key] = format_day(value, lang)
        else:
            params[key] = value
    return translations(lang).gettext(template) % params

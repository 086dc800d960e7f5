"""The interface catalogs: Russian and Kazakh are complete, well-formed and actually load."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from kosh.platform.i18n import LOCALE_DIR, translations

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TRANSLATED = ("ru", "kk")
STATUS_WORDS = ("lawful", "notification_overdue", "overstay", "no_lawful_basis")
PLURAL_COUNT = {"ru": 3, "kk": 2}


def _read(path, locale=None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _catalog(lang: str):
    return _read(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", locale=lang)


def _template_ids() -> list[str]:
    return [m.id if isinstance(m.id, str) else m.id[0] for m in _read(LOCALE_DIR / "messages.pot") if m.id]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_template_is_not_empty():
    assert len(_template_ids()) > 100


def _forms(message) -> list[str]:  # a babel Message; plural ones carry a tuple
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_template_message_is_translated(lang):
    catalog = _catalog(lang)
    missing = [mid for mid in _template_ids()
               if mid not in catalog or not all(f.strip() for f in _forms(catalog[mid]))]
    assert missing == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_plural_messages_have_every_form(lang):
    catalog = _catalog(lang)
    plural = [m for m in catalog if m.id and isinstance(m.id, (tuple, list))]
    assert all(len(_forms(m)) == PLURAL_COUNT[lang] for m in plural)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_are_kept(lang):
    catalog = _catalog(lang)
    wrong = {str(m.id): m.string for m in catalog if m.id and any(
        _placeholders(m.id if isinstance(m.id, str) else m.id[-1]) != _placeholders(form) for form in _forms(m))}
    assert wrong == {}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_nothing_is_fuzzy(lang):
    catalog = _catalog(lang)
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_header(lang):
    catalog = _catalog(lang)
    assert str(catalog.locale) == lang
    assert catalog.num_plurals == PLURAL_COUNT[lang]
    assert catalog.charset.lower() == "utf-8"
    assert f"nplurals={PLURAL_COUNT[lang]}" in dict(catalog.mime_headers)["Plural-Forms"]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_status_words_are_human(lang):
    gettext = translations(lang).gettext
    for word in STATUS_WORDS:
        text = gettext(word)
        assert text and text != word
        assert "_" not in text


def test_russian_catalog_is_loaded_by_the_app():
    expected = _catalog("ru")["Stay calculator"].string
    assert expected
    assert translations("ru").gettext("Stay calculator") == expected


def test_kazakh_catalog_is_loaded_by_the_app():
    expected = _catalog("kk")["Sign in"].string
    assert expected
    assert translations("kk").gettext("Sign in") == expected


def test_english_gives_human_words_for_data_values():
    gettext = translations("en").gettext
    assert gettext("no_lawful_basis") == "no lawful basis"
    assert gettext("officer") == "Officer"
    assert gettext("Stay calculator") == "Stay calculator"

"""The interface languages are the jurisdiction pack's: pack.toml declares them, i18n reads them."""

from __future__ import annotations

from kosh.jurisdictions import interface_locales, load_pack
from kosh.platform import i18n


def test_interface_languages_come_from_the_pack() -> None:
    assert i18n.LOCALES == interface_locales() == load_pack().locales
    assert i18n.DEFAULT in i18n.LOCALES
    assert set(i18n.LOCALES) <= set(i18n.LANGUAGE_NAMES)  # the language menu names each one


def test_every_interface_language_has_a_catalog_or_is_the_source_language() -> None:
    for lang in i18n.LOCALES:
        po = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        assert lang == "en" or po.is_file(), lang

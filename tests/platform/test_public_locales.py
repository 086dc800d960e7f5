"""The public pages' languages: negotiated among the six, the officers' interface keeps its three."""

from __future__ import annotations

from kosh.platform import i18n


def test_public_and_interface_languages():
    assert i18n.LOCALES == ("en", "ru", "kk")
    assert i18n.PUBLIC_LOCALES == ("kk", "ru", "en", "uz", "tg", "ky")
    assert all(code in i18n.LANGUAGE_NAMES for code in i18n.PUBLIC_LOCALES)


def test_negotiation_offers_the_public_languages_only_where_asked():
    assert i18n.negotiate("uz", None, None, i18n.PUBLIC_LOCALES) == "uz"
    assert i18n.negotiate("uz", None, None) == "en"  # an officers' page does not speak Uzbek
    assert i18n.negotiate(None, None, "ky-KG,ru;q=0.8", i18n.PUBLIC_LOCALES) == "ky"
    assert i18n.negotiate(None, None, "ky-KG,ru;q=0.8") == "ru"


def test_the_new_catalogs_load_and_dates_are_written_for_them():
    assert i18n.translations("tg").gettext("Not in the country") == "Дар кишвар нест"
    import datetime as dt

    assert i18n.format_day(dt.date(2026, 3, 2), "ky") != i18n.format_day(dt.date(2026, 3, 2), "en")

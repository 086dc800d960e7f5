"""The public pages' part of a pack: their languages (pack.toml public_locales) and public.toml
(penalties and help contacts), validated like the rest of the pack."""

from __future__ import annotations

from jurisdictions.test_pack import broken_copy, problems_of
from kosh.jurisdictions import load_pack, public_locales
from kosh.jurisdictions.schema import in_locale


def test_kz_public_languages_and_texts():
    kz = load_pack("kz")
    assert public_locales("kz") == kz.public_locales == ("kk", "ru", "en", "uz", "tg", "ky")
    assert set(kz.locales) <= set(kz.public_locales)
    overstay = kz.penalty("overstay")
    assert overstay is not None and overstay.liable == "migrant" and overstay.article == "517(3)"
    host = kz.penalty("host_notification")
    assert host is not None and host.liable == "host"
    assert all(p.source.text for p in kz.penalties) and all(c.source.text for c in kz.contacts)
    assert "1414" in [c.phone for c in kz.contacts]
    for contact in kz.contacts:
        assert all(in_locale(contact.names, lang) == contact.names[lang] for lang in kz.public_locales)


def test_a_text_missing_in_a_public_language_is_named(tmp_path):
    folder = broken_copy(tmp_path, "public.toml", ', ky = "Электрондук өкмөттүн', ', kyX = "Электрондук өкмөттүн')
    found = problems_of(folder)
    assert any(p.startswith("kz/public.toml: contact[0].names:") and "'kyX'" in p for p in found)
    folder = broken_copy(tmp_path / "b", "public.toml", ', ky = "Электрондук өкмөттүн бирдиктүү байланыш борбору '
                         '(мамлекеттик кызматтар, egov.kz)"', "")
    assert "kz/public.toml: contact[0].names: no text in 'ky', a public language of the pack " \
           "(pack.toml public_locales)" in problems_of(folder)


def test_a_contact_needs_a_way_to_reach_it(tmp_path):
    folder = broken_copy(tmp_path, "public.toml", 'url = "https://eqonaq.kz"\n', "")
    assert any("contact[2]" in p and "needs a phone number or a web address" in p for p in problems_of(folder))


def test_a_band_with_max_below_min_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "public.toml", "min_units = 10, max_units = 25", "min_units = 30, max_units = 25")
    assert any("penalty[1].bands[0]" in p and "max_units must be ≥ min_units" in p for p in problems_of(folder))


def test_public_locales_must_hold_the_default(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'public_locales = ["kk", "ru", "en", "uz", "tg", "ky"]',
                         'public_locales = ["kk", "en", "uz"]')
    assert any("public_locales" in p and "'ru'" in p for p in problems_of(folder))

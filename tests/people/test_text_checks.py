"""The text checks every input shares: no NUL anywhere, and names and addresses that display as
what they are (no control characters, no bidirectional overrides, something visible)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kosh.people.schemas import PersonIn
from kosh.platform.validation import BIDI_CONTROLS, TextInput, check_display_text, field_errors

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u3164\u115f\u1160\u2800 \u00a0\u2003\u0301"
# Letters that draw something: the Hangul fillers are letters by category, yet blank.
VISIBLE_LETTERS = st.characters(categories=["Lu", "Ll", "Lo"], exclude_characters="\u3164\u115f\u1160\uffa0")


class _Any(TextInput):
    text: str
    lines: list[str] = []


@given(st.text(), st.sampled_from(sorted(BIDI_CONTROLS)), st.text())
def test_any_bidirectional_control_is_refused(before, control, after):
    with pytest.raises(ValueError, match="bidirectional control|control character|NUL"):
        check_display_text(before + control + after, "surname")


@given(st.text(alphabet=INVISIBLE, min_size=1))
def test_text_of_only_invisible_characters_is_refused(text):
    with pytest.raises(ValueError, match=r"^has no visible characters \(only spaces or invisible characters\)$"):
        check_display_text(text, "surname")


@given(st.lists(VISIBLE_LETTERS, min_size=1, max_size=30), st.sampled_from(["", "\u200c", "\u200d", " ", "-"]))
def test_names_in_any_script_are_kept_as_given(letters, joiner):
    name = joiner.join(letters)
    assert check_display_text(name, "surname") == name


@given(st.text(), st.text())
def test_a_nul_anywhere_in_any_input_field_is_refused_by_name(before, after):
    with pytest.raises(ValidationError) as caught:
        _Any(text=before + "\x00" + after)
    assert caught.value.errors()[0]["loc"] == ("text",) and "NUL" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        _Any(text="ok", lines=["fine", before + "\x00" + after])
    assert caught.value.errors()[0]["loc"] == ("lines",)


@given(st.text().filter(lambda t: "\x00" not in t))
def test_text_without_nul_passes_the_shared_check(text):
    assert _Any(text=text).text == text


def test_control_characters_are_named_and_addresses_may_break_lines():
    with pytest.raises(ValueError, match=r"^contains a control character \(U\+0009\)$"):
        check_display_text("ABDU\tLLAYEV", "surname")
    assert check_display_text("Алматы,\r\nул. Абая 1\t", "address", multiline=True).startswith("Алматы")
    with pytest.raises(ValueError, match=r"^contains a control character \(U\+001B\)$"):
        check_display_text("Алматы\x1b[2J", "address", multiline=True)


@pytest.mark.parametrize(("field", "label"), [("surname", "Surname"), ("given_names", "Given names"),
                                              ("patronymic", "Patronymic"),
                                              ("surname_latin", "Surname in Latin letters"),
                                              ("given_names_latin", "Given names in Latin letters")])
def test_every_name_of_a_person_is_checked_and_named(field, label):
    person = {"surname": "ABDULLAYEV", "birth_date": "1990-01-01", "citizenship": "UZB",
              "documents": [{"number": "FA1234567", "issuing_state": "UZB"}], field: "\u200b\u200b"}
    with pytest.raises(ValidationError) as caught:
        PersonIn.model_validate(person)
    (error,) = field_errors(caught.value)
    assert error.as_dict("en") == {"field": field, "label": label,
                                   "message": "has no visible characters (only spaces or invisible characters)"}


def test_the_invisible_alphabet_is_really_invisible():
    # A guard on the test data itself: every character is a format, space or mark, or a blank letter.
    for ch in INVISIBLE:
        assert unicodedata.category(ch) in {"Cf", "Zs", "Mn", "Lo", "So"}, hex(ord(ch))

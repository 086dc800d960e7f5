"""The calculator's form without JavaScript: "Add another trip" and "Remove" are submit buttons the
server answers with the same form (what was typed kept, one trip more or less, nothing counted); the
language switch asks for the same state again."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from kosh.platform.i18n import translations
from kosh.web.app import create_app

TYPED = [("citizenship", "UZB"), ("start", "2026-01-05"), ("end", "2026-02-10"), ("start", "2026-03-01"),
         ("end", ""), ("on", "2026-04-01")]


@pytest.fixture
def web(sqlite_ctx):
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


def _values(html: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'<input id="[^"]+" name="{name}" type="date" value="([^"]*)"', html)]


def _switch_to(html: str, code: str) -> str:
    """The address the language switch's link for `code` points to."""
    nav = html[html.index('id="lang-switch"'):html.index("</nav>", html.index('id="lang-switch"'))]
    href = re.search(rf'<li lang="{code}"><a href="([^"]+)"', nav)
    assert href, nav
    return unescape(href.group(1))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_add_another_trip_keeps_what_was_typed_and_adds_an_empty_row(web, lang):
    r = web.get("/calculator", params=[*TYPED, ("add", "1"), ("lang", lang)])
    assert r.status_code == 200
    assert _values(r.text, "start") == ["2026-01-05", "2026-03-01", ""]
    assert _values(r.text, "end") == ["2026-02-10", "", ""]
    assert 'value="UZB" selected' in r.text and 'name="on" type="date" value="2026-04-01"' in r.text
    # Nothing is counted yet, and the new row's first field has the focus.
    assert 'id="result"' not in r.text and "error-summary" not in r.text
    assert re.search(r'id="start-2" name="start" type="date" value="" autofocus', r.text)
    _ = translations(lang).gettext
    assert _("Add another trip") in r.text
    assert r.text.count(f">{_('Remove')}</button>") == 3  # each trip can be removed once there are two


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_remove_takes_out_that_trip_only(web, lang):
    r = web.get("/calculator", params=[*TYPED, ("remove", "0"), ("lang", lang)])
    assert r.status_code == 200
    assert _values(r.text, "start") == ["2026-03-01"] and _values(r.text, "end") == [""]
    assert 'id="result"' not in r.text
    assert re.search(r'id="start-0" name="start" type="date" value="2026-03-01" autofocus', r.text)
    _ = translations(lang).gettext
    assert f">{_('Remove')}</button>" not in r.text  # the last trip is not removed, only changed


@pytest.mark.parametrize("remove", ["7", "x", "-1", "²", "9" * 5000, ""])
def test_a_hand_made_remove_removes_nothing_and_answers(web, remove):
    r = web.get("/calculator", params=[*TYPED, ("remove", remove)])
    assert r.status_code == 200
    assert _values(r.text, "start") == ["2026-01-05", "2026-03-01"]


def test_removing_the_only_trip_leaves_an_empty_one(web):
    r = web.get("/calculator", params=[("citizenship", ""), ("start", "2026-01-05"), ("end", ""), ("on", ""),
                                       ("remove", "0")])
    assert r.status_code == 200 and _values(r.text, "start") == [""]
    assert re.search(r'id="add-trip" formnovalidate autofocus', r.text)


def test_calculate_counts_every_row_typed_and_focuses_the_result(web):
    r = web.get("/calculator", params=TYPED)
    assert re.search(r'<h2 id="result-heading" tabindex="-1" autofocus>', r.text)
    assert re.search(r'data-figure="days_used">69<', r.text)  # 37 days + 32 days (1 March to 1 April)


def test_add_and_remove_work_without_choosing_a_citizenship_first(web):
    # The buttons skip the browser's check of required fields (formnovalidate) and the server does not count.
    r = web.get("/calculator", params=[("citizenship", ""), ("start", ""), ("end", ""), ("on", ""), ("add", "1")])
    assert r.status_code == 200 and "error-summary" not in r.text and len(_values(r.text, "start")) == 2
    assert 'name="add" value="1" id="add-trip" formnovalidate' in r.text


def test_the_language_switch_asks_for_the_same_form_again(web):
    added = web.get("/calculator", params=[*TYPED, ("add", "1")])
    to_ru = _switch_to(added.text, "ru")
    query = parse_qsl(urlsplit(to_ru).query, keep_blank_values=True)
    # The same rows (the added one too), shown again rather than counted, and not one more row added.
    assert ("add", "1") not in query and ("edit", "1") in query and ("lang", "ru") in query
    ru = web.get("/calculator" + to_ru)
    assert _values(ru.text, "start") == ["2026-01-05", "2026-03-01", ""]
    assert '<html lang="ru">' in ru.text and 'id="result"' not in ru.text

    counted = web.get("/calculator", params=TYPED)
    kk = web.get("/calculator" + _switch_to(counted.text, "kk"))
    assert '<html lang="kk">' in kk.text and re.search(r'data-figure="days_used">69<', kk.text)
    assert translations("kk").gettext("days used") in kk.text


def test_a_fresh_calculator_switches_language_without_counting(web):
    r = web.get("/calculator?lang=ru")
    assert _switch_to(r.text, "en") == "?lang=en"
    assert "error-summary" not in web.get("/calculator" + _switch_to(r.text, "kk")).text


def test_a_failed_calculation_brings_the_errors_into_view(web):
    r = web.get("/calculator", params=[("citizenship", ""), ("start", "2026-01-05"), ("end", ""), ("on", "")])
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1" autofocus>', r.text)
    assert 'id="result"' not in r.text and _values(r.text, "start") == ["2026-01-05"]


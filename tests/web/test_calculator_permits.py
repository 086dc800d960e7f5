"""The calculator takes the visas, TRPs and work permits a person holds (a work permit counts as a TRP:
the worker's temporary residence follows the permit): their days are lawful whatever the visa-free
limits, and the answer says so. The API, the page (rows added and removed without JavaScript, kept
across the language switch) and the command line alike."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kosh.cli import app as cli
from kosh.platform import words
from kosh.platform.i18n import say, translations
from kosh.platform.words import Msg
from kosh.stay.schemas import MAX_PERMITS
from kosh.web.app import create_app

CALC = "/api/v1/stay/calculate"
# An Uzbek citizen in the country since 1 January: on 10 April, day 100 (30 days per entry for Uzbekistan).
HUNDRED_DAYS = {"citizenship": "UZB", "on": "2026-04-10", "trips": [{"start": "2026-01-01"}]}
LAST_80_DAYS = {"kind": "work_permit", "start": "2026-01-21", "end": "2026-12-31"}
WORK_PERMIT_SAID = "Days covered by your work permit from %(start)s to %(end)s do not count."


def _said(lang: str, msgid: str, **params: object) -> str:
    return say(Msg(msgid, **params), lang)


def _label(lang: str, field: str) -> str:
    msgid = words.label(field)
    assert msgid is not None, field
    return translations(lang).gettext(msgid)


# -- the API -------------------------------------------------------------------------------------

def test_a_work_permit_makes_a_hundred_days_lawful(client):
    without = client.post(CALC, json=HUNDRED_DAYS)
    assert without.status_code == 200, without.text
    assert without.json()["status"] == "overstay" and without.json()["overstay_days"] == 70

    r = client.post(CALC, json={**HUNDRED_DAYS, "permits": [LAST_80_DAYS]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "lawful" and body["overstay_days"] == 0 and body["violations"] == []
    assert body["days_used"] == 20 and body["last_lawful_day"] == "2026-12-31"
    # The answer says first what the permit does, in the reader's language.
    assert body["reasons"][0] == _said("en", WORK_PERMIT_SAID, start=dt.date(2026, 1, 21), end=dt.date(2026, 12, 31))
    ru = client.post(CALC, json={**HUNDRED_DAYS, "permits": [LAST_80_DAYS]}, headers={"accept-language": "ru"})
    said_ru = _said("ru", WORK_PERMIT_SAID, start=dt.date(2026, 1, 21), end=dt.date(2026, 12, 31))
    assert ru.json()["reasons"][0] == said_ru and said_ru != body["reasons"][0]


def test_a_work_permit_counts_as_a_trp_and_a_visa_covers_too(client):
    as_trp = client.post(CALC, json={**HUNDRED_DAYS, "permits": [{**LAST_80_DAYS, "kind": "trp"}]}).json()
    as_work = client.post(CALC, json={**HUNDRED_DAYS, "permits": [LAST_80_DAYS]}).json()
    assert {k: v for k, v in as_trp.items() if k != "reasons"} == {k: v for k, v in as_work.items() if k != "reasons"}
    assert as_trp["reasons"][1:] == as_work["reasons"][1:] and "temporary residence permit" in as_trp["reasons"][0]
    # A permit ending before the limit does: the overstay starts the day after it.
    short = client.post(CALC, json={**HUNDRED_DAYS, "permits": [{"kind": "visa", "start": "2026-01-21",
                                                                 "end": "2026-03-31"}]}).json()
    assert short["status"] == "overstay" and short["overstay_days"] == 10
    assert short["reasons"][0].startswith("Days covered by your visa from ")


def _errors(r) -> dict[str, dict[str, str]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e for e in r.json()["errors"]}


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_permit_ending_before_it_starts_is_named_with_its_label(client, lang):
    bad = {"kind": "work_permit", "start": "2026-05-01", "end": "2026-04-01"}
    errors = _errors(client.post(CALC, json={**HUNDRED_DAYS, "permits": [LAST_80_DAYS, bad]},
                                 headers={"accept-language": lang}))
    assert set(errors) == {"permits[1]"}
    assert errors["permits[1]"]["label"] == _label(lang, "permits")
    assert errors["permits[1]"]["message"] == _said(
        lang, "The permit ends (%(end)s) before it starts (%(start)s).", end=dt.date(2026, 4, 1),
        start=dt.date(2026, 5, 1))
    if lang != "en":
        assert errors["permits[1]"]["label"] != "Visas and permits"


def test_too_many_permits_an_unknown_kind_and_a_missing_day_are_refused(client):
    errors = _errors(client.post(CALC, json={**HUNDRED_DAYS, "permits": [LAST_80_DAYS] * (MAX_PERMITS + 1)},
                                 headers={"accept-language": "ru"}))
    assert errors["permits"]["label"] == _label("ru", "permits")
    assert errors["permits"]["message"] == _said("ru", "must have at most %(max_length)s items",
                                                 max_length=MAX_PERMITS)
    errors = _errors(client.post(CALC, json={**HUNDRED_DAYS, "permits": [
        {"kind": "residence", "start": "2026-01-01", "end": "2026-02-01"}, {"kind": "visa", "start": "2026-01-01"},
        {"kind": "visa", "start": "2026-01-01", "end": "2100-01-01"}]}, headers={"accept-language": "kk"}))
    assert set(errors) == {"permits[0].kind", "permits[1].end", "permits[2].end"}
    assert errors["permits[0].kind"]["label"] == _label("kk", "permits.kind")
    assert errors["permits[1].end"]["label"] == _label("kk", "permits.end")
    assert errors["permits[1].end"]["message"] == _said("kk", "is required")


# -- the page ------------------------------------------------------------------------------------

@pytest.fixture
def web(sqlite_ctx):
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


TYPED = [("citizenship", "UZB"), ("start", "2026-01-01"), ("end", "")]
PERMIT = [("permit_kind", "work_permit"), ("permit_start", "2026-01-21"), ("permit_end", "2026-12-31")]
ON = [("on", "2026-04-10")]


def _permit_rows(html: str) -> list[tuple[str, str, str]]:
    kinds = []
    for select in re.findall(r'<select id="permit-kind-\d+" name="permit_kind".*?</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select)
        kinds.append(chosen.group(1) if chosen else "")
    starts = re.findall(r'name="permit_start" type="date" value="([^"]*)"', html)
    ends = re.findall(r'name="permit_end" type="date" value="([^"]*)"', html)
    assert len(kinds) == len(starts) == len(ends), (kinds, starts, ends)
    return list(zip(kinds, starts, ends, strict=True))


def _switch_to(html: str, code: str) -> str:
    nav = html[html.index('id="lang-switch"'):html.index("</nav>", html.index('id="lang-switch"'))]
    href = re.search(rf'<li lang="{code}"><a href="([^"]+)"', nav)
    assert href, nav
    return unescape(href.group(1))


def test_a_fresh_calculator_offers_to_add_a_permit_and_adds_rows_without_javascript(web):
    fresh = web.get("/calculator")
    assert _permit_rows(fresh.text) == [] and 'name="add_permit" value="1" id="add-permit" formnovalidate' in fresh.text
    r = web.get("/calculator", params=[*TYPED, *ON, ("add_permit", "1")])
    assert r.status_code == 200 and 'id="result"' not in r.text and "error-summary" not in r.text
    assert _permit_rows(r.text) == [("", "", "")]
    assert re.search(r'<select id="permit-kind-0" name="permit_kind" autofocus>', r.text)
    # Each kind is offered by its name; the trips stay as typed.
    for name in ("Visa", "Temporary residence permit (TRP)", "Work permit"):
        assert f">{name}</option>" in r.text
    assert 'name="start" type="date" value="2026-01-01"' in r.text

    two = web.get("/calculator", params=[*TYPED, *PERMIT, *ON, ("add_permit", "1")])
    assert _permit_rows(two.text) == [("work_permit", "2026-01-21", "2026-12-31"), ("", "", "")]
    gone = web.get("/calculator", params=[*TYPED, *PERMIT, ("permit_kind", "visa"), ("permit_start", "2026-01-01"),
                                          ("permit_end", "2026-01-10"), *ON, ("remove_permit", "0")])
    assert _permit_rows(gone.text) == [("visa", "2026-01-01", "2026-01-10")]
    assert re.search(r'<select id="permit-kind-0" name="permit_kind" autofocus>', gone.text)
    none_left = web.get("/calculator", params=[*TYPED, *PERMIT, *ON, ("remove_permit", "0")])
    assert _permit_rows(none_left.text) == [] and re.search(r'id="add-permit" formnovalidate autofocus', none_left.text)


def test_at_most_the_limit_of_permit_rows(web):
    full = [*TYPED, *(PERMIT * MAX_PERMITS), *ON]
    r = web.get("/calculator", params=[*full, ("add_permit", "1")])
    assert len(_permit_rows(r.text)) == MAX_PERMITS and 'id="add-permit"' not in r.text
    assert "At most 5 visas or permits." in r.text
    # A hand-made query with more rows keeps the first ones only.
    assert len(_permit_rows(web.get("/calculator", params=[*TYPED, *(PERMIT * 9), *ON]).text)) == MAX_PERMITS


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_the_result_mentions_the_work_permit(web, lang):
    r = web.get("/calculator", params=[*TYPED, *PERMIT, *ON, ("lang", lang)])
    assert r.status_code == 200 and "error-summary" not in r.text
    assert 'data-status="lawful"' in r.text
    said = _said(lang, WORK_PERMIT_SAID, start=dt.date(2026, 1, 21), end=dt.date(2026, 12, 31))
    notes = re.search(r'<ul id="permit-notes">(.*?)</ul>', r.text, re.S)
    assert notes and said in unescape(notes.group(1))
    without = web.get("/calculator", params=[*TYPED, *ON, ("lang", lang)])
    assert 'data-status="overstay"' in without.text and 'id="permit-notes"' not in without.text


def test_the_language_switch_keeps_the_permit_rows(web):
    added = web.get("/calculator", params=[*TYPED, *PERMIT, *ON, ("add_permit", "1")])
    ru = web.get("/calculator" + _switch_to(added.text, "ru"))
    assert '<html lang="ru">' in ru.text and 'id="result"' not in ru.text
    assert _permit_rows(ru.text) == [("work_permit", "2026-01-21", "2026-12-31"), ("", "", "")]
    assert f">{translations('ru').gettext('Work permit')}</option>" in ru.text

    counted = web.get("/calculator", params=[*TYPED, *PERMIT, *ON])
    kk = web.get("/calculator" + _switch_to(counted.text, "kk"))
    assert '<html lang="kk">' in kk.text and 'data-status="lawful"' in kk.text
    assert _permit_rows(kk.text) == [("work_permit", "2026-01-21", "2026-12-31")]
    assert _said("kk", WORK_PERMIT_SAID, start=dt.date(2026, 1, 21), end=dt.date(2026, 12, 31)) in unescape(kk.text)


def test_an_empty_permit_row_is_no_permit_and_a_half_filled_one_is_named(web):
    empty = web.get("/calculator", params=[*TYPED, ("permit_kind", ""), ("permit_start", ""), ("permit_end", ""), *ON])
    assert 'data-status="overstay"' in empty.text and "error-summary" not in empty.text
    half = web.get("/calculator", params=[*TYPED, ("permit_kind", "work_permit"), ("permit_start", "2026-05-01"),
                                          ("permit_end", "2026-04-01"), *ON, ("lang", "ru")])
    assert 'id="result"' not in half.text
    summary = unescape(re.search(r'<div class="error-summary".*?</div>', half.text, re.S).group(0))
    ru = translations("ru").gettext
    assert ru("Visas and permits") + ": " in summary and ru("Visas and permits") != "Visas and permits"
    no_kind = web.get("/calculator", params=[*TYPED, ("permit_kind", ""), ("permit_start", "2026-01-21"),
                                             ("permit_end", "2026-12-31"), *ON, ("lang", "en")])
    summary = unescape(re.search(r'<div class="error-summary".*?</div>', no_kind.text, re.S).group(0))
    assert "Permit type: is required" in summary
    assert _permit_rows(no_kind.text) == [("", "2026-01-21", "2026-12-31")]  # what was typed stays


# -- the command line ----------------------------------------------------------------------------

def test_kosh_stay_calc_takes_a_work_permit():
    args = ["stay", "calc", "--citizenship", "UZB", "--trip", "2026-01-01:", "--on", "2026-04-10", "--json"]
    runner = CliRunner()
    without = runner.invoke(cli, args)
    assert without.exit_code == 0, without.output
    assert json.loads(without.stdout)["status"] == "overstay"
    r = runner.invoke(cli, [*args, "--permit", "work_permit:2026-01-01:2026-12-31"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["status"] == "lawful" and body["overstay_days"] == 0 and body["last_lawful_day"] == "2026-12-31"
    assert body["reasons"][0] == "Days covered by your work permit from 2026-01-01 to 2026-12-31 do not count."
    plain = runner.invoke(cli, [*args[:-1], "--permit", "work_permit:2026-01-01:2026-12-31"])
    assert plain.exit_code == 0 and "Days covered by your work permit" in plain.output


@pytest.mark.parametrize("permit, message", [
    ("work_permit:2026-01-01", "must be KIND:START:END"),
    ("residence:2026-01-01:2026-12-31", "permits[0].kind"),
    ("visa:2026-05-01:2026-04-01", "permits[0]: The permit ends (2026-04-01) before it starts (2026-05-01)."),
])
def test_kosh_stay_calc_refuses_a_bad_permit(permit, message):
    r = CliRunner().invoke(cli, ["stay", "calc", "--citizenship", "UZB", "--trip", "2026-01-01:", "--permit", permit])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
